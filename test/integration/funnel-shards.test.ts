import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHandler as createCompactHandler } from '#functions/events/compact-funnel.ts';
import { LEASE, LEASE_MS, RENEW_EVERY, takeDayLease } from '#functions/funnel/day-lease.ts';
import { compactDay } from '#functions/funnel/funnel-compact.ts';
import {
  type CounterItems,
  countersOf,
  type MilestoneEvent,
  sumInto,
} from '#functions/funnel/funnel-counters.ts';
import { ROLLUP } from '#functions/funnel/funnel-layout.ts';
import { dynamoFunnel, MAX_FUNNEL_SHARDS, SHARD_FULL_KB } from '#functions/funnel/funnel-store.ts';
import { keys } from '#functions/platform/keys.ts';
import { batchGet, queryItems, type Table, tableOf } from '#functions/platform/table.ts';
import { syntheticDay } from '#scripts/funnel-layout.ts';
import { laneOfProcess, startTestTable, type TestTable } from '#test/fixtures/dynamodb.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';

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

/** `table` with `before` run ahead of each command it sends (a fault, a write landing at that moment). */
function intercepted(before: (command: Command) => Promise<void>): Table {
  return around(before);
}

/** `table` with `before` ahead of and `after` behind each command it sends (the SDK's paginators check the class). */
function around(
  before: (c: Command) => Promise<void>,
  after: (c: Command) => Promise<void> = async () => {},
): Table {
  const send = table.doc.send.bind(table.doc) as (c: unknown) => Promise<unknown>;
  const doc = Object.create(table.doc) as Table['doc'];
  Object.assign(doc, {
    send: async (command: Command) => {
      await before(command);
      const out = await send(command);
      await after(command);
      return out;
    },
  });
  return { name: table.name, doc };
}

const isMarkerPut = (c: Command) => c.constructor.name === 'PutCommand' && skOf(c) === 'rollup';
const isFoldPut = (c: Command) => c.constructor.name === 'PutCommand' && skOf(c).startsWith('rollup#');

type Command = {
  constructor: { name: string };
  input: { Item?: Record<string, unknown>; Key?: Record<string, unknown> };
};
/** The sort key a Put or Delete writes. */
const skOf = (c: Command) => String(c.input.Item?.sk ?? c.input.Key?.sk ?? '');

/** The day's items that are not shards: per-value, folds and the marker. */
async function dayItemKeys(day: string): Promise<string[]> {
  const out: string[] = [];
  for await (const i of queryItems(table, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': keys.funnelDay(day) },
  }))
    out.push(String(i.sk));
  return out;
}

const allShards = (day: string) =>
  batchGet(
    table,
    Array.from({ length: MAX_FUNNEL_SHARDS }, (_, i) => keys.funnelShard(day, i)),
  );

