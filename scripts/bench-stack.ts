// The stack side of the journey-path bench (scripts/bench-paths.ts): one local Handoff with the DynamoDB
// meter on, the actions a path needs (post a form, click a rep link, wait for a parked state) and
// `measure`, which counts what the stack did for one path between two quiet moments.
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoStores } from '../functions/stores.ts';
import { accessKeyIdOf } from '../local/iam.ts';
import { linksIn, Mailbox, type MailboxEmail } from '../local/mailbox.ts';
import { DynamoMeter } from '../local/meter.ts';
import type { LocalStack } from '../local/runtime.ts';
import { startFreshStack } from './local-load.ts';

/** The journey paths the bench measures, one lead each (scripts/bench-paths.ts drives them). */
export const PATH_IDS = [
  'hot-won',
  'hot-lost-recycled',
  'nurture-completed',
  'nurture-qualified',
  'disqualified',
  'reassigned',
  'capacity-wait',
  'bounced',
] as const;
export type PathId = (typeof PATH_IDS)[number];

export interface PathFigures {
  path: PathId;
  /** Where the run ended (its last state). */
  end: string;
  transitions: number;
  states: string[];
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  byFunction: Record<string, number>;
  dynamoReads: number;
  dynamoWrites: number;
  dynamoCalls: number;
  /** Single-item writes by kind of item (local/meter.ts). */
  writesByKind: Record<string, { calls: number; units: number }>;
  /** DynamoDB calls per function (each step is one), by the access key its worker signs with. */
  dynamoCallsByFunction: Record<string, number>;
  emails: number;
  /** Of `emails`, nurture (marketing) emails. */
  nurtureEmails: number;
  /** Nurture waits ended by their timer (an email due), and the states one nurture round enters. */
  timerRounds: number;
  roundStates: number;
  seconds: number;
}

export const root = join(import.meta.dirname, '..');

/**
 * Every bench stack's clock starts here, a Tuesday at 10:00 in Chicago, whatever day the bench runs:
 * the figures must not depend on the hour the bench runs (a weekend run added a nurture round to every path).
 */
export const BENCH_START = Date.parse('2026-12-01T16:00:00Z');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REP_MAIL = /^(New lead|New activity)/;
const NURTURE_WAIT = 'Wait for a signal or the next send';

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 90_000,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(25);
  }
  throw new Error(`bench: timed out waiting for ${what}`);
}

/** One stack and what a path needs of it. */
export class Bench {
  readonly box: Mailbox;
  readonly stores;
  private constructor(readonly stack: LocalStack) {
    this.box = new Mailbox(stack.urls.ses);
    this.stores = dynamoStores(
      stack.tableName,
      new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1', credentials }),
    );
  }

  static async start(timeScale: number): Promise<Bench> {
    const stack = await startFreshStack({
      local: {
        timeScale,
        startAt: BENCH_START,
        logLevel: 'SILENT',
        log: () => undefined,
        meter: true,
        // Per hour, not per lead: at a day a second the hourly reconcile would run between every two steps.
        schedules: false,
        ttlSweepMs: 86_400_000,
      },
    });
    const b = new Bench(stack);
    await b.box.clear(); // aws-ses-v2-local keeps one mailbox per process
    return b;
  }

  stop() {
    return this.stack.stop(); // and removes its data folder
  }

