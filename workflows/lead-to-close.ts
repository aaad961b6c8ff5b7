import { type CfnElement, type Duration, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { StepInput, StepOutput } from '../functions/steps/contracts.ts';
import { payloadOf, step, waitingStep } from './tasks.ts';

export { RETRY, THROTTLE_RETRY, THROTTLES, TRANSIENT_ERRORS } from './tasks.ts';

type Nurture = StepOutput<'nurture'>;
type Outcome = StepInput<'closeDeal'>['outcome'];
type Route = StepOutput<'capture'>['route'];

export interface StepFunctions {
  capture: IFunction;
  nurture: IFunction;
  awaitSignal: IFunction;
  assignRep: IFunction;
  awaitOutcome: IFunction;
  closeDeal: IFunction;
}

export interface LeadToCloseWorkflowProps {
  functions: StepFunctions;
  /** How long a rep has to accept before the lead is reassigned. */
  acceptWithin: Duration;
  /** How long an accepted deal may stay open before it is closed as stale. */
  closeWithin: Duration;
  /** How often a run waiting for a free rep looks again on its own (a closing deal wakes it sooner). */
  capacityRecheck: Duration;
}

/** Thrown at a waiting "Assign rep" when a slot of its team frees up (functions/platform/runs.ts). */
const CAPACITY_FREED = 'CapacityFreed';

/**
 * The lead-to-close journey (DESIGN §1) as one Standard state machine; the only place the flow is
 * defined. State names are what admins read in the console. Every Task retries transient errors with
 * backoff and jitter; a step that still fails fails the run at that state, so RedriveExecution resumes
 * it there after the fix ("Record failure" runs from an EventBridge rule, not from this definition).
 * The journey listens: a nurtured lead's run waits on a task token that any signal (a form, a click, an
 * unsubscribe, a bounce, a complaint) resumes at once. A full sales team is a wait inside "Assign rep".
 * Every state costs a transition: a nurture email costs two (Nurture, the wait), as "Next?" comes after
 * the wait, not inside the loop of sends.
 */
export class LeadToCloseWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: LeadToCloseWorkflowProps) {
    super(scope, id);
    const f = props.functions;
    const leadId = JsonPath.stringAt('$.lead.id');
    const cycle = JsonPath.numberAt('$.nurture.cycle');

    const capture = step(
      this,
      'Capture & score lead',
      f.capture,
      payloadOf('capture', {
        lead: JsonPath.objectAt('$.lead'),
        receivedAt: JsonPath.stringAt('$.receivedAt'),
        executionName: JsonPath.executionName,
      }),
      '$.capture',
    );
    const merged = new Succeed(this, 'Merged into active lead', {
      comment:
        'Another run of this lead started at the same moment; this submission counts as engagement there.',
    });
    const disqualified = new Succeed(this, 'Disqualified');

    const nurture = step(
      this,
      'Nurture',
      f.nurture,
      payloadOf('nurture', {
        leadId,
        nurture: JsonPath.objectAt('$.nurture'),
        wake: JsonPath.objectAt('$.wake'),
      }),
      '$.nurture',
    );
    // Every nurture step is followed by the wait, so an email costs two states. With `wait` the wait parks
    // until the next email is due (the step's waitSeconds; the timer → Nurture) unless a signal resumes it
    // sooner (→ "Next?" → Nurture). Any other answer resumes it at once, without parking (waitSeconds then
    // only bounds that), and "Next?" routes it. "Next?" reads `$.nurture.next`, which only the nurture step
    // writes: what resumed the wait (`$.wake`: `{ signal }` or `{ next }`) never steers the run. Why a
    // signal during an ending answer cannot send a lead astray: functions/steps/await-signal.ts.
    const waitForSignal = waitingStep(
      this,
      'Wait for a signal or the next send',
      f.awaitSignal,
      payloadOf('awaitSignal', {
        taskToken: JsonPath.taskToken,
        leadId,
        next: JsonPath.stringAt('$.nurture.next'),
      }),
      '$.wake',
      Timeout.at('$.nurture.waitSeconds'),
    );
    waitForSignal.addCatch(nurture, { errors: ['States.Timeout'], resultPath: '$.wake' });
    nurture.next(waitForSignal);
    const unsubscribed = new Succeed(this, 'Unsubscribed');
    const bounced = new Succeed(this, 'Bounced', { comment: 'The address bounced permanently: suppressed.' });
    const complained = new Succeed(this, 'Complained', {
      comment: 'The lead marked an email as spam: suppressed.',
    });
    const notEmailable = new Succeed(this, 'Not emailable (no marketing consent)');
    const nurtured = new Succeed(this, 'Nurtured (stays a marketing lead)');

