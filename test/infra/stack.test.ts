import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadTemplate } from '../../local/template.ts';
import { config } from '../fixtures/config.ts';

let template: Template;
let raw: ReturnType<typeof loadTemplate>;
beforeAll(() => {
  raw = loadTemplate(inject('cdkOut'));
  template = Template.fromJSON(raw);
});

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
const statementsOf = (policy: { Properties?: Record<string, unknown> }) =>
  (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
/** Every action granted to a function's role, from the synthesized template. */
function actionsOf(functionId: string): string[] {
  const fn = Object.entries(raw.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      String(r.Metadata?.['aws:cdk:path']).startsWith(`Handoff/${functionId}/`),
  );
  if (!fn) throw new Error(`no function ${functionId}`);
  const roleId = (fn[1].Properties as { Role: { 'Fn::GetAtt': string[] } }).Role['Fn::GetAtt'][0];
  const policies = Object.values(raw.Resources).filter(
    (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(String(roleId)),
  );
  return policies
    .flatMap((p) => statementsOf(p))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();
}

describe('least-privilege function roles', () => {
  const base = [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
  ];
  it.each([
    ['SubmitLead', ['states:StartExecution']],
    ['CaptureLead', ['dynamodb:PutItem', 'dynamodb:UpdateItem']],
    ['AwaitOutcome', ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'states:SendTaskSuccess']],
    ['AdminRead', ['dynamodb:GetItem', 'dynamodb:Query']],
    ['TrackClick', ['dynamodb:PutItem', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']],
    [
      'SendNurtureEmail',
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'ses:SendRawEmail',
      ],
    ],
    [
      'RepAction',
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'states:SendTaskSuccess',
      ],
    ],
  ])('%s may do exactly what it uses', (id, actions) => {
    expect(actionsOf(id)).toEqual([...base, ...actions].sort());
  });

  it('gives a function an environment variable only with the grant it is for', () => {
    const needs: Record<string, (actions: string[]) => boolean> = {
      TABLE_NAME: (a) => a.some((x) => x.startsWith('dynamodb:')),
      LINK_SECRET_ARN: (a) => a.includes('secretsmanager:GetSecretValue'),
      SES_CONFIGURATION_SET: (a) => a.includes('ses:SendRawEmail'),
      STATE_MACHINE_ARN: (a) => a.includes('states:StartExecution'),
    };
    const functions = Object.values(raw.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) {
      const id = String(fn.Metadata?.['aws:cdk:path']).split('/')[1] ?? '';
      const env = Object.keys(
        (fn.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables ??
          {},
      );
      const actions = actionsOf(id);
      for (const [variable, granted] of Object.entries(needs)) {
        if (env.includes(variable))
          expect(granted(actions), `${id} has ${variable} without its grant`).toBe(true);
        else if (variable !== 'TABLE_NAME')
          expect(granted(actions), `${id} has a grant without ${variable}`).toBe(false);
      }
    }
  });

  it('grants no function a DynamoDB wildcard or scan, and a delete only to those that keep the capacity queue', () => {
    const all = Object.values(raw.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => statementsOf(p))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(all.filter((a) => /\*|Scan/.test(a) && a.startsWith('dynamodb'))).toEqual([]);
    const deleters = [
      'AssignRep',
      'CloseDeal',
      'RecordFailure',
      'CaptureLead',
      'ScoreLead',
      'RepAction',
      'SubmitLead',
    ];
    expect(deleters.filter((id) => actionsOf(id).includes('dynamodb:DeleteItem'))).toEqual([
      'AssignRep',
      'CloseDeal',
      'RecordFailure',
    ]);
  });

  it('records a run that fails, times out or is stopped from an EventBridge rule, not from the definition', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      Targets: Match.arrayWith([Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 185 } })]),
    });
    expect(actionsOf('RecordFailure')).toContain('states:SendTaskFailure');
  });

  it('lets only the two mailing steps send email, and only as the configured sender', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ses:SendRawEmail',
            Condition: { StringEquals: { 'ses:FromAddress': config.app.sender.fromAddress } },
          }),
        ]),
      },
    });
    const senders = [
      'AssignRep',
      'SendNurtureEmail',
      'CaptureLead',
      'ScoreLead',
      'CloseDeal',
      'RepAction',
      'SubmitLead',
    ].filter((id) => actionsOf(id).includes('ses:SendRawEmail'));
    expect(senders).toEqual(['AssignRep', 'SendNurtureEmail']);
  });
});

describe('data', () => {
  it('keeps the table: on-demand, point-in-time recovery, TTL, retained, deletion-protected', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'gsi1' }),
          Match.objectLike({ IndexName: 'gsi2' }),
        ],
      }),
    });
  });

  it('puts no secret value in the template', () => {
    const withValues = Object.entries(raw.Resources).filter(
      ([, r]) => r.Properties && 'SecretString' in r.Properties,
    );
    expect(withValues.map(([id]) => id)).toEqual([]);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
    });
  });
});

describe('functions', () => {
  it('run Node.js 24 on ARM64 with tracing, and log to a group with retention', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(fns)).toHaveLength(13);
    for (const f of Object.values(fns)) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(f.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    for (const g of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });
});

describe('workflow', () => {
  it('logs every event but never execution data (PII), and traces', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('alarms on failed and timed-out runs and on every function’s errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsTimedOut',
      Namespace: 'AWS/States',
    });
    const errorAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'Errors',
    );
    expect(errorAlarms).toHaveLength(13);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions checks run on the app and fail synthesis on an unsuppressed finding', () => {
    // The real app passed the same plugin in global setup (synth throws on errors); prove the plugin bites.
    const app = new App();
    const stack = new Stack(app, 'Probe');
    new Table(stack, 'NoRecovery', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
