// <data>/stack.json: how the scripts (npm run demo, backtest, funnel:rebuild, console) find the running
// local stack without flags, at whatever ports it listens and time scale it runs. The local runtime
// writes it once every port answers and removes it at stop. A stack killed without stopping leaves it
// behind, so a reader checks that the process is alive and that its API answers before trusting it.
// Readers keep fields they do not know: add new ones (a clock, say) to StackInfo and write them.
// In serve/ (imports neither local/ nor console/): the runtime writes it, the scripts and console/cli.ts read it.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const STACK_FILE = 'stack.json';

export interface StackInfo {
  /** The process running the stack. */
  pid: number;
  /** When it became ready (ISO 8601, wall clock). */
  startedAt: string;
  /** `--time-scale`: virtual seconds per real second. */
  timeScale: number;
  urls: {
    api: string;
    console: string;
    mailbox: string;
    sfn: string;
    dynamodb: string;
    ses: string;
    secrets: string;
    /** DescribeStacks with the template's outputs (local/cloudformation.ts): the console's AWS mode. */
    cloudformation: string;
  };
  stateMachineArn: string;
  tableName: string;
}

/** No stack.json, a stale one, one that is not a stack's, or a folder another stack runs on: `message` says what to do, in a line or two. */
export class StackFileError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing' | 'stale' | 'unreadable' | 'in use',
  ) {
    super(message);
    this.name = 'StackFileError';
  }
}

