// <data>/stack.json (serve/stack-file.ts): how the scripts find the running local stack, and how a file
// left by a killed stack is told from a live one. Servers listen on 127.0.0.1 and are closed by each test.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertFolderFree,
  liveStack,
  locateStack,
  readStackFile,
  removeStackFile,
  restartCommand,
  STACK_FILE,
  StackFileError,
  type StackInfo,
  urlsFromApi,
  writeStackFile,
} from '#serve/stack-file.ts';
import { root } from '#test/fixtures/root.ts';

let dir: string;
let server: Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'handoff-stack-file-'));
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (server) await new Promise((r) => server?.close(r));
  server = undefined;
});

const info = (api: string, pid = process.pid): StackInfo => ({
  pid,
  startedAt: '2026-12-07T10:00:00.000Z',
  timeScale: 60,
  urls: { ...urlsFromApi(api), console: 'http://127.0.0.1:9/' },
  stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:M',
  tableName: 'Data',
});

/** A local API answering 404 at /, as the stack's does. */
async function api(): Promise<string> {
  server = createServer((_, res) => void res.writeHead(404).end());
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A process id that no longer runs. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('the stack file', () => {
  it('is written 0600 with what the scripts need, read back, and removed only by its own process', async () => {
    const url = await api();
    writeStackFile(dir, info(url));
    expect(statSync(join(dir, STACK_FILE)).mode & 0o777).toBe(0o600);
    expect(readStackFile(dir)).toEqual(info(url));
    expect(await liveStack(dir)).toEqual(info(url));
    removeStackFile(dir, process.pid + 1);
    expect(readStackFile(dir)).toBeDefined();
    removeStackFile(dir);
    expect(readStackFile(dir)).toBeUndefined();
  });

  it('keeps fields it does not know, so a newer stack can add some', () => {
    writeFileSync(
      join(dir, STACK_FILE),
      JSON.stringify({ ...info('http://127.0.0.1:3000'), clock: { at: 1 } }),
    );
    expect(readStackFile(dir)).toMatchObject({ clock: { at: 1 } });
  });

  it('detects a stale file left by a killed stack, and says how to start it again', async () => {
    const url = await api();
    writeStackFile(dir, info(url, deadPid()));
    const err = (await liveStack(dir).catch((e) => e)) as StackFileError;
    expect(err).toBeInstanceOf(StackFileError);
    expect(err.reason).toBe('stale');
    expect(err.message).toMatch(/is not running: its process is gone \(killed, or it crashed\)/);
    expect(err.message).toContain(`npm start -- --port ${new URL(url).port} --time-scale 60 --data ${dir}`);
    // A stale file is never silently replaced by the default stack.
    await expect(locateStack({ dataDir: dir })).rejects.toThrow(/is not running/);
  });

  it('detects a live process whose API does not answer (a reused pid)', async () => {
    writeStackFile(dir, info('http://127.0.0.1:9'));
    await expect(liveStack(dir)).rejects.toThrow(/does not answer at http:\/\/127\.0\.0\.1:9/);
  });

  it('refuses a file that is not a stack file, and says when there is none', async () => {
    await expect(liveStack(dir)).rejects.toMatchObject({ reason: 'missing' });
    writeFileSync(join(dir, STACK_FILE), '{"pid":"x"}');
    expect(() => readStackFile(dir)).toThrow(/is not a local stack's file/);
  });

  it('lets an explicit --api win, with the file URLs and time scale when it is that stack', async () => {
    const url = await api();
    writeStackFile(dir, info(url));
    expect(await locateStack({ dataDir: dir })).toMatchObject({ from: 'file', timeScale: 60 });
    expect(await locateStack({ api: `${url}/`, dataDir: dir })).toMatchObject({
      from: 'file',
      urls: { console: 'http://127.0.0.1:9/' },
    });
    expect(await locateStack({ api: 'http://127.0.0.1:5000', dataDir: dir })).toEqual({
      from: 'flag',
      urls: urlsFromApi('http://127.0.0.1:5000'),
    });
    rmSync(join(dir, STACK_FILE));
    expect((await locateStack({ dataDir: dir })).from).toBe('default');
  });

  it('makes a script that reads --data exit 3 with the stale file named, instead of trying another stack', () => {
    writeStackFile(dir, info('http://127.0.0.1:9', deadPid()));
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts/funnel-rebuild.ts'), '--data', dir],
      { encoding: 'utf8', timeout: 60_000, env: { PATH: String(process.env.PATH) } },
    );
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toContain(`The local stack recorded in ${join(dir, STACK_FILE)}`);
    expect(run.stderr).toContain('is not running: its process is gone');
  });

  it('refuses a second stack on a folder a live stack uses, not on a stale one or its own', () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeStackFile(dir, info('http://127.0.0.1:3000', other.pid));
      expect(() => assertFolderFree(dir)).toThrow(/is in use by the stack at http:\/\/127\.0\.0\.1:3000/);
      writeStackFile(dir, info('http://127.0.0.1:3000', deadPid()));
      expect(() => assertFolderFree(dir)).not.toThrow();
      writeStackFile(dir, info('http://127.0.0.1:3000'));
      expect(() => assertFolderFree(dir)).not.toThrow();
    } finally {
      other.kill();
    }
  });

  it('restarts a default stack with plain npm start', () => {
    expect(restartCommand('.handoff', { ...info('http://127.0.0.1:3000'), timeScale: 1 })).toBe('npm start');
  });
});
