import { type DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { dynamoWindowCounters, type WindowCounters } from '#functions/api/client-limits.ts';
import { type TimelineEvent, TimelineEventError, timeline } from '#functions/lead/timeline.ts';
import { IllegalTransitionError, NotFoundError } from '#functions/platform/errors.ts';
import { tableOf } from '#functions/platform/table.ts';
import { dynamoStores, type RepNote, type Stores } from '#functions/stores.ts';
import { config } from '#test/fixtures/config.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { laneOfProcess, startTestTable, type TestDynamo, type TestTable } from '#test/fixtures/dynamodb.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { memoryStores, memoryWindowCounters } from '#test/fixtures/memory-stores.ts';

// One suite, two implementations: the DynamoDB stores with the synthesized table, and the in-memory stores
// the handler unit tests use. A condition one of them forgets fails here. The DynamoDB is this process's lane
// (test/fixtures/dynamodb.ts): dynalite, and again on DynamoDB Local in the dynamodb-local project.
let table: TestTable;
let db: TestDynamo;
let client: DynamoDBClient;
let tableName = '';
let run = 0;
beforeAll(async () => {
  table = await startTestTable(inject('cdkOut'));
  ({ db, client, tableName } = table);
});
afterAll(async () => {
  await table?.stop();
});

const AT = '2026-11-26T10:00:00.000Z';
const implementations: [string, () => Stores][] = [
  [`DynamoDB (${laneOfProcess()})`, () => dynamoStores(tableName, client)],
  ['in memory', () => memoryStores()],
];

it('runs on its lane’s emulator: DynamoDB Local has transactions, dynalite has none', async () => {
  const put = client.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: tableName, Item: { pk: { S: 'LANE#probe' }, sk: { S: 'LANE' } } } },
      ],
    }),
  );
  if (db.lane === 'dynamodb-local') await expect(put).resolves.toBeDefined();
  else await expect(put).rejects.toThrow();
});

