// Building blocks of the lead-to-close workflow: the one retry policy and the two kinds of Task.
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  IntegrationPattern,
  JitterType,
  type RetryProps,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { StepInput, StepName } from '../functions/steps/contracts.ts';

/**
 * Throttles: the service is busy, not broken. They get their own, longer retrier (12 attempts, up to a
 * minute apart, with full jitter: several minutes in all), so a burst that fills a function's concurrency
 * or the StartExecution quota drains instead of failing runs.
 */
export const THROTTLES = [
  'Lambda.TooManyRequestsException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'Throttling',
];

/**
 * Other errors worth another try. Every step is idempotent (conditional writes, send markers, deterministic
 * ids), so a Lambda timeout (`Sandbox.Timedout`) or a crashed sandbox (`Runtime.ExitError`) is retried too.
 * Validation and contract errors are not: they fail the run at that state, to be redriven after a fix.
 */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  // AWS documents that a function timeout or out-of-memory can surface as Lambda.Unknown.
  'Lambda.Unknown',
  'Sandbox.Timedout',
  'Runtime.ExitError',
  'TransientError',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
];

/** Every Task's retry policy for transient errors: exponential backoff with full jitter. */
export const RETRY: RetryProps = {
  errors: TRANSIENT_ERRORS,
  interval: Duration.seconds(2),
  maxAttempts: 6,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: JitterType.FULL,
};

/** Every Task's retry policy for throttles. */
export const THROTTLE_RETRY: RetryProps = {
  errors: THROTTLES,
  interval: Duration.seconds(1),
  maxAttempts: 12,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: JitterType.FULL,
};

/** A Task payload with the keys of the step's input contract (functions/steps/contracts.ts), checked by tsc. */
export function payloadOf<S extends StepName>(_step: S, payload: { [K in keyof StepInput<S>]: unknown }) {
  return TaskInput.fromObject(payload);
}

/** A Lambda step whose result lands at `resultPath`; it retries transient errors and catches nothing. */
export function step(scope: Construct, name: string, fn: IFunction, payload: TaskInput, resultPath: string) {
  const t = new LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false, // covered by TRANSIENT_ERRORS
    payload,
    resultPath,
    taskTimeout: Timeout.duration(Duration.seconds(30)),
  });
  // A plain step's own timeout (States.Timeout) is one more transient error: the step is idempotent.
  t.addRetry({ ...RETRY, errors: [...TRANSIENT_ERRORS, 'States.Timeout'] });
  t.addRetry(THROTTLE_RETRY);
  return t;
}

/**
 * A `.waitForTaskToken` step: the handler gets `$$.Task.Token` in its payload and either resumes the run
 * itself at once or parks the token for someone else (a rep's link, a freed slot); `timeout` bounds the wait.
 */
export function waitingStep(
  scope: Construct,
  name: string,
  fn: IFunction,
  payload: TaskInput,
  resultPath: string,
  timeout: Duration | Timeout,
) {
  const t = new LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    retryOnServiceExceptions: false,
    payload,
    resultPath,
    taskTimeout: timeout instanceof Duration ? Timeout.duration(timeout) : timeout,
  });
  // Not States.Timeout: a waiting step's timeout is a business path, caught by the workflow.
  t.addRetry(RETRY);
  t.addRetry(THROTTLE_RETRY);
  return t;
}
