// npm run demo: a realistic mixed batch through Handoff, against a running `npm start` or one it starts.
// Acts as the reps from the assignment emails in the mailbox, then prints a funnel from the table.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { dynamoStores } from '../functions/shared/data/index.ts';
import { leadIdFor } from '../functions/shared/domain/lead.ts';
import { LEAD_STAGES } from '../functions/shared/domain/lead-stage.ts';
import { loadConfig } from '../infra/load-config.ts';
import { linksIn, Mailbox, type MailboxEmail, unsubscribeUrlOf } from '../local/mailbox.ts';
import type { LocalStack } from '../local/runtime.ts';

const root = join(import.meta.dirname, '..');
const { values: v } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:3000' },
    'time-scale': { type: 'string', default: '86400' },
    timeout: { type: 'string', default: '180' },
  },
});
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const company = (name: string, size: number, country: string, industry: string) => ({
  company: name,
  companySize: size,
  country,
  industry,
});
const BATCH: Record<string, unknown>[] = [
  {
    email: 'maria.garcia@northwind-logistics.com',
    firstName: 'Maria',
    lastName: 'Garcia',
    title: 'VP Operations',
    formType: 'demo-request',
    ...company('Northwind Logistics', 2400, 'US', 'manufacturing'),
    timeZone: 'America/Chicago',
  },
  {
    email: 'jonas.weber@bergmann-ag.de',
    firstName: 'Jonas',
    lastName: 'Weber',
    title: 'Head of Sales',
    formType: 'demo-request',
    ...company('Bergmann AG', 800, 'DE', 'manufacturing'),
    timeZone: 'Europe/Berlin',
  },
  {
    email: 'priya.nair@brightpath.io',
    firstName: 'Priya',
    lastName: 'Nair',
    title: 'Founder',
    formType: 'pricing',
    ...company('BrightPath', 40, 'CA', 'software'),
    timeZone: 'America/Toronto',
  },
  {
    email: 'tom.becker@lumen-health.com',
    firstName: 'Tom',
    lastName: 'Becker',
    title: 'Director of IT',
    formType: 'content-download',
    ...company('Lumen Health', 600, 'US', 'healthcare'),
  },
  {
    email: 'aiko.tanaka@sakura-retail.jp',
    firstName: 'Aiko',
    lastName: 'Tanaka',
    title: 'Marketing Manager',
    formType: 'content-download',
    ...company('Sakura Retail', 300, 'JP', 'retail'),
    timeZone: 'Asia/Tokyo',
  },
  {
    email: 'lena.svensson@fjord-finans.se',
    firstName: 'Lena',
    lastName: 'Svensson',
    title: 'Analyst',
    formType: 'webinar',
    ...company('Fjord Finans', 150, 'SE', 'financial services'),
    timeZone: 'Europe/Stockholm',
  },
  { email: 'sam.ortiz@gmail.com', firstName: 'Sam', lastName: 'Ortiz', formType: 'newsletter' },
  {
    email: 'olivia.brown@kettle-studio.co.uk',
    firstName: 'Olivia',
    lastName: 'Brown',
    title: 'Designer',
    formType: 'newsletter',
    ...company('Kettle Studio', 12, 'GB', 'retail'),
    timeZone: 'Europe/London',
  },
  {
    email: 'noah.kim@acme-robotics.com',
    firstName: 'Noah',
    lastName: 'Kim',
    title: 'Engineering Manager',
    formType: 'newsletter',
    ...company('Acme Robotics', 1200, 'US', 'manufacturing'),
  },
  {
    email: 'free.money@mailinator.com',
    firstName: 'Win',
    lastName: 'Big',
    formType: 'contact',
    message: 'cheap offers http://spam.example',
  },
  {
    email: 'qa@rivalcrm.example',
    firstName: 'test',
    lastName: 'test',
    formType: 'demo-request',
    company: 'RivalCRM',
  },
];
const UNSUBSCRIBER = 'olivia.brown@kettle-studio.co.uk';
const DUPLICATE = BATCH[0];

async function up(api: string): Promise<boolean> {
  try {
    return (await fetch(`${api}/`, { signal: AbortSignal.timeout(1000) })).status === 404;
  } catch {
    return false;
  }
}

