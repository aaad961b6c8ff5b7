// Funnel and scoring-feedback reports from the day × dimension counters (docs/funnel.md). A report reads
// each day once (its counter shards and per-value items): O(days × shards) items, never a lead. Used by
// GET /admin/funnel, GET /admin/scoring-feedback and the console.
import { config } from '../config/bundled.ts';
import { RATINGS, type Rating } from '../lead/deal-vocabulary.ts';
import { ValidationError } from '../platform/errors.ts';
import { mapLimit } from '../platform/map-limit.ts';
import {
  bandLow,
  bestThreshold,
  type Conversion,
  conversions,
  DURATIONS,
  type DurationName,
  FUNNEL_DIMENSIONS,
  FUNNEL_STAGES,
  type FunnelDimension,
  type FunnelStage,
  isDay,
  medianOf,
  type Rate,
  THRESHOLD_RULE,
  type ThresholdRow,
  wilson,
} from './funnel.ts';
import type { FunnelCounter, FunnelStore } from './funnel-store.ts';

/** The ratings reps gave, from a counter item's `rated:<rating>` numbers. */
export const ratingsOf = (v: Record<string, number>): Record<Rating, number> =>
  Object.fromEntries(RATINGS.map((r) => [r, v[`rated:${r}`] ?? 0])) as Record<Rating, number>;

export type { Conversion, FunnelDimension, FunnelStage, Rate, ThresholdRow };

export type StageCounts = Record<FunnelStage, number>;

export interface FunnelRow {
  /** `all`, or the dimension's value (`google`, `rep-ava`, `60-69`, `(none)`). */
  key: string;
  counts: StageCounts & { stale: number };
  conversion: Conversion[];
  medianHours: Record<DurationName, number | null>;
  revenueWon: number;
  lostReasons: Record<string, number>;
  /** Wins of leads a "not now" loss had sent back to nurture. */
  recycledWon: number;
}

export interface FunnelReport {
  from: string;
  to: string;
  by?: FunnelDimension;
  stages: FunnelStage[];
  total: FunnelRow;
  /** One per value of `by` (none without it), most captured first. */
  rows: FunnelRow[];
  /** Every day of the range, in order, with the total's stage counts. */
  days: { day: string; counts: StageCounts }[];
}

export interface OutcomeRates {
  key: string;
  /** Deals closed in the period: won + lost + no response (stale). */
  closed: number;
  won: Rate;
  lost: Rate;
  noResponse: Rate;
  /** Reps' ratings given with their answers in the period (accept, won, lost: each answer once). */
  ratings: Record<Rating, number>;
}

export interface ScoringFeedback {
  from: string;
  to: string;
  byGrade: OutcomeRates[];
  byBand: OutcomeRates[];
  byReason: OutcomeRates[];
  threshold: {
    current: number;
    /** The current threshold unless another is clearly better; `reason` says why. */
    best: number;
    reason: string;
    rule: string;
    table: ThresholdRow[];
  };
}

const DAY_MS = 86_400_000;
export const MAX_REPORT_DAYS = 366;
export const DEFAULT_REPORT_DAYS = 30;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The report range from query parameters: `from`/`to` are UTC days (YYYY-MM-DD), both inclusive, default
 * the last 30 days up to today; `by` one of the dimensions. Throws ValidationError (400) naming the field.
 */
export function reportQuery(
  params: { from?: string | undefined; to?: string | undefined; by?: string | undefined } = {},
  now = new Date(),
): { from: string; to: string; by?: FunnelDimension } {
  const to = params.to ?? dayOf(now.getTime());
  // Without `from` (and with a bad `to`), only `to` is reported: the default `from` is not the admin's.
  if (params.from === undefined && !isDay(to))
    checkRange({ from: dayOf(now.getTime()), to, by: params.by || undefined });
  const from = params.from ?? dayOf(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_REPORT_DAYS - 1) * DAY_MS);
  const by = params.by === '' ? undefined : params.by;
  checkRange({ from, to, by });
  return { from, to, ...(by ? { by: by as FunnelDimension } : {}) };
}

