import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dynamoDeliverability } from '#functions/deliverability/deliverability-store.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { keys } from '#functions/platform/keys.ts';
import { TransientError } from '#functions/platform/step.ts';
import { BATCH_GET_RETRIES, batchGet, tableOf } from '#functions/platform/table.ts';

// BatchGetItem may answer with only part of what was asked (throttling, the response size limit) and name
// the rest in UnprocessedKeys: every reader asks for those again, and gives up loudly, never silently short.
const doc = mockClient(DynamoDBDocumentClient);
const table = tableOf('handoff-test', new DynamoDBClient({}));
afterEach(() => {
  doc.reset();
  vi.useRealTimers();
});

/** The `pk` (or `sk`) of each key a BatchGetItem call asked for. */
const keysAsked = (call: number, attribute: 'pk' | 'sk' = 'sk') =>
  (doc.commandCalls(BatchGetCommand)[call]?.args[0].input.RequestItems?.['handoff-test']?.Keys ?? []).map(
    (k) => String(k[attribute]),
  );

describe('batchGet', () => {
  it('asks again for the keys left unprocessed, and only for those', async () => {
    const [a, b] = [keys.lead('a'), keys.lead('b')];
    doc
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'handoff-test': [{ ...a, id: 'a' }] },
        UnprocessedKeys: { 'handoff-test': { Keys: [b] } },
      })
      .resolvesOnce({ Responses: { 'handoff-test': [{ ...b, id: 'b' }] } });
    const leads = await dynamoLeads(table).getMany(['a', 'b', 'a']);
    expect([...leads.keys()].sort()).toEqual(['a', 'b']);
    expect(doc.commandCalls(BatchGetCommand)).toHaveLength(2);
    // Duplicates are asked for once (DynamoDB refuses a request with the same key twice).
    expect(keysAsked(0, 'pk')).toEqual(['LEAD#a', 'LEAD#b']);
    expect(keysAsked(1, 'pk')).toEqual(['LEAD#b']);
  });

  it('asks for at most 100 keys a request', async () => {
    doc.on(BatchGetCommand).resolves({ Responses: { 'handoff-test': [] } });
    await batchGet(
      table,
      Array.from({ length: 250 }, (_, i) => keys.rep(`r${i}`)),
    );
    expect([0, 1, 2, 3].map((call) => keysAsked(call).length)).toEqual([100, 100, 50, 0]);
  });

  it('throws a TransientError when keys stay unprocessed after its retries', async () => {
    vi.useFakeTimers();
    const key = keys.rep('r1');
    doc.on(BatchGetCommand).resolves({ UnprocessedKeys: { 'handoff-test': { Keys: [key] } } });
    const read = batchGet(table, [key]);
    const failed = expect(read).rejects.toThrow(TransientError);
    await vi.runAllTimersAsync();
    await failed;
    expect(doc.commandCalls(BatchGetCommand)).toHaveLength(BATCH_GET_RETRIES + 1);
  });
});

describe('deliverability window', () => {
  it('counts the hours BatchGetItem left unprocessed at first', async () => {
    const now = new Date('2026-11-27T10:30:00.000Z');
    const hour = (h: string, counts: Record<string, number>) => ({
      ...keys.deliverabilityHour(h),
      ...counts,
    });
    doc
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'handoff-test': [hour('2026-11-27T10', { sent: 10, bounced: 1 })] },
        UnprocessedKeys: { 'handoff-test': { Keys: [keys.deliverabilityHour('2026-11-27T09')] } },
      })
      .resolvesOnce({ Responses: { 'handoff-test': [hour('2026-11-27T09', { sent: 90, bounced: 5 })] } });
    const counts = await dynamoDeliverability(table).window(24, now);
    expect(counts).toMatchObject({ sent: 100, bounced: 6 });
    expect(keysAsked(1)).toEqual(['HOUR#2026-11-27T09']);
  });
});
