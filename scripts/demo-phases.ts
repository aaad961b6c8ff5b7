// The phases of `npm run demo` (scripts/demo.ts), in the order they print: post the batch, act as the reps
// and as a lead who unsubscribes while the runs move, print the funnel, say where to look and what was done.
import { join, resolve } from 'node:path';
import { leadIdFor } from '../functions/lead/lead.ts';
import { LEAD_STAGES } from '../functions/lead/lead-stage.ts';
import { dynamoStores } from '../functions/stores.ts';
import { loadConfig } from '../infra/load-config.ts';
import { linksIn, type MailboxEmail, unsubscribeUrlOf } from '../local/mailbox.ts';
import { BASE_BATCH, MARIA, UNSUBSCRIBER } from './demo-batch.ts';
import {
  businessHours,
  duration,
  FAST_COMMANDS,
  realSeconds,
  type Welcome,
  welcomeOf,
} from './demo-scale.ts';
import { adminTokenFile, type DemoStack, root } from './demo-stack.ts';

/** The address with the run's tag in its local part (a `+tag` would not do: it is dropped from the lead id). */
export const tagged = (email: string, tag: string) => email.replace('@', `.${tag}@`);

type Run = Awaited<ReturnType<DemoStack['runs']>>[number];

/** One demo: its stack, its tagged batch, and what its phases read of the options. */
export interface Demo {
  stack: DemoStack;
  tag: string;
  /** Seconds to wait for the runs, as given (--timeout). */
  timeout: string;
  /** The --data folder, where the admin token of a running stack may be. */
  data: string | undefined;
  batch: Record<string, unknown>[];
  /** The runs of the batch's leads among `runs`. */
  ofBatch: (runs: Run[]) => Run[];
}

export function demoOf(
  stack: DemoStack,
  o: { tag: string; timeout: string; data: string | undefined },
): Demo {
  const batch = BASE_BATCH.map((lead) => ({ ...lead, email: tagged(String(lead.email), o.tag) }));
  const ids = batch.map((l) => leadIdFor(String(l.email)));
  return { stack, ...o, batch, ofBatch: (r) => r.filter((e) => ids.some((id) => e.name?.startsWith(id))) };
}

