// The data folder holds PII (executions with lead input, dynalite's LevelDB, secrets.json, admin-token):
// only the user who runs the stack may read it.
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

/**
 * Creates (or, with `fresh`, recreates) the data folder as 0700, makes what is already in it 0700/0600,
 * and sets the process umask to 0o077 so every file written later (LevelDB's own included) is 0600.
 * Returns a function that restores the previous umask.
 */
export function privateDataDir(dir: string, fresh = false): () => void {
  // process.umask() can only be changed on the main thread.
  const previous = isMainThread ? process.umask(0o077) : undefined;
  if (fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  restrict(dir);
  return () => {
    if (previous !== undefined) process.umask(previous);
  };
}

/** Directories 0700, files 0600, under and including `path` (symlinks are left alone). */
export function restrict(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    chmodSync(path, 0o700);
    for (const name of readdirSync(path)) restrict(join(path, name));
  } else chmodSync(path, 0o600);
}
