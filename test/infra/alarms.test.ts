import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import type { HandoffApi } from '#infra/constructs/api.ts';
import { type CfnResource, type CfnTemplate, loadTemplate } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';

// The alarm → topic → inbox path and the dead letters of the synthesized template. An alarm CloudWatch cannot
// publish (the topic's key or policy refuses it) is silently dropped: deploying would not say so.

type Template = CfnTemplate & {
  Parameters?: Record<string, { Type: string; Default?: string; AllowedPattern?: string }>;
  Conditions?: Record<string, unknown>;
};
type Resource = CfnResource & { Condition?: string };
interface Statement {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let t: Template;
beforeAll(() => {
  t = loadTemplate(inject('cdkOut')) as Template;
});

const ofType = (type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type) as [string, Resource][];
const refOf = (v: unknown) => (v as { Ref?: string } | undefined)?.Ref;
const getAttOf = (v: unknown) => (v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
const actions = (s: Statement) => [s.Action].flat();
const statements = (doc: unknown) => (doc as { Statement: Statement[] }).Statement;
const isService = (s: Statement, service: string) =>
  JSON.stringify(s.Principal) === JSON.stringify({ Service: service });
/** `arn:<partition>:cloudwatch:<region>:<account>:alarm:*`, as the template writes it (Fn::Join of pseudo refs). */
const ALARM_ARNS = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':cloudwatch:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':alarm:*',
    ],
  ],
};
const FROM_THIS_ACCOUNTS_ALARMS = {
  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  ArnLike: { 'aws:SourceArn': ALARM_ARNS },
};

/** The topic every alarm notifies (the one `AlertsTopic` output names). */
function alertsTopic(): [string, Resource] {
  const id = refOf(t.Outputs?.AlertsTopic?.Value);
  const topic = id ? t.Resources[id] : undefined;
  if (!id || topic?.Type !== 'AWS::SNS::Topic') throw new Error('the AlertsTopic output names no topic');
  return [id, topic];
}

/** A condition's value for the given parameter values (Fn::Not, Fn::Equals, Fn::And, Fn::Or, Ref). */
function evaluate(expression: unknown, parameters: Record<string, string>): unknown {
  if (typeof expression !== 'object' || expression === null) return expression;
  const [[fn, arg]] = Object.entries(expression) as [[string, unknown]];
  const args = () => (arg as unknown[]).map((a) => evaluate(a, parameters));
  if (fn === 'Ref') {
    const name = String(arg);
    return name in parameters ? parameters[name] : t.Parameters?.[name]?.Default;
  }
  if (fn === 'Fn::Equals') return args()[0] === args()[1];
  if (fn === 'Fn::Not') return !args()[0];
  if (fn === 'Fn::And') return args().every(Boolean);
  if (fn === 'Fn::Or') return args().some(Boolean);
  if (fn === 'Condition') return evaluate(t.Conditions?.[String(arg)], parameters);
  throw new Error(`cannot evaluate ${fn}`);
}
/** The resources CloudFormation creates for these parameter values (a resource's Condition must hold). */
const created = (parameters: Record<string, string>) =>
  Object.entries(t.Resources as Record<string, Resource>).filter(
    ([, r]) => !r.Condition || evaluate(t.Conditions?.[r.Condition], parameters) === true,
  );

