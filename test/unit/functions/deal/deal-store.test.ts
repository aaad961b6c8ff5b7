import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { tableOf } from '#functions/platform/table.ts';
import { aDeal } from '#test/fixtures/deals.ts';

// gsi1 (a rep's deals by stage) was written on every deal and read by nothing; it is gone, index and writes.
// The stage index (gsi2) is what the funnel and the backtest read.
const doc = mockClient(DynamoDBDocumentClient);
const deals = dynamoDeals(tableOf('handoff-test', new DynamoDBClient({})));
afterEach(() => doc.reset());

describe('deal items', () => {
  it('are written without gsi1 attributes, with the stage index’s', async () => {
    doc.on(PutCommand).resolves({});
    const deal = aDeal({ stage: 'assigned', createdAt: '2026-11-27T10:00:00.000Z' });
    expect(await deals.create(deal)).toBe(true);
    const item = doc.commandCalls(PutCommand)[0]?.args[0].input.Item ?? {};
    expect(Object.keys(item).filter((k) => k.startsWith('gsi1'))).toEqual([]);
    expect(item).toMatchObject({ gsi2pk: 'DEALSTAGE#assigned', gsi2sk: '2026-11-27T10:00:00.000Z' });
  });

  it('change stage without writing gsi1 attributes', async () => {
    doc.on(UpdateCommand).resolves({});
    const at = '2026-11-28T10:00:00.000Z';
    await deals.update('d-1', { stage: 'assigned' }, { stage: 'accepted', repId: 'r-1', updatedAt: at });
    const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(Object.values(input?.ExpressionAttributeNames ?? {}).filter((n) => n.startsWith('gsi1'))).toEqual(
      [],
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':gsi2pk': 'DEALSTAGE#accepted',
      ':gsi2sk': at,
    });
  });
});
