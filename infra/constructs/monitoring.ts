import { Duration } from 'aws-cdk-lib';
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
import { Alias } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface MonitoringProps {
  stateMachine: StateMachine;
  functions: Record<string, LambdaFunction>;
  api: HttpApi;
}

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

/** Alarms into one encrypted topic ops subscribes to, and the dashboard. */
export class HandoffMonitoring extends Construct {
  readonly alerts: Topic;

  constructor(scope: Construct, id: string, { stateMachine: sm, functions, api }: MonitoringProps) {
    super(scope, id);
    this.alerts = new Topic(this, 'Alerts', {
      enforceSSL: true,
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
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
    for (const [fnId, f] of Object.entries(functions)) {
      alarm(`${fnId}Errors`, f.metricErrors({ period: Duration.minutes(5) }), `${fnId} threw errors.`);
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
