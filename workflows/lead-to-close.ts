// The lead-to-close journey in one file on purpose: DESIGN §2 makes this the only place the flow is
// defined, so a reader follows every state and transition here (≈330 lines, most of them state wiring).
import { type CfnElement, Duration, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  IntegrationPattern,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  type RetryProps,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { StepInput, StepName, StepOutput } from '../functions/shared/contracts.ts';

/** A Task payload with the keys of the step's input contract (functions/shared/contracts.ts), checked by tsc. */
function payloadOf<S extends StepName>(_step: S, payload: { [K in keyof StepInput<S>]: unknown }) {
  return TaskInput.fromObject(payload);
}

type Nurture = StepOutput<'sendNurture'>;
type Engagement = StepOutput<'checkEngagement'>;

export interface StepFunctions {
  capture: IFunction;
  score: IFunction;
  sendNurture: IFunction;
  checkEngagement: IFunction;
  assignRep: IFunction;
  awaitOutcome: IFunction;
  closeDeal: IFunction;
  recordFailure: IFunction;
}

export interface LeadToCloseWorkflowProps {
  functions: StepFunctions;
  /** How long a rep has to accept before the lead is reassigned. */
  acceptWithin: Duration;
  /** How long an accepted deal may stay open before it is closed as stale. */
  closeWithin: Duration;
}

/** Errors worth another try: Lambda service hiccups, throttling, a lost race. Never validation errors. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
  'TransientError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
];

/** Every Task's retry policy: transient errors only, exponential backoff with full jitter. */
const RETRY: RetryProps = {
  errors: TRANSIENT_ERRORS,
  interval: Duration.seconds(2),
  maxAttempts: 4,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: JitterType.FULL,
};

/**
 * The lead-to-close journey (DESIGN §1) as one Standard state machine; the only place the flow is
 * defined. State names are what admins read in the console. Every Task retries transient errors with
 * backoff and jitter and routes anything else to "Record failure"; every path ends in Succeed or Fail.
 */
export class LeadToCloseWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: LeadToCloseWorkflowProps) {
    super(scope, id);
    const f = props.functions;

    const recordFailure = new LambdaInvoke(this, 'Record failure', {
      lambdaFunction: f.recordFailure,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: payloadOf('recordFailure', {
        leadId: JsonPath.stringAt('$.lead.id'),
        error: JsonPath.objectAt('$.error'),
      }),
      resultPath: '$.failure',
      taskTimeout: Timeout.duration(Duration.seconds(30)),
    });
    const failed = new Fail(this, 'Lead processing failed', {
      error: 'LeadProcessingFailed',
      cause: 'A step failed after its retries; see the lead timeline and the Record failure state',
    });
    recordFailure.addRetry(RETRY);
    recordFailure.addCatch(failed, { resultPath: '$.recordError' });
    recordFailure.next(failed);