  post(fields: Record<string, string | number | boolean>) {
    return fetch(`${this.stack.urls.api}/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        company: 'Acme Robotics',
        title: 'VP Operations',
        companySize: 1200,
        industry: 'manufacturing',
        country: 'US',
        consent: true,
        timeZone: 'America/Chicago',
        ...fields,
      }),
    }).then(async (r) => {
      if (r.status !== 202) throw new Error(`bench: POST /leads answered ${r.status}: ${await r.text()}`);
    });
  }

  run(leadId: string) {
    return this.stack.sfn.list().find((r) => r.name.startsWith(leadId));
  }

  /** The run's current state once it is parked there (a `.waitForTaskToken` task waiting). */
  parkedAt(leadId: string, state: string) {
    return until(`${leadId} parked at ${state}`, () => {
      const cur = this.run(leadId)?.current;
      return cur?.state === state && cur.parked ? cur.parked : undefined;
    });
  }

  /** The newest rep email about the person (by first name), the nth (1-based) once there are n. */
  async repMail(firstName: string, n = 1): Promise<MailboxEmail> {
    return until(`rep email #${n} for ${firstName}`, async () => {
      const mine = (await this.box.list()).filter(
        (m) => m.subject.startsWith('New lead') && m.subject.includes(firstName),
      );
      return mine.length >= n ? mine[n - 1] : undefined;
    });
  }

  /** Clicks a rep action link of an assignment email (accept, won, lost), as the rep's browser posts it. */
  async act(mail: MailboxEmail, action: 'accept' | 'won' | 'lost', body = '') {
    const links = linksIn(mail).filter((l) => l.includes('/deals/action'));
    const url = links[['accept', 'won', 'lost'].indexOf(action)];
    const res = await fetch(String(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    if (res.status !== 200) throw new Error(`bench: rep ${action} answered ${res.status}`);
  }

  async ended(leadId: string) {
    return until(`the run of ${leadId} to end`, () => {
      const r = this.run(leadId);
      return r && r.status !== 'RUNNING' ? r : undefined;
    });
  }

  /** Waits until nothing moves: no invocation running or queued, no event in flight, no new DynamoDB call. */
  async quiet() {
    let last = '';
    let stableSince = Date.now();
    for (;;) {
      await this.stack.events.drain();
      const pools = this.stack.functions.stats();
      const busy = pools.some((p) => p.running || p.queued);
      const key = `${(await this.stack.meter?.read())?.calls}/${pools.reduce((n, p) => n + p.invocations, 0)}`;
      if (busy || key !== last) {
        last = key;
        stableSince = Date.now();
      } else if (Date.now() - stableSince > 400) return;
      await sleep(50);
    }
  }

  async reading() {
    const pools = this.stack.functions.stats();
    return {
      meter: (await this.stack.meter?.read()) ?? new DynamoMeter().read(),
      pools: Object.fromEntries(pools.map((p) => [p.functionId, p])),
      mails: await this.box.list(),
    };
  }

  /** Runs `drive` as one path and counts what the stack did for it. `aside` work is subtracted. */
  async measure(path: PathId, leadId: string, drive: (aside: Aside) => Promise<void>): Promise<PathFigures> {
    await this.quiet();
    const t0 = performance.now();
    const before = await this.reading();
    const excluded: DynamoMeter['read'] extends () => infer R ? R[] : never = [];
    const aside: Aside = async (f) => {
      const m0 = await this.stack.meter?.read();
      await f();
      const m1 = await this.stack.meter?.read();
      if (m0 && m1) excluded.push(DynamoMeter.since(m0, m1));
    };
    await drive(aside);
    const run = await this.ended(leadId);
    await this.quiet();
    const after = await this.reading();
    const seconds = (performance.now() - t0) / 1000;
    const db = DynamoMeter.since(before.meter, after.meter);
    for (const x of excluded) {
      db.readUnits -= x.readUnits;
      db.writeUnits -= x.writeUnits;
      db.calls -= x.calls;
      for (const [kind, w] of Object.entries(x.writesByKind)) {
        const have = db.writesByKind[kind];
        if (have) db.writesByKind[kind] = { calls: have.calls - w.calls, units: have.units - w.units };
      }
      for (const [caller, n] of Object.entries(x.byCaller))
        db.byCaller[caller] = (db.byCaller[caller] ?? 0) - n;
    }
    // Each function's worker signs with its own access key (local/iam.ts): its calls, per step.
    const functionOf = new Map(
      Object.values(after.pools).map((p) => [accessKeyIdOf(p.logicalId), p.functionId]),
    );
    const dynamoCallsByFunction: Record<string, number> = {};
    for (const [caller, n] of Object.entries(db.byCaller)) {
      const name = functionOf.get(caller) ?? 'others (the bench, the console)';
      if (n > 0) dynamoCallsByFunction[name] = (dynamoCallsByFunction[name] ?? 0) + n;
    }
    const byFunction: Record<string, number> = {};
    let gb = 0;
    for (const [id, p] of Object.entries(after.pools)) {
      const n = p.invocations - (before.pools[id]?.invocations ?? 0);
      if (n) byFunction[id] = n;
      gb += p.gbSeconds - (before.pools[id]?.gbSeconds ?? 0);
    }
    const mails = after.mails.slice(before.mails.length);
    const states = run.events
      .filter((e) => e.type.endsWith('StateEntered'))
      .map((e) =>
        String((e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name),
      );
    const waits = states.flatMap((s, i) => (s === NURTURE_WAIT ? [i] : []));
    const gaps = waits.slice(1).map((w, i) => w - (waits[i] as number));
    let inWait = false;
    let timerRounds = 0;
    for (const e of run.events) {
      if (e.type.endsWith('StateEntered'))
        inWait =
          (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name ===
          NURTURE_WAIT;
      if (inWait && e.type === 'TaskTimedOut') timerRounds += 1;
    }
    return {
      path,
      end: states.at(-1) ?? '',
      transitions: states.length,
      states,
      lambdaInvocations: Object.values(byFunction).reduce((a, b) => a + b, 0),
      lambdaGbSeconds: gb,
      byFunction,
      dynamoReads: db.readUnits,
      dynamoWrites: db.writeUnits,
      dynamoCalls: db.calls,
      writesByKind: db.writesByKind,
      dynamoCallsByFunction,
      emails: mails.length,
      nurtureEmails: mails.filter((m) => !REP_MAIL.test(m.subject)).length,
      timerRounds,
      roundStates: gaps.length ? Math.min(...gaps) : 0,
      seconds,
    };
  }
}

export type Aside = (f: () => Promise<void>) => Promise<void>;
