import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  SingleValueWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationSet, EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { HandoffConfig } from '../functions/shared/config-schema.ts';
import { LeadToCloseWorkflow } from '../workflows/lead-to-close.ts';
import { HandoffTable, type TableAction } from './constructs/data.ts';
import { HandoffFunction } from './constructs/handoff-function.ts';

export interface HandoffStackProps extends StackProps {
  config: HandoffConfig;
}

type Needs = { table?: TableAction[]; mail?: boolean; links?: boolean };

/** Each function's construct id → its handler under `functions/`. Tests map template functions back through this. */
export const ENTRIES = {
  CaptureLead: 'steps/capture.ts',
  ScoreLead: 'steps/score.ts',
  SendNurtureEmail: 'steps/send-nurture.ts',
  CheckEngagement: 'steps/check-engagement.ts',
  AssignRep: 'steps/assign-rep.ts',
  AwaitOutcome: 'steps/await-outcome.ts',
  CloseDeal: 'steps/close-deal.ts',
  RecordFailure: 'steps/record-failure.ts',
  SubmitLead: 'api/leads.ts',
  RepAction: 'api/rep-action.ts',
  Unsubscribe: 'api/unsubscribe.ts',
  TrackClick: 'api/click.ts',
  AdminRead: 'api/admin.ts',
} as const;
export type FunctionId = keyof typeof ENTRIES;

/** Handoff: HTTP API → Step Functions (one run per lead) → Lambda steps, DynamoDB, SES. */
export class HandoffStack extends Stack {
  readonly functions: Record<string, HandoffFunction> = {};

  constructor(scope: Construct, id: string, props: HandoffStackProps) {
    super(scope, id, props);
    const { config } = props;

    const data = new HandoffTable(this, 'Data');
    const linkSecret = new Secret(this, 'LinkSigningKey', {
      description: 'HMAC key for signed rep, unsubscribe and click links',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(linkSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC key invalidates every link already emailed; rotation is a documented manual runbook (docs/operations.md).',
    });

    const senderDomain = config.app.sender.fromAddress.split('@')[1] ?? '';
    const identity = new EmailIdentity(this, 'SenderIdentity', { identity: Identity.domain(senderDomain) });
    const configurationSet = new ConfigurationSet(this, 'Mail', {
      reputationMetrics: true,
      sendingEnabled: true,
    });

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.THREE_MONTHS });
    const api = new HttpApi(this, 'Api', {
      description: 'Handoff web forms, rep links, unsubscribe and admin reads',
    });
    const stage = api.defaultStage?.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      // No query strings (signed tokens) and no bodies (PII) in access logs.
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        method: '$context.httpMethod',
        route: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    stage.defaultRouteSettings = { throttlingBurstLimit: 200, throttlingRateLimit: 100 };

    const common = {
      TABLE_NAME: data.table.tableName,
      PUBLIC_BASE_URL: api.apiEndpoint,
      LINK_SECRET_ARN: linkSecret.secretArn,
      SES_CONFIGURATION_SET: configurationSet.configurationSetName,
    };
    const fn = (id: FunctionId, description: string, needs: Needs, extra: Record<string, string> = {}) => {
      const f = new HandoffFunction(this, id, {
        entry: ENTRIES[id],
        description,
        environment: { ...common, ...extra },
      });
      if (needs.table?.length) data.grant(f, needs.table);
      if (needs.links) linkSecret.grantRead(f);
      if (needs.mail) {
        f.addToRolePolicy(
          new PolicyStatement({
            actions: ['ses:SendRawEmail'],
            resources: [
              this.formatArn({ service: 'ses', resource: 'identity', resourceName: senderDomain }),
              this.formatArn({
                service: 'ses',
                resource: 'configuration-set',
                resourceName: configurationSet.configurationSetName,
              }),
            ],
            conditions: { StringEquals: { 'ses:FromAddress': config.app.sender.fromAddress } },
          }),
        );
      }
      this.functions[id] = f;
      return f;
    };

    const steps = {
      capture: fn('CaptureLead', 'Capture lead', { table: ['PutItem', 'UpdateItem'] }),
      score: fn('ScoreLead', 'Score lead', { table: ['GetItem', 'Query', 'PutItem', 'UpdateItem'] }),
      sendNurture: fn('SendNurtureEmail', 'Send nurture email', {
        table: ['GetItem', 'PutItem', 'UpdateItem'],
        mail: true,
        links: true,
      }),
      checkEngagement: fn('CheckEngagement', 'Check engagement', {
        table: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
      }),
      assignRep: fn('AssignRep', 'Assign / reassign rep', {
        table: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
        mail: true,
        links: true,
      }),
      awaitOutcome: fn('AwaitOutcome', 'Park the task token on the deal', {
        table: ['GetItem', 'UpdateItem'],
      }),
      closeDeal: fn('CloseDeal', 'Close deal', { table: ['GetItem', 'PutItem', 'UpdateItem'] }),
      recordFailure: fn('RecordFailure', 'Record failure', { table: ['PutItem', 'UpdateItem'] }),
    };

