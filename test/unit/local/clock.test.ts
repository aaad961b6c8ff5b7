import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ClockError, compressedWallClock, LocalClock, openClock, parseStartAt } from '#local/clock.ts';
import { root } from '#test/fixtures/root.ts';

const FRIDAY_1730_CHICAGO = Date.parse('2026-12-04T17:30:00-06:00');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `code` in a worker thread that installed the virtual Date with `spec`; resolves with its message. */
function inWorker(spec: unknown, code: string): Promise<unknown> {
  const url = pathToFileURL(join(root, 'local/virtual-date.mjs')).href;
  const source = `import { parentPort, workerData } from 'node:worker_threads';
    const { installVirtualDate } = await import(${JSON.stringify(url)});
    installVirtualDate(workerData);
    parentPort.postMessage(await (async () => { ${code} })());`;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: spec });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

describe('the local clock', () => {
  it('starts where it is told and runs scale times faster than real time while idle', async () => {
    const clock = new LocalClock(86_400, FRIDAY_1730_CHICAGO);
    expect(clock.now() - FRIDAY_1730_CHICAGO).toBeLessThan(86_400 * 50); // well under an hour of virtual time
    await sleep(100);
    // 100 ms real is 2.4 virtual hours at a day a second (timers may fire late, never early).
    expect(clock.now() - FRIDAY_1730_CHICAGO).toBeGreaterThanOrEqual(86_400 * 95);
    clock.close();
  });

  it('runs at real speed while any activity works, and fast again once all pause or end', async () => {
    const clock = new LocalClock(86_400, FRIDAY_1730_CHICAGO);
    const a = clock.activity();
    const b = clock.activity();
    expect(clock.rate).toBe(1);
    let from = clock.now();
    await sleep(100);
    expect(clock.now() - from).toBeGreaterThanOrEqual(95);
    expect(clock.now() - from).toBeLessThan(2_000); // not 2.4 hours
    a.end();
    a.end(); // idempotent: b still holds the clock
    expect(clock.rate).toBe(1);
    b.pause();
    expect(clock.rate).toBe(86_400);
    b.resume();
    expect(clock.rate).toBe(1);
    b.end();
    b.resume(); // an ended activity stays ended
    expect(clock.rate).toBe(86_400);
    from = clock.now();
    await sleep(20);
    expect(clock.now() - from).toBeGreaterThanOrEqual(86_400 * 15);
    clock.close();
  });

  it('compresses work too when told to (fault and load tests)', async () => {
    const clock = new LocalClock(86_400, FRIDAY_1730_CHICAGO, { busyScale: 86_400 });
    const work = clock.activity();
    expect(clock.rate).toBe(86_400);
    work.end();
    clock.close();
  });

  it('fires timers at their instant, re-armed when the speed changes', async () => {
    const clock = new LocalClock(86_400, FRIDAY_1730_CHICAGO);
    const fired: string[] = [];
    const inOneHour = FRIDAY_1730_CHICAGO + 3_600_000;
    clock.at(FRIDAY_1730_CHICAGO + 7_200_000, () => fired.push('two hours'));
    clock.at(inOneHour, () => fired.push('one hour'));
    const cancel = clock.at(inOneHour, () => fired.push('cancelled'));
    cancel();
    const work = clock.activity(); // an hour is now an hour: nothing fires while the work goes on
    await sleep(120);
    expect(fired).toEqual([]);
    work.end(); // an hour is 42 ms again
    await sleep(250);
    expect(fired).toEqual(['one hour', 'two hours']);
    let late = false;
    clock.at(FRIDAY_1730_CHICAGO, () => {
      late = true;
    });
    await sleep(10);
    expect(late).toBe(true); // a past instant fires at once
    clock.close();
  });

  it('stands still while held and runs from where it stood', async () => {
    const clock = new LocalClock(86_400, FRIDAY_1730_CHICAGO, { held: true });
    let fired = false;
    clock.at(FRIDAY_1730_CHICAGO + 1, () => {
      fired = true;
    });
    await sleep(30);
    expect(clock.now()).toBe(FRIDAY_1730_CHICAGO);
    expect(fired).toBe(false);
    expect(clock.anchors).toMatchObject({ scale: 0, virtualAnchor: FRIDAY_1730_CHICAGO });
    clock.run();
    expect(clock.now() - FRIDAY_1730_CHICAGO).toBeLessThan(86_400 * 20);
    expect(clock.anchors).toMatchObject({ scale: 86_400, virtualAnchor: FRIDAY_1730_CHICAGO });
    await sleep(20);
    expect(fired).toBe(true);
    clock.close();
  });

  it('catches up to a later instant and never goes back', () => {
    const clock = new LocalClock(1, FRIDAY_1730_CHICAGO);
    clock.catchUp(FRIDAY_1730_CHICAGO - 3_600_000);
    expect(clock.now()).toBeLessThan(FRIDAY_1730_CHICAGO + 1000);
    clock.catchUp(FRIDAY_1730_CHICAGO + 3_600_000);
    expect(clock.now()).toBeGreaterThanOrEqual(FRIDAY_1730_CHICAGO + 3_600_000);
  });

  it("the harness clock reads the test's Date and only compresses waits", async () => {
    const clock = compressedWallClock(1e9);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
    let woke = false;
    clock.at(Date.now() + 30 * 86_400_000, () => {
      woke = true;
    });
    await sleep(20);
    expect(woke).toBe(true);
  });
});

