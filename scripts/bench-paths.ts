// Part of `npm run bench`: what one lead costs on each journey path, counted from real runs in
// the local runtime. Each path is one lead, driven through the local API as a form, a rep and SES would
// drive it, alone on the stack, so everything the stack did between its start and the moment the stack is
// quiet again belongs to it:
// - state transitions: the states its run entered (GetExecutionHistory);
// - Lambda invocations and GB-seconds: every function invoked meanwhile (the API's SubmitLead and
//   RepAction, the steps, SesEvents for SES's event stream, Record failure), billed duration rounded up
//   to the ms × MemorySize (local/lambda-pool.ts: time on the worker, so a local figure);
// - DynamoDB read and write units: dynalite's consumed capacity, through local/meter.ts;
// - emails: sends that reached the local SES.
// Two stacks: sales paths at time scale 1 (the acceptance SLA is ended with the local expireTask where a
// path needs it), nurture paths at a day a second (a month of nurture in about half a minute).
import { join } from 'node:path';
import { leadIdFor } from '../functions/lead/lead.ts';
import { nextSendTime } from '../functions/lead/schedule.ts';
import { loadConfig } from '../infra/load-config.ts';
import type { MailboxEmail } from '../local/mailbox.ts';
import { Bench, PATH_IDS, type PathFigures, type PathId, root, until } from './bench-stack.ts';

export type { PathFigures, PathId };

/** When the nurture paths' leads arrived: in business hours (the welcome email goes at once) or not. */
export let nurtureArrival = '';

/** A time zone where `now` and the two hours after it are a weekday's business hours (config/nurture.json). */
function businessHoursZone(now: Date): string | undefined {
  const hours = loadConfig(join(root, 'config')).nurture.businessHours;
  const zones = [
    'America/Chicago',
    'America/New_York',
    'America/Los_Angeles',
    'Pacific/Honolulu',
    'Europe/Berlin',
  ];
  zones.push('Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland', 'Pacific/Kiritimati');
  const inHours = (at: Date, tz: string) => nextSendTime(at, 0, tz, hours).getTime() === at.getTime();
  return zones.find((tz) => inHours(now, tz) && inHours(new Date(now.getTime() + 2 * 3_600_000), tz));
}

/** Fills (or empties) a team's capacity directly in the table: set-up, not part of any path. */
async function setTeamLoad(b: Bench, team: string, free: number) {
  const reps = loadConfig(join(root, 'config')).reps.reps.filter((r) => r.team === team);
  const loads = await b.stores.reps.loads(reps.map((r) => r.id));
  let room = free;
  for (const r of reps) {
    const want = Math.max(0, r.capacity - Math.min(room, r.capacity));
    room -= r.capacity - want;
    const have = loads[r.id]?.openDeals ?? 0;
    for (let n = have; n !== want; n += want > n ? 1 : -1)
      await b.stores.reps.adjustLoad(r.id, want > n ? 1 : -1, r.capacity);
  }
}

