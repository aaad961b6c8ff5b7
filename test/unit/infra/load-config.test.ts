import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#functions/config/schema.ts';
import { loadConfig } from '#infra/load-config.ts';
import { root } from '#test/fixtures/root.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests poke arbitrary paths of the JSON files
type Json = any;

const real = join(root, 'config');
function withEdited(file: string, edit: (json: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-config-'));
  cpSync(real, dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  edit(json);
  writeFileSync(join(dir, file), JSON.stringify(json));
  return dir;
}
const messageOf = (dir: string) => {
  try {
    loadConfig(dir);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return 'valid';
};

describe('configuration validation (run by cdk synth)', () => {
  it('accepts the shipped configuration', () => {
    expect(messageOf(real)).toBe('valid');
  });

  it.each([
    ['reps.json', (c: Json) => (c.reps[0].email = 'nope'), 'config/reps.json: reps.0.email:'],
    [
      'reps.json',
      (c: Json) => c.reps.push({ ...c.reps[0] }),
      'config/reps.json: reps.6.id: duplicate rep id',
    ],
    [
      'reps.json',
      (c: Json) => (c.territories[0].team = 'ghosts'),
      'config/reps.json: territories.0.team: no rep is in team "ghosts"',
    ],
    [
      'scoring.json',
      (c: Json) => (c.thresholds.disqualifyBelow = 90),
      'config/scoring.json: thresholds.disqualifyBelow: must be below',
    ],
    [
      'scoring.json',
      (c: Json) => (c.negative.spamPatterns = ['(']),
      'config/scoring.json: negative.spamPatterns.0: is not a valid regular expression',
    ],
    [
      'nurture.json',
      (c: Json) => (c.businessHours.defaultTimeZone = 'Mars/Base'),
      'config/nurture.json: businessHours.defaultTimeZone: is not an IANA time zone',
    ],
    ['app.json', (c: Json) => delete c.sender.postalAddress, 'config/app.json: sender.postalAddress:'],
    [
      'nurture.json',
      (c: Json) => (c.doubleOptIn = { enabled: true, confirmWithinDays: 31 }),
      'config/nurture.json: doubleOptIn.confirmWithinDays:',
    ],
  ])('names the file, field and problem for a bad %s', (file, edit, expected) => {
    expect(messageOf(withEdited(file, edit))).toContain(expected);
  });

  it('turns double opt-in on with `enabled` alone: a week to confirm', () => {
    const dir = withEdited('nurture.json', (c: Json) => (c.doubleOptIn = { enabled: true }));
    expect(loadConfig(dir).nurture.doubleOptIn).toEqual({ enabled: true, confirmWithinDays: 7 });
    expect(loadConfig(real).nurture.doubleOptIn).toEqual({ enabled: false, confirmWithinDays: 7 });
  });

  it('reports a file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-config-'));
    cpSync(real, dir, { recursive: true });
    writeFileSync(join(dir, 'nurture.json'), '{ steps: ');
    expect(messageOf(dir)).toMatch(/config\/nurture.json: \(file\): not valid JSON/);
  });
});
