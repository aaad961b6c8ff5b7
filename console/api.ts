// The console's JSON API: what each page reads, and the run actions. Everything goes through the AWS SDK's
// Step Functions client and the app's own stores, so the same code serves the local stack and AWS. This is
// the composition server.ts routes to: runs-api.ts (the state machine and the runs lists), run-api.ts (one
// run and its actions) and records-api.ts (leads, deals, the breaker and the reports, from the stores).

import { DEAL_STAGES } from '../functions/deal/deal.ts';
import { FUNNEL_DIMENSIONS } from '../functions/funnel/funnel.ts';
import type { Stores } from '../functions/stores.ts';
import { RecordsApi } from './records-api.ts';
import { RunApi } from './run-api.ts';
import { RunsApi, type RunsOptions, STATUSES } from './runs-api.ts';

export interface ConsoleOptions extends RunsOptions {
  stores: Stores;
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
  /** Where the console runs, shown in its header ("local", "Handoff in eu-west-1"). */
  label?: string;
  /**
   * The clock the stack runs on (default the real one): on the local stack, its virtual clock, so "now"
   * in the console (the breaker's window, report ranges, "3 min ago") is the functions' now.
   */
  clock?: { now(): number; scale: number };
}

export class ConsoleApi {
  /** The stack's clock (the real one unless the options give another). */
  readonly clock: { now(): number; scale: number };
  readonly records: RecordsApi;
  readonly runs: RunsApi;
  readonly run: RunApi;

  constructor(private readonly opts: ConsoleOptions) {
    this.clock = opts.clock ?? { now: () => Date.now(), scale: 1 };
    this.records = new RecordsApi(opts.stores, () => new Date(this.clock.now()));
    this.runs = new RunsApi(opts, this.records);
    this.run = new RunApi(opts, this.runs);
  }

  async meta() {
    const { definition, name } = await this.runs.machine();
    const stateMachineArn = this.runs.stateMachineArn;
    const region = stateMachineArn.split(':')[3] ?? '';
    return {
      mode: this.opts.local ? 'local' : 'aws',
      label: this.opts.label ?? (this.opts.local ? 'local' : region),
      region,
      stateMachineArn,
      stateMachineName: name,
      states: Object.keys(definition.States),
      statuses: STATUSES,
      sendNow: Boolean(this.opts.local),
      dealStages: DEAL_STAGES,
      funnelDimensions: FUNNEL_DIMENSIONS,
      ...(this.opts.apiUrl ? { apiUrl: this.opts.apiUrl, exampleForm: '/examples/contact-form.html' } : {}),
    };
  }

  /** The lead page: the lead's records, and its runs (those its records name, as Step Functions has them). */
  async lead(leadId: string, reveal: boolean) {
    const { runNames, ...records } = await this.records.lead(leadId, reveal);
    return { ...records, runs: await this.runs.named(runNames) };
  }
}