/** Runs every path; progress on stderr. Expected ends are checked: a path that ended elsewhere throws. */
export async function measurePaths(progress = true): Promise<PathFigures[]> {
  const out: PathFigures[] = [];
  const note = (f: PathFigures) => {
    out.push(f);
    if (progress)
      process.stderr.write(
        `  ${f.path}: ${f.transitions} transitions, ${f.lambdaInvocations} invocations, ${f.dynamoWrites} WCU, ${f.dynamoReads} RCU, ${f.emails} emails (${f.seconds.toFixed(1)} s)\n`,
      );
  };
  const expect = (f: PathFigures, end: string) => {
    if (f.end !== end)
      throw new Error(`bench: path ${f.path} ended at "${f.end}", not "${end}": ${f.states.join(' → ')}`);
    return f;
  };
  const id = (name: string) => {
    const email = `${name}.bench@acme-robotics.com`;
    return { email, leadId: leadIdFor(email) };
  };

  /** The rep accepts from the assignment email, then marks the deal won. */
  const acceptAndWin = async (b: Bench, leadId: string, mail: MailboxEmail, amount: number) => {
    await b.act(mail, 'accept');
    await b.parkedAt(leadId, 'Await deal outcome');
    await b.act(mail, 'won', `amount=${amount}`);
  };
  /** Form → rep accepts → won. */
  const hotWon = async (b: Bench, name: string, firstName: string) => {
    const { email, leadId } = id(name);
    await b.post({ email, firstName, formType: 'demo-request' });
    const mail = await b.repMail(firstName);
    await b.parkedAt(leadId, 'Await rep acceptance');
    await acceptAndWin(b, leadId, mail, 48_000);
    return leadId;
  };
  /** Measures one path on `b` and checks where it ended. */
  const path = async (
    b: Bench,
    p: PathId,
    leadId: string,
    end: string,
    drive: Parameters<Bench['measure']>[2],
  ) => note(expect(await b.measure(p, leadId, drive), end));

  // Sales paths, time scale 1. A first lead (not measured) warms every function's sandbox up, as a
  // busy stack's are: cold starts are a bench of their own (the bundles' cold import).
  const sales = await Bench.start(1);
  try {
    await sales.ended(await hotWon(sales, 'warm.up', 'Warmup'));
    await path(sales, 'hot-won', id('hot.won').leadId, 'Deal closed', async () => {
      await hotWon(sales, 'hot.won', 'Hotwon');
    });
    {
      const email = 'spam.bench@mailinator.com';
      const leadId = leadIdFor(email);
      await path(sales, 'disqualified', leadId, 'Disqualified', () =>
        sales.post({ email, firstName: 'Spam', formType: 'newsletter' }),
      );
    }
    {
      const { email, leadId } = id('reassigned');
      await path(sales, 'reassigned', leadId, 'Deal closed', async () => {
        await sales.post({ email, firstName: 'Reassigned', formType: 'demo-request' });
        await sales.repMail('Reassigned');
        const parked = await sales.parkedAt(leadId, 'Await rep acceptance');
        await sales.stack.sfn.expireTask({ taskToken: parked.token }); // the acceptance SLA passes
        const second = await sales.repMail('Reassigned', 2);
        await until('the second acceptance wait', () => {
          const cur = sales.run(leadId)?.current;
          return cur?.parked && cur.parked.token !== parked.token ? true : undefined;
        });
        await acceptAndWin(sales, leadId, second, 12_000);
      });
    }
    {
      const { email, leadId } = id('capacity');
      await setTeamLoad(sales, 'enterprise-na', 0);
      await path(sales, 'capacity-wait', leadId, 'Deal closed', async (aside) => {
        await sales.post({ email, firstName: 'Capacity', formType: 'demo-request' });
        const parked = await sales.parkedAt(leadId, 'Assign rep');
        // A slot frees up (set-up, not counted) and the wait's recheck finds it.
        await aside(() => setTeamLoad(sales, 'enterprise-na', 1));
        await sales.stack.sfn.expireTask({ taskToken: parked.token });
        const mail = await sales.repMail('Capacity');
        await sales.parkedAt(leadId, 'Await rep acceptance');
        await acceptAndWin(sales, leadId, mail, 9_000);
      });
    }
  } finally {
    await sales.stop();
  }

  // Nurture paths, a day a second.
  const nurture = await Bench.start(86_400);
  // The stack's clock starts at BENCH_START (a Tuesday), but at a day a second it moves on while the bench
  // waits between paths, and a weekend is two real seconds. So each lead waits for a moment that is a
  // weekday's working hours in some zone, and takes that zone (its welcome email goes at once): the hour
  // the bench runs changes nothing.
  const zones = new Set<string>();
  const inHours = async (): Promise<{ timeZone: string }> => {
    const timeZone = await until('a weekday’s working hours on the stack’s clock', async () =>
      businessHoursZone(new Date(nurture.stack.clock.now())),
    );
    zones.add(timeZone);
    return { timeZone };
  };
  const small = async () => ({
    company: 'Tiny Shop',
    title: 'Engineer',
    companySize: 12,
    industry: 'retail',
    ...(await inHours()),
  });
  try {
    // Warm-up (not measured): a lead whose first nurture email goes out, then its run is stopped.
    const warm = 'success@simulator.amazonses.com';
    await nurture.post({ ...(await small()), email: warm, firstName: 'Warmup', formType: 'newsletter' });
    await until('the warm-up email', async () =>
      (await nurture.box.list()).some((m) => m.destination.to.includes(warm)) ? true : undefined,
    );
    await nurture.stack.sfn.stopExecution({ executionArn: nurture.run(leadIdFor(warm))?.executionArn });
    {
      const { email, leadId } = id('nurture.completed');
      await path(nurture, 'nurture-completed', leadId, 'Nurtured (stays a marketing lead)', async () =>
        nurture.post({ ...(await small()), email, firstName: 'Nurtured', formType: 'newsletter' }),
      );
    }
    {
      const { email, leadId } = id('nurture.qualified');
      await path(nurture, 'nurture-qualified', leadId, 'Deal closed', async () => {
        await nurture.post({ ...(await small()), email, firstName: 'Qualified', formType: 'newsletter' });
        await until('the first nurture email', async () =>
          (await nurture.box.list()).some((m) => m.destination.to.some((t) => t.includes(email)))
            ? true
            : undefined,
        );
        await nurture.post({ email, firstName: 'Qualified', formType: 'demo-request' });
        const mail = await nurture.repMail('Qualified');
        await nurture.parkedAt(leadId, 'Await rep acceptance');
        await acceptAndWin(nurture, leadId, mail, 20_000);
      });
    }
    {
      const { email, leadId } = id('hot.lost');
      await path(nurture, 'hot-lost-recycled', leadId, 'Nurtured (stays a marketing lead)', async () => {
        await nurture.post({
          email,
          firstName: 'Recycled',
          formType: 'demo-request',
          ...(await inHours()),
        });
        const mail = await nurture.repMail('Recycled');
        await nurture.parkedAt(leadId, 'Await rep acceptance');
        await nurture.act(mail, 'lost', 'reason=not-now');
      });
    }
    {
      const email = 'bounce@simulator.amazonses.com';
      const leadId = leadIdFor(email);
      await path(nurture, 'bounced', leadId, 'Bounced', async () =>
        nurture.post({ ...(await small()), email, firstName: 'Bounce', formType: 'newsletter' }),
      );
    }
  } finally {
    await nurture.stop();
  }
  nurtureArrival = `in business hours (time zones ${[...zones].join(', ')})`;
  return PATH_IDS.map((p) => out.find((f) => f.path === p) as PathFigures);
}
