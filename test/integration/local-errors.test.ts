// The local endpoints answer errors as AWS does, so the unchanged AWS SDK v3 clients raise their own
// exception classes (or, where a service has none, the error name and status AWS sends): not found,
// validation, conditions, throttling and access denied; CloudFormation's query protocol too.
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import * as secrets from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  InvalidArn,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { accessKeyIdOf } from '#local/iam.ts';
import { loadTemplate } from '#local/template.ts';
import { credentials, startTestStack } from '#test/fixtures/local-stack.ts';

let t: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'));
});
afterEach(() => t?.stack.faults.clear());
afterAll(async () => {
  await t?.stack.stop();
});

const region = 'us-east-1';
/** A function's own key, as its worker signs (local/iam.ts); AwaitSignal may only UpdateItem and SendTaskSuccess. */
const awaitSignal = () => {
  const template = loadTemplate(inject('cdkOut'));
  const id = Object.keys(template.Resources).find(
    (k) => k.startsWith('AwaitSignal') && template.Resources[k]?.Type === 'AWS::Lambda::Function',
  );
  return { accessKeyId: accessKeyIdOf(String(id)), secretAccessKey: 'local', sessionToken: 'local' };
};
/** The error a call rejects with, with its class name, error name and HTTP status. */
const failure = async (call: Promise<unknown>) => {
  const e = (await call.then(
    () => undefined,
    (err: unknown) => err,
  )) as (Error & { $metadata?: { httpStatusCode?: number } }) | undefined;
  if (!e) throw new Error('the call succeeded');
  return e;
};

describe('DynamoDB errors, as the SDK’s classes', () => {
  const db = (c = credentials) =>
    new DynamoDBClient({ endpoint: t.stack.urls.dynamodb, region, credentials: c, maxAttempts: 1 });

  it('not found, a failed condition, throttling', async () => {
    expect(
      await failure(
        db().send(new GetItemCommand({ TableName: 'NoSuchTable', Key: { pk: { S: 'x' }, sk: { S: 'x' } } })),
      ),
    ).toBeInstanceOf(ResourceNotFoundException);
    const item = { pk: { S: 'ERRORS#probe' }, sk: { S: 'PROBE' } };
    await db().send(new PutItemCommand({ TableName: t.stack.tableName, Item: item }));
    expect(
      await failure(
        db().send(
          new PutItemCommand({
            TableName: t.stack.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ),
    ).toBeInstanceOf(ConditionalCheckFailedException);
    t.stack.faults.set({ dynamodb: { rate: 1, error: 'ThrottlingException' } });
    expect(
      await failure(db().send(new GetItemCommand({ TableName: t.stack.tableName, Key: item }))),
    ).toBeInstanceOf(ThrottlingException);
    t.stack.faults.set({ dynamodb: { rate: 1, error: 'ProvisionedThroughputExceededException' } });
    expect(
      await failure(db().send(new GetItemCommand({ TableName: t.stack.tableName, Key: item }))),
    ).toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('access denied to a function’s key its role does not allow (the client has no class: name and status as AWS)', async () => {
    const e = await failure(
      db(awaitSignal()).send(
        new GetItemCommand({ TableName: t.stack.tableName, Key: { pk: { S: 'x' }, sk: { S: 'x' } } }),
      ),
    );
    expect(e.name).toBe('AccessDeniedException');
    expect(e.$metadata?.httpStatusCode).toBe(400);
    expect(e.message).toMatch(
      /is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:/,
    );
  });
});

describe('Step Functions errors, as the SDK’s classes', () => {
  const sfn = (c = credentials) =>
    new SFNClient({ endpoint: t.stack.urls.sfn, region, credentials: c, maxAttempts: 1 });

  it('a bad ARN, an unknown state machine, a name reused with another input', async () => {
    expect(await failure(sfn().send(new DescribeExecutionCommand({ executionArn: 'nope' })))).toBeInstanceOf(
      InvalidArn,
    );
    expect(
      await failure(
        sfn().send(
          new StartExecutionCommand({ stateMachineArn: `${t.stack.stateMachineArn}Nope`, input: '{}' }),
        ),
      ),
    ).toBeInstanceOf(StateMachineDoesNotExist);
    const name = 'errors-probe';
    await sfn().send(
      new StartExecutionCommand({ stateMachineArn: t.stack.stateMachineArn, name, input: '{"a":1}' }),
    );
    expect(
      await failure(
        sfn().send(
          new StartExecutionCommand({ stateMachineArn: t.stack.stateMachineArn, name, input: '{"a":2}' }),
        ),
      ),
    ).toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('access denied to a function’s key its role does not allow', async () => {
    const e = await failure(
      sfn(awaitSignal()).send(
        new StartExecutionCommand({ stateMachineArn: t.stack.stateMachineArn, input: '{}' }),
      ),
    );
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toMatch(/states:StartExecution/);
  });
});

describe('SES and Secrets Manager errors', () => {
  const ses = (c = credentials) =>
    new SESClient({ endpoint: t.stack.urls.ses, region, credentials: c, maxAttempts: 1 });
  const send = (c = credentials) =>
    ses(c).send(
      new SendEmailCommand({
        Source: 'hello@handoff.example',
        Destination: { ToAddresses: ['success@simulator.amazonses.com'] },
        Message: { Subject: { Data: 'probe' }, Body: { Text: { Data: 'probe' } } },
      }),
    );

  it('SES throttling and access denied, with the codes and statuses of its query API', async () => {
    t.stack.faults.set({ ses: { rate: 1, error: 'Throttling' } });
    const throttled = await failure(send());
    expect(throttled.name).toBe('Throttling');
    expect(throttled.$metadata?.httpStatusCode).toBe(400);
    t.stack.faults.clear();
    const denied = await failure(send(awaitSignal()));
    expect(denied.name).toBe('AccessDenied');
    expect(denied.$metadata?.httpStatusCode).toBe(403);
  });

  it('Secrets Manager: an unknown secret is ResourceNotFoundException', async () => {
    const sm = new SecretsManagerClient({
      endpoint: t.stack.urls.secrets,
      region,
      credentials,
      maxAttempts: 1,
    });
    expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'no-such-secret' })))).toBeInstanceOf(
      secrets.ResourceNotFoundException,
    );
  });
});

describe('CloudFormation (DescribeStacks, for the console’s AWS mode)', () => {
  const cfn = (c = credentials) =>
    new CloudFormationClient({
      endpoint: t.stack.urls.cloudformation,
      region,
      credentials: c,
      maxAttempts: 1,
    });

  it('an unknown stack is ValidationError; a function’s key without cloudformation:DescribeStacks is AccessDenied', async () => {
    const missing = await failure(cfn().send(new DescribeStacksCommand({ StackName: 'Staging' })));
    expect(missing).toBeInstanceOf(CloudFormationServiceException);
    expect(missing).toMatchObject({
      name: 'ValidationError',
      message: 'Stack with id Staging does not exist',
    });
    expect(missing.$metadata?.httpStatusCode).toBe(400);
    const denied = await failure(
      cfn(awaitSignal()).send(new DescribeStacksCommand({ StackName: 'Handoff' })),
    );
    expect(denied.name).toBe('AccessDenied');
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    const { Stacks = [] } = await cfn().send(new DescribeStacksCommand({ StackName: 'Handoff' }));
    expect(Stacks[0]?.Outputs).toContainEqual({ OutputKey: 'TableName', OutputValue: t.stack.tableName });
  });
});
