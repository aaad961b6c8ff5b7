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
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { StepInput, StepOutput } from '../functions/shared/contracts.ts';
import { payloadOf, step, waitingStep } from './tasks.ts';

export { RETRY, TRANSIENT_ERRORS } from './tasks.ts';

type Nurture = StepOutput<'sendNurture'>;
type Engagement = StepOutput<'checkEngagement'>;
type Outcome = StepInput<'closeDeal'>['outcome'];

export interface StepFunctions {
  capture: IFunction;
  score: IFunction;
  sendNurture: IFunction;
  checkEngagement: IFunction;
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

/** Thrown at a waiting "Assign rep" when a slot of its team frees up (functions/shared/runs.ts). */
const CAPACITY_FREED = 'CapacityFreed';

/**
 * The lead-to-close journey (DESIGN §1) as one Standard state machine; the only place the flow is
 * defined. State names are what admins read in the console. Every Task retries transient errors with
 * backoff and jitter; a step that still fails fails the run at that state, so RedriveExecution resumes
 * it there after the fix ("Record failure" runs from an EventBridge rule, not from this definition).
 * A full sales team is a wait inside "Assign rep", never a failure.
 */
export class LeadToCloseWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: LeadToCloseWorkflowProps) {
    super(scope, id);
    const f = props.functions;
    const leadId = JsonPath.stringAt('$.lead.id');
    const cycle = JsonPath.numberAt('$.nurture.cycle');

    const receive = new Pass(this, 'Receive lead', {
      result: Result.fromObject({ cycle: 0, step: 0 }),
      resultPath: '$.nurture',
    });
    const capture = step(
      this,
      'Capture lead',
      f.capture,
      payloadOf('capture', {
        lead: JsonPath.objectAt('$.lead'),
        receivedAt: JsonPath.stringAt('$.receivedAt'),
        executionName: JsonPath.executionName,
      }),
      '$.capture',
    );
    const merged = new Succeed(this, 'Merged into active lead', {
      comment: 'The lead already has a run in progress; this submission counts as engagement there.',
    });
    const score = step(this, 'Score lead', f.score, payloadOf('score', { leadId }), '$.score');
    const disqualified = new Succeed(this, 'Disqualified');

    const sendNurture = step(
      this,
      'Send nurture email',
      f.sendNurture,
      payloadOf('sendNurture', { leadId, nurture: JsonPath.objectAt('$.nurture') }),
      '$.nurture',
    );
    const waitNext = new Wait(this, 'Wait until next nurture step', {
      time: WaitTime.timestampPath('$.nurture.nextSendAt'),
    });
    const checkEngagement = step(
      this,
      'Check engagement',
      f.checkEngagement,
      payloadOf('checkEngagement', { leadId, nurture: JsonPath.objectAt('$.nurture') }),
      '$.engagement',
    );
    const unsubscribed = new Succeed(this, 'Unsubscribed');
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
        .when(Condition.booleanEquals('$.close.recycle', true), recycle.next(sendNurture))
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

    sendNurture.next(
      new Choice(this, 'Still emailable?')
        .when(
          Condition.stringEquals('$.nurture.status', 'suppressed' satisfies Nurture['status']),
          unsubscribed,
        )
        .when(
          Condition.stringEquals('$.nurture.status', 'not-emailable' satisfies Nurture['status']),
          notEmailable,
        )
        .otherwise(waitNext),
    );
    waitNext.next(checkEngagement);
    checkEngagement.next(
      new Choice(this, 'Next nurture move?')
        .when(
          Condition.stringEquals('$.engagement.next', 'unsubscribed' satisfies Engagement['next']),
          unsubscribed,
        )
        .when(Condition.stringEquals('$.engagement.next', 'sales-ready' satisfies Engagement['next']), assign)
        .when(Condition.stringEquals('$.engagement.next', 'done' satisfies Engagement['next']), nurtured)
        .otherwise(sendNurture),
    );

    const route = new Choice(this, 'Route lead')
      .when(
        Condition.stringEquals('$.score.route', 'disqualify' satisfies StepOutput<'score'>['route']),
        disqualified,
      )
      .when(
        Condition.stringEquals('$.score.route', 'sales-ready' satisfies StepOutput<'score'>['route']),
        assign,
      )
      .otherwise(sendNurture);

    const definition = receive
      .next(capture)
      .next(
        new Choice(this, 'Already in progress?')
          .when(
            Condition.stringEquals('$.capture.outcome', 'merged' satisfies StepOutput<'capture'>['outcome']),
            merged,
          )
          .otherwise(score.next(route)),
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
