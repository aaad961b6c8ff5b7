import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configChecks } from '#scripts/preflight.ts';
import { config } from '#test/fixtures/config.ts';
import { root } from '#test/fixtures/root.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const preflight = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/preflight.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

/** The shipped config with this deployment's own sender, pages and reps. */
function ownConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-preflight-test-'));
  dirs.push(dir);
  cpSync(join(root, 'config'), dir, { recursive: true });
  const app = JSON.parse(readFileSync(join(dir, 'app.json'), 'utf8'));
  app.sender.fromAddress = 'hello@acme-robotics.com';
  app.forms.thankYouUrl = 'https://www.acme-robotics.com/thanks';
  app.forms.allowedOrigins = ['https://www.acme-robotics.com'];
  app.links.clickAllowedHosts = ['www.acme-robotics.com'];
  writeFileSync(join(dir, 'app.json'), JSON.stringify(app));
  const reps = JSON.parse(readFileSync(join(dir, 'reps.json'), 'utf8'));
  for (const r of reps.reps) r.email = r.email.replace(/@.*/, '@acme-robotics.com');
  writeFileSync(join(dir, 'reps.json'), JSON.stringify(reps));
  return dir;
}

describe('npm run preflight', () => {
  it('blocks the shipped, local-only configuration, naming each field to change', () => {
    const blocks = configChecks(config)
      .filter((c) => c.level === 'block')
      .map((c) => c.what);
    expect(blocks).toEqual([
      expect.stringMatching(/^app\.json sender\.fromAddress: handoff\.example is a reserved domain/),
      expect.stringMatching(
        /^app\.json forms\.thankYouUrl: http:\/\/127\.0\.0\.1:3001 is not a public https/,
      ),
      expect.stringMatching(/^app\.json forms\.allowedOrigins: no public https origin/),
      expect.stringMatching(/^reps\.json: 6 of 6 reps have addresses at reserved domains/),
    ]);
  });

  it('passes a deployment’s own configuration (exit 0) and lists what only the account can do', () => {
    const run = preflight(['--config', ownConfigDir(), '--no-synth']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('✓ sender domain acme-robotics.com');
    expect(run.stdout).toMatch(/DKIM CNAME records of the outputs SenderDkimRecord1\.\.3/);
    expect(run.stdout).toMatch(/0 blocking, 0 warnings\n$/);
  });

  it('says which file is broken (exit 1) and answers a bad option with the usage (exit 2), no stack trace', () => {
    const dir = ownConfigDir();
    writeFileSync(join(dir, 'nurture.json'), '{ not json');
    const broken = preflight(['--config', dir, '--no-synth']);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(
      /✗ Invalid configuration:\n\s+config\/nurture\.json: \(file\): not valid JSON/,
    );
    const bad = preflight(['--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('usage: npm run preflight');
    expect(bad.stderr + bad.stdout).not.toMatch(/\n\s+at /);
  });
});
