import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daysBetween, RebuildRangeError, rebuildFunnel } from '#analytics/funnel-rebuild.ts';
import type { Stores } from '#functions/stores.ts';
import { root } from '#test/fixtures/root.ts';

/** Stores with no leads: the rebuild only replaces days (each replaced day is recorded). */
function emptyStores() {
  const replaced: string[] = [];
  const stores = {
    leads: {
      async *listByStage() {},
      listEvents: async () => [],
    },
    deals: { get: async () => undefined },
    funnel: {
      mark: async () => true,
      replaceDay: async (day: string) => {
        replaced.push(day);
        return { written: 0, deleted: 0 };
      },
    },
  } as unknown as Pick<Stores, 'leads' | 'deals' | 'funnel'>;
  return { stores, replaced };
}

describe('rebuildFunnel range and progress', () => {
  it('counts days with both ends included', () => {
    expect(daysBetween('2026-01-01', '2026-01-01')).toBe(1);
    expect(daysBetween('2025-01-01', '2025-12-31')).toBe(365);
  });

  it('refuses an explicit range longer than maxDays before replacing anything', async () => {
    const { stores, replaced } = emptyStores();
    await expect(
      rebuildFunnel(stores, { from: '2000-01-01', to: '2026-11-26', maxDays: 366 }),
    ).rejects.toThrow(RebuildRangeError);
    expect(replaced).toEqual([]);
  });

  it('without a cap replaces every day and reports progress every N days', async () => {
    const { stores, replaced } = emptyStores();
    const lines: string[] = [];
    const r = await rebuildFunnel(stores, {
      from: '2025-01-01',
      to: '2025-12-31',
      progressEveryDays: 100,
      log: (l) => lines.push(l),
    });
    expect(r.days).toBe(365);
    expect(replaced).toHaveLength(365);
    expect(lines.filter((l) => /… \d+ of 365 days/.test(l))).toEqual([
      '  … 100 of 365 days (2025-04-10)',
      '  … 200 of 365 days (2025-07-19)',
      '  … 300 of 365 days (2025-10-27)',
    ]);
  });
});

describe('npm run funnel:rebuild', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/funnel-rebuild.ts'), ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('refuses more than 366 days without --all (exit 2, usage)', () => {
    const run = cli(['--from', '2000-01-01', '--to', '2026-11-26', '--api', 'http://127.0.0.1:9']);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain('at most 366 are rebuilt unless you pass --all');
    expect(run.stderr).toContain('Exit codes:');
  });

  it('exits 3 when no stack answers, as npm run backtest does', () => {
    const run = cli(['--api', 'http://127.0.0.1:9', '--all']);
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toContain('No local Handoff stack answers at http://127.0.0.1:11');
  });

  it('hints at -- when npm ate the option name', () => {
    const run = cli(['2000-01-01']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('put -- before the options');
  });
});
