import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type CounterItems,
  countersOf,
  type MilestoneEvent,
  sumInto,
} from '#functions/funnel/funnel-counters.ts';
import { dynamoFunnel, MAX_FUNNEL_SHARDS, SHARD_FULL_KB } from '#functions/funnel/funnel-store.ts';
import { keys } from '#functions/platform/keys.ts';
import { batchGet, type Table, tableOf } from '#functions/platform/table.ts';
import { syntheticDay } from '#scripts/funnel-layout.ts';
import { laneOfProcess, startTestTable, type TestTable } from '#test/fixtures/dynamodb.ts';

// The sharded funnel counters (functions/funnel/funnel-store.ts) on this process's emulator lane: for any
// shard count, what the handlers add milestone by milestone reads back as the rebuild's recount of the same
// milestones (countersOf summed, then replaceDay), and a replaced day reads back exactly.
let testTable: TestTable;
let table: Table;
beforeAll(async () => {
  testTable = await startTestTable(inject('cdkOut'));
  table = tableOf(testTable.tableName, testTable.client);
});
afterAll(async () => {
  await testTable?.stop();
});

const sorted = (items: CounterItems) =>
  Object.entries(items)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, values]) => ({ key, values }));

/** The milestones of `leads` leads as the handlers write them: Capture's three in one add, the rest one each. */
function writesOf(leads: MilestoneEvent[][]): CounterItems[] {
  return leads.flatMap((lead) => {
    const capture = lead.filter((e) => ['captured', 'mql', 'sql'].includes(e.milestone));
    const rest = lead.filter((e) => !capture.includes(e));
    return [capture, ...rest.map((e) => [e])].map((events) =>
      events.reduce((into, e) => sumInto(into, countersOf(e).items), {} as CounterItems),
    );
  });
}

describe(`funnel counter shards (${laneOfProcess()})`, () => {
  it.each([1, 2, 3, 16, MAX_FUNNEL_SHARDS])(
    'with %i shard(s): the incremental counts read back as the rebuild recounts them',
    async (shards) => {
      const day = `2031-03-${String(shards % 28 || 28).padStart(2, '0')}`;
      const funnel = dynamoFunnel(table, { shards });
      const writes = writesOf(syntheticDay(40, 6, shards));
      // A dimension value with the separator in it, and a hostile one, round-trip.
      writes.push({ 'campaign#a|b': { captured: 1 }, 'source#x#y|z|': { captured: 2 } });
      await Promise.all(writes.map((items) => funnel.add(day, items)));
      const recount = writes.reduce(
        (into, items) => sumInto(into, structuredClone(items)),
        {} as CounterItems,
      );
      expect(await funnel.read(day, [''])).toEqual(sorted(recount));
      expect(await funnel.read(day, ['all#', 'campaign#'])).toEqual(
        sorted(Object.fromEntries(Object.entries(recount).filter(([k]) => /^(all|campaign)#/.test(k)))),
      );
      // Every write went to one of the first `shards` shards, and more than one when there are several.
      const used = await batchGet(
        table,
        Array.from({ length: MAX_FUNNEL_SHARDS }, (_, i) => keys.funnelShard(day, i)),
      );
      const numbers = used.map((i) => Number(String(i.pk).split('#').at(-1)));
      expect(Math.max(...numbers)).toBeLessThan(shards);
      if (shards > 1) expect(used.length).toBeGreaterThan(1);
      // The rebuild sets the day to its recount: per-value items, no shard left, the same read.
      const { written } = await funnel.replaceDay(day, recount);
      expect(written).toBe(Object.keys(recount).length);
      expect(await funnel.read(day, [''])).toEqual(sorted(recount));
      expect(
        await batchGet(
          table,
          [0, 1, 2].map((i) => keys.funnelShard(day, i)),
        ),
      ).toEqual([]);
      // Counting goes on after a rebuild: shards and per-value items are summed.
      await funnel.add(day, { 'all#all': { captured: 1 } });
      const all = await funnel.read(day, ['all#']);
      expect(all[0]?.values.captured).toBe((recount['all#all']?.captured ?? 0) + 1);
    },
  );

  it('splits an add past 250 counters into several UpdateItems (DynamoDB refuses an expression over 4 KB)', async () => {
    const day = '2031-04-01';
    const funnel = dynamoFunnel(table, { shards: 1 });
    const items: CounterItems = Object.fromEntries(
      Array.from({ length: 130 }, (_, i) => [`reason#signal-${i}`, { captured: 1, mql: 1 }]),
    );
    await funnel.add(day, items);
    const read = await funnel.read(day, ['reason#']);
    expect(read).toHaveLength(130);
    expect(read.every((c) => c.values.captured === 1 && c.values.mql === 1)).toBe(true);
  });

  it('a shard grown past 64 KB by hostile values takes no more: later counters go per value, all counted', async () => {
    const day = '2031-05-01';
    const funnel = dynamoFunnel(table, { shards: 1 });
    // 100-character UTM values of 4-byte characters (what a form accepts), different every time.
    const hostile = (i: number, dim: string) => `${dim}#${String(i).padStart(4, '0')}${'🚀'.repeat(96)}`;
    const writes: CounterItems[] = Array.from({ length: 80 }, (_, i) => ({
      'all#all': { captured: 1 },
      [hostile(i, 'source')]: { captured: 1 },
      [hostile(i, 'campaign')]: { captured: 1 },
    }));
    for (const items of writes) await funnel.add(day, items);
    const recount = writes.reduce((into, items) => sumInto(into, structuredClone(items)), {} as CounterItems);
    expect(await funnel.read(day, [''])).toEqual(sorted(recount));
    // The shard stopped short of DynamoDB's limit (one write past 64 KB at most); the rest went per value.
    const [shard] = await batchGet(table, [keys.funnelShard(day, 0)]);
    const shardBytes = Object.entries(shard ?? {}).reduce((n, [k]) => n + Buffer.byteLength(k) + 2, 0);
    expect(shardBytes).toBeGreaterThan((SHARD_FULL_KB - 2) * 1024);
    expect(shardBytes).toBeLessThan((SHARD_FULL_KB + 4) * 1024);
    expect((await funnel.read(day, ['all#']))[0]?.values.captured).toBe(80);
  });

  it('a shard DynamoDB refuses (400 KB) loses nothing: the refused write is counted per value', async () => {
    const day = '2031-05-02';
    // Another container's shard, already at the limit (a 399 KB attribute that no report reads).
    await table.doc.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...keys.funnelShard(day, 0), pad: 'x'.repeat(399 * 1024) },
      }),
    );
    const funnel = dynamoFunnel(table, { shards: 1 });
    await funnel.add(day, { 'all#all': { captured: 1 }, 'source#google': { captured: 1, mql: 1 } });
    await funnel.add(day, { 'all#all': { captured: 1 } });
    expect(await funnel.read(day, [''])).toEqual([
      { key: 'all#all', values: { captured: 2 } },
      { key: 'source#google', values: { captured: 1, mql: 1 } },
    ]);
  });

  it('refuses a shard count outside 1–64 before writing anything', () => {
    expect(() => dynamoFunnel(table, { shards: 0 })).toThrow(RangeError);
    expect(() => dynamoFunnel(table, { shards: 65 })).toThrow(/1 to 64/);
    expect(() => dynamoFunnel(table, { shards: 2.5 })).toThrow(RangeError);
  });
});