/** Writes the file for this process (0600, replaced atomically: a reader never sees half of it). */
export function writeStackFile(dataDir: string, info: StackInfo): void {
  const file = join(dataDir, STACK_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Removes the file if it is this process's (a newer stack on the same folder keeps its own). */
export function removeStackFile(dataDir: string, pid = process.pid): void {
  try {
    if (readStackFile(dataDir)?.pid === pid) rmSync(join(dataDir, STACK_FILE), { force: true });
  } catch {}
}

/** The file's contents, or undefined when there is none; StackFileError when it is not a stack's. */
export function readStackFile(dataDir: string): StackInfo | undefined {
  const file = join(dataDir, STACK_FILE);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StackFileError(`Cannot read ${shown(file)}: ${(e as Error).message}`, 'unreadable');
  }
  let info: Partial<StackInfo>;
  try {
    info = JSON.parse(raw) as Partial<StackInfo>;
  } catch {
    info = {};
  }
  const urls = info.urls as Partial<StackInfo['urls']> | undefined;
  const complete =
    Number.isInteger(info.pid) &&
    typeof info.startedAt === 'string' &&
    typeof info.timeScale === 'number' &&
    ['api', 'console', 'mailbox', 'sfn', 'dynamodb', 'ses', 'secrets'].every(
      (k) => typeof urls?.[k as keyof StackInfo['urls']] === 'string',
    );
  if (!complete)
    throw new StackFileError(
      `${shown(file)} is not a local stack's file: start the stack again (npm start replaces it)`,
      'unreadable',
    );
  return info as StackInfo;
}

/**
 * Throws when another live process runs a stack on `dataDir` (its stack.json names a running pid): two
 * stacks on one folder would share dynalite's files and executions, and `--fresh` would wipe the other's.
 */
export function assertFolderFree(dataDir: string): void {
  let info: StackInfo | undefined;
  try {
    info = readStackFile(dataDir);
  } catch {
    return;
  }
  if (info && info.pid !== process.pid && alive(info.pid))
    throw new StackFileError(
      `The data folder ${shown(dataDir)} is in use by the stack at ${info.urls.api} (pid ${info.pid}): stop it, or pass another --data (no stack there? delete ${shown(join(dataDir, STACK_FILE))})`,
      'in use',
    );
}

/**
 * The stack recorded in `dataDir`, checked live: its process runs and its API answers (any HTTP answer,
 * a 503 while it starts included). StackFileError('missing' | 'stale' | 'unreadable') otherwise.
 */
export async function liveStack(dataDir: string): Promise<StackInfo> {
  const info = readStackFile(dataDir);
  const file = shown(join(dataDir, STACK_FILE));
  if (!info)
    throw new StackFileError(
      `No local stack is recorded in ${shown(dataDir)} (no ${STACK_FILE}): start one with \`npm start\` (pass its --data folder if it uses another), or pass --api <url>`,
      'missing',
    );
  const what = `The local stack recorded in ${file} (pid ${info.pid}, started ${info.startedAt})`;
  const restart = `Start it again with \`${restartCommand(dataDir, info)}\` (it replaces the file), or pass --api <url>.`;
  if (!alive(info.pid))
    throw new StackFileError(
      `${what} is not running: its process is gone (killed, or it crashed). ${restart}`,
      'stale',
    );
  if (!(await answers(info.urls.api)))
    throw new StackFileError(
      `${what} does not answer at ${info.urls.api} (process ${info.pid} is not it, or it is stuck). ${restart}`,
      'stale',
    );
  return info;
}

/** The other endpoints of a stack at `api`, by npm start's layout (API port + 1 … + 5). */
export function urlsFromApi(api: string): StackInfo['urls'] {
  const u = new URL(api);
  const at = (offset: number) => `${u.protocol}//${u.hostname}:${Number(u.port || 80) + offset}`;
  return {
    api: at(0),
    sfn: at(1),
    console: `${at(1)}/`,
    dynamodb: at(2),
    ses: at(3),
    mailbox: `${at(3)}/`,
    secrets: at(4),
    cloudformation: at(5),
  };
}

/** Where a script finds the stack: its file, or npm start's layout around a URL given (or the default). */
export interface Located {
  urls: StackInfo['urls'];
  /** Known from the file only. */
  timeScale?: number;
  from: 'file' | 'flag' | 'default';
}

/**
 * The stack a script should use: an explicit `api` wins (its file's URLs and time scale when the file in
 * `dataDir` is that stack's); else the live stack recorded in `dataDir`; else, with no file at all,
 * npm start's default `http://127.0.0.1:3000`. A stale file is a StackFileError, never a silent default.
 */
export async function locateStack(o: { api?: string; dataDir: string }): Promise<Located> {
  if (o.api) {
    const api = o.api.replace(/\/+$/, '');
    let info: StackInfo | undefined;
    try {
      info = readStackFile(o.dataDir);
    } catch {}
    if (info && info.urls.api === api && alive(info.pid))
      return { urls: info.urls, timeScale: info.timeScale, from: 'file' };
    return { urls: urlsFromApi(api), from: 'flag' };
  }
  if (!readStackFile(o.dataDir)) return { urls: urlsFromApi('http://127.0.0.1:3000'), from: 'default' };
  const info = await liveStack(o.dataDir);
  return { urls: info.urls, timeScale: info.timeScale, from: 'file' };
}

/** The npm start that brings the recorded stack back: its port, time scale and data folder when not the defaults. */
export function restartCommand(dataDir: string, info: StackInfo): string {
  const port = Number(new URL(info.urls.api).port);
  const options = [
    ...(port !== 3000 ? [`--port ${port}`] : []),
    ...(info.timeScale !== 1 ? [`--time-scale ${info.timeScale}`] : []),
    ...(resolve(dataDir) !== resolve('.handoff') ? [`--data ${shown(dataDir)}`] : []),
  ];
  return options.length ? `npm start -- ${options.join(' ')}` : 'npm start';
}

/**
 * Whether process `pid` runs (EPERM: it does, as another user's). A killed child its parent has not reaped
 * yet is a zombie that still answers signal 0: on Linux its state in /proc says so.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** A path relative to the working directory when it is inside it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** locateStack, and the located stack's time (stackNow): what a script that reads the local table needs. */
export async function locateWithClock(o: {
  api?: string;
  dataDir: string;
}): Promise<Located & { now: Date }> {
  const located = await locateStack(o);
  return { ...located, now: await stackNow(located.urls) };
}

/**
 * The running stack's time (its one clock: `--time-scale`, `--start-at`), read from the console's
 * `x-handoff-clock` header; the machine's time when the stack does not say (not running, or not local).
 */
export async function stackNow(urls: Pick<StackInfo['urls'], 'console'>): Promise<Date> {
  try {
    const res = await fetch(new URL('api/meta', urls.console), { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    const at = Number(/^(\d+)\s*;/.exec(res.headers.get('x-handoff-clock') ?? '')?.[1]);
    if (Number.isFinite(at) && at > 0) return new Date(at);
  } catch {
    // not answering: the machine's clock
  }
  return new Date();
}
