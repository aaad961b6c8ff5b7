import { describe, expect, it } from 'vitest';
import { linkLifetimeProblems, linkLifetimes, waitsOf } from '#functions/config/link-lifetimes.ts';
import { ConfigError, parseConfig } from '#functions/config/schema.ts';
import { config } from '#test/fixtures/config.ts';

const DAY = 86_400;
const raw = () =>
  structuredClone({ app: config.app, nurture: config.nurture, reps: config.reps, scoring: config.scoring });

describe('link lifetimes, derived from the waits they serve', () => {
  it('gives the accept link the acceptance wait, and won/lost the acceptance and outcome waits, plus the margin', () => {
    const life = linkLifetimes(config);
    const { acceptance, outcome } = waitsOf(config);
    const margin = config.app.links.marginDays * DAY;
    expect(acceptance).toBe(config.reps.sla.acceptWithinHours * 3600);
    expect(outcome).toBe(config.reps.sla.closeWithinDays * DAY);
    expect(life.accept).toBe(acceptance + margin);
    expect(life.outcome).toBe(acceptance + outcome + margin);
    // The repo's config: a 90-day outcome wait, so a won link outlives 90 days (it was 14 days before).
    expect(life.outcome).toBeGreaterThan(90 * DAY);
    expect(life.unsubscribe).toBe(config.app.data.leadRetentionDays * DAY);
  });

  it.each([
    [1, 1],
    [24, 90],
    [336, 365],
  ])('never ends before its wait (SLA %i h, outcome %i days)', (acceptWithinHours, closeWithinDays) => {
    const c = raw();
    c.reps.sla = { ...c.reps.sla, acceptWithinHours, closeWithinDays };
    c.app.data = { ...c.app.data, leadRetentionDays: 3650 };
    const parsed = parseConfig(c);
    const life = linkLifetimes(parsed);
    expect(life.accept).toBeGreaterThanOrEqual(acceptWithinHours * 3600);
    expect(life.outcome).toBeGreaterThanOrEqual(acceptWithinHours * 3600 + closeWithinDays * DAY);
    expect(linkLifetimeProblems(parsed)).toEqual([]);
  });

  it('refuses a lead retention shorter than a deal’s waits: the lead (and its links) would die mid-wait', () => {
    const c = raw();
    c.reps.sla = { ...c.reps.sla, closeWithinDays: 120 };
    c.app.data = { ...c.app.data, leadRetentionDays: 60 };
    expect(() => parseConfig(c)).toThrow(ConfigError);
    expect(() => parseConfig(c)).toThrow(/data\.leadRetentionDays: must be at least 123/);
  });

  it('no longer takes links.ttlDays: a lifetime set on its own could drift from its wait again', () => {
    expect(config.app.links).not.toHaveProperty('ttlDays');
    expect(config.app.links.marginDays).toBeGreaterThanOrEqual(1);
  });
});
