// The console's runs explorer over Step Functions: the state machine, the runs list (paged, or searched
// and filtered by state) and a lead's runs. Rows carry their lead's summary, read from records-api.ts;
// one run's page and the run actions are run-api.ts.
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { leadIdFor } from '../functions/lead/lead.ts';
import { ApiError } from './api-error.ts';
import { intParam, iso, LEAD_ID, NAME, param, type Query, SCAN_LIMIT } from './query.ts';
import type { LeadSummary, RecordsApi } from './records-api.ts';
import { type AslDefinition, lastStateEntered, leadIdOf } from './runs.ts';

export const STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;

export interface RunsOptions {
  sfn: SFNClient;
  stateMachineArn: string;
  /** Only on the local stack: "send now" for a parked scheduled wait (the engine times the task out). */
  local?: { sendNow(executionArn: string): Promise<boolean> };
  /** How long a running execution's current state is reused in the runs list (ms). */
  stateCacheMs?: number;
}

export interface RunSummary {
  name: string;
  executionArn: string;
  leadId?: string;
  status: string;
  startDate: string;
  stopDate?: string;
  redriveCount?: number;
  state?: string;
  /** The lead's name, company, form and score (masked unless revealed); absent for an erased lead. */
  lead?: LeadSummary;
}

export class RunsApi {
  private readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  private readonly stateCacheMs: number;
  private definition?: { at: number; value: AslDefinition; name: string };
  private readonly states = new Map<string, { status: string; state?: string; at: number }>();

  constructor(
    opts: RunsOptions,
    private readonly records: Pick<RecordsApi, 'leadSummaries'>,
  ) {
    this.sfn = opts.sfn;
    this.stateMachineArn = opts.stateMachineArn;
    this.stateCacheMs = opts.stateCacheMs ?? 5_000;
  }

