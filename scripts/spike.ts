// npm run probe:spike: a spike of careful visitors against a local stack that is SIGKILLed half way.
// N leads from C clients (each from its own loopback address, scripts/clients.ts), each client retrying a
// 429 or 503 after its Retry-After and a lost connection after a backoff, up to 60 attempts a lead, as the
// form's script does. When half the leads are accepted the stack's process is killed (no stop, no flush)
// and a new one starts on the same data folder; the clients carry on against it. At the end: was every lead
// accepted, and does every accepted lead have exactly one run, stored and not failed?
//
//   npm run probe:spike                               3,000 leads, 50 clients, the kill at half
//   npm run probe:spike -- --leads 600 --clients 20 --kill-at 0.3
//
// Exit code: 0 every lead accepted and run once · 1 not so (the table says where) · 2 usage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { leadIdFor } from '../functions/lead/lead.ts';
import { dynamoStores } from '../functions/stores.ts';
import { buildApp } from '../infra/app.ts';
import { loadConfig } from '../infra/load-config.ts';
import { type ChildStack, startChildStack } from '../test/fixtures/local-stack-child.ts';
import { postAs } from './clients.ts';

const root = join(import.meta.dirname, '..');
const ATTEMPTS = 60;
const forms = ['demo-request', 'newsletter', 'content-download', 'pricing', 'contact'];
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function options() {
  const { values } = parseArgs({
    options: {
      leads: { type: 'string', default: '3000' },
      clients: { type: 'string', default: '50' },
      'kill-at': { type: 'string', default: '0.5' },
    },
  });
  const leads = Number(values.leads);
  const clients = Number(values.clients);
  const killAt = Number(values['kill-at']);
  if (!(leads >= 1 && clients >= 1 && clients <= 60_000 && killAt > 0 && killAt < 1))
    throw new Error('--leads ≥ 1, --clients 1–60000, --kill-at between 0 and 1');
  return { leads, clients, killAt };
}

async function executionsOf(stack: ChildStack) {
  const sfn = new SFNClient({ endpoint: stack.urls.sfn, region: 'us-east-1', credentials });
  const all: { name?: string; status?: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults: 1000, nextToken }),
    );
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  sfn.destroy();
  return all;
}

async function main(): Promise<number> {
  const o = options();
  const cdkOut = join(root, 'cdk.out');
  buildApp(loadConfig(join(root, 'config')), cdkOut).app.synth();
  const dataDir = mkdtempSync(join(tmpdir(), 'handoff-spike-'));
  let stack = await startChildStack({ cdkOut, dataDir });
  const t0 = performance.now();
  let next = 0;
  const accepted = new Set<string>();
  const gaveUp: number[] = [];
  const others: string[] = [];
  let busy = 0;
  let lostConnections = 0;
  let killed: Promise<void> | undefined;
  let downMs = 0;
  const kill = async () => {
    const down = performance.now();
    const gone = new Promise<void>((r) => stack.child.once('exit', () => r()));
    stack.child.kill('SIGKILL');
    await gone;
    process.stderr.write(
      `\n  SIGKILL at ${accepted.size} accepted; starting a new stack on the same data…\n`,
    );
    stack = await startChildStack({ cdkOut, dataDir });
    downMs = performance.now() - down;
  };
  const progress = setInterval(
    () =>
      process.stderr.write(
        `\r  ${accepted.size}/${o.leads} accepted, ${busy} answered 429/503, ${lostConnections} lost connections `,
      ),
    1000,
  );
  try {
    await Promise.all(
      Array.from({ length: o.clients }, async (_, client) => {
        while (next < o.leads) {
          const i = next++;
          const email = `spike.${i}@company${i % 50}.com`;
          const body = JSON.stringify({
            email,
            firstName: 'Spike',
            formType: forms[i % forms.length],
            companySize: 100 + (i % 900),
            country: 'US',
            title: 'VP Sales',
            consent: true,
          });
          let done = false;
          for (let attempt = 0; attempt < ATTEMPTS && !done; attempt++) {
            if (killed) await killed;
            const backoff = Math.min(30, 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2) * 1000;
            try {
              const res = await postAs(client, `${stack.urls.api}/leads`, body);
              if (res.status === 202) {
                accepted.add(leadIdFor(email));
                done = true;
                if (!killed && accepted.size >= o.leads * o.killAt) killed = kill();
              } else if (res.status === 429 || res.status === 503) {
                busy++;
                await sleep(Math.max(backoff, (res.retryAfter ?? 0) * 1000));
              } else {
                others.push(`lead ${i}: HTTP ${res.status}`);
                break;
              }
            } catch {
              lostConnections++;
              await sleep(backoff);
            }
          }
          if (!done) gaveUp.push(i);
        }
      }),
    );
    if (killed) await killed;
    const postSecs = (performance.now() - t0) / 1000;
    clearInterval(progress);
    process.stderr.write('\n  waiting for every accepted lead’s run to be stored…\n');
    // Every accepted lead stored by its run (its lead item in the table), within 5 minutes.
    const client = new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1', credentials });
    const { leads } = dynamoStores(stack.tableName, client);
    const pending = new Set(accepted);
    const deadline = Date.now() + 300_000;
    while (pending.size && Date.now() < deadline) {
      const ids = [...pending];
      for (let k = 0; k < ids.length; k += 100)
        for (const id of (await leads.getMany(ids.slice(k, k + 100))).keys()) pending.delete(id);
      if (pending.size) await sleep(1000);
    }
    client.destroy();
    const executions = await executionsOf(stack);
    const runsPerLead = new Map<string, number>();
    for (const e of executions) {
      const leadId = String(e.name).slice(0, 23);
      runsPerLead.set(leadId, (runsPerLead.get(leadId) ?? 0) + 1);
    }
    const withoutRun = [...accepted].filter((id) => !runsPerLead.get(id)).length;
    const twice = [...runsPerLead.values()].filter((n) => n > 1).length;
    const failed = executions.filter((e) => e.status === 'FAILED' || e.status === 'TIMED_OUT').length;
    const ok =
      accepted.size === o.leads &&
      !gaveUp.length &&
      !others.length &&
      !withoutRun &&
      !twice &&
      !failed &&
      !pending.size;
    console.log(
      `\n| leads | clients | accepted | gave up | other answers | 429/503 answered | lost connections | stack down | runs | without a run | twice | not stored | failed | posting |`,
    );
    console.log(`|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
    console.log(
      `| ${o.leads} | ${o.clients} | ${accepted.size} | ${gaveUp.length} | ${others.length} | ${busy} | ${lostConnections} | ${(downMs / 1000).toFixed(1)} s | ${executions.length} | ${withoutRun} | ${twice} | ${pending.size} | ${failed} | ${postSecs.toFixed(0)} s |`,
    );
    for (const line of others.slice(0, 5)) console.log(`  ${line}`);
    console.log(ok ? 'every lead accepted, each run once' : 'NOT every lead accepted and run once');
    return ok ? 0 : 1;
  } finally {
    clearInterval(progress);
    stack.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error((e as Error).message);
      process.exitCode = 2;
    },
  );
}
