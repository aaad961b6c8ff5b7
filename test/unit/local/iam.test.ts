import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { accessKeyIdOf, accessKeyOf, IamEnforcer, type IamModel, iamModelOf } from '#local/iam.ts';
import { dynamodbAsks, secretsAsks, sesAsks, sfnAsks } from '#local/iam-requests.ts';
import type { CfnTemplate } from '#local/template.ts';

const place = { region: 'us-east-1', account: '000000000000' };
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/Data';
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow';

/** A template like the synthesized one: two functions, their roles and policies, a state machine. */
const template: CfnTemplate = {
  Resources: {
    Data: { Type: 'AWS::DynamoDB::Table' },
    Flow: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: { RoleArn: { 'Fn::GetAtt': ['FlowRole', 'Arn'] } },
    },
    FlowRole: { Type: 'AWS::IAM::Role' },
    FlowPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'FlowRole' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['Step', 'Arn'] } },
          ],
        },
      },
    },
    Step: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['StepRole', 'Arn'] } } },
    StepRole: { Type: 'AWS::IAM::Role' },
    StepPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'StepRole' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
              Resource: { 'Fn::GetAtt': ['Data', 'Arn'] },
            },
            { Effect: 'Allow', Action: 'states:SendTaskSuccess', Resource: { Ref: 'Flow' } },
            {
              Effect: 'Allow',
              Action: 'ses:SendRawEmail',
              Resource: 'arn:aws:ses:us-east-1:000000000000:identity/handoff.example',
              Condition: { StringEquals: { 'ses:FromAddress': 'hello@handoff.example' } },
            },
          ],
        },
      },
    },
    Other: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['OtherRole', 'Arn'] } } },
    OtherRole: { Type: 'AWS::IAM::Role' },
  },
};

const model: IamModel = iamModelOf(template, place);
const step = accessKeyIdOf('Step');
const other = accessKeyIdOf('Other');

describe('the stack’s IAM model', () => {
  it('gives each function its own access key, signed as its role, and each machine its role', () => {
    expect(step).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(step).not.toBe(other);
    expect(model.keys[step]).toEqual({ role: 'StepRole', session: 'Step' });
    expect(model.machines).toEqual({ Flow: 'FlowRole' });
    expect(model.roles.StepRole?.policies[0]?.Statement[0]?.Resource).toBe(TABLE);
  });

  it('reads the access key from a SigV4 Authorization header', () => {
    const header = `AWS4-HMAC-SHA256 Credential=${step}/20261205/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc`;
    expect(accessKeyOf(header)).toBe(step);
    expect(accessKeyOf(undefined)).toBeUndefined();
    expect(accessKeyOf('Bearer x')).toBeUndefined();
  });
});

describe('IamEnforcer', () => {
  const iam = new IamEnforcer(model);

  it('allows what the role grants, and denies the rest with AWS’s message', async () => {
    expect(await iam.denial(step, [{ action: 'dynamodb:GetItem', resources: [TABLE] }])).toBeUndefined();
    expect(await iam.denial(step, [{ action: 'dynamodb:PutItem', resources: [TABLE] }])).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/StepRole/Step is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    // A role with no policy at all.
    expect(await iam.denial(other, [{ action: 'dynamodb:GetItem', resources: [TABLE] }])).toMatch(
      /OtherRole\/Other/,
    );
  });

  it('denies an index the grant does not name (a table grant does not cover its indexes)', async () => {
    expect(
      await iam.denial(step, [{ action: 'dynamodb:GetItem', resources: [`${TABLE}/index/gsi1`] }]),
    ).toMatch(/not authorized/);
  });

  it('checks condition keys: SES only from the granted address', async () => {
    const send = (from: string) => [
      {
        action: 'ses:SendRawEmail',
        resources: ['arn:aws:ses:us-east-1:000000000000:identity/handoff.example'],
        context: { 'ses:FromAddress': from },
      },
    ];
    expect(await iam.denial(step, send('hello@handoff.example'))).toBeUndefined();
    expect(await iam.denial(step, send('ceo@handoff.example'))).toMatch(/ses:SendRawEmail/);
  });

  it('authorizes a task callback against the state machine of the token’s execution, as AWS does', async () => {
    expect(
      await iam.denial(step, [{ action: 'states:SendTaskSuccess', resources: [MACHINE] }]),
    ).toBeUndefined();
    const elsewhere = 'arn:aws:states:us-east-1:000000000000:stateMachine:Another';
    expect(await iam.denial(step, [{ action: 'states:SendTaskSuccess', resources: [elsewhere] }])).toMatch(
      /not authorized/,
    );
    expect(await iam.denial(step, [{ action: 'states:SendTaskFailure', resources: [MACHINE] }])).toMatch(
      /SendTaskFailure/,
    );
  });

  it('lets an operator’s key (one the stack did not hand out) do anything, as an admin', async () => {
    expect(iam.isFunctionKey('local')).toBe(false);
    expect(
      await iam.denial('local', [{ action: 'dynamodb:DeleteTable', resources: [TABLE] }]),
    ).toBeUndefined();
    expect(
      await iam.denial(undefined, [{ action: 'states:StopExecution', resources: ['*'] }]),
    ).toBeUndefined();
  });

  it('checks the state machine’s own role for the functions it invokes', async () => {
    const invoke = (fn: string) => [
      {
        action: 'lambda:InvokeFunction',
        resources: [`arn:aws:lambda:us-east-1:000000000000:function:${fn}`],
      },
    ];
    expect(await iam.machineDenial('Flow', invoke('Step'))).toBeUndefined();
    expect(await iam.machineDenial('Flow', invoke('Other'))).toMatch(
      /assumed-role\/FlowRole\/Flow .*lambda:InvokeFunction/,
    );
  });
});

