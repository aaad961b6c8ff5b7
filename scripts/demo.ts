// npm run demo: a realistic mixed batch through Handoff, against a running `npm start` or one it starts.
// Acts as the reps from the assignment emails in the mailbox, then prints a funnel from the table.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { leadIdFor } from '../functions/lead/lead.ts';
import { LEAD_STAGES } from '../functions/lead/lead-stage.ts';
import { dynamoStores } from '../functions/stores.ts';
import { loadConfig } from '../infra/load-config.ts';
import { linksIn, Mailbox, type MailboxEmail, unsubscribeUrlOf } from '../local/mailbox.ts';
import type { LocalStack } from '../local/runtime.ts';
import { type Located, locateStack, StackFileError } from '../serve/stack-file.ts';
import { BASE_BATCH, MARIA, UNSUBSCRIBER } from './demo-batch.ts';
import {
  businessHours,
  duration,
  FAST_COMMANDS,
  realSeconds,
  type Welcome,
  welcomeOf,
} from './demo-scale.ts';

const root = join(import.meta.dirname, '..');
export const USAGE = `Usage: npm run demo -- [--data <folder> | --api <url> | --own] [--tag <id>] [--time-scale N] [--timeout S]

Posts a mixed batch of 11 leads (and a same-day resubmit) to Handoff, acts as the reps and as a lead who
unsubscribes, and prints the funnel. It works at any time scale: what a form answers at once (the reps'
assignment emails) takes seconds; the unsubscribe needs a nurture email, which waits for the lead's business
hours, and is skipped, with the reason and the command that shows it, when those are further away than
the timeout at the stack's time scale.

  --data FOLDER     the running \`npm start\` to use: its data folder (its --data; default .handoff), whose
                    stack.json says where it listens and its time scale
  --api URL         the Handoff to use instead (its time scale is known only if the --data folder is its)
  --own             start the demo's own stack even if one runs. Also when none is found: the demo starts
                    its own stack in a temporary folder, and stops it and removes the folder (the leads'
                    data) when it ends, also on an error or Ctrl-C: its Console and Mailbox are gone then.
                    Run \`npm start -- --time-scale 86400\` first to look around afterwards.
  --tag ID          added to the demo's email addresses (maria.garcia.ID@…), 1–12 letters or digits; default
                    a new random one each run, so a second demo the same day starts new runs (a run is named
                    by lead id + form + day: the same people again the same day start nothing)
  --time-scale N    time scale of a stack the demo starts itself (default 86400: a day per second)
  --timeout S       seconds to wait for the runs (default 180)
  -h, --help        this help

Exit codes: 0 done (parts the time scale does not allow are skipped and said so) · 1 the demo did not
complete what the stack's time scale allows (or failed) · 2 usage error`;

const FLAGS = {
  api: { type: 'string' },
  data: { type: 'string', default: '.handoff' },
  own: { type: 'boolean', default: false },
  tag: { type: 'string' },
  'time-scale': { type: 'string', default: '86400' },
  timeout: { type: 'string', default: '180' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

class UsageError extends Error {}

/** The options, or a UsageError (unknown option, bad value). */
export function demoOptions(argv: string[]) {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof FLAGS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tag = values.tag ?? randomBytes(2).toString('hex');
  if (!/^[a-z0-9]{1,12}$/i.test(tag))
    throw new UsageError(`--tag must be 1–12 letters or digits, not "${tag}"`);
  if (values.api !== undefined && !URL.canParse(values.api))
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, not "${values.api}"`);
  if (values.api !== undefined && values.own)
    throw new UsageError('--api (a running stack) and --own (the demo starts its own) exclude each other');
  for (const k of ['time-scale', 'timeout'] as const) {
    if (!(Number(values[k]) > 0))
      throw new UsageError(`--${k} must be a positive number, not "${values[k]}"`);
  }
  return { ...values, tag: tag.toLowerCase() };
}

/** The address with the run's tag in its local part (a `+tag` would not do: it is dropped from the lead id). */
export const tagged = (email: string, tag: string) => email.replace('@', `.${tag}@`);

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Where the admin token of the stack at `api` is: the first candidate file whose token the API accepts. */
async function adminTokenFile(
  api: string,
  candidates: string[],
  leadId: string,
): Promise<string | undefined> {
  for (const file of [...new Set(candidates)]) {
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    try {
      const res = await fetch(`${api}/admin/leads/${leadId}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      if (res.status !== 401 && res.status !== 403) return file;
    } catch {}
  }
  return undefined;
}

async function up(api: string): Promise<boolean> {
  try {
    return (await fetch(`${api}/`, { signal: AbortSignal.timeout(1000) })).status === 404;
  } catch {
    return false;
  }
}