describe('--start-at', () => {
  it('takes an ISO 8601 instant with its offset, or now', () => {
    expect(parseStartAt('2026-12-04T17:30:00-06:00')).toBe(FRIDAY_1730_CHICAGO);
    expect(parseStartAt('2026-12-04T23:30Z')).toBe(FRIDAY_1730_CHICAGO);
    expect(Math.abs(parseStartAt('now') - Date.now())).toBeLessThan(1000);
  });

  it.each([
    ['a local time names no instant', '2026-12-04T17:30:00'],
    ['a date alone', '2026-12-04'],
    ['no date at all', 'friday'],
    ['an impossible date', '2026-13-45T10:00:00Z'],
  ])('refuses %s', (_, text) => {
    expect(() => parseStartAt(text)).toThrow(ClockError);
    expect(() => parseStartAt(text)).toThrow(
      /--start-at must be "now" or an ISO 8601 instant with its offset/,
    );
  });
});

describe("the data folder's clock", () => {
  const folder = () => mkdtempSync(join(tmpdir(), 'handoff-clock-'));

  it('resumes where it stood when the stack stopped, at the new scale', async () => {
    const dir = folder();
    const first = openClock(dir, { scale: 86_400, startAt: FRIDAY_1730_CHICAGO });
    expect(first.resumed).toBe(false);
    first.clock.run();
    await sleep(50);
    first.close();
    const stoppedAt = JSON.parse(readFileSync(join(dir, 'clock.json'), 'utf8')).at as number;
    expect(stoppedAt).toBeGreaterThan(FRIDAY_1730_CHICAGO + 86_400 * 40);
    await sleep(100); // time the stack is down: none of it passes on the clock
    const second = openClock(dir, { scale: 1 });
    expect(second.resumed).toBe(true);
    expect(second.clock.now()).toBe(stoppedAt);
    second.close();
  });

  it('refuses a start before the data it holds, and takes a later one', () => {
    const dir = folder();
    openClock(dir, { scale: 1, startAt: FRIDAY_1730_CHICAGO }).close();
    expect(() => openClock(dir, { scale: 1, startAt: FRIDAY_1730_CHICAGO - 86_400_000 })).toThrow(
      /is before this data folder's clock .* time does not run backwards .* --fresh/,
    );
    const later = openClock(dir, { scale: 1, startAt: FRIDAY_1730_CHICAGO + 86_400_000 });
    expect(later.resumed).toBe(false);
    expect(later.clock.now()).toBe(FRIDAY_1730_CHICAGO + 86_400_000);
    later.close();
  });

  it('says what to do with a clock file it cannot read', () => {
    const dir = folder();
    writeFileSync(join(dir, 'clock.json'), '{"at": "yesterday"');
    expect(() => openClock(dir, { scale: 1 })).toThrow(/clock.json is not a clock file .* --fresh/);
  });

  it('starts a new folder at real now, and saves with owner-only access', () => {
    const dir = folder();
    const c = openClock(dir, { scale: 1 });
    expect(Math.abs(c.clock.now() - Date.now())).toBeLessThan(1000);
    c.close();
    expect(existsSync(join(dir, 'clock.json'))).toBe(true);
  });
});

describe("a function worker's Date", () => {
  // An hour a second, anchored as each test starts: a worker takes well under a minute to start.
  const spec = () => ({
    scale: 3600,
    realAnchor: performance.timeOrigin + performance.now(),
    virtualAnchor: FRIDAY_1730_CHICAGO,
  });

  it('reads the virtual clock through Date.now(), new Date() and Date()', async () => {
    const started = performance.now();
    const [now, constructed, called] = (await inWorker(
      spec(),
      'return [Date.now(), new Date().getTime(), Date()];',
    )) as [number, number, string];
    const upTo = FRIDAY_1730_CHICAGO + (performance.now() - started + 1) * 3600;
    for (const t of [now, constructed]) {
      expect(t).toBeGreaterThanOrEqual(FRIDAY_1730_CHICAGO);
      expect(t).toBeLessThanOrEqual(upTo);
    }
    // `Date()` is the same instant as a string (seconds precision, in the process's time zone).
    expect(Date.parse(called)).toBeGreaterThanOrEqual(FRIDAY_1730_CHICAGO - 1000);
    expect(Date.parse(called)).toBeLessThanOrEqual(upTo);
  });

  it('keeps every other use of Date as it is', async () => {
    const out = (await inWorker(
      spec(),
      `class Stamp extends Date {}
       const s = new Stamp(0);
       return [new Date(0).toISOString(), Date.parse('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1),
         new Date(2026, 0, 1, 12).getHours(), s instanceof Date, new Date() instanceof Date, s.getTime(),
         typeof new Stamp().getTime(), Object.prototype.toString.call(new Date())];`,
    )) as unknown[];
    expect(out).toEqual([
      '1970-01-01T00:00:00.000Z',
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 1),
      12,
      true,
      true,
      0,
      'number',
      '[object Date]',
    ]);
  });
});