describe(`compacting a closed day (${laneOfProcess()})`, () => {
  it('folds the shards into one item per key: the same report, no shard left, and again is a no-op', async () => {
    const day = '2031-06-01';
    const funnel = dynamoFunnel(table, { shards: 16 });
    const writes = writesOf(syntheticDay(40, 6, 16));
    await Promise.all(writes.map((items) => funnel.add(day, items)));
    // A per-value item (the full-shard fallback's) stays as it is and still counts.
    await table.doc.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...keys.funnelCounter(day, 'source#full'), captured: 3 },
      }),
    );
    const before = await funnel.read(day, ['']);
    const shardsBefore = (await allShards(day)).length;
    expect(shardsBefore).toBeGreaterThan(4);

    const first = await compactDay(table, day);
    expect(first).toMatchObject({ folded: shardsBefore, deleted: shardsBefore, late: 0 });
    expect(first.keys).toBe(before.length - 1); // all but the per-value item
    expect(await allShards(day)).toEqual([]);
    expect(await funnel.read(day, [''])).toEqual(before);
    // The fold's items, the per-value item and the marker.
    expect((await dayItemKeys(day)).length).toBe(before.length + 1);

    expect(await compactDay(table, day)).toMatchObject({ folded: 0, deleted: 0, keys: 0 });
    expect(await funnel.read(day, [''])).toEqual(before);
  });

  it('counts writes that come after a compaction, and folds them in the next one', async () => {
    const day = '2031-06-03';
    const funnel = dynamoFunnel(table, { shards: 4 });
    const writes = writesOf(syntheticDay(20, 4, 4));
    await Promise.all(writes.map((items) => funnel.add(day, items)));
    await compactDay(table, day);
    // A redriven run's milestone for the closed day: a new shard incarnation, counted at once.
    await funnel.add(day, { 'all#all': { captured: 1 }, 'source#late': { captured: 1 } });
    const recount = [...writes, { 'all#all': { captured: 1 }, 'source#late': { captured: 1 } }].reduce(
      (into, items) => sumInto(into, structuredClone(items)),
      {} as CounterItems,
    );
    expect(await funnel.read(day, [''])).toEqual(sorted(recount));
    const second = await compactDay(table, day);
    expect(second).toMatchObject({ folded: 1, deleted: 1 });
    expect(await funnel.read(day, [''])).toEqual(sorted(recount));
    // Only the fold in force is left: the first fold's items went with it.
    expect((await dayItemKeys(day)).length).toBe(Object.keys(recount).length + 1);
  });

  it('a write that lands on a shard while it is folded is carried into the fold', async () => {
    const day = '2031-06-04';
    const funnel = dynamoFunnel(table, { shards: 1 });
    await funnel.add(day, { 'all#all': { captured: 5 }, 'source#google': { captured: 2 } });
    let landed = false;
    const racing = intercepted(async (c) => {
      if (c.constructor.name === 'DeleteCommand' && !landed) {
        landed = true; // between the fold's read and the shard's delete
        await funnel.add(day, { 'all#all': { captured: 1, won: 1 } });
      }
    });
    const r = await compactDay(racing, day);
    expect(r).toMatchObject({ folded: 1, deleted: 1, late: 2 });
    expect(await funnel.read(day, [''])).toEqual([
      { key: 'all#all', values: { captured: 6, won: 1 } },
      { key: 'source#google', values: { captured: 2 } },
    ]);
    expect(await allShards(day)).toEqual([]);
  });

  it('stopped at any step, reads the same and the next run finishes the job', async () => {
    const day = '2031-06-05';
    const funnel = dynamoFunnel(table, { shards: 8 });
    const writes = writesOf(syntheticDay(16, 3, 8));
    await Promise.all(writes.map((items) => funnel.add(day, items)));
    const recount = writes.reduce((into, items) => sumInto(into, structuredClone(items)), {} as CounterItems);
    // Each kind of write the compaction makes, stopped at its nth: a shard's mark, a fold's item, the
    // marker, a shard's delete, a superseded fold's item's delete (there is one from the second run on).
    const stops: [string, (c: Command) => boolean, number][] = [
      ['a shard mark', (c) => c.constructor.name === 'UpdateCommand' && skOf(c) === 'counters', 2],
      ['a fold item', (c) => c.constructor.name === 'PutCommand' && skOf(c).startsWith('rollup#'), 3],
      ['the marker', (c) => c.constructor.name === 'PutCommand' && skOf(c) === 'rollup', 1],
      ['a shard delete', (c) => c.constructor.name === 'DeleteCommand' && skOf(c) === 'counters', 2],
      [
        'a superseded item',
        (c) => c.constructor.name === 'DeleteCommand' && skOf(c).startsWith('rollup#'),
        2,
      ],
    ];
    for (const [what, matches, nth] of stops) {
      // Something new to fold each time (a late milestone on the closed day).
      const late: CounterItems = { 'all#all': { won: 1 }, [`source#late-${what}`]: { captured: 1 } };
      await funnel.add(day, late);
      sumInto(recount, structuredClone(late));
      let seen = 0;
      const stopping = intercepted(async (c) => {
        if (matches(c) && ++seen === nth)
          throw Object.assign(new Error(`stopped at ${what}`), { name: 'Stopped' });
      });
      await expect(compactDay(stopping, day), what).rejects.toThrow(`stopped at ${what}`);
      expect(await funnel.read(day, ['']), what).toEqual(sorted(recount));
    }
    await compactDay(table, day);
    expect(await funnel.read(day, [''])).toEqual(sorted(recount));
    expect(await allShards(day)).toEqual([]);
    expect((await dayItemKeys(day)).length).toBe(Object.keys(recount).length + 1);
  });

  it('a write to a shard a stopped run marked counts at once, and the next run keeps it', async () => {
    const day = '2031-06-08';
    const funnel = dynamoFunnel(table, { shards: 1 });
    await funnel.add(day, { 'all#all': { captured: 3 }, 'source#google': { captured: 3 } });
    // Stopped after its marker, before deleting the shard: the shard is marked for the fold in force.
    const stopping = intercepted(async (c) => {
      if (c.constructor.name === 'DeleteCommand' && skOf(c) === 'counters')
        throw Object.assign(new Error('stopped'), { name: 'Stopped' });
    });
    await expect(compactDay(stopping, day)).rejects.toThrow('stopped');
    const expected = [
      { key: 'all#all', values: { captured: 4, won: 1 } },
      { key: 'source#google', values: { captured: 3 } },
      { key: 'source#late', values: { captured: 1 } },
    ];
    await funnel.add(day, { 'all#all': { captured: 1, won: 1 }, 'source#late': { captured: 1 } });
    expect(await funnel.read(day, [''])).toEqual(expected);
    expect(await compactDay(table, day)).toMatchObject({ deleted: 1, late: 3 });
    expect(await funnel.read(day, [''])).toEqual(expected);
    expect(await allShards(day)).toEqual([]);
  });

  it('two compactions at once: at most one fold wins, the report is unchanged', async () => {
    const day = '2031-06-06';
    const funnel = dynamoFunnel(table, { shards: 8 });
    await Promise.all(writesOf(syntheticDay(16, 3, 8)).map((items) => funnel.add(day, items)));
    const before = await funnel.read(day, ['']);
    const [a, b] = await Promise.all([compactDay(table, day), compactDay(table, day)]);
    // Whichever marked a shard first goes on (or both give up, each outrun on some shard); never both.
    expect([a.busy, b.busy].filter((busy) => !busy).length).toBeLessThanOrEqual(1);
    expect(await funnel.read(day, [''])).toEqual(before);
    await compactDay(table, day);
    expect(await funnel.read(day, [''])).toEqual(before);
    expect((await dayItemKeys(day)).length).toBe(before.length + 1);
  });

  it('folds a shard however it was written, and the rebuild still sets a compacted day exactly', async () => {
    const day = '2031-06-07';
    await table.doc.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...keys.funnelShard(day, 3), 'all#all|captured': 4, 'source#x|mql': 2 },
      }),
    );
    const funnel = dynamoFunnel(table, { shards: 1 });
    await funnel.add(day, { 'all#all': { captured: 1 } });
    expect(await compactDay(table, day)).toMatchObject({ folded: 2, deleted: 2 });
    expect(await funnel.read(day, [''])).toEqual([
      { key: 'all#all', values: { captured: 5 } },
      { key: 'source#x', values: { mql: 2 } },
    ]);
    // The rebuild still sets the day exactly: the fold and its marker go with everything else.
    await funnel.replaceDay(day, { 'all#all': { captured: 9 } });
    expect(await funnel.read(day, [''])).toEqual([{ key: 'all#all', values: { captured: 9 } }]);
    expect(await dayItemKeys(day)).toEqual(['all#all']);
  });
});

