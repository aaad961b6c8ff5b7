import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { demoOptions, tagged, USAGE } from '#scripts/demo.ts';
import { root } from '#test/fixtures/root.ts';

const demo = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('npm run demo options', () => {
  it('prints the usage for --help (exit 0) and for an unknown option (exit 2), without a stack trace', () => {
    const help = demo(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: npm run demo');
    const bad = demo(['--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    expect(bad.stderr).toContain('Usage: npm run demo');
    expect(bad.stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at /);
  });

  it('documents what happens to a stack it starts itself, and the exit codes', () => {
    expect(USAGE).toMatch(/removes the folder[\s\S]*Ctrl-C/);
    expect(USAGE).toContain('Exit codes:');
  });

  it('tags the emails with a new random id each run, so a second demo the same day starts new runs', () => {
    const a = demoOptions([]).tag;
    const b = demoOptions([]).tag;
    expect(a).toMatch(/^[0-9a-f]{4}$/);
    expect(a).not.toBe(b);
    const email = 'maria.garcia@northwind-logistics.com';
    expect(tagged(email, a)).toBe(`maria.garcia.${a}@northwind-logistics.com`);
    expect(leadIdFor(tagged(email, a))).not.toBe(leadIdFor(email));
    expect(leadIdFor(tagged(email, a))).not.toBe(leadIdFor(tagged(email, b)));
    expect(demoOptions(['--tag', 'Run7']).tag).toBe('run7');
  });

  it.each([
    [['--tag', 'a+b']],
    [['--tag', '']],
    [['--api', 'nope']],
    [['--timeout', '0']],
    [['--own', '--api', 'http://127.0.0.1:3000']],
  ])('refuses %j', (args) => {
    expect(() => demoOptions(args)).toThrow();
  });
});
