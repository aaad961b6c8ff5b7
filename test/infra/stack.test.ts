import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REMINDER_SCHEDULE } from '#functions/deal/reminders.ts';
import { buildApp } from '#infra/app.ts';
import { ENTRIES } from '#infra/stack.ts';
import { loadTemplate } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';

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
    [
      'SubmitLead',
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'ses:SendRawEmail',
        'states:SendTaskSuccess',
        'states:StartExecution',
      ],
    ],
    ['CaptureLead', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']],
    ['AwaitSignal', ['dynamodb:UpdateItem', 'states:SendTaskFailure', 'states:SendTaskSuccess']],
    // Reconcile: reads active leads and open deals, asks each run's status, repairs as Record failure does.
    [
      'ReconcileRuns',
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        // Its on-failure destination (infra/constructs/dead-letters.ts), as every EventBridge target's.
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'states:DescribeExecution',
        'states:SendTaskFailure',
      ],
    ],
    // Continue as a new run: reads the lead, points it at the new execution, starts that execution.
    ['ContinueRun', ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'states:StartExecution']],
    [
      'AwaitOutcome',
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'states:SendTaskSuccess'],
    ],
    ['AdminRead', ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']],
    [
      'AdminWrite',
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'states:SendTaskFailure',
        'states:StopExecution',
      ],
    ],
    [
      'TrackClick',
      ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'secretsmanager:GetSecretValue', 'states:SendTaskSuccess'],
    ],
    [
      'InboundReply',
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'secretsmanager:GetSecretValue',
        'states:SendTaskSuccess',
      ],
    ],
    [
      'TrackVisit',
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'secretsmanager:GetSecretValue',
        'states:SendTaskSuccess',
      ],
    ],
    [
      'SesEvents',
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        // Its on-failure destination: an event it failed on three times is kept (infra/constructs/dead-letters.ts).
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'states:SendTaskSuccess',
      ],
    ],
    [
      'Nurture',
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'secretsmanager:GetSecretValue',
        'ses:GetSendQuota',
        'ses:SendRawEmail',
      ],
    ],
    [
      'DealReminders',
      [
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'secretsmanager:GetSecretValue',
        'ses:SendRawEmail',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ],
    ],
    // Compaction: reads a day's shards and items, writes its fold and marker, deletes what the fold holds.
    [
      'CompactFunnel',
      [
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ],
    ],
    [
      'RepAction',
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
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
      STATE_MACHINE_ARN: (a) =>
        a.includes('states:StartExecution') ||
        a.includes('states:StopExecution') ||
        a.includes('states:DescribeExecution'),
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
        // ContinueRun starts the next execution of its own run's machine, named in its payload: the
        // machine invokes it, so an environment variable naming the machine would be a dependency cycle.
        else if (variable !== 'TABLE_NAME' && !(variable === 'STATE_MACHINE_ARN' && id === 'ContinueRun'))
          expect(granted(actions), `${id} has a grant without ${variable}`).toBe(false);
      }
    }
  });

  it("gives SubmitLead and TrackVisit, and only them, the forms' allowed origins and thank-you page from config/app.json", () => {
    const withForms = Object.values(raw.Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables
          ?.FORM_ALLOWED_ORIGINS !== undefined,
    );
    // The sites whose pages post forms are the sites whose page views are taken (examples/track.js).
    expect(withForms.map((r) => String(r.Metadata?.['aws:cdk:path']).split('/')[1])).toEqual([
      'SubmitLead',
      'TrackVisit',
    ]);
    const variables = (
      withForms[0]?.Properties as { Environment?: { Variables?: Record<string, unknown> } } | undefined
    )?.Environment?.Variables;
    expect(variables).toMatchObject({
      FORM_ALLOWED_ORIGINS: config.app.forms.allowedOrigins.join(' '),
      FORM_THANK_YOU_URL: config.app.forms.thankYouUrl,
    });
  });

  it('grants no function a DynamoDB wildcard or scan, and a delete only to those that keep the capacity queue', () => {
    const all = Object.values(raw.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => statementsOf(p))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(all.filter((a) => /\*|Scan/.test(a) && a.startsWith('dynamodb'))).toEqual([]);
    const candidates = [
      'AssignRep',
      'CloseDeal',
      'RecordFailure',
      'Nurture',
      'AdminWrite',
      'CaptureLead',
      'RepAction',
      'SubmitLead',
      'SesEvents',
    ];
    // The capacity queue (Assign, Close, Record failure), the breaker's reset (Nurture, AdminWrite), erase.
    expect(candidates.filter((id) => actionsOf(id).includes('dynamodb:DeleteItem'))).toEqual([
      'AssignRep',
      'CloseDeal',
      'RecordFailure',
      'Nurture',
      'AdminWrite',
    ]);
  });

  it('sends SES events of the configuration set to EventBridge, where a rule feeds the events handler; not deliveries, which nothing reads', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: ['send', 'bounce', 'complaint', 'reject'],
        EventBridgeDestination: Match.anyValue(),
      }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.ses'],
        'detail-type': ['Email Sent', 'Email Bounced', 'Email Complaint Received', 'Email Rejected'],
      }),
    });
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

  it('lets only the mailing functions send email (nurture, assignment, a rep’s activity note), as the configured sender', () => {
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
      'Nurture',
      'SubmitLead',
      'CaptureLead',
      'CloseDeal',
      'RepAction',
      'SesEvents',
      'DealReminders',
    ].filter((id) => actionsOf(id).includes('ses:SendRawEmail'));
    expect(senders).toEqual(['AssignRep', 'Nurture', 'SubmitLead', 'DealReminders']);
  });

  it('runs the deal reminders weekly from a schedule rule, and lets them query only the stage index', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: REMINDER_SCHEDULE,
      State: 'ENABLED',
      Targets: Match.arrayWith([
        Match.objectLike({
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 185 }),
          DeadLetterConfig: Match.anyValue(),
        }),
      ]),
    });
    const resources = Object.values(raw.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties).includes('DealRemindersRole'))
      .flatMap((p) => statementsOf(p))
      .filter((st) => JSON.stringify(st.Action).includes('dynamodb:Query'))
      .map((st) => JSON.stringify(st.Resource));
    expect(resources.join()).toContain('/index/gsi2');
    expect(resources.join()).not.toContain('/index/gsi1');
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
        // gsi2 only: gsi1 (a rep's deals by stage) was written and never read, and is gone.
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi2' })],
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
    expect(Object.keys(fns)).toHaveLength(Object.keys(ENTRIES).length);
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

  it('alarms on failed and timed-out runs, a tripped deliverability breaker, and every function’s errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliverabilityBreakerTripped',
      Namespace: 'Handoff',
      Dimensions: [{ Name: 'service', Value: 'handoff' }],
      AlarmActions: Match.anyValue(),
    });
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
    expect(errorAlarms).toHaveLength(Object.keys(ENTRIES).length);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('funnel', () => {
  it('serves the funnel and scoring feedback on IAM-authorized admin routes, read by Admin reads', () => {
    for (const path of ['/admin/funnel', '/admin/scoring-feedback']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `GET ${path}`,
        AuthorizationType: 'AWS_IAM',
      });
    }
    // Reports are Queries of day partitions: Admin reads keeps its read-only grant.
    expect(actionsOf('AdminRead').filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
  });

  it('lets the functions that record milestones write markers and counters (UpdateItem) and read markers', () => {
    // Markers are conditional UpdateItems (no PutItem needed) and counters UpdateItem ADDs.
    for (const id of ['CaptureLead', 'Nurture', 'AssignRep', 'RepAction', 'CloseDeal']) {
      expect(actionsOf(id), id).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
    }
  });

  it('shows the top line on the dashboard: leads by stage, deals by outcome, revenue won', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of [
      'LeadsCaptured',
      'LeadsMQL',
      'LeadsSQL',
      'DealsAssigned',
      'DealsAccepted',
      'DealsWon',
      'DealsLost',
      'RevenueWon',
    ]) {
      expect(body).toContain(`\\"Handoff\\",\\"${metric}\\",\\"service\\",\\"handoff\\"`);
    }
    expect(body).toContain('Funnel: leads and deals per day');
    for (const metric of ['FunnelCounterErrors', 'FunnelCompactionConflicts'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'Handoff',
        Dimensions: [{ Name: 'service', Value: 'handoff' }],
        AlarmActions: Match.anyValue(),
      });
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

  it('passes in a concrete environment too, as `npx cdk synth` gives the stack (the CLI resolves a default region)', () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      CDK_DEFAULT_REGION: 'eu-west-1',
      CDK_DEFAULT_ACCOUNT: '123456789012',
      // No bundling: the template and its checks are what is under test.
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
    });
    try {
      const { app, stack } = buildApp(config, mkdtempSync(join(tmpdir(), 'handoff-env-synth-')));
      expect(stack.region).toBe('eu-west-1');
      expect(() => app.synth()).not.toThrow();
    } finally {
      process.env = saved;
    }
  }, 120_000);
});
