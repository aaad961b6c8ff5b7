// A folder of JSON files written durably and in groups (docs/architecture.md, "Durability"). The local Step
// Functions store keeps one file per execution in one, the local EventBridge bus one per pending delivery in
// another. A caller that must not answer before its change is on disk awaits `commit()`: that asks for a
// flush at once (the changes of every caller waiting meanwhile join it: group commit); changes no one waits
// for are written within `lazyMs`, coalesced. Durable means what a power loss keeps, not only a SIGKILL: each
// file is written to `<name>.json.tmp`, fsync'd, renamed over `<name>.json`, and the folder is fsync'd once
// per group (the rename, and any removal, is a change of the folder).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface DurableFolderOptions {
  /** Real ms a change nobody waits for may stay in memory, coalesced with later ones (what a crash can lose of it). */
  lazyMs: number;
  /**
   * Awaited after a group's contents are taken and before any of it is written: what must be durable before
   * these files (the execution store waits for the status-change events the bus accepted).
   */
  before?: () => Promise<void>;
  /**
   * fsync each file and the folder (default true). Off only where a test measures what fsync costs; without it
   * a SIGKILL loses nothing acknowledged, a power loss may.
   */
  fsync?: boolean;
  /** Files written at once: their fsyncs run on libuv's pool, which LevelDB's reads and writes share. */
  parallel?: number;
}

type Change = { body: () => string } | { remove: true };
interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class FolderClosedError extends Error {
  override readonly name = 'FolderClosedError';
}

/**
 * Named JSON files in one folder: `load()` them at start, `write()` or `remove()` one (in memory until the
 * next group), `commit()` to wait until everything changed so far is on disk, `close()` to write the rest.
 */
export class DurableFolder {
  private pending = new Map<string, Change>();
  /** The group being written: its completion (rejects when the write failed). */
  private writing?: Promise<void>;
  /** Callers waiting for the next group. */
  private next?: Deferred;
  private timer?: NodeJS.Timeout;
  private soon = false;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly opts: DurableFolderOptions,
  ) {}

  /** Every `<name>.json` as parsed JSON, by name; a `.tmp` left by a crash mid-write is removed (it was never acknowledged). */
  load<T>(): Map<string, T> {
    const out = new Map<string, T>();
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith('.tmp')) rmSync(join(this.dir, f), { force: true });
      else if (f.endsWith('.json'))
        out.set(f.slice(0, -'.json'.length), JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as T);
    }
    return out;
  }

  /** Writes `name` with the body `body()` returns when its group is taken (so a record changed ten times is serialized once). */
  write(name: string, body: () => string): void {
    this.change(name, { body });
  }

  /** Removes `name` with the next group (a missing file is fine). */
  remove(name: string): void {
    this.change(name, { remove: true });
  }

  /** Resolves once every change made before this call is durable; rejects if writing it failed. */
  commit(): Promise<void> {
    if (this.pending.size === 0) return this.writing ?? Promise.resolve();
    if (!this.next) {
      let resolve: () => void = () => undefined;
      let reject: (e: Error) => void = () => undefined;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.next = { promise, resolve, reject };
    }
    // A group is written now unless one is being written; then the next starts as soon as that one ends.
    if (!this.writing && !this.soon) {
      this.soon = true;
      setImmediate(() => this.flush());
    }
    return this.next.promise;
  }

  /** Writes what is pending (taken now, synchronously) after the group in progress; nothing can change after this. */
  async close(): Promise<void> {
    if (this.closed) return this.writing;
    const group = this.take();
    this.closed = true;
    await this.writing?.catch(() => undefined);
    this.writing = this.persist(group);
    await this.writing;
  }

  private change(name: string, c: Change): void {
    if (this.closed) throw new FolderClosedError(`${this.dir} is closed: ${name} was not written`);
    this.pending.set(name, c);
    this.arm();
  }

  private arm(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.lazyMs).unref();
  }

  /** Takes the pending changes (serialized now) and the callers waiting for them, for one group. */
  private take(): { files: { name: string; body?: string }[]; waiting?: Deferred } {
    clearTimeout(this.timer);
    this.timer = undefined;
    const files = [...this.pending].map(([name, c]) => ('body' in c ? { name, body: c.body() } : { name }));
    this.pending.clear();
    const waiting = this.next;
    this.next = undefined;
    return { files, ...(waiting ? { waiting } : {}) };
  }

  private flush(): void {
    this.soon = false;
    if (this.writing || this.closed || (this.pending.size === 0 && !this.next)) return;
    const group = this.take();
    const writing = this.persist(group);
    this.writing = writing;
    writing
      .catch((e: Error) => {
        // Nothing of the group is acknowledged: its changes go back (unless changed again since), and the
        // lazy timer tries again; its callers got the error.
        for (const f of group.files)
          if (!this.pending.has(f.name) && !this.closed)
            this.change(f.name, f.body === undefined ? { remove: true } : { body: () => f.body as string });
        console.error(`local data: writing ${this.dir} failed: ${e.message}`);
      })
      .finally(() => {
        if (this.writing === writing) this.writing = undefined;
        if (this.next) this.flush();
        else if (this.pending.size && !this.closed) this.arm();
      });
  }

  private async persist(group: { files: { name: string; body?: string }[]; waiting?: Deferred }) {
    try {
      await this.opts.before?.();
      const sync = this.opts.fsync ?? true;
      const writes = group.files.filter((f) => f.body !== undefined);
      await inParallel(writes, this.opts.parallel ?? 4, async ({ name, body }) => {
        const file = join(this.dir, `${name}.json`);
        const handle = await open(`${file}.tmp`, 'w', 0o600);
        try {
          await handle.writeFile(body as string);
          if (sync) await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(`${file}.tmp`, file);
      });
      for (const f of group.files)
        if (f.body === undefined) await unlink(join(this.dir, `${f.name}.json`)).catch(missingIsFine);
      if (sync && group.files.length) await syncFolder(this.dir);
      group.waiting?.resolve();
    } catch (e) {
      group.waiting?.reject(e as Error);
      throw e;
    }
  }
}

function missingIsFine(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

/** fsync of the folder makes its renames and removals durable (Windows cannot open a folder: skipped there). */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const lane = async () => {
    while (i < items.length) await fn(items[i++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
