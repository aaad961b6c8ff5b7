import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { type ConsoleHandler, createConsole } from '../console/server.ts';
import type { Stores } from '../functions/stores.ts';
import type { Faults } from './faults.ts';
import type { LocalStepFunctions } from './sfn/api.ts';

export interface LocalConsoleOptions {
  sfn: LocalStepFunctions;
  faults: Faults;
  /** The console's clients: the AWS SDK on the local Step Functions endpoint, the app's stores on DynamoDB. */
  client: SFNClient;
  stores: Stores;
  stateMachineArn: string;
  apiUrl: string;
  /** The stack's clock: the console's "now". */
  clock: { now(): number; scale: number };
  /** Host names the console answers besides loopback (`--allow-host`). */
  allowedHosts?: readonly string[];
  /** The form settings SubmitLead runs with at this stack's ports (local/site.ts). */
  forms?: { allowedOrigins: readonly string[]; thankYouUrl: string };
}

/** What the Step Functions port serves besides the API: the fault switch, and the admin console. */
export function consoleFallback(opts: LocalConsoleOptions) {
  const console: ConsoleHandler = createConsole({
    sfn: opts.client,
    stores: opts.stores,
    stateMachineArn: opts.stateMachineArn,
    apiUrl: opts.apiUrl,
    ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
    ...(opts.forms ? { forms: opts.forms } : {}),
    stateCacheMs: 1_000,
    clock: opts.clock,
    local: { sendNow: (executionArn) => sendNow(opts.sfn, executionArn) },
  });
  return (req: IncomingMessage, res: ServerResponse): void | Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/_local/faults') return opts.faults.handle(req, res);
    return console(req, res);
  };
}

/**
 * "Send now": times out the task the run is parked on (the nurture wait), as if its scheduled time had
 * come; the run goes on at once (the next email). Resolves once that is stored; false when the run is not
 * parked on a task.
 */
export async function sendNow(sfn: LocalStepFunctions, executionArn: string): Promise<boolean> {
  const rec = sfn.list().find((r) => r.executionArn === executionArn);
  const parked = rec?.status === 'RUNNING' ? rec.current?.parked : undefined;
  if (!parked || parked.state !== rec?.current?.state) return false;
  try {
    await sfn.expireTask({ taskToken: parked.token });
    return true;
  } catch {
    return false;
  }
}