/** The days from `from` to `to`, both included; throws ValidationError for a bad range. */
export function checkRange({
  from,
  to,
  by,
}: {
  from: string;
  to: string;
  by?: string | undefined;
}): string[] {
  const errors: Record<string, string[]> = {};
  const dayError = (v: string) =>
    v === ''
      ? 'must be a date as YYYY-MM-DD (it is empty)'
      : `must be a date as YYYY-MM-DD, not ${JSON.stringify(v.slice(0, 40))}`;
  if (!isDay(from)) errors.from = [dayError(from)];
  if (!isDay(to)) errors.to = [dayError(to)];
  if (by !== undefined && !(FUNNEL_DIMENSIONS as readonly string[]).includes(by))
    errors.by = [`must be one of: ${FUNNEL_DIMENSIONS.join(', ')}`];
  if (!errors.from && !errors.to) {
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
    if (span < 1) errors.from = ['must not be after to'];
    // A range of at most MAX_REPORT_DAYS days, both ends included: `to` at most 365 days after `from`.
    else if (span > MAX_REPORT_DAYS)
      errors.to = [
        `must be at most ${MAX_REPORT_DAYS - 1} days after from (a range of at most ${MAX_REPORT_DAYS} days)`,
      ];
  }
  if (Object.keys(errors).length) throw new ValidationError(errors);
  const start = Date.parse(`${from}T00:00:00Z`);
  const days: string[] = [];
  for (let t = start; dayOf(t) <= to; t += DAY_MS) days.push(dayOf(t));
  return days;
}

/** Sums counter items by value (the key after `<dimension>#`). */
export function sumByValue(items: FunnelCounter[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const { key, values } of items) {
    const value = key.slice(key.indexOf('#') + 1);
    const into = out.get(value) ?? {};
    for (const [a, n] of Object.entries(values)) into[a] = (into[a] ?? 0) + n;
    out.set(value, into);
  }
  return out;
}

const stageCounts = (v: Record<string, number>): StageCounts =>
  Object.fromEntries(FUNNEL_STAGES.map((s) => [s, v[s] ?? 0])) as StageCounts;

function rowOf(key: string, v: Record<string, number>): FunnelRow {
  const counts = { ...stageCounts(v), stale: v.stale ?? 0 };
  const medianHours = Object.fromEntries(
    DURATIONS.map((name) => {
      const prefix = `h:${name}:`;
      const histogram = Object.fromEntries(
        Object.entries(v)
          .filter(([a]) => a.startsWith(prefix))
          .map(([a, n]) => [Number(a.slice(prefix.length)), n]),
      );
      const seconds = medianOf(histogram);
      // Hours to 6 decimals (0.0036 s): a sub-second median stays above 0.
      return [name, seconds === null ? null : Math.round((seconds / 3600) * 1e6) / 1e6];
    }),
  ) as Record<DurationName, number | null>;
  const lostReasons = Object.fromEntries(
    Object.entries(v)
      .filter(([a]) => a.startsWith('lost:'))
      .map(([a, n]) => [a.slice('lost:'.length), n]),
  );
  return {
    key,
    counts,
    conversion: conversions(counts),
    medianHours,
    revenueWon: Math.round((v.revenueWon ?? 0) * 100) / 100,
    lostReasons,
    recycledWon: v.recycledWon ?? 0,
  };
}

const byVolume = (a: FunnelRow, b: FunnelRow) =>
  b.counts.captured - a.counts.captured ||
  b.counts.assigned - a.counts.assigned ||
  b.counts.won - a.counts.won ||
  a.key.localeCompare(b.key);