describe(`CompactFunnel, the daily schedule's target (${laneOfProcess()})`, () => {
  it('folds the closed days of the last week and leaves today, and says what it did', async () => {
    const funnel = dynamoFunnel(table, { shards: 4 });
    for (const day of ['2031-07-01', '2031-07-03', '2031-07-08', '2031-07-09'])
      for (let i = 0; i < 12; i++) await funnel.add(day, { 'all#all': { captured: 1 } });
    const shardsOf = async (day: string) => (await allShards(day)).length;
    const open = await shardsOf('2031-07-09');
    const handler = createCompactHandler(table);
    const event = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2031-07-09T00:30:00Z' };
    const out = await handler(event, aLambdaContext());
    // 07-02 … 07-08: two days with shards; 07-01 is more than a week back, 07-09 is not closed.
    expect(out.days).toBe(2);
    expect(out.folded).toBe(out.deleted);
    expect(out).toMatchObject({ late: 0, keys: 2 });
    expect(await shardsOf('2031-07-03')).toBe(0);
    expect(await shardsOf('2031-07-08')).toBe(0);
    expect(await shardsOf('2031-07-01')).toBeGreaterThan(0);
    expect(await shardsOf('2031-07-09')).toBe(open);
    for (const day of ['2031-07-01', '2031-07-03', '2031-07-08', '2031-07-09'])
      expect(await funnel.read(day, ['all#'])).toEqual([{ key: 'all#all', values: { captured: 12 } }]);
    // The next day's run finds nothing new in those days.
    const next = await handler({ ...event, time: '2031-07-10T00:30:00Z' }, aLambdaContext());
    expect(next).toMatchObject({ days: 1, folded: open, deleted: open });
  });
});