describe('alarms reach the alerts topic, and the topic reaches ops', () => {
  it('every alarm notifies the alerts topic', () => {
    const [topicId] = alertsTopic();
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(14);
    for (const [id, a] of alarms) {
      expect(a.Properties?.AlarmActions, id).toEqual([{ Ref: topicId }]);
    }
  });

  it("encrypts the topic with a customer managed key, rotated, whose policy lets this account's alarms use it", () => {
    const [, topic] = alertsTopic();
    const keyRef = getAttOf(topic.Properties?.KmsMasterKeyId) ?? [refOf(topic.Properties?.KmsMasterKeyId)];
    // Not alias/aws/sns: CloudWatch may not use the AWS managed key, and its policy cannot be changed.
    const key = keyRef[0] ? t.Resources[keyRef[0]] : undefined;
    expect(key?.Type, 'the topic key is a key of this stack').toBe('AWS::KMS::Key');
    expect(key?.Properties?.EnableKeyRotation).toBe(true);
    const cloudWatch = statements(key?.Properties?.KeyPolicy).filter(
      (s) => s.Effect === 'Allow' && isService(s, 'cloudwatch.amazonaws.com'),
    );
    expect(cloudWatch).toHaveLength(1);
    expect(actions(cloudWatch[0] as Statement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(cloudWatch[0]?.Condition).toEqual(FROM_THIS_ACCOUNTS_ALARMS);
  });

  it("lets this account's alarms, and only them, publish to the topic; over TLS only", () => {
    const [topicId] = alertsTopic();
    const policies = ofType('AWS::SNS::TopicPolicy').filter(([, p]) =>
      ((p.Properties?.Topics ?? []) as unknown[]).some((x) => refOf(x) === topicId),
    );
    expect(policies).toHaveLength(1);
    const all = statements(policies[0]?.[1].Properties?.PolicyDocument);
    const publish = all.filter((s) => s.Effect === 'Allow' && isService(s, 'cloudwatch.amazonaws.com'));
    expect(publish).toHaveLength(1);
    expect(actions(publish[0] as Statement)).toEqual(['sns:Publish']);
    expect(refOf(publish[0]?.Resource)).toBe(topicId);
    expect(publish[0]?.Condition).toEqual(FROM_THIS_ACCOUNTS_ALARMS);
    // No other Allow: nobody else may publish through the policy.
    expect(all.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
    expect(all).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('subscribes the AlarmEmail deploy parameter by email, and nothing when it is left empty', () => {
    const [topicId] = alertsTopic();
    expect(t.Parameters?.AlarmEmail).toMatchObject({ Type: 'String', Default: '' });
    const pattern = new RegExp(String(t.Parameters?.AlarmEmail?.AllowedPattern));
    expect(['', 'ops@example.com'].map((v) => pattern.test(v))).toEqual([true, true]);
    expect(['ops', 'ops@', 'a b@example.com'].map((v) => pattern.test(v))).toEqual([false, false, false]);
    const subscriptions = (parameters: Record<string, string>) =>
      created(parameters)
        // The alarm topic's (the replies topic's Lambda subscription is infra/constructs/replies.ts').
        .filter(([, r]) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol !== 'lambda')
        .map(([, r]) => r.Properties);
    expect(subscriptions({})).toEqual([]);
    expect(subscriptions({ AlarmEmail: '' })).toEqual([]);
    expect(subscriptions({ AlarmEmail: 'ops@example.com' })).toEqual([
      { Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: { Ref: topicId } },
    ]);
  });
});

describe('nothing dropped between EventBridge and the functions', () => {
  /** A dead-letter queue: encrypted, TLS only, kept the longest SQS allows, and alarmed on its first message. */
  function expectDeadLetterQueue(queueId: string, what: string) {
    const queue = t.Resources[queueId];
    expect(queue?.Type, what).toBe('AWS::SQS::Queue');
    expect(queue?.Properties?.SqsManagedSseEnabled ?? queue?.Properties?.KmsMasterKeyId, what).toBeTruthy();
    expect(queue?.Properties?.MessageRetentionPeriod, what).toBe(14 * 86_400);
    const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
      ((p.Properties?.Queues ?? []) as unknown[]).some((q) => refOf(q) === queueId),
    );
    expect(statements(policy?.[1].Properties?.PolicyDocument), what).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const [topicId] = alertsTopic();
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(
      ([, a]) =>
        a.Properties?.Namespace === 'AWS/SQS' &&
        JSON.stringify(a.Properties?.Dimensions) ===
          JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
    );
    expect(alarms, `${what}: one alarm on its depth`).toHaveLength(1);
    expect(alarms[0]?.[1].Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: topicId }],
    });
  }

  it('gives every EventBridge target an explicit retry policy and a dead-letter queue that EventBridge may write', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'CompactFunnelSchedule',
      'DealRemindersSchedule',
      'MailEvents',
      'ReconcileSchedule',
      'RunEnded',
    ]);
    for (const [ruleId, rule] of rules) {
      const targets = rule.Properties?.Targets as Record<string, unknown>[];
      expect(targets.length, ruleId).toBeGreaterThan(0);
      for (const target of targets) {
        expect(target.RetryPolicy, ruleId).toEqual({
          MaximumRetryAttempts: 185,
          MaximumEventAgeInSeconds: 86_400,
        });
        const dlq = getAttOf((target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn);
        expect(dlq?.[1], `${ruleId}: a dead-letter queue`).toBe('Arn');
        expectDeadLetterQueue(String(dlq?.[0]), `${ruleId}'s dead-letter queue`);
        // EventBridge writes to it as the rule (its resource policy), or the event is lost after all.
        const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
          ((p.Properties?.Queues ?? []) as unknown[]).some((q) => refOf(q) === dlq?.[0]),
        );
        expect(statements(policy?.[1].Properties?.PolicyDocument)).toContainEqual(
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        );
      }
    }
  });

  it('keeps what an EventBridge-invoked function fails on, after Lambda’s retries (an on-failure destination)', () => {
    const functionIds = ofType('AWS::Events::Rule').flatMap(([, r]) =>
      ((r.Properties?.Targets ?? []) as { Arn: unknown }[]).map((x) => getAttOf(x.Arn)?.[0]),
    );
    expect(functionIds).toHaveLength(5);
    for (const fnId of functionIds) {
      const configs = ofType('AWS::Lambda::EventInvokeConfig').filter(
        ([, c]) => refOf(c.Properties?.FunctionName) === fnId,
      );
      expect(configs, `${fnId}: an async invoke config`).toHaveLength(1);
      const c = configs[0]?.[1].Properties as {
        MaximumRetryAttempts: number;
        MaximumEventAgeInSeconds: number;
        DestinationConfig: { OnFailure: { Destination: unknown } };
      };
      expect(c).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 });
      const destination = getAttOf(c.DestinationConfig.OnFailure.Destination);
      expectDeadLetterQueue(String(destination?.[0]), `${fnId}'s on-failure destination`);
    }
  });
});

describe('cdk-nag: unauthenticated routes', () => {
  it('fails synthesis on an /admin route without IAM (APIG4 is acknowledged for the public routes only)', () => {
    const saved = { ...process.env };
    // No bundling: the template and its checks are what is under test.
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
    try {
      const { app, stack } = buildApp(config, mkdtempSync(join(tmpdir(), 'handoff-apig4-')));
      const api = stack.node.findChild('Api') as HandoffApi;
      const admin = stack.functions.AdminRead;
      if (!admin) throw new Error('no AdminRead');
      api.route('/admin/leads', [HttpMethod.GET], admin, { budget: 'admin' });
      let report = '';
      try {
        app.synth();
      } catch (e) {
        report = String(e);
      }
      expect(report).toMatch(
        /Handoff\/Api\/Api\/GET--admin--leads\/Resource[^\n]*\n[^\n]*AwsSolutions-APIG4/,
      );
      // Only that route: the public ones stay acknowledged, the IAM ones need no acknowledgement.
      expect(report.match(/AwsSolutions-APIG4/g)).toHaveLength(1);
    } finally {
      process.env = saved;
    }
  }, 120_000);
});
