// The install guard (scripts/install-guard/check.mjs) run as npm runs it, with a fake npm beside
// npm_execpath. The slow check with real npms, not part of npm test: scripts/install-guard/try.sh.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '#test/fixtures/root.ts';

const guard = join(root, 'scripts/install-guard/check.mjs');
const fakes = mkdtempSync(join(tmpdir(), 'handoff-install-guard-'));
afterAll(() => rmSync(fakes, { recursive: true, force: true }));

/** The path of a package manager's CLI script, as npm_execpath gives it, with its package.json above. */
function cli(name: string, version: string): string {
  const dir = join(fakes, `${name}-${version}`);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  return join(dir, 'bin', `${name}-cli.js`);
}

/** Runs the guard with only these npm variables (none inherited from the npm running the tests). */
function run(env: Record<string, string>) {
  const r = spawnSync(process.execPath, [guard], {
    cwd: join(root, 'scripts/install-guard'),
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('install guard (preinstall of handoff-install-guard)', () => {
  it('stops npm 10 (Node 20’s own) with one line that says what to run', () => {
    const r = run({
      npm_execpath: cli('npm', '10.8.2'),
      npm_config_user_agent: 'npm/10.8.2 node/v20.20.2 linux x64 workspaces/false',
      npm_command: 'install',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'Handoff needs npm ≥ 11 (this is npm 10.8.2, which would leave out Node.js 24 and rewrite package-lock.json): run npx npm@11 install, or npm install -g npm@11 once\n',
    );
  });

  it('names npm ci when npm ci ran it, which writes no lock file', () => {
    const r = run({ npm_execpath: cli('npm', '10.9.9'), npm_command: 'ci' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'Handoff needs npm ≥ 11 (this is npm 10.9.9, which would leave out Node.js 24): run npx npm@11 ci, or npm install -g npm@11 once\n',
    );
  });

  it('lets npm 11 and later install, silently', () => {
    for (const version of ['11.0.0', '11.19.1', '12.1.0']) {
      const r = run({ npm_execpath: cli('npm', version), npm_command: 'ci' });
      expect(r, version).toEqual({ status: 0, stderr: '', stdout: '' });
    }
  });

  it('believes the npm beside npm_execpath over a user agent inherited from an outer npm (npx npm@10 install)', () => {
    const inner10 = run({
      npm_execpath: cli('npm', '10.9.9'),
      npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
      npm_command: 'install',
    });
    expect(inner10.status).toBe(1);
    expect(inner10.stderr).toContain('this is npm 10.9.9');
    const inner11 = run({
      npm_execpath: cli('npm', '11.19.1'),
      npm_config_user_agent: 'npm/10.8.2 node/v20.20.2 linux x64 workspaces/false',
    });
    expect(inner11.status).toBe(0);
  });

  it('falls back to the user agent without npm_execpath, and leaves other package managers alone', () => {
    expect(run({ npm_config_user_agent: 'npm/10.8.2 node/v20.20.2 linux x64' }).status).toBe(1);
    expect(run({ npm_config_user_agent: 'npm/11.0.0 node/v20.20.2 linux x64' }).status).toBe(0);
    expect(run({ npm_execpath: cli('pnpm', '10.0.0'), npm_config_user_agent: 'pnpm/10.0.0' }).status).toBe(0);
  });

  it('is a devDependency whose preinstall npm 11 runs (allowed in allowScripts) and npm 10 cannot skip', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      allowScripts: Record<string, boolean>;
    };
    expect(pkg.devDependencies['handoff-install-guard']).toBe('file:scripts/install-guard');
    expect(pkg.allowScripts['file:../scripts/install-guard']).toBe(true);
    const guardPkg = JSON.parse(readFileSync(join(root, 'scripts/install-guard/package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(guardPkg.scripts.preinstall).toBe('node check.mjs');
  });
});
