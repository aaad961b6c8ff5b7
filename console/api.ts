// The console's JSON API: what each page reads, and the run actions. Everything goes through the AWS SDK's
// Step Functions client and the app's own stores, so the same code serves the local stack and AWS.
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { config } from '../functions/config/bundled.ts';
import { DEAL_STAGES } from '../functions/deal/deal.ts';
import { evaluateBreaker } from '../functions/deliverability/breaker.ts';
import { FUNNEL_DIMENSIONS } from '../functions/funnel/funnel.ts';
import { funnelReport, reportQuery, scoringFeedbackReport } from '../functions/funnel/reports.ts';
import { leadIdFor } from '../functions/lead/lead.ts';
import { DomainError, ValidationError } from '../functions/platform/errors.ts';
import { httpStatusOf } from '../functions/platform/http.ts';
import type { DealRecord, LeadRecord, Stores } from '../functions/stores.ts';
import { maskDeep, maskJsonText } from './mask.ts';
import {
  type AslDefinition,
  isScheduledWait,
  lastStateEntered,
  leadIdOf,
  maskSteps,
  pathOf,
  shownEvents,
  stepsOf,
} from './runs.ts';

export interface ConsoleOptions {
  sfn: SFNClient;
  stores: Stores;
  stateMachineArn: string;
  /** Only on the local stack: "send now" for a parked scheduled wait (the engine times the task out). */
  local?: { sendNow(executionArn: string): Promise<boolean> };
  /** The HTTP API's base URL: where the example form posts. */
  apiUrl?: string;
  /**
   * The form settings the API runs with (default config/app.json's `forms`): the local stack passes
   * them placed at its ports (local/site.ts), so the example page says truly whether its posts are allowed.
   */
  forms?: { allowedOrigins: readonly string[]; thankYouUrl: string };
  /** Host names the console answers besides loopback (a forwarded dev environment: `--allow-host`). */
  allowedHosts?: readonly string[];
  /** When set, /api/ answers only a browser holding this token (see server.ts). */
  token?: string;
  /** How long a running execution's current state is reused in the runs list (ms). */
  stateCacheMs?: number;
  /** Where the console runs, shown in its header ("local", "Handoff in eu-west-1"). */
  label?: string;
  /**
   * The clock the stack runs on (default the real one): on the local stack, its virtual clock, so "now"
   * in the console (the breaker's window, report ranges, "3 min ago") is the functions' now.
   */
  clock?: { now(): number; scale: number };
}

/** An answer other than 200, with a message the page shows as it is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;
const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const LEAD_ID = /^ld-[0-9a-f]{20}$/;
/** Filtered lists read at most this many executions, newest first. */
const SCAN_LIMIT = 5_000;
/** A history longer than this is cut (the page says so). */
const HISTORY_LIMIT = 10_000;

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

/** What a runs-list row or a deal card shows of its lead. Masked as the lead page masks its profile. */
export interface LeadSummary {
  firstName: string;
  lastName?: string;
  company?: string;
  formType: string;
  stage: string;
  score?: { total: number; grade: string };
}

/** The summary of a lead record (no email, no phone, no message: only what a row shows). */
export function leadSummaryOf(record: LeadRecord): LeadSummary {
  return {
    firstName: record.firstName,
    ...(record.lastName ? { lastName: record.lastName } : {}),
    ...(record.company ? { company: record.company } : {}),
    formType: record.formType,
    stage: record.stage,
    ...(record.score ? { score: { total: record.score.total, grade: record.score.grade } } : {}),
  };
}

type Query = URLSearchParams;

/** A query value checked against a pattern or a list; 400 naming the field otherwise. */
function param(q: Query, key: string, check?: RegExp | readonly string[], max = 200): string | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const shown = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  let problem: string | undefined;
  if (v.length > max) problem = `must be at most ${max} characters (${shown} has ${v.length})`;
  else if (Array.isArray(check) && !check.includes(v))
    problem = `must be one of ${check.join(', ')}, not ${shown}`;
  else if (check instanceof RegExp && !check.test(v))
    problem = `${shown} ${key === 'next' ? 'is not a page token this console gave' : `does not match ${check.source}`}`;
  if (problem) throw new ApiError(400, `Bad query: ${key} ${problem}`, { [key]: problem });
  return v;
}