describe('what each endpoint’s request asks of IAM', () => {
  const req = (target: string, extra: Partial<IncomingMessage> = {}) =>
    ({ method: 'POST', url: '/', headers: { 'x-amz-target': target }, ...extra }) as IncomingMessage;

  it('DynamoDB: the table, the index, every table of a batch, each item of a transaction', () => {
    const ask = dynamodbAsks(place);
    expect(ask(req('DynamoDB_20120810.PutItem'), JSON.stringify({ TableName: 'Data' }))).toEqual([
      { action: 'dynamodb:PutItem', resources: [TABLE] },
    ]);
    expect(
      ask(req('DynamoDB_20120810.Query'), JSON.stringify({ TableName: 'Data', IndexName: 'gsi1' })),
    ).toEqual([{ action: 'dynamodb:Query', resources: [`${TABLE}/index/gsi1`] }]);
    expect(
      ask(req('DynamoDB_20120810.BatchGetItem'), JSON.stringify({ RequestItems: { Data: {}, Other: {} } })),
    ).toEqual([{ action: 'dynamodb:BatchGetItem', resources: [TABLE, TABLE.replace('Data', 'Other')] }]);
    expect(
      ask(
        req('DynamoDB_20120810.TransactWriteItems'),
        JSON.stringify({
          TransactItems: [{ Put: { TableName: 'Data' } }, { ConditionCheck: { TableName: 'Data' } }],
        }),
      ),
    ).toEqual([
      { action: 'dynamodb:PutItem', resources: [TABLE] },
      { action: 'dynamodb:ConditionCheckItem', resources: [TABLE] },
    ]);
  });

  it('Step Functions: the machine or execution named; a callback, its token’s machine', () => {
    const execution = 'arn:aws:states:us-east-1:000000000000:execution:Flow:lead-1';
    const ask = sfnAsks((token) => (token === 't1' ? execution : undefined));
    expect(ask(req('AWSStepFunctions.StartExecution'), JSON.stringify({ stateMachineArn: MACHINE }))).toEqual(
      [{ action: 'states:StartExecution', resources: [MACHINE] }],
    );
    expect(ask(req('AWSStepFunctions.StopExecution'), JSON.stringify({ executionArn: execution }))).toEqual([
      { action: 'states:StopExecution', resources: [execution] },
    ]);
    expect(ask(req('AWSStepFunctions.SendTaskSuccess'), JSON.stringify({ taskToken: 't1' }))).toEqual([
      { action: 'states:SendTaskSuccess', resources: [MACHINE] },
    ]);
    expect(ask(req('AWSStepFunctions.SendTaskSuccess'), JSON.stringify({ taskToken: 'gone' }))).toEqual([
      { action: 'states:SendTaskSuccess', resources: ['*'] },
    ]);
  });

  it('Secrets Manager: the secret by name or ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:Key';
    const ask = secretsAsks((id) => (id === 'Key' || id === arn ? arn : undefined));
    expect(ask(req('secretsmanager.GetSecretValue'), JSON.stringify({ SecretId: 'Key' }))).toEqual([
      { action: 'secretsmanager:GetSecretValue', resources: [arn] },
    ]);
  });

  it('SES v1: the sender’s domain identity, the configuration set, and ses:FromAddress', () => {
    const raw = Buffer.from('From: "Handoff" <hello@handoff.example>\r\nTo: a@b.example\r\n\r\nhi').toString(
      'base64',
    );
    const body = new URLSearchParams({
      Action: 'SendRawEmail',
      'RawMessage.Data': raw,
      ConfigurationSetName: 'Events',
    }).toString();
    expect(sesAsks(place)({ method: 'POST', url: '/', headers: {} } as IncomingMessage, body)).toEqual([
      {
        action: 'ses:SendRawEmail',
        resources: [
          'arn:aws:ses:us-east-1:000000000000:identity/handoff.example',
          'arn:aws:ses:us-east-1:000000000000:configuration-set/Events',
        ],
        context: { 'ses:FromAddress': 'hello@handoff.example' },
      },
    ]);
    // The mailbox viewer is not an AWS API.
    expect(
      sesAsks(place)({ method: 'GET', url: '/store', headers: {} } as IncomingMessage, ''),
    ).toBeUndefined();
  });
});