let own: LocalStack | undefined;
let ownDataDir: string | undefined;

/** Stops the demo's own stack and removes its temporary folder (the leads' data), once. */
async function cleanUp() {
  const stack = own;
  own = undefined;
  if (stack) await stack.stop().catch(() => undefined);
  if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
  ownDataDir = undefined;
}

/** The stack to use: the one in --data (or at --api), or, when none answers or with --own, the demo's own. */
async function findStack(v: ReturnType<typeof demoOptions>): Promise<Located & { own: boolean }> {
  let located: Located | undefined;
  let why = '';
  if (!v.own) {
    try {
      located = await locateStack({ ...(v.api ? { api: v.api } : {}), dataDir: resolve(v.data) });
    } catch (e) {
      if (!(e instanceof StackFileError)) throw e;
      why = e.message;
    }
    if (located && !(await up(located.urls.api))) {
      why =
        located.from === 'default'
          ? `No stack.json in ${v.data} and nothing answered at ${located.urls.api}.`
          : `Nothing answered at ${located.urls.api}.`;
      located = undefined;
    }
  }
  if (located) {
    const scale = located.timeScale
      ? `time scale ${located.timeScale}×`
      : `time scale unknown: no stack.json in ${v.data} for it`;
    console.log(`Using the Handoff running at ${located.urls.api} (${scale}).`);
    return { ...located, own: false };
  }
  console.log(
    `${why ? `${why}\n` : ''}Starting the demo's own Handoff (time scale ${v['time-scale']}×, in a temporary data folder that is removed when the demo ends; its Console and Mailbox go with it).\n` +
      'To keep one to look around in, run `npm start -- --time-scale 86400` in another terminal first.',
  );
  // Its own stack runs the functions in this process: refuse another Node.js major before synthesizing.
  (await import('../local/node-check.ts')).exitUnlessLambdaNode('npm run demo');
  const { startLocal } = await import('../local/runtime.ts');
  const cdkOut = join(root, 'cdk.out');
  if (!existsSync(join(cdkOut, 'Handoff.template.json'))) {
    console.log('Synthesizing first (npx cdk synth) …');
    const { buildApp } = await import('../infra/app.ts');
    buildApp(loadConfig(join(root, 'config')), cdkOut).app.synth();
  }
  ownDataDir = mkdtempSync(join(tmpdir(), 'handoff-demo-'));
  own = await startLocal({
    cdkOut,
    config: loadConfig(join(root, 'config')),
    dataDir: ownDataDir,
    port: 0,
    timeScale: Number(v['time-scale']),
    logLevel: 'ERROR',
  });
  return { urls: own.urls, timeScale: Number(v['time-scale']), from: 'file', own: true };
}

