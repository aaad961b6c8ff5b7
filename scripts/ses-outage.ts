// `npm run probe:ses-outage`: SES goes down while leads are nurtured, and nothing fails or is sent twice.
// A fresh local stack with the SES sandbox's quota (1/s, 200 a day) from a Tuesday 10:00 in Chicago, a
// day of business time a real second while it waits; N newsletter leads posted; SES answers
// ServiceUnavailable to everything for the outage (real seconds: longer than any task's retries, which wait
// on the stack's clock);
// then every lead's whole sequence goes out. Prints failed runs, emails sent (expected N × the sequence's
// length), duplicates and how often a send was deferred, and exits 1 unless there are 0 failed runs, every
// email once. `--leads 300 --outage-seconds 120` are the defaults; the test (test/integration/
// local-ses-outage.test.ts) runs the same scenario small (runSesOutage).
import { parseArgs } from 'node:util';
import { Mailbox } from '../local/mailbox.ts';
import type { LocalStack } from '../local/runtime.ts';
import { SANDBOX_QUOTA } from '../local/ses-quota.ts';
import { postAs } from './clients.ts';
import { startFreshStack } from './local-load.ts';

export interface OutageOptions {
  leads: number;
  outageSeconds: number;
  /** How many emails of each lead's sequence to wait for (default: all of them). */
  emailsPerLead: number;
  /** Give up after this long (real ms). */
  timeoutMs: number;
  progress?: (line: string) => void;
}

export interface OutageReport {
  leads: number;
  outageSeconds: number;
  failedRuns: number;
  failures: string[];
  emails: number;
  expectedEmails: number;
  duplicates: number;
  /** SES requests answered with the outage's error. */
  sesErrors: number;
  /** Nurture's send-deferred timeline events, by reason. */
  deferred: Record<string, number>;
  realSeconds: number;
}

/** Where the probe's clock starts: Tuesday 2026-12-01 10:00 in Chicago, inside business hours. */
export const OUTAGE_START = Date.parse('2026-12-01T16:00:00Z');
const emailOf = (i: number) => `outage.${i}@company${i % 50}.com`;

/** Runs the scenario on a started stack (its clock running from OUTAGE_START) and reads what happened. */
export async function runSesOutage(stack: LocalStack, opts: OutageOptions): Promise<OutageReport> {
  const t0 = performance.now();
  const box = new Mailbox(stack.urls.ses);
  // Real seconds: the stack's clock jumps while every run waits, so an outage on it would end at once.
  stack.faults.set({ ses: { rate: 1, error: 'ServiceUnavailable' } });
  const outage = setTimeout(() => stack.faults.clear(), opts.outageSeconds * 1000);
  const leadIds: string[] = [];
  for (let i = 0; i < opts.leads; i++) {
    for (;;) {
      // Each lead from its own visitor's address (scripts/clients.ts).
      const res = await postAs(
        i,
        `${stack.urls.api}/leads`,
        JSON.stringify({
          email: emailOf(i),
          firstName: 'Outage',
          formType: 'newsletter',
          companySize: 20,
          country: 'US',
          title: 'Analyst',
          consent: true,
        }),
      );
      const body = (() => {
        try {
          return JSON.parse(res.text) as { leadId?: string };
        } catch {
          return {};
        }
      })();
      if (res.status === 202 && body.leadId) {
        leadIds.push(body.leadId);
        break;
      }
      if (res.status !== 429 && res.status !== 503) throw new Error(`lead ${i}: HTTP ${res.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const expectedEmails = opts.leads * opts.emailsPerLead;
  const mine = new Set(Array.from({ length: opts.leads }, (_, i) => emailOf(i)));
  const ours = async () => (await box.list()).filter((m) => m.destination.to.some((to) => mine.has(to)));
  const deadline = Date.now() + opts.timeoutMs;
  let mails = await ours();
  while (mails.length < expectedEmails && Date.now() < deadline) {
    const failed = stack.sfn.list().filter((r) => r.status === 'FAILED' || r.status === 'TIMED_OUT');
    opts.progress?.(
      `${new Date(stack.clock.now()).toISOString()}: ${mails.length}/${expectedEmails} emails, ${failed.length} failed runs`,
    );
    if (failed.length >= opts.leads) break;
    await new Promise((r) => setTimeout(r, 1000));
    mails = await ours();
  }
  clearTimeout(outage);
  stack.faults.clear();
  const runs = stack.sfn.list();
  const failed = runs.filter(
    (r) => r.status === 'FAILED' || r.status === 'TIMED_OUT' || r.status === 'ABORTED',
  );
  const seen = new Set(mails.map((m) => `${m.destination.to.join(',')}#${m.subject}`));
  const deferred: Record<string, number> = {};
  for (const leadId of leadIds) {
    const res = await fetch(`${stack.urls.api}/admin/leads/${leadId}`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    const { timeline = [] } = (await res.json()) as {
      timeline?: { type: string; data?: { reason?: string } }[];
    };
    for (const e of timeline)
      if (e.type === 'send-deferred')
        deferred[String(e.data?.reason)] = (deferred[String(e.data?.reason)] ?? 0) + 1;
  }
  return {
    leads: opts.leads,
    outageSeconds: opts.outageSeconds,
    failedRuns: failed.length,
    failures: [...new Set(failed.map((r) => `${r.error}: ${r.cause?.slice(0, 120)}`))],
    emails: mails.length,
    expectedEmails,
    duplicates: mails.length - seen.size,
    sesErrors: stack.faults.get().injected.ses,
    deferred,
    realSeconds: (performance.now() - t0) / 1000,
  };
}

/** The stack options the scenario runs with: the sandbox's quota, a day a second while it waits. */
export const OUTAGE_STACK = { timeScale: 86_400, startAt: OUTAGE_START, sesQuota: SANDBOX_QUOTA };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      leads: { type: 'string', default: '300' },
      'outage-seconds': { type: 'string', default: '120' },
    },
  });
  const stack = await startFreshStack({ local: OUTAGE_STACK });
  const { loadConfig } = await import('../infra/load-config.ts');
  const steps = loadConfig(new URL('../config', import.meta.url).pathname).nurture.steps.length;
  try {
    const r = await runSesOutage(stack, {
      leads: Number(values.leads),
      outageSeconds: Number(values['outage-seconds']),
      emailsPerLead: steps,
      timeoutMs: 30 * 60_000,
      progress: (line) => process.stderr.write(`\r  ${line}   `),
    });
    process.stderr.write('\n');
    console.log(`| leads | SES outage | failed runs | emails sent | expected | duplicates | SES errors |`);
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${r.leads} | ${r.outageSeconds} s | ${r.failedRuns} | ${r.emails} | ${r.expectedEmails} | ${r.duplicates} | ${r.sesErrors} |`,
    );
    console.log(`sends deferred: ${JSON.stringify(r.deferred)}; ${r.realSeconds.toFixed(0)} s real`);
    if (r.failures.length) console.log(`failures: ${r.failures.join('; ')}`);
    process.exitCode = r.failedRuns === 0 && r.duplicates === 0 && r.emails === r.expectedEmails ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