/** 1. Post the batch like web forms do (plus a same-day resubmit); false when no run started for it. */
export async function postBatch({ stack, tag, batch, ofBatch }: Demo): Promise<boolean> {
  const api = stack.urls.api;
  const duplicate = batch[0] as Record<string, unknown>;
  console.log(
    `\n1. Posting ${batch.length} leads (emails tagged .${tag}) and one duplicate resubmit to ${api}/leads`,
  );
  const before = new Set((await stack.runs()).map((e) => e.name));
  const t0 = Date.now();
  const posts = await Promise.all(
    [...batch, duplicate].map((lead) =>
      fetch(`${api}/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ consent: true, ...lead }),
      }),
    ),
  );
  const postMs = Date.now() - t0;
  console.log(
    `   ${posts.filter((r) => r.status === 202).length}/${posts.length} answered 202 in ${postMs} ms (${((posts.length / postMs) * 1000).toFixed(0)} leads/s)`,
  );

  // Runs are named by lead id + form + day: the same people again the same day start nothing. Say so early.
  const startBy = Date.now() + 5000;
  let fresh = ofBatch(await stack.runs()).filter((e) => !before.has(e.name));
  while (!fresh.length && Date.now() < startBy) {
    await new Promise((res) => setTimeout(res, 250));
    fresh = ofBatch(await stack.runs()).filter((e) => !before.has(e.name));
  }
  if (fresh.length) return true;
  const earlier = ofBatch(await stack.runs()).filter((e) => before.has(e.name));
  console.error(
    `\nNo run started for the posted leads within 5 s${earlier.length ? `: ${earlier.length} of their runs already exist from earlier today (a resubmission the same day starts nothing)` : ''}.\n` +
      'Pass another --tag (or none: a random one is used), or start the stack afresh: `npm start -- --fresh` or a new `--data` folder.',
  );
  return false;
}

/** What the people did: the rep actions and the unsubscribe done, and why the unsubscribe was skipped. */
export interface Acted {
  done: Set<string>;
  skipped: string | undefined;
  /** Why Olivia's welcome email is held, when it is (her unsubscribe needs it). */
  held: string | undefined;
}

/** 2. Act as the reps and the unsubscriber while runs move, until the batch is through or the timeout. */
export async function actAsPeople({ stack, tag, timeout, batch, ofBatch }: Demo): Promise<Acted> {
  console.log(
    '\n2. Watching runs; acting as reps (Maria: accept + won; Jonas: lost "not now") and as a lead who unsubscribes',
  );
  const { sfn, timeScale, mailbox } = stack;
  const mariaEmail = tagged(MARIA, tag);
  const unsubscriber = tagged(UNSUBSCRIBER, tag);
  const done = new Set<string>();
  const deadline = Date.now() + Number(timeout) * 1000;
  const assignmentFor = (all: MailboxEmail[], name: string) =>
    all.filter((m) => m.subject.startsWith('New lead') && m.subject.includes(name)).at(-1);
  const post = (url: string, body?: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ...(body ? { body } : {}),
    });
  let last = '';
  // Olivia's unsubscribe needs her welcome email: skipped, with the reason, when her business hours are
  // further away than the timeout at this time scale (scripts/demo-scale.ts).
  let welcome: Welcome | undefined;
  let skipped: string | undefined;
  const oliviaZone = String(BASE_BATCH.find((l) => l.email === UNSUBSCRIBER)?.timeZone ?? 'UTC');
  const hours = businessHours(loadConfig(join(root, 'config')).nurture.businessHours);
  const heldWhy = (w: Welcome & { sent: false }) =>
    `Olivia's welcome email is held for business hours in ${oliviaZone} (${hours}): due in ${duration(w.waitSeconds)} of stack time`;
  while (Date.now() < deadline) {
    const all = await mailbox.list();
    const maria = assignmentFor(all, 'Maria Garcia');
    if (maria && !done.has('maria-accept')) {
      const [accept] = linksIn(maria).filter((l) => l.includes('/deals/action'));
      if ((await post(String(accept))).status === 200) done.add('maria-accept');
    } else if (maria && done.has('maria-accept') && !done.has('maria-won')) {
      const [, won] = linksIn(maria).filter((l) => l.includes('/deals/action'));
      if ((await post(String(won), 'amount=48000')).status === 200) done.add('maria-won');
    }
    const jonas = assignmentFor(all, 'Jonas Weber');
    if (jonas && !done.has('jonas-lost')) {
      const [, , lost] = linksIn(jonas).filter((l) => l.includes('/deals/action'));
      if ((await post(String(lost), 'reason=not-now')).status === 200) done.add('jonas-lost');
    }
    const olivia = all.find((m) => m.destination.to.includes(unsubscriber));
    const unsub = olivia && unsubscribeUrlOf(olivia);
    if (unsub && !done.has('unsubscribe')) {
      if ((await post(unsub, 'List-Unsubscribe=One-Click')).status === 200) done.add('unsubscribe');
    }
    const r = ofBatch(await stack.runs());
    const count = (s: string) => r.filter((e) => e.status === s).length;
    const line = `   runs: ${r.length} · running ${count('RUNNING')} · succeeded ${count('SUCCEEDED')} · failed ${count('FAILED')} · emails ${all.length} · rep actions ${[...done].join(', ') || '—'}`;
    if (line !== last) console.log(line);
    last = line;
    const mariaRun = r.find((e) => e.name?.startsWith(leadIdFor(mariaEmail)));
    const oliviaRun = r.find((e) => e.name?.startsWith(leadIdFor(unsubscriber)));
    if (!welcome && oliviaRun?.executionArn) {
      welcome = await welcomeOf(sfn, oliviaRun.executionArn);
      const real = welcome && realSeconds(welcome, timeScale);
      if (welcome && !welcome.sent && real === undefined) {
        console.log(
          `   ${heldWhy(welcome)}; this stack's time scale is unknown (pass the --data folder of its npm start), so the demo waits up to its timeout for it.`,
        );
      } else if (welcome && !welcome.sent && real !== undefined && real * 1000 > deadline - Date.now()) {
        skipped = `${heldWhy(welcome)}, ${duration(real)} of waiting at ${timeScale}× (the demo waits ${timeout} s).`;
        console.log(`   Skipped: the unsubscribe. ${skipped}\n${FAST_COMMANDS}`);
      }
    }
    const spam = batch
      .slice(-2)
      .every((l) => r.find((e) => e.name?.startsWith(leadIdFor(String(l.email))))?.status === 'SUCCEEDED');
    if (
      done.has('jonas-lost') &&
      mariaRun?.status === 'SUCCEEDED' &&
      (oliviaRun?.status === 'SUCCEEDED' || skipped) &&
      spam
    )
      break;
    await new Promise((res) => setTimeout(res, 250));
  }
  return { done, skipped, held: welcome && !welcome.sent ? heldWhy(welcome) : undefined };
}

/** 3. The funnel, from the leads-by-stage index (through the data layer the handlers use). */
export async function printFunnel({ stack, batch, ofBatch }: Demo, started: number) {
  const { leads } = dynamoStores(String(stack.tableName), stack.db);
  const funnel: [string, number][] = [];
  for (const stage of LEAD_STAGES) {
    const n = await leads.countByStage(stage);
    if (n) funnel.push([stage, n]);
  }
  const r = ofBatch(await stack.runs());
  console.log(
    `\n3. Funnel after ${((Date.now() - started) / 1000).toFixed(1)} s (${r.length} runs for ${batch.length} people: the resubmit started none)`,
  );
  for (const [stage, n] of funnel) console.log(`   ${stage.padEnd(14)} ${'█'.repeat(n)} ${n}`);
}

/** Where to look afterwards: nowhere for the demo's own stack (it goes), else the Console, Mailbox and admin view. */
export async function whereToLook({ stack, tag, data }: Demo) {
  if (stack.own) {
    console.log(
      '\nThe demo started its own Handoff: stopping it and removing its data folder now (its Console and Mailbox go with it).\n' +
        'Run `npm start -- --time-scale 86400` first, then `npm run demo`, to look around afterwards.',
    );
    return;
  }
  const { urls } = stack;
  const mariaId = leadIdFor(tagged(MARIA, tag));
  const dataDirs = [...(data ? [resolve(data)] : []), resolve('.handoff'), join(root, '.handoff')].map((d) =>
    join(d, 'admin-token'),
  );
  const tokenFile = await adminTokenFile(urls.api, dataDirs, mariaId);
  const bearer = tokenFile
    ? `$(cat ${tokenFile})`
    : '<the token npm start printed under "Admin"; it is in <its --data folder>/admin-token, or pass --data to the demo>';
  console.log(`
Where to look:
   Console (executions by lead id)  ${urls.console}
   Mailbox (nurture + rep emails)   ${urls.mailbox}
   Admin lead view                  curl -H "Authorization: Bearer ${bearer}" ${urls.api}/admin/leads/${mariaId}`);
}

/** The exit code: 0 when everything the time scale allows happened, 1 (and what did not) otherwise. */
export function verdict({ stack, timeout }: Demo, { done, held, ...acted }: Acted): number {
  let skipped = acted.skipped;
  // With an unknown time scale, a welcome email held for business hours is skipped when the time is up.
  if (!done.has('unsubscribe') && !skipped && held) {
    skipped = `${held}; it did not come within the demo's ${timeout} s.`;
    console.log(`\nSkipped: the unsubscribe. ${skipped}\n${FAST_COMMANDS}`);
  }
  const wanted = ['maria-accept', 'maria-won', 'jonas-lost', ...(skipped ? [] : ['unsubscribe'])];
  const missing = wanted.filter((k) => !done.has(k));
  if (skipped && !missing.length)
    console.log(
      `\nDone at time scale ${stack.timeScale ?? 'unknown'}×: the rep part and the disqualifications; the unsubscribe was skipped (above).`,
    );
  if (missing.length) {
    console.error(`\nDemo incomplete after ${timeout} s: ${missing.join(', ')} did not happen.`);
    return 1;
  }
  return 0;
}