async function main() {
  const started = Date.now();
  let api = String(v.api);
  const port = Number(new URL(api).port || 80);
  let own: LocalStack | undefined;
  let dataDir = join(root, '.handoff');
  if (!(await up(api))) {
    console.log(`No Handoff at ${api}: starting one (time scale ${v['time-scale']}×, fresh data folder) …`);
    const { startLocal } = await import('../local/runtime.ts');
    const cdkOut = join(root, 'cdk.out');
    if (!existsSync(join(cdkOut, 'Handoff.template.json'))) {
      console.log('Synthesizing first (npx cdk synth) …');
      const { buildApp } = await import('../infra/app.ts');
      buildApp(loadConfig(join(root, 'config')), cdkOut).app.synth();
    }
    dataDir = mkdtempSync(join(tmpdir(), 'handoff-demo-'));
    own = await startLocal({
      cdkOut,
      config: loadConfig(join(root, 'config')),
      dataDir,
      port: 0,
      timeScale: Number(v['time-scale']),
      logLevel: 'ERROR',
    });
    api = own.urls.api;
  } else {
    console.log(
      `Using the Handoff running at ${api} (its own time scale applies; start it with --time-scale 86400 for a quick demo).`,
    );
  }
  const urls = own?.urls ?? {
    sfn: `http://127.0.0.1:${port + 1}`,
    dynamodb: `http://127.0.0.1:${port + 2}`,
    ses: `http://127.0.0.1:${port + 3}`,
    console: `http://127.0.0.1:${port + 1}/`,
    mailbox: `http://127.0.0.1:${port + 3}/`,
  };
  const sfn = new SFNClient({ endpoint: urls.sfn, region: 'us-east-1', credentials });
  const db = new DynamoDBClient({ endpoint: urls.dynamodb, region: 'us-east-1', credentials });
  const [machine] = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
  const stateMachineArn = String(machine?.stateMachineArn);
  const tableName = own?.tableName ?? (await db.send(new ListTablesCommand({}))).TableNames?.[0];
  const mailbox = new Mailbox(urls.ses);

  // 1. Post the batch like web forms do (plus a same-day resubmit).
  console.log(`\n1. Posting ${BATCH.length} leads and one duplicate resubmit to ${api}/leads`);
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
    const olivia = all.find((m) => m.destination.to.includes(UNSUBSCRIBER));
    const unsub = olivia && unsubscribeUrlOf(olivia);
    if (unsub && !done.has('unsubscribe')) {
      if ((await post(unsub, 'List-Unsubscribe=One-Click')).status === 200) done.add('unsubscribe');
    }
    const r = await runs();
    const count = (s: string) => r.filter((e) => e.status === s).length;
    const line = `   runs: ${r.length} · running ${count('RUNNING')} · succeeded ${count('SUCCEEDED')} · failed ${count('FAILED')} · emails ${all.length} · rep actions ${[...done].join(', ') || '—'}`;
    if (line !== last) console.log(line);
    last = line;
    const mariaRun = r.find((e) => e.name?.startsWith(leadIdFor('maria.garcia@northwind-logistics.com')));
    const oliviaRun = r.find((e) => e.name?.startsWith(leadIdFor(UNSUBSCRIBER)));
    const spam = BATCH.slice(-2).every(
      (l) => r.find((e) => e.name?.startsWith(leadIdFor(String(l.email))))?.status === 'SUCCEEDED',
    );
    if (
      done.has('jonas-lost') &&
      mariaRun?.status === 'SUCCEEDED' &&
      oliviaRun?.status === 'SUCCEEDED' &&
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
  const r = await runs();
  console.log(
    `\n3. Funnel after ${((Date.now() - started) / 1000).toFixed(1)} s (${r.length} runs for ${BATCH.length} people: the resubmit started none)`,
  );
  for (const [stage, n] of funnel) console.log(`   ${stage.padEnd(14)} ${'█'.repeat(n)} ${n}`);
  console.log(`
Where to look:
   Console (executions by lead id)  ${urls.console}
   Mailbox (nurture + rep emails)   ${urls.mailbox}
   Admin lead view                  curl -H "Authorization: Bearer $(cat ${join(dataDir, 'admin-token')})" ${api}/admin/leads/${leadIdFor('maria.garcia@northwind-logistics.com')}`);
  const missing = ['maria-accept', 'maria-won', 'jonas-lost', 'unsubscribe'].filter((k) => !done.has(k));
  if (own) {
    console.log('\nThe demo started its own Handoff; stopping it now (run `npm start` to keep one running).');
    await own.stop();
  }
  if (missing.length) {
    console.error(`\nDemo incomplete after ${v.timeout} s: ${missing.join(', ')} did not happen.`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