function intParam(q: Query, key: string, min: number, max: number, fallback: number): number {
  const v = q.get(key) || undefined;
  if (v === undefined) return fallback;
  const n = /^\d{1,6}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) {
    const problem = `must be a whole number from ${min} to ${max}, not ${JSON.stringify(v.slice(0, 40))}`;
    throw new ApiError(400, `Bad query: ${key} ${problem}`, { [key]: problem });
  }
  return n;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);

/** SDK and store errors as answers: a missing thing is 404, a refused action 409, AWS's own refusals as such. */
export function apiErrorOf(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ValidationError) {
    const fields = Object.fromEntries(Object.entries(e.fieldErrors).map(([k, v]) => [k, v.join(', ')]));
    const first = Object.entries(fields)[0];
    return new ApiError(400, first ? `Bad query: ${first[0]} ${first[1]}` : 'Bad query', fields);
  }
  const status = httpStatusOf(e);
  if (e instanceof DomainError && status !== undefined && status < 500)
    return new ApiError(status, e.message);
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = String(err?.name ?? '');
  const message = String(err?.message ?? name);
  if (['ExecutionDoesNotExist', 'StateMachineDoesNotExist', 'ResourceNotFoundException'].includes(name))
    return new ApiError(404, message);
  if (['ExecutionNotRedrivable', 'ExecutionLimitExceeded', 'TaskDoesNotExist', 'TaskTimedOut'].includes(name))
    return new ApiError(409, message);
  if (['InvalidArn', 'InvalidName', 'ValidationException', 'InvalidToken'].includes(name))
    return new ApiError(400, message);
  if (name === 'ThrottlingException' || name === 'ProvisionedThroughputExceededException')
    return new ApiError(429, `AWS is throttling the console (${name}); it will catch up`);
  if (
    [
      'AccessDeniedException',
      'UnrecognizedClientException',
      'ExpiredTokenException',
      'InvalidSignatureException',
    ].includes(name)
  )
    return new ApiError(403, `AWS refused the console's credentials: ${message}`);
  if (name === 'CredentialsProviderError') return new ApiError(503, `No AWS credentials: ${message}`);
  if (err?.$metadata?.httpStatusCode) return new ApiError(502, `${name || 'AWS error'}: ${message}`);
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(String((e as { code?: string })?.code)))
    return new ApiError(503, `Cannot reach the service: ${message}`);
  return new ApiError(500, 'Internal error (see the console server’s terminal)');
}

export class ConsoleApi {
  private readonly sfn: SFNClient;
  private readonly stores: Stores;
  readonly stateMachineArn: string;
  private readonly now: () => Date;
  /** The stack's clock (the real one unless the options give another). */
  readonly clock: { now(): number; scale: number };
  private readonly stateCacheMs: number;
  private definition?: { at: number; value: AslDefinition; name: string };
  private readonly states = new Map<string, { status: string; state?: string; at: number }>();

