// The funnel rebuild behind `npm run funnel:rebuild`: recomputes every counter from the leads (each stage
// through the stage index, their timelines and their deals), writes any marker that is missing, and
// replaces each day's counters with the recomputed ones. Idempotent: a second run writes the same items.
import { config } from '../functions/config/bundled.ts';
import { allCountersOf, type CounterItems, sumInto } from '../functions/funnel/funnel-counters.ts';
import { LEAD_STAGES } from '../functions/lead/lead-stage.ts';
import { gradeFor } from '../functions/lead/scoring.ts';
import type { LeadRecord, Stores } from '../functions/stores.ts';
import { type HistoryDeal, milestonesFromHistory } from './funnel-history.ts';

export interface RebuildOptions {
  /** First day to replace (default: the first day any lead's milestones fall on). Earlier days are left alone. */
  from?: string;
  /** Last day to replace (default: today, UTC). */
  to?: string;
  /** Progress lines, as the rebuild goes. */
  log?: (line: string) => void;
  /**
   * At most this many days are replaced (default: no cap). An explicit `from` … `to` longer than that is a
   * `RebuildRangeError` before anything is read; without `from`, only the last `maxDays` days up to `to` are
   * replaced (earlier days are left as they are, and the log says so).
   */
  maxDays?: number;
  /** Days replaced between two progress lines of the writing phase (default 100). */
  progressEveryDays?: number;
  now?: Date;
}

/** The days asked for are more than `maxDays`. */
export class RebuildRangeError extends Error {
  override name = 'RebuildRangeError';
}

const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;
/** Days from `first` to `last`, both included. */
export const daysBetween = (first: string, last: string) => dayNumber(last) - dayNumber(first) + 1;

export interface RebuildResult {
  leads: number;
  milestones: number;
  markersWritten: number;
  days: number;
  itemsWritten: number;
  itemsDeleted: number;
}

const DAY_MS = 86_400_000;
const CONCURRENCY = 8;

export async function rebuildFunnel(
  { leads, deals, funnel }: Pick<Stores, 'leads' | 'deals' | 'funnel'>,
  {
    from,
    to,
    log = () => undefined,
    maxDays,
    progressEveryDays = 100,
    now = new Date(),
  }: RebuildOptions = {},
): Promise<RebuildResult> {
  const last = to ?? now.toISOString().slice(0, 10);
  if (from && maxDays !== undefined && daysBetween(from, last) > maxDays) {
    throw new RebuildRangeError(
      `${from} … ${last} is ${daysBetween(from, last).toLocaleString('en-US')} days; at most ${maxDays} are rebuilt at once`,
    );
  }
  const byDay = new Map<string, CounterItems>();
  const seen = new Set<string>();
  const result: RebuildResult = {
    leads: 0,
    milestones: 0,
    markersWritten: 0,
    days: 0,
    itemsWritten: 0,
    itemsDeleted: 0,
  };
  const gradeOf = (total: number) => gradeFor(total, config.scoring);

  async function count(lead: LeadRecord) {
    const events = await leads.listEvents(lead.id);
    const dealIds = new Set(
      events.map((e) => e.data?.dealId).filter((d): d is string => typeof d === 'string'),
    );
    const dealsById = new Map<string, HistoryDeal>();
    for (const id of dealIds) {
      const deal = await deals.get(id);
      if (deal) dealsById.set(id, deal);
    }
    for (const m of milestonesFromHistory(lead, events, dealsById, { reps: config.reps, gradeOf })) {
      // A marker the incremental path wrote stays as it is; a missing one is written, so a later step of a
      // run in flight does not count this milestone a second time.
      const written = await funnel.mark(lead.id, m.marker, {
        at: m.event.at,
        ...(m.facts ? { facts: m.facts } : {}),
      });
      if (written) result.markersWritten += 1;
      for (const { day, items } of allCountersOf(m.event))
        byDay.set(day, sumInto(byDay.get(day) ?? {}, items));
      result.milestones += 1;
    }
  }

  // A few leads at a time: each is a Query, a Get per deal and a conditional write per milestone.
  const inFlight = new Set<Promise<void>>();
  for (const stage of LEAD_STAGES) {
    let inStage = 0;
    for await (const lead of leads.listByStage(stage)) {
      // A lead that moved stage while we listed may show up twice: count it once.
      if (seen.has(lead.id)) continue;
      seen.add(lead.id);
      const counting: Promise<void> = count(lead).finally(() => inFlight.delete(counting));
      inFlight.add(counting);
      if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
      inStage += 1;
      result.leads += 1;
      if (result.leads % 500 === 0) log(`  … ${result.leads} leads`);
    }
    await Promise.all(inFlight);
    if (inStage) log(`${stage}: ${inStage} ${inStage === 1 ? 'lead' : 'leads'}`);
  }

  const computedDays = [...byDay.keys()].sort();
  let first = from ?? computedDays[0];
  if (!first) {
    log('No funnel milestones found: nothing to write.');
    return result;
  }
  if (maxDays !== undefined && daysBetween(first, last) > maxDays) {
    const capped = new Date(Date.parse(`${last}T00:00:00Z`) - (maxDays - 1) * DAY_MS)
      .toISOString()
      .slice(0, 10);
    log(
      `The milestones go back to ${first}: only the last ${maxDays} days (${capped} … ${last}) are replaced, ` +
        'earlier days are left as they are',
    );
    first = capped;
  }
  const total = Math.max(0, daysBetween(first, last));
  log(
    `Counted ${result.milestones} milestones of ${result.leads} leads; writing ${first} … ${last} (${total} ${total === 1 ? 'day' : 'days'})`,
  );
  for (let t = Date.parse(`${first}T00:00:00Z`); ; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day > last) break;
    const { written, deleted } = await funnel.replaceDay(day, byDay.get(day) ?? {});
    result.days += 1;
    result.itemsWritten += written;
    result.itemsDeleted += deleted;
    if (written || deleted) log(`  ${day}: ${written} counter items${deleted ? `, ${deleted} removed` : ''}`);
    if (result.days % progressEveryDays === 0) log(`  … ${result.days} of ${total} days (${day})`);
  }
  return result;
}
