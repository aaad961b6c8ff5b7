import { leadRetention } from '#functions/config/bundled.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { continuationName } from '#functions/platform/continuation.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { type Runs, sfnRuns } from '#functions/platform/runs.ts';
import { stepHandler } from '#functions/platform/step.ts';
import { appTable } from '#functions/platform/table.ts';
import { continuedSchema, contracts } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

/**
 * "Continue as a new run" (docs/architecture.md, "Runs that wait a year"): a run that has waited long
 * enough to near Step Functions' 25,000-event history limit hands its journey on to a new execution of
 * the same state machine, then ends Succeeded ("Continued as a new run"). The new execution's input is the
 * run's state with `continued` (the chain's first execution, this one, its place, the state to resume at),
 * where "New or continued run?" sends it; its name is `<root>-c<n>`, so a retry starts no second run
 * (Step Functions answers a same-name, same-input start with the run that exists).
 *
 * The new run starts first, then the lead points at it (`activeExecution`, a conditional write of that
 * attribute alone), so signals, erase and Record failure find it: if the start fails, this run fails here and is recorded as any failed run is. A lead
 * another run owns now (a newer submission) is left alone.
 */
export const createHandler = ({
  leads,
  runsOf,
}: Pick<Stores, 'leads'> & { runsOf: (stateMachineArn: string) => Pick<Runs, 'start'> }) =>
  stepHandler(contracts.continueRun, async ({ leadId, executionName, stateMachineArn, at, state }) => {
    const before = continuedSchema.safeParse(state.continued);
    const root = before.success ? before.data.root : executionName;
    const n = before.success ? before.data.n + 1 : 2;
    const name = continuationName(root, n);
    const continued = { root, from: executionName, n, at };
    // The new execution counts its own loops; `continuing` (the error that brought the run here) is this
    // one's. A new `wake` is no timer's: the next nurture step decides from the time, not a timeout.
    const { continuing: _, nurture, ...rest } = state;
    const counted = nurture && typeof nurture === 'object' ? { ...nurture, loops: 0 } : nurture;
    await runsOf(stateMachineArn).start(name, { ...rest, nurture: counted, wake: null, continued });
    // Only the pointer moves, conditionally: the new run may already have moved the lead's stage.
    if (!(await leads.handOver(leadId, executionName, name)))
      logger.warn('the lead is owned by another run; the continuation points nothing at it', { leadId });
    metrics.addMetric('RunsContinued', 'Count', 1);
    logger.info('run continued as a new execution', { leadId, n, at });
    return { name, n };
  });

// Only the stores this handler uses are built (and bundled). The state machine's ARN comes with each call
// ($$.StateMachine.Id): an environment variable naming it would make function → machine → function a cycle.
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  runsOf: (stateMachineArn) => sfnRuns({ stateMachineArn }),
});