  constructor(private readonly opts: ConsoleOptions) {
    this.sfn = opts.sfn;
    this.stores = opts.stores;
    this.stateMachineArn = opts.stateMachineArn;
    this.clock = opts.clock ?? { now: () => Date.now(), scale: 1 };
    this.now = () => new Date(this.clock.now());
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

  async meta() {
    const { definition, name } = await this.machine();
    const region = this.stateMachineArn.split(':')[3] ?? '';
    return {
      mode: this.opts.local ? 'local' : 'aws',
      label: this.opts.label ?? (this.opts.local ? 'local' : region),
      region,
      stateMachineArn: this.stateMachineArn,
      stateMachineName: name,
      states: Object.keys(definition.States),
      statuses: STATUSES,
      sendNow: Boolean(this.opts.local),
      dealStages: DEAL_STAGES,
      funnelDimensions: FUNNEL_DIMENSIONS,
      ...(this.opts.apiUrl ? { apiUrl: this.opts.apiUrl, exampleForm: '/examples/contact-form.html' } : {}),
    };
  }

  // ---- runs ----

  /**
   * The runs list, newest first. Without a search or state filter: one ListExecutions page (`next` pages
   * on). With them: reads up to SCAN_LIMIT executions and returns the first `limit` matches.
   */
  async runs(q: Query, reveal = false) {
    const status = param(q, 'status', STATUSES);
    const state = param(q, 'state', undefined, 80);
    const search = param(q, 'q', undefined, 254)?.trim();
    const limit = intParam(q, 'limit', 1, 100, 50);
    const next = param(q, 'next', /^[A-Za-z0-9+/=._-]+$/, 4096);
    if (state !== undefined) {
      const { definition } = await this.machine();
      if (!(state in definition.States))
        throw new ApiError(400, `Bad query: no state named "${state}"`, { state: 'is not a state' });
    }
    let prefix: string | undefined;
    let leadId: string | undefined;
    if (search) {
      if (search.includes('@')) {
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(search))
          throw new ApiError(400, 'Bad query: that is not an email address', { q: 'is not an email' });
        leadId = leadIdFor(search);
        prefix = leadId;
      } else {
        if (!NAME.test(search))
          throw new ApiError(
            400,
            'Bad query: search by email, lead id or run name (letters, digits, - and _)',
            {
              q: 'is not an email, lead id or run name',
            },
          );
        prefix = search;
        if (LEAD_ID.test(search)) leadId = search;
      }
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
          const { events = [] } = await this.sfn.send(
            new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 50 }),
          );
          state = lastStateEntered(events);
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

  /**
   * The lead summaries of some leads, read in one batch (only the ids given: the rows of one answer) and
   * masked unless revealed.
   */
  private async leadSummaries(leadIds: (string | undefined)[], reveal: boolean) {
    const ids = [...new Set(leadIds.filter((id): id is string => id !== undefined && LEAD_ID.test(id)))];
    const records = ids.length ? await this.stores.leads.getMany(ids) : new Map<string, LeadRecord>();
    const out = new Map<string, LeadSummary>();
    for (const [id, record] of records) {
      const summary = leadSummaryOf(record);
      out.set(id, reveal ? summary : maskDeep(summary));
    }
    return out;
  }

  /** Runs with their lead's summary (one batch read for the whole list). */
  private async withLeads(runs: RunSummary[], reveal: boolean): Promise<RunSummary[]> {
    const leads = await this.leadSummaries(
      runs.map((r) => r.leadId),
      reveal,
    );
    return runs.map((r) => {
      const lead = r.leadId ? leads.get(r.leadId) : undefined;
      return lead ? { ...r, lead } : r;
    });
  }

