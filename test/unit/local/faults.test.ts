import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ListTablesCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '#local/aws-json.ts';
import { startDynalite, startSes } from '#local/emulators.ts';
import { dynamodbProxy, sesProxy } from '#local/fault-proxy.ts';
import { Faults } from '#local/faults.ts';
import { Mailbox } from '#local/mailbox.ts';
import { edgeServer } from '#serve/edge.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const faults = new Faults([{ id: 'CaptureLead', logicalId: 'CaptureLeadABCD' }]);
const stops: (() => Promise<unknown>)[] = [];
let dbUrl = '';
let sesUrl = '';

beforeAll(async () => {
  const db = await startDynalite(mkdtempSync(join(tmpdir(), 'handoff-faults-')));
  const ses = await startSes();
  const dbEdge = edgeServer('dynamodb', () => undefined);
  dbEdge.open(dynamodbProxy(db.handler, faults));
  const sesEdge = edgeServer('ses', () => undefined);
  sesEdge.open(sesProxy(ses.handler, faults));
  dbUrl = `http://127.0.0.1:${await listen(dbEdge.server, 0)}`;
  sesUrl = `http://127.0.0.1:${await listen(sesEdge.server, 0)}`;
  stops.push(...[dbEdge.server, sesEdge.server, db.server, ses.server].map((s) => () => close(s)));
});
afterAll(async () => {
  await Promise.all(stops.map((s) => s()));
});

const dynamo = (maxAttempts?: number) =>
  new DynamoDBClient({ endpoint: dbUrl, region: 'us-east-1', credentials, maxAttempts });
const mail = { Source: 'a@handoff.example', Destination: { ToAddresses: ['b@example.com'] } };

describe('fault proxy in front of dynalite and aws-ses-v2-local', () => {
  it('passes requests on untouched while no fault is set', async () => {
    faults.clear();
    const db = dynamo();
    await db.send(
      new CreateTableCommand({
        TableName: 'probe',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    expect((await db.send(new ListTablesCommand({}))).TableNames).toEqual(['probe']);
  });

  it('at rate 1, a DynamoDB call fails with the SDK’s ProvisionedThroughputExceededException after its retries', async () => {
    faults.set({ dynamodb: { rate: 1, error: 'ProvisionedThroughputExceededException' } });
    const before = faults.get().injected.dynamodb;
    const err = await dynamo()
      .send(new GetItemCommand({ TableName: 'probe', Key: { pk: { S: 'x' } } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisionedThroughputExceededException);
    const attempts = (err as ProvisionedThroughputExceededException).$metadata.attempts ?? 0;
    expect(attempts).toBeGreaterThan(1); // retried as throttling
    expect(faults.get().injected.dynamodb - before).toBe(attempts);
  });

  it('injects InternalServerError as a 500 the SDK retries, and ThrottlingException by name', async () => {
    faults.set({ dynamodb: { rate: 1, error: 'InternalServerError' } });
    const err = await dynamo(2)
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).$metadata).toMatchObject({ httpStatusCode: 500 });
    expect((err as InternalServerError).$metadata.attempts).toBeGreaterThan(1);
    faults.set({ dynamodb: { rate: 1, error: 'ThrottlingException' } });
    await expect(dynamo(2).send(new ListTablesCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    faults.clear();
    expect((await dynamo().send(new ListTablesCommand({}))).TableNames).toEqual(['probe']);
  });

  it('injects SES Throttling and ServiceUnavailable (v1 and v2) but never touches the mailbox', async () => {
    const ses = new SESClient({ endpoint: sesUrl, region: 'us-east-1', credentials, maxAttempts: 2 });
    const msg = { Subject: { Data: 'hi' }, Body: { Text: { Data: 'x' } } };
    faults.set({ ses: { rate: 1, error: 'Throttling' } });
    const err = await ses.send(new SendEmailCommand({ ...mail, Message: msg })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    expect((err as { $metadata: { attempts: number } }).$metadata.attempts).toBeGreaterThan(1);
    const box = new Mailbox(sesUrl);
    expect(await box.list()).toEqual([]);
    // SES v2 (REST JSON): what its SDK maps to TooManyRequestsException.
    const v2 = await fetch(`${sesUrl}/v2/email/outbound-emails`, { method: 'POST', body: '{}' });
    expect(v2.status).toBe(429);
    expect(v2.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    faults.set({ ses: { rate: 1, error: 'ServiceUnavailable' } });
    await expect(ses.send(new SendEmailCommand({ ...mail, Message: msg }))).rejects.toMatchObject({
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    faults.set({ ses: { rate: 0, error: 'ServiceUnavailable' } });
    await ses.send(new SendEmailCommand({ ...mail, Message: msg }));
    expect((await box.list()).map((m) => m.subject)).toEqual(['hi']);
  });

  it('injects about the rate asked for, and counts what it injected', () => {
    let i = 0;
    const seq = new Faults([], () => (i++ % 10) / 10); // 0, 0.1, … 0.9
    seq.set({ dynamodb: { rate: 0.3, error: 'ThrottlingException' }, crash: { function: 'X', rate: 1 } });
    const hits = Array.from({ length: 100 }, () => seq.dynamodb()).filter(Boolean);
    expect(hits).toHaveLength(30);
    expect(seq.crash({ id: 'X', logicalId: 'X1' })).toBe(true);
    expect(seq.crash({ id: 'Y', logicalId: 'Y1' })).toBe(false);
    expect(seq.get()).toMatchObject({
      injected: { dynamodb: 30, crash: 1 },
      seen: { dynamodb: 100, invocations: 2 },
    });
    expect(seq.clear().config).toEqual({});
  });

  it('refuses a setting that is not one, naming the field', () => {
    expect(() => faults.set({ dynamodb: { rate: 2, error: 'ThrottlingException' } })).toThrow(
      /dynamodb.rate/,
    );
    expect(() => faults.set({ ses: { rate: 1, error: 'Nope' } })).toThrow(
      /ses.error must be one of Throttling/,
    );
    expect(() => faults.set({ crash: { function: 'Nope', rate: 1 } })).toThrow(
      /no function Nope; one of CaptureLead/,
    );
    expect(() => faults.set({ lambda: {} })).toThrow(/unknown fault lambda/);
    expect(faults.set({ crash: { function: 'CaptureLeadABCD', rate: 0.5 } }).config.crash?.rate).toBe(0.5);
  });
});