// Found by an independent review: without the day's lease, each of these left a day counted twice, or not at
// all, for good (test/integration/funnel-shards.test.ts, reproduced on both emulators before the fix).
describe(`one writer at a time (${laneOfProcess()})`, () => {
  it('a second compaction while the first one works does nothing: no shard marked twice, no fold deleted', async () => {
    const day = '2031-08-01';
    const funnel = dynamoFunnel(table, { shards: 4 });
    await Promise.all(writesOf(syntheticDay(12, 3, 4)).map((items) => funnel.add(day, items)));
    const before = await funnel.read(day, ['']);
    let second: Awaited<ReturnType<typeof compactDay>> | undefined;
    // At each point of the first run's work, another run starts and finishes.
    const first = around(async (c) => {
      if ((isMarkerPut(c) || isFoldPut(c)) && !second) second = await compactDay(table, day);
    });
    const r = await compactDay(first, day);
    expect(second).toMatchObject({ busy: true, folded: 0, deleted: 0 });
    expect(r.busy).toBeUndefined();
    expect(await funnel.read(day, [''])).toEqual(before);
    expect(await compactDay(table, day)).toMatchObject({ folded: 0, deleted: 0 });
    expect(await funnel.read(day, [''])).toEqual(before);
  });

  it('a late write moved by a run is kept though another run tries to fold at that moment', async () => {
    const day = '2031-08-03';
    const funnel = dynamoFunnel(table, { shards: 1 });
    await funnel.add(day, { 'all#all': { captured: 5 } });
    let deleted = false;
    let added = false;
    const w = around(async (c) => {
      if (c.constructor.name === 'DeleteCommand' && skOf(c) === 'counters' && !deleted) {
        deleted = true;
        await funnel.add(day, { 'all#all': { won: 1 } }); // lands on the marked shard
      }
      if (c.constructor.name === 'UpdateCommand' && skOf(c).startsWith('rollup#') && !added) {
        added = true;
        await funnel.add(day, { 'all#all': { captured: 1 } }); // a new shard
        expect(await compactDay(table, day)).toMatchObject({ busy: true });
      }
    });
    expect(await compactDay(w, day)).toMatchObject({ late: 1 });
    const expected = [{ key: 'all#all', values: { captured: 6, won: 1 } }];
    expect(await funnel.read(day, [''])).toEqual(expected);
    await compactDay(table, day);
    expect(await funnel.read(day, [''])).toEqual(expected);
  });

  it('the rebuild waits for a compaction at work, then sets the day exactly', async () => {
    const day = '2031-08-04';
    const funnel = dynamoFunnel(table, { shards: 4 });
    const writes = writesOf(syntheticDay(12, 3, 4));
    await Promise.all(writes.map((items) => funnel.add(day, items)));
    const recount = writes.reduce((into, items) => sumInto(into, structuredClone(items)), {} as CounterItems);
    let rebuild: Promise<unknown> | undefined;
    const c = around(async (cmd) => {
      if (isFoldPut(cmd) && !rebuild) {
        rebuild = funnel.replaceDay(day, structuredClone(recount));
        await new Promise((r) => setTimeout(r, 300)); // the rebuild has asked for the day by now
      }
    });
    expect((await compactDay(c, day)).folded).toBeGreaterThan(0);
    await rebuild;
    expect(await funnel.read(day, [''])).toEqual(sorted(recount));
    expect(await dayItemKeys(day)).toEqual(Object.keys(recount).sort());
    await compactDay(table, day);
    expect(await funnel.read(day, [''])).toEqual(sorted(recount));
  });

  it('a report that reads across a whole compaction reads it again: the same totals', async () => {
    const day = '2031-08-05';
    const funnel = dynamoFunnel(table, { shards: 4 });
    await Promise.all(writesOf(syntheticDay(12, 3, 4)).map((items) => funnel.add(day, items)));
    const before = await funnel.read(day, ['']);
    let compacted = false;
    // The report's first read of the day's items, then a whole compaction, then its read of the shards.
    const reader = dynamoFunnel(
      around(
        async () => undefined,
        async (c) => {
          if (c.constructor.name === 'QueryCommand' && !compacted) {
            compacted = true;
            expect((await compactDay(table, day)).folded).toBeGreaterThan(0);
          }
        },
      ),
      { shards: 4 },
    );
    expect(await reader.read(day, [''])).toEqual(before);
    expect(compacted).toBe(true);
  });
});