async function main(v: ReturnType<typeof demoOptions>) {
  const started = Date.now();
  const BATCH = BASE_BATCH.map((lead) => ({ ...lead, email: tagged(String(lead.email), v.tag) }));
  const DUPLICATE = BATCH[0] as Record<string, unknown>;
  const mariaEmail = tagged(MARIA, v.tag);
  const unsubscriber = tagged(UNSUBSCRIBER, v.tag);
  const { urls, timeScale } = await findStack(v);
  const api = urls.api;
  const sfn = new SFNClient({ endpoint: urls.sfn, region: 'us-east-1', credentials });
  const db = new DynamoDBClient({ endpoint: urls.dynamodb, region: 'us-east-1', credentials });
  const [machine] = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
  const stateMachineArn = String(machine?.stateMachineArn);
  const tableName = own?.tableName ?? (await db.send(new ListTablesCommand({}))).TableNames?.[0];
  const mailbox = new Mailbox(urls.ses);

  // 1. Post the batch like web forms do (plus a same-day resubmit).
  console.log(
    `\n1. Posting ${BATCH.length} leads (emails tagged .${v.tag}) and one duplicate resubmit to ${api}/leads`,
  );
  const before = new Set(
    ((await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }))).executions ?? []).map(
      (e) => e.name,
    ),
  );
  const t0 = Date.now();
  const posts = await Promise.all(
    [...BATCH, DUPLICATE].map((lead) =>
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

  const runs = async () =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }))).executions ?? [];
  const ids = BATCH.map((l) => leadIdFor(String(l.email)));
  const ofBatch = (r: Awaited<ReturnType<typeof runs>>) =>
    r.filter((e) => ids.some((id) => e.name?.startsWith(id)));

  // Runs are named by lead id + form + day: the same people again the same day start nothing. Say so early.
  const startBy = Date.now() + 5000;
  let fresh = ofBatch(await runs()).filter((e) => !before.has(e.name));
  while (!fresh.length && Date.now() < startBy) {
    await new Promise((res) => setTimeout(res, 250));
    fresh = ofBatch(await runs()).filter((e) => !before.has(e.name));
  }
  if (!fresh.length) {
    const earlier = ofBatch(await runs()).filter((e) => before.has(e.name));
    console.error(
      `\nNo run started for the posted leads within 5 s${earlier.length ? `: ${earlier.length} of their runs already exist from earlier today (a resubmission the same day starts nothing)` : ''}.\n` +
        'Pass another --tag (or none: a random one is used), or start the stack afresh: `npm start -- --fresh` or a new `--data` folder.',
    );
    return 1;
  }

  // 2. Act as the reps and the unsubscriber while runs move.
  console.log(
    '\n2. Watching runs; acting as reps (Maria: accept + won; Jonas: lost "not now") and as a lead who unsubscribes',
  );
  const done = new Set<string>();
  const deadline = Date.now() + Number(v.timeout) * 1000;
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
    const r = ofBatch(await runs());
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
        skipped = `${heldWhy(welcome)}, ${duration(real)} of waiting at ${timeScale}× (the demo waits ${v.timeout} s).`;
        console.log(`   Skipped: the unsubscribe. ${skipped}\n${FAST_COMMANDS}`);
      }
    }
    const spam = BATCH.slice(-2).every(
      (l) => r.find((e) => e.name?.startsWith(leadIdFor(String(l.email))))?.status === 'SUCCEEDED',
    );
    if (
      done.has('jonas-lost') &&
      mariaRun?.status === 'SUCCEEDED' &&
      (oliviaRun?.status === 'SUCCEEDED' || skipped) &&
      spam
    )
      break;
    await new Promise((res) => setTimeout(res, 250));
  }

  // 3. The funnel, from the leads-by-stage index (through the data layer the handlers use).
  const { leads } = dynamoStores(String(tableName), db);
  const funnel: [string, number][] = [];
  for (const stage of LEAD_STAGES) {
    const n = await leads.countByStage(stage);
    if (n) funnel.push([stage, n]);
  }
  const r = ofBatch(await runs());
  console.log(
    `\n3. Funnel after ${((Date.now() - started) / 1000).toFixed(1)} s (${r.length} runs for ${BATCH.length} people: the resubmit started none)`,
  );
  for (const [stage, n] of funnel) console.log(`   ${stage.padEnd(14)} ${'█'.repeat(n)} ${n}`);
  const mariaId = leadIdFor(mariaEmail);
  if (own) {
    console.log(
      '\nThe demo started its own Handoff: stopping it and removing its data folder now (its Console and Mailbox go with it).\n' +
        'Run `npm start -- --time-scale 86400` first, then `npm run demo`, to look around afterwards.',
    );
  } else {
    const dataDirs = [...(v.data ? [resolve(v.data)] : []), resolve('.handoff'), join(root, '.handoff')].map(
      (d) => join(d, 'admin-token'),
    );
    const tokenFile = await adminTokenFile(api, dataDirs, mariaId);
    const bearer = tokenFile
      ? `$(cat ${tokenFile})`
      : '<the token npm start printed under "Admin"; it is in <its --data folder>/admin-token, or pass --data to the demo>';
    console.log(`
Where to look:
   Console (executions by lead id)  ${urls.console}
   Mailbox (nurture + rep emails)   ${urls.mailbox}
   Admin lead view                  curl -H "Authorization: Bearer ${bearer}" ${api}/admin/leads/${mariaId}`);
  }
  // With an unknown time scale, a welcome email held for business hours is skipped when the time is up.
  if (!done.has('unsubscribe') && !skipped && welcome && !welcome.sent) {
    skipped = `${heldWhy(welcome)}; it did not come within the demo's ${v.timeout} s.`;
    console.log(`\nSkipped: the unsubscribe. ${skipped}\n${FAST_COMMANDS}`);
  }
  const wanted = ['maria-accept', 'maria-won', 'jonas-lost', ...(skipped ? [] : ['unsubscribe'])];
  const missing = wanted.filter((k) => !done.has(k));
  if (skipped && !missing.length)
    console.log(
      `\nDone at time scale ${timeScale ?? 'unknown'}×: the rep part and the disqualifications; the unsubscribe was skipped (above).`,
    );
  if (missing.length) {
    console.error(`\nDemo incomplete after ${v.timeout} s: ${missing.join(', ')} did not happen.`);
    return 1;
  }
  return 0;
}

async function run(argv: string[]): Promise<number> {
  let o: ReturnType<typeof demoOptions>;
  try {
    o = demoOptions(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const interrupted = () => {
    console.error('\nInterrupted: stopping the demo’s own stack and removing its data folder …');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await main(o);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    return 1;
  } finally {
    await cleanUp();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
