import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DurableFolder, type DurableFolderOptions, FolderClosedError } from '#local/durable-folder.ts';

const folder = (opts: Partial<DurableFolderOptions> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-durable-'));
  return { dir, files: new DurableFolder(dir, { lazyMs: 50, ...opts }) };
};
const read = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DurableFolder: a commit resolves only once the change is on disk', () => {
  it('resolves commit() when the file exists, parses and holds the latest change, not before', async () => {
    const { dir, files } = folder({ lazyMs: 60_000 });
    const rec = { n: 1 };
    files.write('a', () => JSON.stringify(rec));
    rec.n = 2; // serialized when its group is taken: the latest state is written
    const seen: unknown[] = [];
    const committed = files.commit().then(() => seen.push(read(dir, 'a')));
    expect(existsSync(join(dir, 'a.json'))).toBe(false); // nothing is written synchronously
    await committed;
    expect(seen).toEqual([{ n: 2 }]);
    expect(readdirSync(dir)).toEqual(['a.json']); // no .tmp left behind
  });

  it('fsyncs every file and then the folder, once per group', async () => {
    const { dir, files } = folder();
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const sync = vi.spyOn(proto, 'sync');
    for (const name of ['a', 'b', 'c']) files.write(name, () => '{}');
    await files.commit();
    expect(sync).toHaveBeenCalledTimes(4); // three files, one folder
    sync.mockClear();
    const unsynced = folder({ fsync: false }).files;
    unsynced.write('a', () => '{}');
    await unsynced.commit();
    expect(sync).not.toHaveBeenCalled();
  });

  it('writes the changes of callers waiting together as one group (group commit)', async () => {
    let groups = 0;
    const { dir, files } = folder({
      before: async () => {
        groups += 1;
      },
    });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        files.write(`r${i}`, () => JSON.stringify({ i }));
        return files.commit();
      }),
    );
    expect(groups).toBe(1);
    expect(readdirSync(dir)).toHaveLength(50);
    expect(read(dir, 'r49')).toEqual({ i: 49 });
  });

  it('a change made while a group is being written waits for the next group', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let groups = 0;
    const { dir, files } = folder({
      before: async () => {
        groups += 1;
        if (groups === 1) await gate;
      },
    });
    files.write('a', () => '{"v":1}');
    const first = files.commit().then(() => read(dir, 'a'));
    await vi.waitFor(() => expect(groups).toBe(1));
    files.write('a', () => '{"v":2}');
    const second = files.commit().then(() => read(dir, 'a'));
    release();
    expect(await first).toEqual({ v: 1 });
    expect(await second).toEqual({ v: 2 });
    expect(groups).toBe(2);
  });

  it('writes a change nobody waits for within lazyMs, and removes files', async () => {
    const { dir, files } = folder({ lazyMs: 20 });
    files.write('lazy', () => '{"ok":true}');
    await vi.waitFor(() => expect(read(dir, 'lazy')).toEqual({ ok: true }), { timeout: 2000 });
    files.remove('lazy');
    files.remove('never-written');
    await files.commit();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed write rejects its callers and is written again later', async () => {
    let fail = true;
    const { dir, files } = folder({
      lazyMs: 20,
      before: async () => {
        if (fail) throw new Error('disk full');
      },
    });
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    files.write('a', () => '{"v":1}');
    await expect(files.commit()).rejects.toThrow('disk full');
    expect(existsSync(join(dir, 'a.json'))).toBe(false);
    fail = false;
    await vi.waitFor(() => expect(read(dir, 'a')).toEqual({ v: 1 }), { timeout: 2000 });
    expect(log).toHaveBeenCalledWith(expect.stringContaining('disk full'));
  });

  it('loads what is there, dropping a .tmp a crash left mid-write', () => {
    const { dir, files } = folder();
    writeFileSync(join(dir, 'a.json'), '{"v":1}');
    writeFileSync(join(dir, 'b.json.tmp'), '{"v":');
    expect([...files.load<{ v: number }>()]).toEqual([['a', { v: 1 }]]);
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('close() writes what is pending as it is at the call, and refuses changes after it', async () => {
    const { dir, files } = folder({ lazyMs: 60_000 });
    const rec = { v: 1 };
    files.write('a', () => JSON.stringify(rec));
    const closed = files.close();
    rec.v = 2; // changed after close(): not written
    await closed;
    expect(read(dir, 'a')).toEqual({ v: 1 });
    expect(() => files.write('a', () => '{}')).toThrow(FolderClosedError);
  });
});
