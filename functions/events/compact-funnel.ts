import * as z from 'zod/mini';
import { COMPACT_DAYS, compactDay } from '#functions/funnel/funnel-compact.ts';
import { eventHandler } from '#functions/platform/event.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { appTable, type Table } from '#functions/platform/table.ts';

const count = z.int().check(z.gte(0));
/** The schedule rule's event (EventBridge "Scheduled Event"): its `time` is the scheduled instant. */
export const compactSchedule = {
  input: z.object({ 'detail-type': z.literal('Scheduled Event'), time: z.iso.datetime() }),
  output: z.object({ days: count, folded: count, deleted: count, late: count, keys: count }),
} as const;

const DAY_MS = 86_400_000;

/**
 * CompactFunnel (the daily schedule rule): folds each of the last COMPACT_DAYS closed UTC days' funnel
 * shards into one item per counter key (functions/funnel/funnel-compact.ts), so reports over long ranges
 * read a fraction of the bytes. Days one at a time; a day with nothing new costs two reads. Logs counts only.
 */
export const createHandler = (table: Table) =>
  eventHandler(compactSchedule, async ({ time }) => {
    const today = Date.parse(`${time.slice(0, 10)}T00:00:00Z`);
    const total = { days: 0, folded: 0, deleted: 0, late: 0, keys: 0 };
    let busy = 0;
    let conflicts = 0;
    for (let back = 1; back <= COMPACT_DAYS; back++) {
      const day = new Date(today - back * DAY_MS).toISOString().slice(0, 10);
      const r = await compactDay(table, day);
      if (r.busy)
        logger.warn('funnel compaction: another writer held the day; the next run takes it', { day });
      if (r.conflict)
        logger.error('funnel compaction: another writer changed the day while this run held it; stopped', {
          day,
        });
      busy += r.busy ? 1 : 0;
      conflicts += r.conflict ? 1 : 0;
      if (r.late)
        logger.warn('funnel compaction: counts written while the day was folded', { day, late: r.late });
      if (r.folded || r.deleted) total.days += 1;
      total.folded += r.folded;
      total.deleted += r.deleted;
      total.late += r.late;
      total.keys += r.keys;
    }
    metrics.addMetric('FunnelShardsCompacted', 'Count', total.folded);
    metrics.addMetric('FunnelDaysBusy', 'Count', busy);
    // Should stay 0: a lease run out under a stalled writer, or writers' clocks minutes apart (day-lease.ts).
    metrics.addMetric('FunnelCompactionConflicts', 'Count', conflicts);
    logger.info('funnel compacted', { ...total, busy, conflicts });
    return total;
  });

export const handler = createHandler(appTable());
