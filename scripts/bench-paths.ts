// Part of `npm run bench` (issue 10): what one lead costs on each journey path, counted from real runs in
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
import { leadIdFor } from '../functions/shared/domain/lead.ts';
import { loadConfig } from '../infra/load-config.ts';
import { Bench, type PathFigures, root, until } from './bench-stack.ts';

export type { PathFigures };

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
  const id = (name: string) => ({
    email: `${name}.bench@acme-robotics.com`,
    leadId: leadIdFor(`${name}.bench@acme-robotics.com`),
  });

  /** Form → rep accepts → won. */
  const hotWon = async (b: Bench, name: string, firstName: string) => {
    const { email, leadId } = id(name);
    await b.post({ email, firstName, formType: 'demo-request' });
    const mail = await b.repMail(firstName);
    await b.parkedAt(leadId, 'Await rep acceptance');
    await b.act(mail, 'accept');
    await b.parkedAt(leadId, 'Await deal outcome');
    await b.act(mail, 'won', 'amount=48000');
    return leadId;
  };

  // Sales paths, time scale 1. A first lead (not measured) warms every function's sandbox up, as a
  // busy stack's are: cold starts are a bench of their own (the bundles' cold import).
  const sales = await Bench.start(1);
  try {
    await sales.ended(await hotWon(sales, 'warm.up', 'Warmup'));
    note(
      expect(
        await sales.measure('hot-won', id('hot.won').leadId, async () => {
          await hotWon(sales, 'hot.won', 'Hotwon');
        }),
        'Deal closed',
      ),
    );
    {
      const email = 'spam.bench@mailinator.com';
      const leadId = leadIdFor(email);
      note(
        expect(
          await sales.measure('disqualified', leadId, () =>
            sales.post({ email, firstName: 'Spam', formType: 'newsletter' }),
          ),
          'Disqualified',
        ),
      );
    }
    {
      const { email, leadId } = id('reassigned');
      note(
        expect(
          await sales.measure('reassigned', leadId, async () => {
            await sales.post({ email, firstName: 'Reassigned', formType: 'demo-request' });
            await sales.repMail('Reassigned');
            const parked = await sales.parkedAt(leadId, 'Await rep acceptance');
            sales.stack.sfn.expireTask({ taskToken: parked.token }); // the acceptance SLA passes
            const second = await sales.repMail('Reassigned', 2);
            await until('the second acceptance wait', () => {
              const cur = sales.run(leadId)?.current;
              return cur?.parked && cur.parked.token !== parked.token ? true : undefined;
            });
            await sales.act(second, 'accept');
            await sales.parkedAt(leadId, 'Await deal outcome');
            await sales.act(second, 'won', 'amount=12000');
          }),
          'Deal closed',
        ),
      );
    }
    {
      const { email, leadId } = id('capacity');
      await setTeamLoad(sales, 'enterprise-na', 0);
      note(
        expect(
          await sales.measure('capacity-wait', leadId, async (aside) => {
            await sales.post({ email, firstName: 'Capacity', formType: 'demo-request' });
            const parked = await sales.parkedAt(leadId, 'Assign rep');
            // A slot frees up (set-up, not counted) and the wait's recheck finds it.
            await aside(() => setTeamLoad(sales, 'enterprise-na', 1));
            sales.stack.sfn.expireTask({ taskToken: parked.token });
            const mail = await sales.repMail('Capacity');
            await sales.parkedAt(leadId, 'Await rep acceptance');
            await sales.act(mail, 'accept');
            await sales.parkedAt(leadId, 'Await deal outcome');
            await sales.act(mail, 'won', 'amount=9000');
          }),
          'Deal closed',
        ),
      );
    }
  } finally {
    await sales.stop();
  }

  // Nurture paths, a day a second.
  const nurture = await Bench.start(86_400);
  const small = { company: 'Tiny Shop', title: 'Engineer', companySize: 12, industry: 'retail' };
  try {
    // Warm-up (not measured): a lead whose first nurture email goes out, then its run is stopped.
    const warm = 'success@simulator.amazonses.com';
    await nurture.post({ ...small, email: warm, firstName: 'Warmup', formType: 'newsletter' });
    await until('the warm-up email', async () =>
      (await nurture.box.list()).some((m) => m.destination.to.includes(warm)) ? true : undefined,
    );
    nurture.stack.sfn.stopExecution({ executionArn: nurture.run(leadIdFor(warm))?.executionArn });
    {
      const { email, leadId } = id('nurture.completed');
      note(
        expect(
          await nurture.measure('nurture-completed', leadId, () =>
            nurture.post({ ...small, email, firstName: 'Nurtured', formType: 'newsletter' }),
          ),
          'Nurtured (stays a marketing lead)',
        ),
      );
    }
    {
      const { email, leadId } = id('nurture.qualified');
      note(
        expect(
          await nurture.measure('nurture-qualified', leadId, async () => {
            await nurture.post({ ...small, email, firstName: 'Qualified', formType: 'newsletter' });
            await until('the first nurture email', async () =>
              (await nurture.box.list()).some((m) => m.destination.to.some((t) => t.includes(email)))
                ? true
                : undefined,
            );
            await nurture.post({ email, firstName: 'Qualified', formType: 'demo-request' });
            const mail = await nurture.repMail('Qualified');
            await nurture.parkedAt(leadId, 'Await rep acceptance');
            await nurture.act(mail, 'accept');
            await nurture.parkedAt(leadId, 'Await deal outcome');
            await nurture.act(mail, 'won', 'amount=20000');
          }),
          'Deal closed',
        ),
      );
    }
    {
      const { email, leadId } = id('hot.lost');
      note(
        expect(
          await nurture.measure('hot-lost-recycled', leadId, async () => {
            await nurture.post({ email, firstName: 'Recycled', formType: 'demo-request' });
            const mail = await nurture.repMail('Recycled');
            await nurture.parkedAt(leadId, 'Await rep acceptance');
            await nurture.act(mail, 'lost', 'reason=not-now');
          }),
          'Nurtured (stays a marketing lead)',
        ),
      );
    }
    {
      const email = 'bounce@simulator.amazonses.com';
      const leadId = leadIdFor(email);
      note(
        expect(
          await nurture.measure('bounced', leadId, () =>
            nurture.post({ ...small, email, firstName: 'Bounce', formType: 'newsletter' }),
          ),
          'Bounced',
        ),
      );
    }
  } finally {
    await nurture.stop();
  }
  return PATH_IDS.map((p) => out.find((f) => f.path === p) as PathFigures);
}
