import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '#local/aws-json.ts';
import { type Emulator, startDynalite } from '#local/emulators.ts';
import { DynamoMeter, metered } from '#local/meter.ts';

// The bench's DynamoDB meter in front of a real dynalite: units as DynamoDB sizes them.
const dataDir = mkdtempSync(join(tmpdir(), 'handoff-meter-'));
const meter = new DynamoMeter();
let db: Emulator;
let front: Server;
let client: DynamoDBClient;
let endpoint = '';
const TableName = 'metered';

beforeAll(async () => {
  db = await startDynalite(dataDir);
  front = createServer(metered(db.handler, meter));
  const port = await listen(front, 0);
  endpoint = `http://127.0.0.1:${port}`;
  client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
});
afterAll(async () => {
  client?.destroy();
  await close(front);
  await close(db.server);
  rmSync(dataDir, { recursive: true, force: true });
});

const put = (pk: string, bytes: number, condition?: string) =>
  client.send(
    new PutItemCommand({
      TableName,
      Item: { pk: { S: pk }, sk: { S: 'PROFILE' }, body: { S: 'x'.repeat(bytes) } },
      ...(condition ? { ConditionExpression: condition } : {}),
    }),
  );

describe('the DynamoDB meter', () => {
  it('counts write units by item size (1 KB each) and reads by 4 KB, halved when eventually consistent', async () => {
    const before = meter.read();
    await put('LEAD#small', 100);
    await put('LEAD#big', 2500); // 3 KB (rounded up) → 3 WCU
    await client.send(
      new GetItemCommand({ TableName, Key: { pk: { S: 'LEAD#big' }, sk: { S: 'PROFILE' } } }),
    );
    await client.send(
      new GetItemCommand({
        TableName,
        Key: { pk: { S: 'LEAD#big' }, sk: { S: 'PROFILE' } },
        ConsistentRead: true,
      }),
    );
    const d = DynamoMeter.since(before, meter.read());
    expect(d).toMatchObject({ calls: 4, writeUnits: 4, readUnits: 1.5, conditionFailures: 0 });
    expect(d.byOperation).toEqual({ PutItem: 2, GetItem: 2 });
    expect(d.writesByKind).toEqual({ 'LEAD/PROFILE': { calls: 2, units: 4 } });
  });

  it('counts a write refused by its condition as 1 unit, as DynamoDB bills it, and the caller still gets the error', async () => {
    const before = meter.read();
    await expect(put('LEAD#small', 100, 'attribute_not_exists(pk)')).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    expect(DynamoMeter.since(before, meter.read())).toMatchObject({
      calls: 1,
      writeUnits: 1,
      conditionFailures: 1,
    });
  });

  it('answers a caller that asked for consumed capacity as dynalite does, and meters queries', async () => {
    const before = meter.read();
    const res = await client.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'LEAD#big' } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(res.Items).toHaveLength(1);
    expect(res.ConsumedCapacity?.CapacityUnits).toBe(0.5);
    expect(DynamoMeter.since(before, meter.read())).toMatchObject({ calls: 1, readUnits: 0.5 });
  });

  it('counts calls per caller, by the access key each request was signed with (a function’s, in the stack)', async () => {
    const before = meter.read();
    const fn = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'ASIACAPTURELEAD0001', secretAccessKey: 'x' },
    });
    await fn.send(new GetItemCommand({ TableName, Key: { pk: { S: 'LEAD#big' }, sk: { S: 'PROFILE' } } }));
    await fn.send(new GetItemCommand({ TableName, Key: { pk: { S: 'LEAD#big' }, sk: { S: 'PROFILE' } } }));
    await client.send(
      new GetItemCommand({ TableName, Key: { pk: { S: 'LEAD#big' }, sk: { S: 'PROFILE' } } }),
    );
    fn.destroy();
    expect(DynamoMeter.since(before, meter.read()).byCaller).toEqual({ ASIACAPTURELEAD0001: 2, local: 1 });
  });
});