    const workflowLogs = new LogGroup(this, 'WorkflowLogs', { retention: RetentionDays.THREE_MONTHS });
    const workflow = new LeadToCloseWorkflow(this, 'LeadToClose', {
      functions: steps,
      acceptWithin: Duration.hours(config.reps.sla.acceptWithinHours),
      closeWithin: Duration.days(config.reps.sla.closeWithinDays),
      logGroup: workflowLogs,
    });
    const sm = workflow.stateMachine;
    // A rep can click before the wait parks its token; AwaitOutcome then resumes the run itself. A
    // standalone policy (not the role's default one) keeps function → state machine → function acyclic.
    new Policy(this, 'AwaitOutcomeResumesRun', {
      roles: [steps.awaitOutcome.role as IRole],
      statements: [
        new PolicyStatement({ actions: ['states:SendTaskSuccess'], resources: [sm.stateMachineArn] }),
      ],
    });

    const leads = fn('SubmitLead', 'POST /leads', {}, { STATE_MACHINE_ARN: sm.stateMachineArn });
    sm.grantStartExecution(leads);
    const repAction = fn('RepAction', 'Rep action pages', {
      table: ['GetItem', 'PutItem', 'UpdateItem'],
      links: true,
    });
    sm.grantTaskResponse(repAction);
    const unsubscribe = fn('Unsubscribe', 'Unsubscribe', { table: ['GetItem', 'PutItem'], links: true });
    const click = fn('TrackClick', 'Click tracking redirect', { table: ['PutItem'], links: true });
    const admin = fn('AdminRead', 'Admin reads', { table: ['GetItem', 'Query'] });

    const route = (path: string, methods: HttpMethod[], target: HandoffFunction, iam = false) =>
      api.addRoutes({
        path,
        methods,
        integration: new HttpLambdaIntegration(`${target.node.id}Integration`, target),
        ...(iam ? { authorizer: new HttpIamAuthorizer() } : {}),
      });
    route('/leads', [HttpMethod.POST, HttpMethod.OPTIONS], leads);
    route('/deals/action', [HttpMethod.GET, HttpMethod.POST], repAction);
    route('/unsubscribe', [HttpMethod.GET, HttpMethod.POST], unsubscribe);
    route('/c', [HttpMethod.GET], click);
    route('/admin/leads/{leadId}', [HttpMethod.GET], admin, true);
    route('/admin/deals/{dealId}', [HttpMethod.GET], admin, true);
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Public by design: web forms, emailed links (HMAC-signed, verified in the handler) and unsubscribe; /admin/* routes use IAM.',
    });

    // Alarms → one encrypted topic ops subscribes to.
    const alerts = new Topic(this, 'Alerts', {
      enforceSSL: true,
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    const alarm = (id: string, metric: IMetric, description: string) => {
      const a = new Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new SnsAction(alerts));
      return a;
    };
    alarm(
      'ExecutionsFailed',
      sm.metricFailed({ period: Duration.minutes(5) }),
      'A lead run failed: open the execution (named by lead id).',
    );
    alarm('ExecutionsTimedOut', sm.metricTimedOut({ period: Duration.minutes(5) }), 'A lead run timed out.');
    for (const [id, f] of Object.entries(this.functions)) {
      alarm(`${id}Errors`, f.metricErrors({ period: Duration.minutes(5) }), `${id} threw errors.`);
    }

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
          new GraphWidget({
            title: 'Function errors',
            left: Object.values(this.functions).map((f) => f.metricErrors()),
            width: 12,
          }),
          new GraphWidget({
            title: 'Function p95 duration',
            left: Object.values(this.functions).map((f) => f.metricDuration({ statistic: 'p95' })),
            width: 12,
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

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'StateMachineArn', { value: sm.stateMachineArn });
    new CfnOutput(this, 'TableName', { value: data.table.tableName });
    new CfnOutput(this, 'SenderDomain', { value: identity.emailIdentityName });
    new CfnOutput(this, 'AlertsTopic', { value: alerts.topicArn });
  }
}
