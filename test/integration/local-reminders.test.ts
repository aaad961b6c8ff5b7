import { describe, expect, inject, it } from 'vitest';
import { ROLLUP, shardKeys } from '#functions/funnel/funnel-layout.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import { keys } from '#functions/platform/keys.ts';
import { batchGet } from '#functions/platform/table.ts';
import {
  enteredStates,
  eventually,
  historyOf,
  postLead,
  runsOfLead,
  startTestStack,
  storesOf,
  TEST_START,
  tableOfStack,
} from '#test/fixtures/local-stack.ts';

// A slow deal: accepted on day 0, still open past the old 14-day link life. The weekly reminder (a schedule
// rule on the stack's clock) brings fresh won/lost links, and its won link closes the deal as won; the
// assignment email's own won link still works too (it lives as long as the outcome wait).
const DAY = 86_400_000;
const email = 'slow.deal@acme-robotics.com';
const leadId = leadIdFor(email);

describe('links that outlive their deal', () => {
  it('sends the weekly reminder with fresh links past day 14, and its won link closes the deal', async () => {
    // At real speed while the rep accepts (the acceptance SLA is a day), then two virtual days a second.
    const a = await startTestStack(inject('cdkOut'));
    let assignmentWon = '';
    try {
      expect((await postLead(a, { email, formType: 'demo-request' })).status).toBe(202);
      const assignment = await eventually(
        async () => (await a.mailbox()).find((m) => m.subject.startsWith('New lead')),
        20_000,
        'the assignment email',
      );
      const [accept, won] = a.linksIn(assignment).filter((l) => l.includes('/deals/action'));
      assignmentWon = String(won).replace(a.stack.urls.api, '');
      expect((await fetch(String(accept), { method: 'POST' })).status).toBe(200);
      const [run] = await runsOfLead(a, leadId);
      await eventually(async () =>
        enteredStates(await historyOf(a, run?.executionArn)).at(-1) === 'Await deal outcome'
          ? true
          : undefined,
      );
    } finally {
      await a.stack.stop();
    }

    const b = await startTestStack(inject('cdkOut'), { dataDir: a.dataDir, timeScale: 2 * 86_400 });
    try {
      const reminder = await eventually(
        async () => (await b.mailbox()).find((m) => m.subject.startsWith('Still open')),
        30_000,
        'the weekly reminder',
      );
      // The first reminder: Monday 2026-12-07 14:00 UTC, one email to the deal's rep.
      expect(reminder.destination.to).toHaveLength(1);
      const links = b.linksIn(reminder).filter((l) => l.includes('/deals/action'));
      expect(links).toHaveLength(3); // won, lost, stop the reminders
      // 15+ days after the assignment email.
      await eventually(() => (b.stack.clock.now() >= TEST_START + 15.5 * DAY ? true : undefined), 30_000);
      const reminders = (await b.mailbox()).filter((m) => m.subject.startsWith('Still open'));
      // Once a week: the 7th and the 14th (never twice in a week).
      expect(reminders.map((m) => new Date(m.at * 1000).toISOString().slice(0, 10))).toEqual([
        '2026-12-07',
        '2026-12-14',
      ]);
      const fresh = b.linksIn(reminders.at(-1) as typeof reminder).filter((l) => l.includes('/deals/action'));

      // The assignment email's won link, 15+ days old: still a form, not "expired" (today's 14 days refused it).
      const old = await b.api(assignmentWon);
      expect(old.status).toBe(200);
      expect(await old.text()).toContain('Report a won deal');

      const res = await fetch(String(fresh[0]), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'amount=42000',
      });
      expect(res.status).toBe(200);
      const [run] = await runsOfLead(b, leadId);
      const path = await eventually(async () => {
        const states = enteredStates(await historyOf(b, run?.executionArn));
        return states.at(-1) === 'Deal closed' ? states : undefined;
      }, 20_000);
      expect(path).toContain('Close deal');
      expect(path).not.toContain('Close as stale');
      // The daily compaction ran on the stack's clock too: the capture day's shards were folded into its
      // per-value items (a marker says which fold counts), and the day reads the same. The win, 15 days
      // later, counted in the capture day's cohort after that fold: a late write, the only thing left in a
      // shard until the next fold (docs/funnel.md), and read with the rest.
      const day = new Date(TEST_START).toISOString().slice(0, 10);
      const table = tableOfStack(b);
      const left = (await batchGet(table, shardKeys(day))).flatMap((i) =>
        Object.keys(i).filter((k) => k.includes('|')),
      );
      expect(left.every((k) => k.startsWith('cohort'))).toBe(true);
      expect(await batchGet(table, [keys.funnelCounter(day, ROLLUP)])).toHaveLength(1);
      const [all] = await storesOf(b).funnel.read(day, ['all#']);
      expect(all?.values).toMatchObject({ captured: 1, mql: 1, sql: 1 });
      const [cohort] = await storesOf(b).funnel.read(day, ['cohort#all']);
      expect(cohort?.values).toMatchObject({ captured: 1, won: 1, revenueWon: 42_000 });
      // Fifteen virtual days ran every schedule rule hundreds of times (the hourly reconcile, the weekly
      // reminders), each as its own role: none was denied anything (the reconcile once lacked its index grant).
      expect(b.logs.filter((l) => l.includes('AccessDenied'))).toEqual([]);
    } finally {
      await b.stack.stop();
    }
  }, 120_000);
});