  /** One run: the execution, its history as steps and events, the definition, the path taken, what can be done. */
  async run(name: string, reveal: boolean) {
    const executionArn = this.executionArnOf(name);
    const [execution, history, { definition }] = await Promise.all([
      this.sfn.send(new DescribeExecutionCommand({ executionArn })),
      this.history(executionArn),
      this.machine(),
    ]);
    const steps = stepsOf(history.events, definition);
    const path = pathOf(steps);
    const status = String(execution.status);
    const current = path.current;
    const leadId = leadIdOf(name);
    const shown = (text: string | undefined) =>
      text === undefined ? undefined : reveal ? text : maskJsonText(text);
    const redrivable =
      ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(status) && execution.redriveStatus !== 'NOT_REDRIVABLE';
    return {
      run: {
        name,
        executionArn,
        ...(leadId ? { leadId } : {}),
        status,
        startDate: iso(execution.startDate),
        ...(execution.stopDate ? { stopDate: iso(execution.stopDate) } : {}),
        input: shown(execution.input),
        ...(execution.output !== undefined ? { output: shown(execution.output) } : {}),
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.cause ? { cause: shown(execution.cause) } : {}),
        ...(execution.redriveCount ? { redriveCount: execution.redriveCount } : {}),
        ...(execution.redriveStatus ? { redriveStatus: execution.redriveStatus } : {}),
        ...(execution.redriveStatusReason ? { redriveStatusReason: execution.redriveStatusReason } : {}),
      },
      definition,
      steps: reveal ? steps : maskSteps(steps),
      events: shownEvents(history.events, reveal),
      truncated: history.truncated,
      path,
      actions: {
        stop: status === 'RUNNING',
        redrive: redrivable,
        ...(execution.redriveStatusReason && !redrivable && status !== 'RUNNING' && status !== 'SUCCEEDED'
          ? { redriveReason: execution.redriveStatusReason }
          : {}),
        sendNow: Boolean(this.opts.local) && status === 'RUNNING' && isScheduledWait(definition, current),
      },
    };
  }

  private async history(executionArn: string): Promise<{ events: HistoryEvent[]; truncated: boolean }> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken && events.length < HISTORY_LIMIT);
    return { events, truncated: Boolean(nextToken) };
  }

  private async describe(name: string): Promise<DescribeExecutionCommandOutput> {
    return this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArnOf(name) }));
  }

  async stop(name: string) {
    const execution = await this.describe(name);
    if (execution.status !== 'RUNNING')
      throw new ApiError(409, `The run is ${execution.status}, not running`);
    const out = await this.sfn.send(
      new StopExecutionCommand({
        executionArn: execution.executionArn,
        error: 'Console.Stopped',
        cause: 'Stopped by an admin from the Handoff console',
      }),
    );
    return { stopped: true, stopDate: iso(out.stopDate) };
  }

  async redrive(name: string, clientToken: string | undefined) {
    if (clientToken !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(clientToken))
      throw new ApiError(400, 'Bad clientToken', { clientToken: 'must be up to 64 letters, digits or -' });
    const out = await this.sfn.send(
      new RedriveExecutionCommand({
        executionArn: this.executionArnOf(name),
        ...(clientToken ? { clientToken } : {}),
      }),
    );
    return { redriven: true, redriveDate: iso(out.redriveDate) };
  }

  async sendNow(name: string) {
    if (!this.opts.local) throw new ApiError(404, '"Send now" is only available on the local stack');
    const executionArn = this.executionArnOf(name);
    const [execution, { definition }] = await Promise.all([this.describe(name), this.machine()]);
    const { events = [] } = await this.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 }),
    );
    const current = lastStateEntered(events);
    if (execution.status !== 'RUNNING' || !isScheduledWait(definition, current))
      throw new ApiError(409, 'The run is not waiting for a scheduled send');
    if (!(await this.opts.local.sendNow(executionArn)))
      throw new ApiError(409, 'The run is not parked on its wait yet; try again in a moment');
    return { sent: true, state: current };
  }

  // ---- leads and deals ----

  async lead(leadId: string, reveal: boolean) {
    if (!LEAD_ID.test(leadId))
      throw new ApiError(400, 'Bad lead id', { leadId: 'must look like ld-<20 hex>' });
    const record = await this.stores.leads.get(leadId);
    if (!record)
      throw new ApiError(404, `No lead ${leadId}: it was never captured, or it was erased or expired`);
    const timeline = await this.stores.leads.listEvents(leadId);
    const dealIds = [
      ...new Set(
        [
          ...timeline
            .filter((e) => e.type === 'assigned' && typeof e.data?.dealId === 'string')
            .map((e) => String(e.data?.dealId)),
          record.openDealId,
        ].filter((d): d is string => Boolean(d)),
      ),
    ];
    const deals = (await Promise.all(dealIds.map((d) => this.stores.deals.get(d)))).filter(
      (d): d is DealRecord => Boolean(d),
    );
    const runs = await this.runsOfLead(record, timeline);
    const lead = shownLead(record);
    return {
      lead: reveal ? lead : maskDeep(lead),
      timeline: reveal ? timeline : maskDeep(timeline),
      deals: deals.map(shownDeal),
      runs,
    };
  }

  /**
   * A lead's runs, newest first: the runs its form events name, and its active run (no listing to scan).
   * A run Step Functions no longer keeps (90 days after it ended) is left out.
   */
  private async runsOfLead(record: LeadRecord, timeline: { type: string; data?: Record<string, unknown> }[]) {
    const named = timeline.filter((e) => e.type === 'form').map((e) => e.data?.executionName);
    const names = [...new Set([...named, record.activeExecution])]
      .filter((n): n is string => typeof n === 'string' && NAME.test(n))
      .slice(-20);
    const found = await Promise.all(
      names.map((name) =>
        this.sfn
          .send(new DescribeExecutionCommand({ executionArn: this.executionArnOf(name) }))
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

  /** The deals board: per stage, the newest `limit` deals (and how many were read). */
  async deals(q: Query, reveal = false) {
    const limit = intParam(q, 'limit', 1, 200, 50);
    const stages = await Promise.all(
      DEAL_STAGES.map(async (stage) => {
        const newest: DealRecord[] = [];
        let total = 0;
        for await (const d of this.stores.deals.listByStage(stage)) {
          total += 1;
          newest.push(d);
          if (newest.length > limit) newest.shift();
          if (total >= SCAN_LIMIT) break;
        }
        return { stage, total, ...(total >= SCAN_LIMIT ? { truncated: true } : {}), newest };
      }),
    );
    // The leads of the cards shown (at most `limit` per stage), in one batch for the whole board.
    const leads = await this.leadSummaries(
      stages.flatMap((s) => s.newest.map((d) => d.leadId)),
      reveal,
    );
    const reps = new Map(config.reps.reps.map((r) => [r.id, r.name]));
    return {
      stages: stages.map(({ newest, ...s }) => ({
        ...s,
        deals: newest.reverse().map((d) => {
          const lead = leads.get(d.leadId);
          const repName = reps.get(d.repId);
          return { ...shownDeal(d), ...(repName ? { repName } : {}), ...(lead ? { lead } : {}) };
        }),
      })),
    };
  }

  async deliverability() {
    const state = await evaluateBreaker(this.stores.deliverability, this.now());
    return { ...state, limits: config.app.deliverability, checkedAt: this.now().toISOString() };
  }

  /** The funnel for `from`..`to` (UTC days, default the last 30), optionally broken down `by` a dimension. */
  async funnel(q: Query) {
    const range = reportQuery(
      {
        from: param(q, 'from', undefined, 10),
        to: param(q, 'to', undefined, 10),
        by: param(q, 'by', undefined, 40),
      },
      this.now(),
    );
    return funnelReport(this.stores, range);
  }

  /** Won, lost and no-response rates by grade, band and reason, and the best sales-ready threshold. */
  async scoringFeedback(q: Query) {
    const { from, to } = reportQuery(
      { from: param(q, 'from', undefined, 10), to: param(q, 'to', undefined, 10) },
      this.now(),
    );
    return scoringFeedbackReport(this.stores, { from, to });
  }
}

/** The lead as the console shows it: no task token, no index keys. */
function shownLead(record: LeadRecord) {
  const { waitToken, expiresAt, ...rest } = record as LeadRecord & { waitToken?: string; expiresAt?: number };
  const shown: Record<string, unknown> = { ...rest, waiting: Boolean(waitToken) };
  for (const k of Object.keys(shown)) if (/^gsi\d/.test(k)) delete shown[k];
  return shown;
}

function shownDeal(d: DealRecord) {
  const { taskToken, ...rest } = d;
  const shown: Record<string, unknown> = { ...rest, waiting: Boolean(taskToken) };
  for (const k of Object.keys(shown)) if (/^gsi\d/.test(k) || k === 'expiresAt') delete shown[k];
  return shown;
}
