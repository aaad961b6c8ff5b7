import { ArnFormat, CfnCondition, CfnParameter, Duration, Fn, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  SingleValueWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type CfnSubscription, Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface MonitoringProps {
  stateMachine: StateMachine;
  functions: Record<string, LambdaFunction>;
  api: HttpApi;
  /** Dead-letter queues, each with what a message in it means: an alarm fires on the first one. */
  deadLetters?: Record<string, { queue: IQueue; meaning: string }>;
}

/** The deploy parameter naming the address alarms are emailed to (empty: no subscription). */
export const ALARM_EMAIL_PARAMETER = 'AlarmEmail';

/** A business metric the handlers emit with Powertools (namespace Handoff, dimension service=handoff). */
const business = (metricName: string, period = Duration.days(1)) =>
  new Metric({
    namespace: 'Handoff',
    metricName,
    dimensionsMap: { service: 'handoff' },
    statistic: 'Sum',
    period,
  });

/** The funnel's top line: each emitted once, when its funnel counter is first recorded (functions/funnel/milestones.ts). */
export const TOP_LINE = [
  'LeadsCaptured',
  'LeadsMQL',
  'LeadsSQL',
  'DealsAssigned',
  'DealsAccepted',
  'DealsWon',
  'DealsLost',
] as const;

/**
 * Alarms into one encrypted topic ops subscribes to (by email with the AlarmEmail deploy parameter), and the
 * dashboard. CloudWatch publishes an alarm to the topic as the service principal cloudwatch.amazonaws.com:
 * the topic's policy must allow it sns:Publish, and its KMS key must let it encrypt (kms:GenerateDataKey*,
 * kms:Decrypt). The AWS managed key alias/aws/sns allows neither and its policy cannot be changed, so an
 * alarm would be dropped without a trace: the topic has its own customer managed key.
 */
export class HandoffMonitoring extends Construct {
  readonly alerts: Topic;
  readonly alertsKey: Key;

  constructor(
    scope: Construct,
    id: string,
    { stateMachine: sm, functions, api, deadLetters = {} }: MonitoringProps,
  ) {
    super(scope, id);
    const stack = Stack.of(this);
    // Only this account's alarms (in this region) may use the key and the topic (no confused deputy).
    const fromThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    this.alertsKey = new Key(this, 'AlertsKey', {
      description: 'Handoff alarm topic: lets CloudWatch alarms publish to the encrypted topic',
      enableKeyRotation: true,
    });
    this.alertsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisAccountsAlarms,
      }),
    );
    this.alerts = new Topic(this, 'Alerts', { enforceSSL: true, masterKey: this.alertsKey });
    this.alerts.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.alerts.topicArn],
        conditions: fromThisAccountsAlarms,
      }),
    );
    // Email subscription at deploy time: `cdk deploy --parameters AlarmEmail=ops@example.com` (docs/deploy.md).
    // The address must confirm it (SNS emails a link) before alarms arrive.
    const email = new CfnParameter(stack, ALARM_EMAIL_PARAMETER, {
      type: 'String',
      default: '',
      allowedPattern: '^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
      constraintDescription: 'an email address, or empty for no subscription',
      description: 'Email address the alarms are sent to (it must confirm the subscription); empty: none',
    });
    const hasEmail = new CfnCondition(stack, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(email.valueAsString, '')),
    });
    const subscription = new Subscription(this, 'AlarmEmailSubscription', {
      topic: this.alerts,
      protocol: SubscriptionProtocol.EMAIL,
      endpoint: email.valueAsString,
    });
    (subscription.node.defaultChild as CfnSubscription).cfnOptions.condition = hasEmail;

    const alarm = (alarmId: string, metric: IMetric, description: string) => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new SnsAction(this.alerts));
      return a;
    };
    alarm(
      'ExecutionsFailed',
      sm.metricFailed({ period: Duration.minutes(5) }),
      'A lead run failed: open the execution (named by lead id).',
    );
    alarm('ExecutionsTimedOut', sm.metricTimedOut({ period: Duration.minutes(5) }), 'A lead run timed out.');
    // Raised by the events handler (or a nurture step) when the bounce or complaint rate passed its limit:
    // nurture sends are paused until an admin resets the breaker or the rates recover.
    alarm(
      'DeliverabilityBreakerTripped',
      new Metric({
        namespace: 'Handoff',
        metricName: 'DeliverabilityBreakerTripped',
        dimensionsMap: { service: 'handoff' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      'Bounce or complaint rate over its limit: nurture sends are paused. See GET /admin/deliverability.',
    );
    // A funnel counter write failed after its marker: the counts are short until `npm run funnel:rebuild`.
    alarm(
      'FunnelCountersShort',
      business('FunnelCounterErrors', Duration.minutes(5)),
      'Funnel counters missed an update (see the log "funnel counters not updated"): run npm run funnel:rebuild.',
    );
    // The funnel compaction met another writer while it held a day's lease (a writer stalled past its lease,
    // or clocks minutes apart): it stopped before changing what reports read (docs/operations.md).
    alarm(
      'FunnelCompactionConflict',
      business('FunnelCompactionConflicts', Duration.minutes(5)),
      'The funnel compaction met another writer on a day it held (see the log "funnel compaction: another writer changed the day"): check clocks, then run npm run funnel:rebuild for that day.',
    );
    for (const [fnId, f] of Object.entries(functions)) {
      alarm(`${fnId}Errors`, f.metricErrors({ period: Duration.minutes(5) }), `${fnId} threw errors.`);
    }
    // A dead letter: an event nothing will retry. The alarm stays in ALARM (one email) until the queue is
    // emptied (redriven or purged): docs/operations.md, "Alarms and dead letters".
    for (const [queueId, { queue, meaning }] of Object.entries(deadLetters)) {
      const a = new Alarm(this, `${queueId}DeadLetters`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${meaning} See docs/operations.md, "Alarms and dead letters".`,
      });
      a.addAlarmAction(new SnsAction(this.alerts));
    }

    const all = Object.values(functions);
    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Lead runs',
            left: [sm.metricStarted(), sm.metricSucceeded(), sm.metricFailed(), sm.metricTimedOut()],
            width: 12,
          }),
          new SingleValueWidget({
            title: 'Failed runs (24h)',
            metrics: [sm.metricFailed({ period: Duration.days(1) })],
            width: 12,
          }),
        ],
        [
          new GraphWidget({ title: 'Function errors', left: all.map((f) => f.metricErrors()), width: 12 }),
          new GraphWidget({
            title: 'Function p95 duration',
            left: all.map((f) => f.metricDuration({ statistic: 'p95' })),
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Funnel: leads and deals per day',
            left: TOP_LINE.map((name) => business(name)),
            width: 16,
          }),
          new SingleValueWidget({
            title: 'Revenue won (7 days)',
            metrics: [business('RevenueWon', Duration.days(7))],
            width: 8,
          }),
        ],
        [
          new GraphWidget({
            title: 'API 4xx / 5xx',
            left: [api.metricClientError(), api.metricServerError()],
            width: 24,
          }),
        ],
      ],
    });
  }
}