describe.each(implementations)('data stores: %s', (_, make) => {
  let s: Stores;
  // Fresh ids per test: the dynalite table is shared by the tests of this file.
  let lead: ReturnType<typeof aLead>;
  let dealId: string;
  beforeEach(() => {
    s = make();
    run += 1;
    lead = aLead({ email: `pat.${run}@acme-robotics.com` });
    dealId = `dl-contract-${run}`;
  });

  it('captures a lead once per run and merges a second run while the first is active', async () => {
    const first = await s.leads.capture(lead, 'run-a', AT);
    // The capture returns the lead as stored: what a read right after would give.
    expect(first).toEqual({ outcome: 'captured', lead: await s.leads.get(lead.id) });
    expect((await s.leads.capture(lead, 'run-a', AT)).outcome).toBe('captured');
    expect(await s.leads.capture(lead, 'run-b', AT)).toEqual({ outcome: 'merged' });
    expect(await s.leads.get(lead.id)).toMatchObject({
      stage: 'captured',
      activeExecution: 'run-a',
      capturedAt: AT,
    });
    await s.leads.setStage(lead.id, 'disqualified', AT);
    const again = await s.leads.capture(lead, 'run-b', '2026-11-27T10:00:00.000Z');
    expect(again).toEqual({ outcome: 'captured', lead: await s.leads.get(lead.id) });
    expect(await s.leads.get(lead.id)).toMatchObject({ activeExecution: 'run-b', capturedAt: AT });
  });

  it('keeps a run’s submission once (the first stands) and erases it with the lead', async () => {
    expect(await s.submissions.put({ lead, receivedAt: AT }, 'run-a')).toBe(true);
    const later = { lead: { ...lead, company: 'Changed Co' }, receivedAt: '2026-11-26T11:00:00.000Z' };
    expect(await s.submissions.put(later, 'run-a')).toBe(false);
    expect(await s.submissions.get(lead.id, 'run-a')).toEqual({ lead, receivedAt: AT });
    expect(await s.submissions.get(lead.id, 'run-b')).toBeUndefined();
    await s.leads.capture(lead, 'run-a', AT);
    await s.leads.erase(lead.id);
    expect(await s.submissions.get(lead.id, 'run-a')).toBeUndefined();
  });

  it('keeps a rep’s note once per answer, lists a range’s newest first across months, and erases them with the lead', async () => {
    const year = 2040 + run; // the table is shared: a range of its own
    const note = (at: string, o: Partial<RepNote> = {}): RepNote => ({
      leadId: lead.id,
      dealId,
      repId: 'rep-ava',
      action: 'accept',
      at,
      formType: 'demo-request',
      ...o,
    });
    await s.leads.capture(lead, 'run-a', AT);
    expect(
      await s.repNotes.put(note(`${year}-01-31T23:59:00.000Z`, { note: 'first', rating: 'good-fit' })),
    ).toBe(true);
    expect(await s.repNotes.put(note(`${year}-01-31T23:59:30.000Z`, { note: 'again' }))).toBe(false);
    await s.repNotes.put(note(`${year}-02-01T00:00:00.000Z`, { action: 'won' }));
    await s.repNotes.put(note(`${year}-03-02T00:00:00.000Z`, { action: 'lost' }));
    const list = await s.repNotes.list(`${year}-01-31`, `${year}-02-28`, 10);
    expect(list.map((n) => [n.action, n.note ?? null])).toEqual([
      ['won', null],
      ['accept', 'first'],
    ]);
    expect(list[1]).toEqual(note(`${year}-01-31T23:59:00.000Z`, { note: 'first', rating: 'good-fit' }));
    expect(await s.repNotes.list(`${year}-01-01`, `${year}-12-31`, 2)).toHaveLength(2);
    await s.leads.erase(lead.id);
    expect(await s.repNotes.list(`${year}-01-01`, `${year}-12-31`, 10)).toEqual([]);
  });

  it('parks a token or keeps a signal for the next park, and a clear returns the lead as it is after', async () => {
    expect(await s.signals.clear(lead.id)).toBeUndefined(); // no lead: nothing created
    expect(await s.leads.get(lead.id)).toBeUndefined();
    await s.leads.capture(lead, 'run-a', AT);
    expect(await s.signals.park(lead.id, 'token-1', AT)).toEqual({ parked: true });
    expect(await s.signals.signal(lead.id, 'click', AT)).toEqual({ token: 'token-1' });
    expect(await s.signals.signal(lead.id, 'form', AT)).toEqual({}); // no token: kept for the next park
    const cleared = await s.signals.clear(lead.id);
    expect(cleared).toMatchObject({ id: lead.id, email: lead.email, stage: 'captured' });
    expect(cleared).not.toHaveProperty('pk');
    expect(await s.signals.park(lead.id, 'token-2', AT)).toEqual({ parked: true }); // the form was cleared
  });

  it('moves a lead only as the stage machine allows, and counts leads by stage', async () => {
    await expect(s.leads.setStage(lead.id, 'nurturing', AT)).rejects.toBeInstanceOf(NotFoundError);
    await s.leads.capture(lead, 'run-a', AT);
    await expect(s.leads.setStage(lead.id, 'won', AT)).rejects.toBeInstanceOf(IllegalTransitionError);
    const before = await s.leads.countByStage('nurturing');
    await s.leads.setStage(lead.id, 'nurturing', AT, { engagementSince: AT });
    await s.leads.setStage(lead.id, 'nurturing', AT);
    expect(await s.leads.get(lead.id)).toMatchObject({ stage: 'nurturing', engagementSince: AT });
    expect(await s.leads.countByStage('nurturing')).toBe(before + 1);
    const listed = [];
    for await (const l of s.leads.listByStage('nurturing')) listed.push(l);
    expect(listed).toHaveLength(before + 1);
    expect(listed.find((l) => l.id === lead.id)).toMatchObject({ email: lead.email, stage: 'nurturing' });
    expect(listed.every((l) => !('pk' in l) && !('gsi2pk' in l))).toBe(true);
    await s.leads.setStage(lead.id, 'failed', AT);
    await s.leads.setStage(lead.id, 'assigned', AT);
  });

  it('reads many leads in one call, by id: missing ones absent, duplicates once, past 100 keys', async () => {
    const other = aLead({ email: `sam.${run}@globex.example`, firstName: 'Sam' });
    expect(await s.leads.getMany([])).toEqual(new Map());
    await s.leads.capture(lead, 'run-a', AT);
    await s.leads.capture(other, 'run-b', AT);
    await s.leads.setStage(other.id, 'nurturing', AT);
    const missing = Array.from({ length: 120 }, (_, i) => `ld-${String(i).padStart(20, '0')}`);
    const found = await s.leads.getMany([...missing, lead.id, other.id, lead.id]);
    expect([...found.keys()].sort()).toEqual([lead.id, other.id].sort());
    expect(found.get(lead.id)).toEqual(await s.leads.get(lead.id));
    expect(found.get(other.id)).toMatchObject({ firstName: 'Sam', stage: 'nurturing' });
    expect(found.get(lead.id)).not.toHaveProperty('pk');
  });

  it('stores each timeline event once, in time order', async () => {
    const form = timeline.form(AT, { formType: 'demo-request' }, 'run-1', 'captured');
    const team = 'enterprise-na';
    const assigned = timeline.assigned('2026-11-26T10:00:02.000Z', { dealId: 'dl-1', repId: 'rep-1', team });
    await s.leads.putEvent(lead.id, assigned);
    await s.leads.putEvent(lead.id, form);
    await s.leads.putEvent(lead.id, form);
    expect(await s.leads.listEvents(lead.id)).toEqual([form, assigned]);
    // An event that does not match its type is refused before anything is written.
    const stale = {
      ...timeline.closed(AT, { dealId: 'dl-1', stage: 'lost' }, false),
      type: 'nurture-decided',
    };
    await expect(s.leads.putEvent(lead.id, stale as TimelineEvent)).rejects.toThrow(TimelineEventError);
    expect(await s.leads.listEvents(lead.id)).toEqual([form, assigned]);
  });

  it('creates a deal once and updates it only while it matches what the writer read', async () => {
    const deal = aDeal({ dealId });
    expect(await s.deals.create(deal)).toBe(true);
    expect(await s.deals.create(deal)).toBe(false);
    expect(await s.deals.update(dealId, { stage: 'accepted' }, { updatedAt: AT })).toBe(false);
    expect(
      await s.deals.update(
        dealId,
        { stage: 'assigned', taskToken: 'task-token-1' },
        { stage: 'accepted', repId: deal.repId, updatedAt: AT },
        ['taskToken', 'tokenFor'],
      ),
    ).toBe(true);
    expect(await s.deals.update(dealId, { taskToken: 'task-token-1' }, { updatedAt: AT })).toBe(false);
    expect(await s.deals.update(dealId, { taskToken: null }, { taskToken: 't2', updatedAt: AT })).toBe(true);
    const stored = await s.deals.get(dealId);
    expect(stored).toMatchObject({ stage: 'accepted', taskToken: 't2' });
    expect(stored?.tokenFor).toBeUndefined();
    const accepted = [];
    for await (const d of s.deals.listByStage('accepted')) accepted.push(d);
    expect(accepted.find((d) => d.dealId === dealId)).toMatchObject({
      stage: 'accepted',
      leadId: deal.leadId,
    });
    for await (const d of s.deals.listByStage('assigned')) expect(d.dealId).not.toBe(dealId);
    expect(await s.deals.update('dl-none', {}, { updatedAt: AT })).toBe(false);
    expect(await s.deals.markCloseRecorded(dealId, AT)).toBe(true);
    expect(await s.deals.markCloseRecorded(dealId, AT)).toBe(false);
  });

  it('keeps a rep’s load between zero and capacity, and advances a team cursor by one', async () => {
    const rep = `rep-contract-${run}`;
    expect(await s.reps.adjustLoad(rep, -1, 2)).toBe(false);
    expect(await s.reps.adjustLoad(rep, 1, 2)).toBe(true);
    expect(await s.reps.adjustLoad(rep, 1, 2)).toBe(true);
    expect(await s.reps.adjustLoad(rep, 1, 2)).toBe(false);
    expect(await s.reps.loads([rep, 'rep-nobody'])).toEqual({ [rep]: { openDeals: 2 } });
    expect(await s.reps.adjustLoad(rep, -1, 2)).toBe(true);
    const team = `team-${run}`;
    expect(await s.reps.nextCursor(team)).toBe(1);
    expect(await s.reps.nextCursor(team)).toBe(2);
    const [first] = config.reps.reps;
    await s.reps.seed(config.reps.reps);
    const loads = await s.reps.loads([first?.id ?? '']);
    await s.reps.seed(config.reps.reps);
    expect(await s.reps.loads([first?.id ?? ''])).toEqual(loads);
  });

  it('suppresses an address once (the first reason stands, but an erase says so)', async () => {
    const email = `gone.${run}@acme-robotics.com`;
    expect(await s.suppression.isSuppressed(email)).toBe(false);
    await s.suppression.suppress(email, 'bounced', 'ses', AT);
    await s.suppression.suppress(email, 'unsubscribed', 'page', AT);
    expect(await s.suppression.isSuppressed(email)).toBe(true);
    expect(await s.suppression.reasonFor(email)).toBe('bounced');
    await s.suppression.suppress(email, 'erased', 'admin', AT);
    expect(await s.suppression.reasonFor(email.toUpperCase())).toBe('erased');
    expect(await s.suppression.entryFor(email)).toEqual({ reason: 'erased', at: AT });
  });

  it('claims a send before SES, holds the claim until its deadline, takes a stale one over, and marks it sent', async () => {
    const at = new Date(AT);
    const later = (s: number) => new Date(at.getTime() + s * 1000);
    const ttl = 2_000_000_000;
    expect(await s.sends.claim(lead.id, 0, 1, at, later(10), ttl)).toEqual({ state: 'claimed' });
    // A retry inside the first attempt's deadline: in progress, not sent again.
    expect(await s.sends.claim(lead.id, 0, 1, later(3), later(13), ttl)).toEqual({
      state: 'in-progress',
      until: later(10),
    });
    // Past it: the first attempt crashed; this one takes the claim over (at least once).
    expect(await s.sends.claim(lead.id, 0, 1, later(11), later(21), ttl)).toEqual({ state: 'claimed' });
    // A release by the attempt whose claim was taken over drops nothing.
    await s.sends.release(lead.id, 0, 1, at);
    expect((await s.sends.claim(lead.id, 0, 1, later(12), later(22), ttl)).state).toBe('in-progress');
    await s.sends.markSent(lead.id, 0, 1, 'm-1', later(12).toISOString(), ttl);
    expect(await s.sends.claim(lead.id, 0, 1, later(99), later(109), ttl)).toEqual({
      state: 'sent',
      messageId: 'm-1',
    });
    // SES refused: the claim is released and the next attempt claims at once.
    expect(await s.sends.claim(lead.id, 1, 1, at, later(10), ttl)).toEqual({ state: 'claimed' });
    await s.sends.release(lead.id, 1, 1, at);
    expect(await s.sends.claim(lead.id, 1, 1, later(1), later(11), ttl)).toEqual({ state: 'claimed' });
    // Marked with the timeline event that says so: both written (one call in DynamoDB), twice stores once.
    const emailed = timeline.emailed(later(2).toISOString(), { template: 'welcome', cycle: 1, step: 1 });
    await s.sends.markSent(lead.id, 1, 1, 'm-2', later(2).toISOString(), ttl, emailed);
    await s.sends.markSent(lead.id, 1, 1, 'm-2', later(2).toISOString(), ttl, emailed);
    expect((await s.sends.claim(lead.id, 1, 1, later(3), later(13), ttl)).state).toBe('sent');
    expect((await s.leads.listEvents(lead.id)).filter((e) => e.type === 'emailed')).toEqual([emailed]);
  });

  it('marks a funnel milestone once, adds and reads counters by day and dimension, replaces a day, erases markers with the lead', async () => {
    const day = new Date(Date.UTC(2032, 0, run)).toISOString().slice(0, 10);
    const facts = { formType: 'demo-request', source: 'google', territory: 'emea' };
    expect(await s.funnel.mark(lead.id, 'run-a#0#captured', { at: AT, facts })).toBe(true);
    expect(await s.funnel.mark(lead.id, 'run-a#0#captured', { at: '2026-11-27T10:00:00.000Z' })).toBe(false);
    expect(await s.funnel.mark(lead.id, 'dl-1#won', { at: AT })).toBe(true);
    expect(await s.funnel.marker(lead.id, 'run-a#0#captured')).toEqual({ at: AT, facts });
    expect(await s.funnel.marker(lead.id, 'dl-1#won')).toEqual({ at: AT });
    expect(await s.funnel.marker(lead.id, 'dl-1#lost')).toBeUndefined();
    await s.funnel.add(day, { 'all#all': { won: 1, revenueWon: 10.25 }, 'source#google': { won: 1 } });
    await s.funnel.add(day, { 'all#all': { lost: 1, 'lost:no-budget': 1, revenueWon: 0.5 } });
    expect(await s.funnel.read(day, ['all#'])).toEqual([
      { key: 'all#all', values: { won: 1, lost: 1, 'lost:no-budget': 1, revenueWon: 10.75 } },
    ]);
    expect(await s.funnel.read(day, ['source#'])).toEqual([{ key: 'source#google', values: { won: 1 } }]);
    expect(await s.funnel.read(day, ['rep#'])).toEqual([]);
    // Deleted: every other item of the day (a counter shard holds all dimensions, so per store it differs).
    const replaced = await s.funnel.replaceDay(day, { 'all#all': { captured: 5 } });
    expect(replaced.written).toBe(1);
    expect(replaced.deleted).toBeGreaterThanOrEqual(1);
    expect(await s.funnel.replaceDay(day, { 'all#all': { captured: 5 } })).toEqual({
      written: 1,
      deleted: 0,
    });
    expect(await s.funnel.read(day, [''])).toEqual([{ key: 'all#all', values: { captured: 5 } }]);
    await s.leads.capture(lead, 'run-a', AT);
    expect(await s.leads.erase(lead.id)).toBeGreaterThanOrEqual(4);
    expect(await s.funnel.marker(lead.id, 'run-a#0#captured')).toBeUndefined();
    expect(await s.funnel.marker(lead.id, 'dl-1#won')).toBeUndefined();
  });

  it('sums delivery counters over the window, trips and resets the breaker once, and restarts the window', async () => {
    const now = new Date(Date.UTC(2031, 0, run, 10, 30));
    const hourAgo = new Date(now.getTime() - 3_600_000);
    for (const [event, at] of [
      ['sent', hourAgo],
      ['sent', now],
      ['bounced', now],
    ] as const)
      await s.deliverability.count(event, at);
    expect(await s.deliverability.window(24, now)).toMatchObject({ sent: 2, bounced: 1, complained: 0 });
    expect(await s.deliverability.window(1, now)).toMatchObject({ sent: 1, bounced: 1 });
    expect(await s.deliverability.trip('bounce rate', now.toISOString())).toBe(true);
    expect(await s.deliverability.trip('again', now.toISOString())).toBe(false);
    expect(await s.deliverability.state()).toMatchObject({ tripped: true, reason: 'bounce rate' });
    expect(await s.deliverability.reset()).toBe(true);
    expect(await s.deliverability.reset()).toBe(false);
    // An admin's reset restarts the window: earlier hours and this hour's counts so far no longer count.
    await s.deliverability.restartWindow(now);
    expect(await s.deliverability.window(24, now)).toMatchObject({ sent: 0, bounced: 0 });
    await s.deliverability.count('sent', now);
    const nextHour = new Date(now.getTime() + 3_600_000);
    await s.deliverability.count('sent', nextHour);
    expect(await s.deliverability.window(24, nextHour)).toMatchObject({ sent: 2, bounced: 0 });
    // An event with an id counts once however often it is delivered.
    expect(await s.deliverability.count('complained', nextHour, `evt-${run}`)).toBe(true);
    expect(await s.deliverability.count('complained', nextHour, `evt-${run}`)).toBe(false);
    expect(await s.deliverability.window(24, nextHour)).toMatchObject({ complained: 1 });
  });

  it('keeps the first-contact stream apart: its counts and its breaker are its own', async () => {
    const now = new Date(Date.UTC(2032, 0, run, 10, 30));
    await s.firstContact.count('sent', now);
    await s.firstContact.count('bounced', now);
    await s.deliverability.count('sent', now);
    expect(await s.firstContact.window(1, now)).toMatchObject({ sent: 1, bounced: 1 });
    expect(await s.deliverability.window(1, now)).toMatchObject({ sent: 1, bounced: 0 });
    const known = (await s.deliverability.state()).tripped;
    expect(await s.firstContact.trip('junk', now.toISOString())).toBe(true);
    expect((await s.deliverability.state()).tripped).toBe(known);
    expect(await s.firstContact.reset()).toBe(true);
  });

  it('reads an address’s suppression and the streams’ breakers together, as each store reads them', async () => {
    const now = new Date(Date.UTC(2032, 1, run, 10, 30)).toISOString();
    const email = `checks.${run}@acme-robotics.com`;
    const both = ['known', 'first-contact'] as const;
    expect(await s.sendChecks.read(email, both)).toEqual({
      breakers: { known: await s.deliverability.state(), 'first-contact': { tripped: false } },
    });
    await s.suppression.suppress(email, 'complained', 'ses', now);
    expect(await s.firstContact.trip('junk', now)).toBe(true);
    const read = await s.sendChecks.read(email, both);
    expect(read).toEqual({
      suppressed: 'complained',
      breakers: {
        known: await s.deliverability.state(),
        'first-contact': { tripped: true, reason: 'junk', at: now },
      },
    });
    // Only the streams asked for.
    expect(Object.keys((await s.sendChecks.read(email, ['known'])).breakers)).toEqual(['known']);
    expect(await s.firstContact.reset()).toBe(true);
  });

  it('opens one confirmation round per window, joins an open one, and confirms once; erased with the lead', async () => {
    const t0 = new Date(AT);
    const week = 7 * 86_400;
    expect(await s.confirmations.get(lead.id)).toBeUndefined();
    expect(await s.confirmations.startRound(lead.id, t0, week)).toEqual({ round: 1, startedAt: AT });
    const dayLater = new Date(t0.getTime() + 86_400_000);
    expect(await s.confirmations.startRound(lead.id, dayLater, week)).toEqual({ round: 1, startedAt: AT });
    const weekLater = new Date(t0.getTime() + week * 1000);
    expect(await s.confirmations.startRound(lead.id, weekLater, week)).toEqual({
      round: 2,
      startedAt: weekLater.toISOString(),
    });
    expect(await s.confirmations.confirm(lead.id, weekLater.toISOString())).toBe(true);
    expect(await s.confirmations.confirm(lead.id, dayLater.toISOString())).toBe(false);
    expect(await s.confirmations.get(lead.id)).toEqual({
      round: 2,
      roundStartedAt: weekLater.toISOString(),
      confirmedAt: weekLater.toISOString(),
    });
    await s.leads.capture(lead, 'run-a', AT);
    await s.leads.erase(lead.id);
    expect(await s.confirmations.get(lead.id)).toBeUndefined();
  });
});

describe.each([
  [`DynamoDB (${laneOfProcess()})`, () => dynamoWindowCounters(tableOf(tableName, client))],
  ['in memory', () => memoryWindowCounters()],
] as [string, () => WindowCounters][])('form clients’ window counters: %s', (_, make) => {
  it('counts each client and window apart, concurrently without losing a count', async () => {
    const counters = make();
    const client = `ip#contract-${Date.now()}`;
    const counts = await Promise.all(Array.from({ length: 10 }, () => counters.add(client, 60, 180)));
    expect(counts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await counters.add(client, 120, 240)).toBe(1);
    expect(await counters.add(`${client}-other`, 60, 180)).toBe(1);
  });
});
