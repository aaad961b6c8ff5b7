import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * EventBridge delivers each event to its Lambda target asynchronously, in two hops, and each can give up:
 *
 * 1. EventBridge → Lambda (the Invoke call): refused while the function is throttled, missing or denied.
 *    EventBridge retries for up to 24 h (185 attempts, the target's RetryPolicy), then puts the event in
 *    `undelivered` (the target's DeadLetterConfig) instead of dropping it.
 * 2. Lambda → the handler: an invocation Lambda accepted and the handler then failed (threw, timed out) is
 *    retried twice by Lambda within 6 h, then sent to `failed` (the function's on-failure destination: the
 *    event, the error and the attempts, as an invocation record) instead of being dropped.
 *
 * An on-failure destination rather than the function's DeadLetterConfig: the record says why it failed and
 * what was asked, and a destination is configured per function with the retry settings beside it. Both
 * queues are SQS (SSE-SQS, TLS only) and kept 14 days, SQS's longest; an alarm fires on either's first
 * message (HandoffMonitoring). docs/operations.md ("Alarms and dead letters") says how to read and redrive
 * them.
 */
export class HandoffDeadLetters extends Construct {
  /** Events EventBridge could not hand to a target's function (after its RetryPolicy). */
  readonly undelivered: Queue;
  /** Events an EventBridge-invoked function failed on, after Lambda's own retries (on-failure destination). */
  readonly failed: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const queue = (queueId: string, what: string) => {
      const q = new Queue(this, queueId, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(q).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `A dead-letter queue itself (${what}); nothing consumes it to fail again, an alarm fires on its first message.`,
      });
      return q;
    };
    this.undelivered = queue('Undelivered', "the EventBridge targets' DeadLetterConfig");
    this.failed = queue('Failed', 'the on-failure destination of the EventBridge-invoked functions');
    // Their URLs, for `aws sqs receive-message` and the redrive (docs/operations.md).
    new CfnOutput(Stack.of(this), 'UndeliveredEventsQueue', { value: this.undelivered.queueUrl });
    new CfnOutput(Stack.of(this), 'FailedEventsQueue', { value: this.failed.queueUrl });
  }

  /**
   * An EventBridge rule target for `fn` with an explicit retry policy and dead-letter queue, and `fn`'s
   * asynchronous invocations set to keep their failures (call once per function).
   */
  target(fn: IFunction): LambdaFunction {
    fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.failed),
    });
    return new LambdaFunction(fn, {
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
      deadLetterQueue: this.undelivered,
    });
  }
}
