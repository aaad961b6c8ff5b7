import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ScoringConfig } from '#functions/config/schema.ts';
import type { Lead } from '#functions/lead/lead.ts';
import type { LeadStage } from '#functions/lead/lead-stage.ts';
import type { Stores } from '#functions/stores.ts';
import { loadTemplate, tablesOf } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { root } from '#test/fixtures/root.ts';
import { type Harness, startHarness, submission } from '#test/fixtures/workflow-harness.ts';

// The backtest script as a user runs it (a child process, `tsx scripts/backtest.ts`), on a real table:
// closed journeys made by the real handlers on the synthesized definition (won, lost, disqualified,
// unsubscribed), plus back-dated ones written through the data layer as those handlers write them.
const DAY = 86_400_000;
let h: Harness;
let stores: Stores;
let endpoint = '';
let dir = '';
const ids: Record<string, string> = {};

/** The rep acts on their newest assignment email, through the link's confirm page as a person would. */
async function repActs(action: 'accept' | 'won' | 'lost', body: string) {
  const assignment = h.mails.filter((m) => m.subject.startsWith('New lead')).at(-1);
  const url = assignment?.links.filter((l) => l.includes('/deals/action'))[
    ['accept', 'won', 'lost'].indexOf(action)
  ];
  if (!url) throw new Error(`no ${action} link`);
  const res = await h.http('RepAction', 'POST', url, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  expect(res.statusCode).toBe(200);
}

/** A hand-off that ends in `outcome`, by the rep's links. */
async function dealRun(email: string, outcome: 'won' | 'lost') {
  const { input, name, lead } = submission({ email });
  const result = await h.run(input, name, {
    onWait: async (w) => {
      if (w.waitingFor === 'acceptance') await repActs('accept', '');
      else await repActs(outcome, outcome === 'won' ? 'amount=48000' : 'reason=chose-competitor');
      return undefined;
    },
  });
  expect(result.path.at(-1)).toBe('Deal closed');
  return lead.id;
}

/** A journey written as the handlers write it, at times of the past (`day` days ago). */
async function pastJourney(
  lead: Lead,
  steps: { day: number; stage?: LeadStage; form?: string; click?: true }[],
) {
  const at = (day: number) => new Date(Date.now() - day * DAY).toISOString();
  const [first, ...rest] = steps;
  if (!first) throw new Error('no steps');
  await stores.leads.capture(lead, `${lead.id}-past`, at(first.day));
  if (first.form)
    await stores.leads.putEvent(lead.id, {
      type: 'form',
      at: at(first.day),
      data: { formType: first.form, executionName: `${lead.id}-past`, merged: false },
    });
  for (const s of [first, ...rest]) {
    if (s.click)
      await stores.leads.putEvent(lead.id, {
        type: 'email-click',
        at: at(s.day),
        data: { host: 'x', path: '/' },
      });
    if (s.stage) await stores.leads.setStage(lead.id, s.stage, at(s.day));
  }
  return lead.id;
}

type Run = { code: number; stdout: string; stderr: string };
/** Runs `tsx scripts/backtest.ts …` with the emulator's endpoint in its environment (nothing else of ours). */
function backtestCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      join(root, 'node_modules/.bin/tsx'),
      ['scripts/backtest.ts', ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          PATH: String(process.env.PATH),
          HOME: dir,
          NODE_NO_WARNINGS: '1',
          AWS_ENDPOINT_URL_DYNAMODB: endpoint,
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A candidate scoring.json: the current rules with a change, written to a file. */
function candidate(name: string, change: (r: ScoringConfig) => void): string {
  const rules = structuredClone(config.scoring);
  rules.version = name;
  change(rules);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(rules, null, 2));
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'handoff-backtest-'));
  h = await startHarness(inject('cdkOut'));
  endpoint = String(process.env.AWS_ENDPOINT_URL_DYNAMODB);
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1' });
  stores = h.stores;
  // An empty table of the same shape, for a history with nothing in it.
  const [shape] = tablesOf(loadTemplate(inject('cdkOut')));
  await client.send(
    new CreateTableCommand({
      TableName: 'EmptyHistory',
      KeySchema: shape?.KeySchema as never,
      AttributeDefinitions: shape?.AttributeDefinitions as never,
      GlobalSecondaryIndexes: shape?.GlobalSecondaryIndexes as never,
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );

  // Real journeys, now: a demo request won, one lost, a disposable address, a newsletter signup who unsubscribes.
  ids.won = await dealRun('hot.won@acme-robotics.com', 'won');
  ids.lost = await dealRun('deal.lost@globex-finance.com', 'lost');
  const spam = submission({ email: 'free.stuff@mailinator.com' });
  expect((await h.run(spam.input, spam.name)).path.at(-1)).toBe('Disqualified');
  ids.spam = spam.lead.id;
  const leaving = submission({ email: 'leaving@umbrella-labs.com', formType: 'newsletter' });
  const unsubscribed = await h.run(leaving.input, leaving.name, {
    beforeTask: async (state) => {
      const mail = h.mails.filter((m) => m.to.includes(leaving.lead.email)).at(-1);
      if (state !== 'Nurture' || !mail) return;
      await h.http('Unsubscribe', 'POST', (mail.headers['list-unsubscribe'] ?? '').slice(1, -1), {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    },
  });
  expect(unsubscribed.path.at(-1)).toBe('Unsubscribed');
  ids.unsubscribed = leaving.lead.id;

  // Back-dated: a content download (55) and a click two days later (59) that ended nurtured 10 days ago;
  // a lead with no timeline events at all; a deal won 200 days ago (outside 90d).
  ids.warm = await pastJourney(
    aLead({ email: 'warm.old@initech-systems.com', formType: 'content-download' }),
    [
      { day: 20, stage: 'nurturing', form: 'content-download' },
      { day: 18, click: true },
      { day: 10, stage: 'nurtured' },
    ],
  );
  ids.bare = await pastJourney(aLead({ email: 'no.events@hooli-tech.com' }), [
    { day: 15, stage: 'nurturing' },
    { day: 5, stage: 'nurtured' },
  ]);
  ids.old = await pastJourney(aLead({ email: 'long.ago@acme-robotics.com' }), [
    { day: 205, stage: 'sales-ready', form: 'demo-request' },
    { day: 204, stage: 'assigned' },
    { day: 200, stage: 'won' },
  ]);
}, 120_000);

afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run backtest (scripts/backtest.ts on a real table)', () => {
  it('replays the closed leads of the last 90 days; the current rules against themselves change nothing', async () => {
    const run = await backtestCli(['--rules', join(root, 'config/scoring.json')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Closed leads since');
    expect(run.stdout).toMatch(/\(90d\): 6 —/);
    // The replay of the current rules reproduces what the real workflow did with every lead.
    expect(run.stdout).toContain('reproduces the recorded route of 6 of 6 leads');
    expect(run.stdout).toMatch(/to sales\s+2\s+0\s+0\s+2/);
    expect(run.stdout).toMatch(/to nurture\s+0\s+3\s+0\s+3/);
    expect(run.stdout).toMatch(/disqualified\s+0\s+0\s+1\s+1/);
    expect(run.stdout).toContain('0 of 6 leads change route');
    expect(run.stdout).toMatch(/same time\s+2/);
    expect(run.stdout).toContain('Won deals the candidate would disqualify: 0');
    // Both deals were demo requests of a VP at an enterprise in the US: 75, grade B; one won.
    expect(run.stdout).toMatch(/B\s+1\/2\s+50%\s+1\/2\s+50%/);
    expect(run.stdout).toContain('1 lead with no timeline events');
    expect(run.stdout).not.toMatch(/@/);
  });

  it('exits 1 when the candidate disqualifies a won lead, listing its id only; 0 with --allow', async () => {
    const rules = candidate('competitor', (r) => {
      r.negative.competitorDomains.push('acme-robotics.com');
    });
    const [blocked, allowed] = await Promise.all([
      backtestCli(['--rules', rules]),
      backtestCli(['--rules', rules, '--allow']),
    ]);
    expect(blocked.code, blocked.stderr).toBe(1);
    expect(blocked.stdout).toContain(`Won deals the candidate would disqualify: 1\n  ${ids.won}\n`);
    expect(blocked.stdout).toMatch(/to sales\s+1\s+0\s+1\s+2/);
    // The won deal the candidate would disqualify is left out of its win rates (no "D 1/1 100%"), on a line
    // of its own.
    expect(blocked.stdout).not.toMatch(/D\s+—\s+1\/1\s+100%/);
    expect(blocked.stdout).toMatch(/B\s+1\/2\s+50%\s+0\/1\s+0%/);
    expect(blocked.stdout).toContain(
      '1 won deal (of 1 closed deal) the candidate would not have handed to sales: not in its column',
    );
    expect(blocked.stderr).toContain('would disqualify 1 won lead(s): exit 1 (pass --allow to accept)');
    expect(`${blocked.stdout}${blocked.stderr}`).not.toMatch(/@|hot\.won|acme-robotics/);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain(ids.won);
  });

  it('shows leads a lower threshold sends to sales, as text and as JSON', async () => {
    const rules = candidate('eager', (r) => {
      r.thresholds.salesReady = 58;
    });
    const [text, json] = await Promise.all([
      backtestCli(['--rules', rules]),
      backtestCli(['--rules', rules, '--json']),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/to nurture\s+1\s+2\s+0\s+3/);
    expect(text.stdout).toContain('1 of 6 leads changes route');
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.routing.nurture).toEqual({ sales: 1, nurture: 2, disqualified: 0 });
    expect(result.changes).toEqual([
      { leadId: ids.warm, current: 'nurture', candidate: 'sales', won: false },
    ]);
    expect(result).toMatchObject({
      leads: 6,
      deals: 2,
      rules: { current: config.scoring.version, candidate: 'eager' },
    });
    expect(json.stdout).not.toMatch(/@/);
  });

  it('takes the window from --since in days or weeks', async () => {
    const run = await backtestCli(['--rules', join(root, 'config/scoring.json'), '--since', '30w', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.leads).toBe(7);
    expect(result.byStage.won).toBe(2);
  });

  it('prints "no closed leads since …" and exits 0 for an empty history (an AWS table by --table)', async () => {
    const run = await backtestCli(['--rules', join(root, 'config/scoring.json'), '--table', 'EmptyHistory'], {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^No closed leads since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(90d\) in the table EmptyHistory/,
    );
  });

  it('exits 2 for usage and input errors, naming file, field and problem of invalid rules', async () => {
    const invalid = candidate('invalid', (r) => {
      r.thresholds.salesReady = 140;
    });
    const scoring = join(root, 'config/scoring.json');
    const [bad, since, flag, missing] = await Promise.all([
      backtestCli(['--rules', invalid]),
      backtestCli(['--rules', scoring, '--since', '3m']),
      backtestCli(['--rules', scoring, '--fast']),
      backtestCli([]),
    ]);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain(`${invalid}: thresholds.salesReady: must be at most 100`);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since must be a number of days or weeks such as 90d or 12w');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--fast'");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--rules <scoring.json> is required');
  });

  it('says clearly when no local stack is running (exit 3)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const run = await backtestCli(['--rules', join(root, 'config/scoring.json')], {
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`No local Handoff stack answers at http://127.0.0.1:${port}`);
    expect(run.stderr).toContain('npm start');
  });
});
