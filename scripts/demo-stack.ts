// The stack `npm run demo` works against: the running `npm start` it finds, or its own in a temporary folder
// (stopped and removed by cleanUp), and the clients the demo's phases use on it (scripts/demo-phases.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { loadConfig } from '../infra/load-config.ts';
import { Mailbox } from '../local/mailbox.ts';
import type { LocalStack } from '../local/runtime.ts';
import { type Located, locateStack, StackFileError } from '../serve/stack-file.ts';

export const root = join(import.meta.dirname, '..');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** What finding a stack needs of the demo's options (scripts/demo.ts). */
export interface StackChoice {
  api?: string | undefined;
  data: string;
  own: boolean;
  'time-scale': string;
}

/** Where the admin token of the stack at `api` is: the first candidate file whose token the API accepts. */
export async function adminTokenFile(
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
export async function cleanUp() {
  const stack = own;
  own = undefined;
  if (stack) await stack.stop().catch(() => undefined);
  if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
  ownDataDir = undefined;
}

/** The stack to use: the one in --data (or at --api), or, when none answers or with --own, the demo's own. */
async function findStack(v: StackChoice): Promise<Located & { own: boolean }> {
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

export type DemoStack = Awaited<ReturnType<typeof openStack>>;

/** The stack found (or started), with clients for its state machine, its table and its mailbox. */
export async function openStack(v: StackChoice) {
  const { urls, timeScale, own: isOwn } = await findStack(v);
  const sfn = new SFNClient({ endpoint: urls.sfn, region: 'us-east-1', credentials });
  const db = new DynamoDBClient({ endpoint: urls.dynamodb, region: 'us-east-1', credentials });
  const [machine] = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
  const stateMachineArn = String(machine?.stateMachineArn);
  const tableName = own?.tableName ?? (await db.send(new ListTablesCommand({}))).TableNames?.[0];
  /** The state machine's runs (up to 1000). */
  const runs = async () =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }))).executions ?? [];
  return { urls, timeScale, own: isOwn, sfn, db, tableName, mailbox: new Mailbox(urls.ses), runs };
}