/** Counts by stage and conversion between stages for the days from `from` to `to`, optionally by a dimension. */
export async function funnelReport(
  { funnel }: { funnel: FunnelStore },
  q: { from: string; to: string; by?: FunnelDimension },
): Promise<FunnelReport> {
  const days = checkRange(q);
  const read = await mapLimit(days, 8, async (day) => {
    const counters = await funnel.read(day, q.by ? ['all#', `${q.by}#`] : ['all#']);
    return {
      day,
      all: counters.filter((c) => c.key.startsWith('all#')),
      rows: q.by ? counters.filter((c) => c.key.startsWith(`${q.by}#`)) : [],
    };
  });
  const total = sumByValue(read.flatMap((d) => d.all)).get('all') ?? {};
  const rows = q.by
    ? [...sumByValue(read.flatMap((d) => d.rows)).entries()].map(([k, v]) => rowOf(k, v)).sort(byVolume)
    : [];
  return {
    from: q.from,
    to: q.to,
    ...(q.by ? { by: q.by } : {}),
    stages: [...FUNNEL_STAGES],
    total: rowOf('all', total),
    rows,
    days: read.map(({ day, all }) => ({ day, counts: stageCounts(sumByValue(all).get('all') ?? {}) })),
  };
}

function outcomeRates(key: string, v: Record<string, number>): OutcomeRates {
  const [won, lost, stale] = [v.won ?? 0, v.lost ?? 0, v.stale ?? 0];
  const closed = won + lost + stale;
  return {
    key,
    closed,
    won: wilson(won, closed),
    lost: wilson(lost, closed),
    noResponse: wilson(stale, closed),
    ratings: ratingsOf(v),
  };
}

/**
 * Every configured grade in grade order (A, B, …: highest minimum first), with `closed: 0` for one no
 * closed deal had; then any other grade the counters hold (from an older configuration), by name.
 */
function gradeRows(rows: OutcomeRates[]): OutcomeRates[] {
  const configured = [...config.scoring.grades].sort((a, b) => b.min - a.min).map((g) => g.grade);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const others = rows.filter((r) => !configured.includes(r.key)).sort((a, b) => a.key.localeCompare(b.key));
  return [...configured.map((g) => byKey.get(g) ?? outcomeRates(g, {})), ...others];
}

/**
 * Won, lost and no-response rates (each with its count and 95 % Wilson interval) of the deals closed in the
 * period, by the grade, score band and scoring reasons their lead had; and the sales-ready threshold to use
 * (another than the current only when clearly better, with the reason).
 */
export async function scoringFeedbackReport(
  { funnel }: { funnel: FunnelStore },
  q: { from: string; to: string },
): Promise<ScoringFeedback> {
  const days = checkRange(q);
  const prefixes = ['grade#', 'band#', 'reason#'];
  const read = await mapLimit(days, 8, async (day) => {
    const counters = await funnel.read(day, prefixes);
    return prefixes.map((p) => counters.filter((c) => c.key.startsWith(p)));
  });
  const [grades, bands, reasons] = [0, 1, 2].map((i) => sumByValue(read.flatMap((d) => d[i] ?? [])));
  const rates = (m: Map<string, Record<string, number>> | undefined) =>
    [...(m ?? new Map<string, Record<string, number>>()).entries()].map(([k, v]) => outcomeRates(k, v));
  const byBand = rates(bands).sort((a, b) => bandLow(a.key) - bandLow(b.key));
  const current = config.scoring.thresholds.salesReady;
  const { best, reason, table } = bestThreshold(
    byBand.map((b) => ({ band: b.key, won: b.won.count, closed: b.closed })),
    current,
  );
  return {
    from: q.from,
    to: q.to,
    byGrade: gradeRows(rates(grades)),
    byBand,
    byReason: rates(reasons).sort((a, b) => b.closed - a.closed || a.key.localeCompare(b.key)),
    threshold: { current, best, reason, rule: THRESHOLD_RULE, table },
  };
}
