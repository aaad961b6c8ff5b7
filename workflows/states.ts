// The states of the lead-to-close journey, each built once; workflows/lead-to-close.ts wires them, in the
// order a lead travels.
import type { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { JsonPath, Pass, Succeed, Timeout } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { StepInput } from '../functions/steps/contracts.ts';
import { payloadOf, step, waitingStep } from './tasks.ts';

type Outcome = StepInput<'closeDeal'>['outcome'];

export interface StepFunctions {
  capture: IFunction;
  nurture: IFunction;
  awaitSignal: IFunction;
  assignRep: IFunction;
  awaitOutcome: IFunction;
  closeDeal: IFunction;
  continueRun: IFunction;
}

export interface LeadToCloseWorkflowProps {
  functions: StepFunctions;
  /** How long a rep has to accept before the lead is reassigned. */
  acceptWithin: Duration;
  /** How long an accepted deal may stay open before it is closed as stale. */
  closeWithin: Duration;
  /** How often a run waiting for a free rep looks again on its own (a closing deal wakes it sooner). */
  capacityRecheck: Duration;
  /**
   * When a waiting run continues as a new execution (functions/platform/continuation.ts): after so many
   * nurture loops or days. The top-level TimeoutSeconds is derived from it (lead-to-close.ts runTimeout).
   */
  continueAfter: { loops: number; days: number };
  /** How many times a lead may be reassigned (its acceptance waits count towards the run's longest span). */
  maxReassignments: number;
  /** The longest a nurture wait may be (the longest delay between emails, business hours included). */
  longestNurtureWait: Duration;
}

export type LeadStates = ReturnType<typeof leadStates>;

/** Every state of the journey, built once, in order of appearance; no transitions yet. */
export function leadStates(scope: Construct, props: LeadToCloseWorkflowProps) {
  const f = props.functions;
  const leadId = JsonPath.stringAt('$.lead.id');
  const cycle = JsonPath.numberAt('$.nurture.cycle');

  const capture = step(
    scope,
    'Capture & score lead',
    f.capture,
    payloadOf('capture', {
      lead: JsonPath.objectAt('$.lead'),
      receivedAt: JsonPath.stringAt('$.receivedAt'),
      executionName: JsonPath.executionName,
    }),
    '$.capture',
  );
  const merged = new Succeed(scope, 'Merged into active lead', {
    comment:
      'Another run of this lead started at the same moment; this submission counts as engagement there.',
  });
  const disqualified = new Succeed(scope, 'Disqualified');

  const nurture = step(
    scope,
    'Nurture',
    f.nurture,
    payloadOf('nurture', {
      leadId,
      nurture: JsonPath.objectAt('$.nurture'),
      wake: JsonPath.objectAt('$.wake'),
    }),
    '$.nurture',
  );
  const waitForSignal = waitingStep(
    scope,
    'Wait for a signal or the next send',
    f.awaitSignal,
    payloadOf('awaitSignal', {
      taskToken: JsonPath.taskToken,
      leadId,
      next: JsonPath.stringAt('$.nurture.next'),
      nurture: JsonPath.objectAt('$.nurture'),
      startedAt: JsonPath.stringAt('$$.Execution.StartTime'),
    }),
    '$.wake',
    Timeout.at('$.nurture.waitSeconds'),
  );
  const unsubscribed = new Succeed(scope, 'Unsubscribed');
  const bounced = new Succeed(scope, 'Bounced', { comment: 'The address bounced permanently: suppressed.' });
  const complained = new Succeed(scope, 'Complained', {
    comment: 'The lead marked an email as spam: suppressed.',
  });
  const notEmailable = new Succeed(scope, 'Not emailable (no marketing consent)');
  const notConfirmed = new Succeed(scope, 'Not confirmed (double opt-in)', {
    comment: 'The confirmation link was not clicked in time: nothing more is sent.',
  });
  const nurtured = new Succeed(scope, 'Nurtured (stays a marketing lead)');

  /** Assign / Reassign: resumes at once, or waits in the team's queue (capacityWait). */
  const assignStep = (name: string, previous?: unknown) =>
    waitingStep(
      scope,
      name,
      f.assignRep,
      payloadOf('assignRep', {
        taskToken: JsonPath.taskToken,
        leadId,
        executionName: JsonPath.executionName,
        cycle,
        startedAt: JsonPath.stringAt('$$.Execution.StartTime'),
        ...(previous ? { previous } : {}),
      }),
      '$.assignment',
      props.capacityRecheck,
    );
  const assign = assignStep('Assign rep');
  const reassign = assignStep('Reassign rep', JsonPath.objectAt('$.assignment'));

  const waitForRep = (name: string, waitingFor: 'acceptance' | 'outcome', timeout: Duration) =>
    waitingStep(
      scope,
      name,
      f.awaitOutcome,
      payloadOf('awaitRep', {
        taskToken: JsonPath.taskToken,
        dealId: JsonPath.stringAt('$.assignment.dealId'),
        attempt: JsonPath.numberAt('$.assignment.attempt'),
        waitingFor,
      }),
      '$.outcome',
      timeout,
    );
  const awaitAcceptance = waitForRep('Await rep acceptance', 'acceptance', props.acceptWithin);
  const awaitOutcome = waitForRep('Await deal outcome', 'outcome', props.closeWithin);

  const closePayload = (outcome: unknown) =>
    payloadOf('closeDeal', { leadId, dealId: JsonPath.stringAt('$.assignment.dealId'), cycle, outcome });
  const close = step(
    scope,
    'Close deal',
    f.closeDeal,
    closePayload(JsonPath.objectAt('$.outcome')),
    '$.close',
  );
  const closeStale = step(
    scope,
    'Close as stale',
    f.closeDeal,
    closePayload({ action: 'stale' } satisfies Outcome),
    '$.close',
  );
  const closed = new Succeed(scope, 'Deal closed');

  // A run whose wait has kept it long enough hands its state on to a new execution and ends here. The
  // waiting step's ContinueAsNew error names, as its cause, the state the new execution resumes at.
  const continueRun = step(
    scope,
    'Continue as a new run',
    f.continueRun,
    payloadOf('continueRun', {
      leadId,
      executionName: JsonPath.executionName,
      stateMachineArn: JsonPath.stringAt('$$.StateMachine.Id'),
      at: JsonPath.stringAt('$.continuing.Cause'),
      state: JsonPath.entirePayload,
    }),
    '$.continuedAs',
  );
  const continued = new Succeed(scope, 'Continued as a new run', {
    comment: 'The journey goes on in the execution named at $.continuedAs.name (<first run>-c<n>).',
  });
  const recycle = new Pass(scope, 'Recycle to nurture', {
    parameters: { cycle: JsonPath.numberAt('$.close.nextCycle'), step: 0 },
    resultPath: '$.nurture',
  });

  return {
    capture,
    merged,
    disqualified,
    nurture,
    waitForSignal,
    unsubscribed,
    bounced,
    complained,
    notEmailable,
    notConfirmed,
    nurtured,
    assign,
    reassign,
    awaitAcceptance,
    awaitOutcome,
    close,
    closeStale,
    closed,
    recycle,
    continueRun,
    continued,
  };
}