describe(`the day's lease (${laneOfProcess()})`, () => {
  const stealLease = (day: string) =>
    table.doc.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...keys.funnelCounter(day, LEASE), owner: 'another', until: Date.now() + LEASE_MS },
      }),
    );

  it('runs out: another writer takes it, and the old holder can no longer renew it', async () => {
    const day = '2031-09-01';
    const stalled = await takeDayLease(table, day, () => Date.now() - LEASE_MS - 1000);
    expect(stalled).toBeDefined();
    expect(await takeDayLease(table, day)).toBeDefined();
    expect(await stalled?.renew()).toBe(false);
  });

  it('a compaction that loses its lease before its marker stops there: the report is unchanged', async () => {
    const day = '2031-09-02';
    const funnel = dynamoFunnel(table, { shards: 4 });
    await Promise.all(writesOf(syntheticDay(12, 3, 4)).map((items) => funnel.add(day, items)));
    const before = await funnel.read(day, ['']);
    let stolen = false;
    const stalling = around(async (c) => {
      if (isFoldPut(c) && !stolen) {
        stolen = true;
        await stealLease(day);
      }
    });
    expect(await compactDay(stalling, day)).toMatchObject({ conflict: true, folded: 0 });
    expect(await batchGet(table, [keys.funnelCounter(day, ROLLUP)])).toEqual([]);
    expect(await funnel.read(day, [''])).toEqual(before);
  });

  it('a rebuild that loses its lease stops with a clear error instead of writing on', async () => {
    const day = '2031-09-03';
    const funnel = dynamoFunnel(table, { shards: 1 });
    const items: CounterItems = Object.fromEntries(
      Array.from({ length: RENEW_EVERY + 10 }, (_, i) => [`campaign#c${i}`, { captured: 1 }]),
    );
    let puts = 0;
    const stalling = dynamoFunnel(
      around(async (c) => {
        if (c.constructor.name === 'PutCommand' && skOf(c).startsWith('campaign#') && ++puts === 5)
          await stealLease(day);
      }),
      { shards: 1 },
    );
    await expect(stalling.replaceDay(day, items)).rejects.toThrow(/lost the lease/);
    expect(puts).toBeLessThan(RENEW_EVERY);
    await table.doc.send(new DeleteCommand({ TableName: table.name, Key: keys.funnelCounter(day, LEASE) }));
    await funnel.replaceDay(day, items);
    expect(await funnel.read(day, ['campaign#'])).toHaveLength(RENEW_EVERY + 10);
  });
});
