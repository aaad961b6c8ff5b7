// One run in the console: its page (the execution, its history as steps and events, the path taken, what
// can be done) and what an admin can do to it: stop it, redrive it, and on the local stack "send now" (a
// run parked on its scheduled nurture wait goes on at once). The state machine and the lists are runs-api.ts.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  RedriveExecutionCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ApiError } from './api-error.ts';
import { maskJsonText } from './mask.ts';
import { iso } from './query.ts';
import { isScheduledWait, leadIdOf, maskSteps, pathOf, shownEvents, stepsOf } from './runs.ts';
import type { RunsApi, RunsOptions } from './runs-api.ts';

/**
 * A long-waiting run continues as a new execution (docs/architecture.md, "Runs that wait a year"): the
 * new one's input names the one it continues (`continued.from`), the old one's output the new one
 * (`continuedAs.name`). Execution names only: nothing here is personal, so it is shown unmasked.
 */
export function chainOf(
  input: string | undefined,
  output: string | undefined,
): { continuedFrom?: string; continuedAs?: string } {
  const field = (text: string | undefined, read: (o: Record<string, unknown>) => unknown) => {
    try {
      const v = read((JSON.parse(text ?? 'null') ?? {}) as Record<string, unknown>);
      return typeof v === 'string' && v !== '' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const from = field(input, (o) => (o.continued as { from?: unknown } | undefined)?.from);
  const as = field(output, (o) => (o.continuedAs as { name?: unknown } | undefined)?.name);
  return { ...(from ? { continuedFrom: from } : {}), ...(as ? { continuedAs: as } : {}) };
}

/** A history longer than this is cut (the page says so). */
const HISTORY_LIMIT = 10_000;

export class RunApi {
  private readonly sfn: SFNClient;

  constructor(
    private readonly opts: Pick<RunsOptions, 'sfn' | 'local'>,
    private readonly runs: Pick<RunsApi, 'describe' | 'executionArnOf' | 'machine' | 'currentState'>,
  ) {
    this.sfn = opts.sfn;
  }

  /** One run: the execution, its history as steps and events, the definition, the path taken, what can be done. */
  async show(name: string, reveal: boolean) {
    const executionArn = this.runs.executionArnOf(name);
    const [execution, history, { definition }] = await Promise.all([
      this.sfn.send(new DescribeExecutionCommand({ executionArn })),
      this.history(executionArn),
      this.runs.machine(),
    ]);
    const steps = stepsOf(history.events, definition);
    const path = pathOf(steps);
    const status = String(execution.status);
    const current = path.current;
    const leadId = leadIdOf(name);
    const shown = (text: string | undefined) =>
      text === undefined ? undefined : reveal ? text : maskJsonText(text);
    const chain = chainOf(execution.input, execution.output);
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
        ...chain,
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

  async stop(name: string) {
    const execution = await this.runs.describe(name);
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
        executionArn: this.runs.executionArnOf(name),
        ...(clientToken ? { clientToken } : {}),
      }),
    );
    return { redriven: true, redriveDate: iso(out.redriveDate) };
  }

  async sendNow(name: string) {
    if (!this.opts.local) throw new ApiError(404, '"Send now" is only available on the local stack');
    const executionArn = this.runs.executionArnOf(name);
    const [execution, { definition }] = await Promise.all([this.runs.describe(name), this.runs.machine()]);
    const current = await this.runs.currentState(executionArn);
    if (execution.status !== 'RUNNING' || !isScheduledWait(definition, current))
      throw new ApiError(409, 'The run is not waiting for a scheduled send');
    if (!(await this.opts.local.sendNow(executionArn)))
      throw new ApiError(409, 'The run is not parked on its wait yet; try again in a moment');
    return { sent: true, state: current };
  }
}