  /** The execution ARN for a name (ARNs are the state machine's with `execution` and the name). */
  executionArnOf(name: string): string {
    if (!NAME.test(name)) throw new ApiError(400, 'Bad run name', { name: 'must be a valid execution name' });
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /** The state machine's definition (read again after a minute: a deploy may change it). */
  async machine(): Promise<{ definition: AslDefinition; name: string }> {
    const fresh = this.definition && Date.now() - this.definition.at < 60_000;
    if (!fresh) {
      const d = await this.sfn.send(
        new DescribeStateMachineCommand({ stateMachineArn: this.stateMachineArn }),
      );
      this.definition = {
        at: Date.now(),
        value: JSON.parse(String(d.definition)) as AslDefinition,
        name: String(d.name),
      };
    }
    const { value, name } = this.definition as NonNullable<typeof this.definition>;
    return { definition: value, name };
  }

  /**
   * The runs list, newest first. Without a search or state filter: one ListExecutions page (`next` pages
   * on). With them: reads up to SCAN_LIMIT executions and returns the first `limit` matches.
   */
  async list(q: Query, reveal = false) {
    const status = param(q, 'status', STATUSES);
    const state = param(q, 'state', undefined, 80);
    const { prefix, leadId } = searchOf(param(q, 'q', undefined, 254)?.trim());
    const limit = intParam(q, 'limit', 1, 100, 50);
    const next = param(q, 'next', /^[A-Za-z0-9+/=._-]+$/, 4096);
    if (state !== undefined) {
      const { definition } = await this.machine();
      if (!(state in definition.States))
        throw new ApiError(400, `Bad query: no state named "${state}"`, { state: 'is not a state' });
    }
    const base = {
      stateMachineArn: this.stateMachineArn,
      ...(status ? { statusFilter: status as ExecutionStatus } : {}),
    };

    if (prefix === undefined && state === undefined) {
      const page = await this.sfn.send(
        new ListExecutionsCommand({ ...base, maxResults: limit, ...(next ? { nextToken: next } : {}) }),
      );
      const runs = await this.withLeads(await this.withStates(page.executions ?? []), reveal);
      return { runs, ...(page.nextToken ? { next: page.nextToken } : {}) };
    }

    const runs: RunSummary[] = [];
    let scanned = 0;
    let token: string | undefined;
    let stoppedEarly = false;
    do {
      const page = await this.sfn.send(
        new ListExecutionsCommand({ ...base, maxResults: 1000, ...(token ? { nextToken: token } : {}) }),
      );
      token = page.nextToken;
      const items = page.executions ?? [];
      scanned += items.length;
      const named = prefix === undefined ? items : items.filter((e) => String(e.name).startsWith(prefix));
      for (let i = 0; i < named.length; i += 10) {
        if (runs.length >= limit) {
          stoppedEarly = true;
          break;
        }
        const batch = await this.withStates(named.slice(i, i + 10));
        for (const r of batch) {
          if (state !== undefined && r.state !== state) continue;
          if (runs.length < limit) runs.push(r);
          else stoppedEarly = true;
        }
      }
    } while (token && runs.length < limit && scanned < SCAN_LIMIT);
    return {
      runs: await this.withLeads(runs, reveal),
      scanned,
      ...(stoppedEarly || token ? { truncated: true } : {}),
      ...(leadId ? { leadId } : {}),
    };
  }

  /** Summaries with each run's current (or last) state; ended runs are read once, running ones every few seconds. */
  private async withStates(items: ExecutionListItem[]): Promise<RunSummary[]> {
    return Promise.all(
      items.map(async (e) => {
        const arn = String(e.executionArn);
        const status = String(e.status);
        const cached = this.states.get(arn);
        let state = cached?.state;
        const stale =
          !cached ||
          cached.status !== status ||
          (status === 'RUNNING' && Date.now() - cached.at > this.stateCacheMs);
        if (stale) {
          state = await this.currentState(arn);
          this.states.delete(arn);
          this.states.set(arn, { status, at: Date.now(), ...(state ? { state } : {}) });
          if (this.states.size > 20_000) this.states.delete(String(this.states.keys().next().value));
        }
        const name = String(e.name);
        const leadId = leadIdOf(name);
        return {
          name,
          executionArn: arn,
          ...(leadId ? { leadId } : {}),
          status,
          startDate: iso(e.startDate) ?? '',
          ...(e.stopDate ? { stopDate: iso(e.stopDate) } : {}),
          ...(e.redriveCount ? { redriveCount: e.redriveCount } : {}),
          ...(state ? { state } : {}),
        };
      }),
    );
  }

  /** Runs with their lead's summary (one batch read for the whole list). */
  private async withLeads(runs: RunSummary[], reveal: boolean): Promise<RunSummary[]> {
    const leads = await this.records.leadSummaries(
      runs.map((r) => r.leadId),
      reveal,
    );
    return runs.map((r) => {
      const lead = r.leadId ? leads.get(r.leadId) : undefined;
      return lead ? { ...r, lead } : r;
    });
  }

  /** The execution of a run by name. */
  async describe(name: string): Promise<DescribeExecutionCommandOutput> {
    return this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArnOf(name) }));
  }

  /** The state a run entered last (its newest 50 events), as the runs list and "send now" see it. */
  async currentState(executionArn: string): Promise<string | undefined> {
    const { events = [] } = await this.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 }),
    );
    return lastStateEntered(events);
  }

  /**
   * A lead's runs by name (records-api.ts says which), newest first. A run Step Functions no longer keeps
   * (90 days after it ended) is left out.
   */
  async named(names: readonly string[]): Promise<RunSummary[]> {
    const found = await Promise.all(
      names.map((name) =>
        this.describe(name)
          .then((d) => ({ ...d, name }))
          .catch((e: { name?: string }) => {
            if (e?.name === 'ExecutionDoesNotExist') return undefined;
            throw e;
          }),
      ),
    );
    const items: ExecutionListItem[] = found
      .filter((d) => d !== undefined)
      .map((d) => ({
        executionArn: d.executionArn,
        stateMachineArn: this.stateMachineArn,
        name: d.name,
        status: d.status,
        startDate: d.startDate,
        ...(d.stopDate ? { stopDate: d.stopDate } : {}),
        ...(d.redriveCount ? { redriveCount: d.redriveCount } : {}),
      }));
    return (await this.withStates(items)).sort((a, b) => (a.startDate < b.startDate ? 1 : -1));
  }
}

/**
 * The runs a search names: an email is its lead's runs (their names start with the lead id), anything
 * else a run-name prefix (a lead id among them).
 */
function searchOf(search: string | undefined): { prefix?: string; leadId?: string } {
  if (!search) return {};
  if (search.includes('@')) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(search))
      throw new ApiError(400, 'Bad query: that is not an email address', { q: 'is not an email' });
    const leadId = leadIdFor(search);
    return { prefix: leadId, leadId };
  }
  if (!NAME.test(search))
    throw new ApiError(400, 'Bad query: search by email, lead id or run name (letters, digits, - and _)', {
      q: 'is not an email, lead id or run name',
    });
  return { prefix: search, ...(LEAD_ID.test(search) ? { leadId: search } : {}) };
}