    const task = (
      name: string,
      fn: IFunction,
      payload: TaskInput,
      resultPath: string,
      timeout = Duration.seconds(30),
    ) => {
      const t = new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false, // covered by TRANSIENT_ERRORS below
        payload,
        resultPath,
        taskTimeout: Timeout.duration(timeout),
      });
      t.addRetry(RETRY);
      t.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      return t;
    };

    /** A `.waitForTaskToken` task: the handler parks the token on the deal; a rep link resumes it. */
    const waitForRep = (name: string, waitingFor: 'acceptance' | 'outcome', timeout: Duration) => {
      const t = new LambdaInvoke(this, name, {
        lambdaFunction: f.awaitOutcome,
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        retryOnServiceExceptions: false,
        payload: payloadOf('awaitRep', {
          taskToken: JsonPath.taskToken,
          dealId: JsonPath.stringAt('$.assignment.dealId'),
          attempt: JsonPath.numberAt('$.assignment.attempt'),
          waitingFor,
        }),
        resultPath: '$.outcome',
        taskTimeout: Timeout.duration(timeout),
      });
      t.addRetry(RETRY);
      return t;
    };

    const leadId = JsonPath.stringAt('$.lead.id');
    const cycle = JsonPath.numberAt('$.nurture.cycle');

    const receive = new Pass(this, 'Receive lead', {
      result: Result.fromObject({ cycle: 0, step: 0 }),
      resultPath: '$.nurture',
    });
    const capture = task(
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
    const score = task('Score lead', f.score, payloadOf('score', { leadId }), '$.score');
    const disqualified = new Succeed(this, 'Disqualified');
    const sendNurture = task(
      'Send nurture email',
      f.sendNurture,
      payloadOf('sendNurture', { leadId, nurture: JsonPath.objectAt('$.nurture') }),
      '$.nurture',
    );
    const waitNext = new Wait(this, 'Wait until next nurture step', {
      time: WaitTime.timestampPath('$.nurture.nextSendAt'),
    });
    const checkEngagement = task(
      'Check engagement',
      f.checkEngagement,
      payloadOf('checkEngagement', { leadId, nurture: JsonPath.objectAt('$.nurture') }),
      '$.engagement',
    );
    const unsubscribed = new Succeed(this, 'Unsubscribed');
    const notEmailable = new Succeed(this, 'Not emailable (no marketing consent)');
    const nurtured = new Succeed(this, 'Nurtured (stays a marketing lead)');

    const assign = task(
      'Assign rep',
      f.assignRep,
      payloadOf('assignRep', { leadId, executionName: JsonPath.executionName, cycle }),
      '$.assignment',
    );
    const reassign = task(
      'Reassign rep',
      f.assignRep,
      payloadOf('assignRep', {
        leadId,
        executionName: JsonPath.executionName,
        cycle,
        previous: JsonPath.objectAt('$.assignment'),
      }),
      '$.assignment',
    );
    const awaitAcceptance = waitForRep('Await rep acceptance', 'acceptance', props.acceptWithin);
    const awaitOutcome = waitForRep('Await deal outcome', 'outcome', props.closeWithin);
    const closePayload = (outcome: unknown) =>
      payloadOf('closeDeal', { leadId, dealId: JsonPath.stringAt('$.assignment.dealId'), cycle, outcome });
    const close = task('Close deal', f.closeDeal, closePayload(JsonPath.objectAt('$.outcome')), '$.close');
    const closeStale = task(
      'Close as stale',
      f.closeDeal,
      closePayload({ action: 'stale' } satisfies StepInput<'closeDeal'>['outcome']),
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
    awaitAcceptance.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    awaitOutcome.addCatch(closeStale, { errors: ['States.Timeout'], resultPath: '$.timeout' });
    awaitOutcome.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const afterClose = new Choice(this, 'Recycle?')
      .when(Condition.booleanEquals('$.close.recycle', true), recycle.next(sendNurture))
      .otherwise(closed);
    close.next(afterClose);
    closeStale.next(closed);

    assign.next(awaitAcceptance);
    awaitAcceptance.next(
      new Choice(this, 'Rep accepted?')
        .when(
          Condition.stringEquals(
            '$.outcome.action',
            'accept' satisfies StepInput<'closeDeal'>['outcome']['action'],
          ),
          awaitOutcome.next(close),
        )
        .otherwise(close),
    );

    const afterSend = new Choice(this, 'Still emailable?')
      .when(
        Condition.stringEquals('$.nurture.status', 'suppressed' satisfies Nurture['status']),
        unsubscribed,
      )
      .when(
        Condition.stringEquals('$.nurture.status', 'not-emailable' satisfies Nurture['status']),
        notEmailable,
      )
      .otherwise(waitNext);
    const afterCheck = new Choice(this, 'Next nurture move?')
      .when(
        Condition.stringEquals('$.engagement.next', 'unsubscribed' satisfies Engagement['next']),
        unsubscribed,
      )
      .when(Condition.stringEquals('$.engagement.next', 'sales-ready' satisfies Engagement['next']), assign)
      .when(Condition.stringEquals('$.engagement.next', 'done' satisfies Engagement['next']), nurtured)
      .otherwise(sendNurture);
    sendNurture.next(afterSend);
    waitNext.next(checkEngagement);
    checkEngagement.next(afterCheck);

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