    /** Assign / Reassign: resumes at once, or waits in the team's queue; a freed slot or the timer retries. */
    const assignStep = (name: string, previous?: unknown) => {
      const t = waitingStep(
        this,
        name,
        f.assignRep,
        payloadOf('assignRep', {
          taskToken: JsonPath.taskToken,
          leadId,
          executionName: JsonPath.executionName,
          cycle,
          ...(previous ? { previous } : {}),
        }),
        '$.assignment',
        props.capacityRecheck,
      );
      t.addCatch(t, { errors: [CAPACITY_FREED, 'States.Timeout'], resultPath: '$.capacity' });
      return t;
    };
    const assign = assignStep('Assign rep');
    const reassign = assignStep('Reassign rep', JsonPath.objectAt('$.assignment'));

    const waitForRep = (name: string, waitingFor: 'acceptance' | 'outcome', timeout: Duration) =>
      waitingStep(
        this,
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
      this,
      'Close deal',
      f.closeDeal,
      closePayload(JsonPath.objectAt('$.outcome')),
      '$.close',
    );
    const closeStale = step(
      this,
      'Close as stale',
      f.closeDeal,
      closePayload({ action: 'stale' } satisfies Outcome),
      '$.close',
    );
    const closed = new Succeed(this, 'Deal closed');
    const recycle = new Pass(this, 'Recycle to nurture', {
      parameters: { cycle: JsonPath.numberAt('$.close.nextCycle'), step: 0 },
      resultPath: '$.nurture',
    });

    awaitAcceptance.addCatch(
      new Choice(this, 'Reassignments left?')
        .when(
          Condition.numberGreaterThan('$.assignment.reassignmentsLeft', 0),
          reassign.next(awaitAcceptance),
        )
        .otherwise(closeStale),
      { errors: ['States.Timeout'], resultPath: '$.timeout' },
    );
    awaitOutcome.addCatch(closeStale, { errors: ['States.Timeout'], resultPath: '$.timeout' });

    close.next(
      new Choice(this, 'Recycle?')
        .when(Condition.booleanEquals('$.close.recycle', true), recycle.next(nurture))
        .otherwise(closed),
    );
    closeStale.next(closed);

    assign.next(awaitAcceptance);
    awaitAcceptance.next(
      new Choice(this, 'Rep accepted?')
        .when(
          Condition.stringEquals('$.outcome.action', 'accept' satisfies Outcome['action']),
          awaitOutcome.next(close),
        )
        .otherwise(close),
    );

    waitForSignal.next(
      new Choice(this, 'Next?')
        // A signal woke the wait: the nurture step looks again.
        .when(Condition.stringEquals('$.nurture.next', 'wait' satisfies Nurture['next']), nurture)
        .when(Condition.stringEquals('$.nurture.next', 'sales-ready' satisfies Nurture['next']), assign)
        .when(
          Condition.stringEquals('$.nurture.next', 'unsubscribed' satisfies Nurture['next']),
          unsubscribed,
        )
        .when(Condition.stringEquals('$.nurture.next', 'bounced' satisfies Nurture['next']), bounced)
        .when(Condition.stringEquals('$.nurture.next', 'complained' satisfies Nurture['next']), complained)
        .when(
          Condition.stringEquals('$.nurture.next', 'not-emailable' satisfies Nurture['next']),
          notEmailable,
        )
        .otherwise(nurtured),
    );

    const definition = capture.next(
      new Choice(this, 'Route lead')
        .when(Condition.stringEquals('$.capture.route', 'merged' satisfies Route), merged)
        .when(Condition.stringEquals('$.capture.route', 'disqualify' satisfies Route), disqualified)
        .when(Condition.stringEquals('$.capture.route', 'sales-ready' satisfies Route), assign)
        .otherwise(nurture),
    );

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      comment: 'Handoff: one execution per lead, capture → score → nurture → assign → close',
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: RetentionDays.THREE_MONTHS }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    for (const fn of Object.values(f)) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.stateMachine.stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'LambdaInvoke grants lambda:InvokeFunction on the function and its versions/aliases (ARN:*); limited to this workflow’s own functions.',
      });
    }
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery etc.) have no resource-level permissions.',
    });
  }
}
