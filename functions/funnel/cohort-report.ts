// The cohort funnel: of the leads captured on the days `from`–`to`, how many went on to reach each stage,
// how long it took them (median from the capture), and the revenue they won — beside the flow funnel
// (reports.ts), which counts what happened in a period whoever it happened to. Read from the capture days'
// `cohort#…` counters (funnel-counters.ts, cohortCountersOf), which the same incremental writes keep and
// the rebuild recounts: O(days × shards) items, no lead read. A cohort keeps growing as its leads move on.
import { ValidationError } from '../platform/errors.ts';
import { mapLimit } from '../platform/map-limit.ts';
import { medianOf } from './funnel.ts';
import {
  COHORT_DIMENSIONS,
  COHORT_STAGES,
  type CohortDimension,
  type CohortStage,
  cohortKey,
} from './funnel-counters.ts';
import type { FunnelStore } from './funnel-store.ts';
import { checkRange, reportQuery, sumByValue } from './reports.ts';

type LaterStage = Exclude<CohortStage, 'captured'>;
const LATER = COHORT_STAGES.filter((s): s is LaterStage => s !== 'captured');

export interface CohortRow {
  /** `all`, or the dimension's value (`google`, `q4-demo`, `demo-request`, `(none)`). */
  key: string;
  counts: Record<CohortStage, number>;
  /** Of the leads captured, the share that reached each stage: never over 1 (null with none captured). */
  reached: Record<LaterStage, number | null>;
  /** Median hours from the capture to each stage (null with no lead there yet). */
  medianHours: Record<LaterStage, number | null>;
  revenueWon: number;
}

export interface CohortReport {
  from: string;
  to: string;
  by?: CohortDimension;
  stages: CohortStage[];
  total: CohortRow;
  /** One per value of `by` (none without it), most captured first. */
  rows: CohortRow[];
  /** Each capture day of the range: its cohort's counts. */
  days: { day: string; counts: Record<CohortStage, number> }[];
}

/** The cohort report's query: the funnel's range rules; `by` one of source, campaign, formType. */
export function cohortQuery(
  params: { from?: string | undefined; to?: string | undefined; by?: string | undefined } = {},
  now = new Date(),
): { from: string; to: string; by?: CohortDimension } {
  const by = params.by === '' ? undefined : params.by;
  if (by !== undefined && !(COHORT_DIMENSIONS as readonly string[]).includes(by))
    throw new ValidationError({ by: [`must be one of: ${COHORT_DIMENSIONS.join(', ')}`] });
  const { from, to } = reportQuery({ from: params.from, to: params.to }, now);
  return { from, to, ...(by ? { by: by as CohortDimension } : {}) };
}

const countsOf = (v: Record<string, number>) =>
  Object.fromEntries(COHORT_STAGES.map((s) => [s, v[s] ?? 0])) as Record<CohortStage, number>;

function rowOf(key: string, v: Record<string, number>): CohortRow {
  const counts = countsOf(v);
  const reached = Object.fromEntries(
    LATER.map((s) => [s, counts.captured ? Math.min(1, counts[s] / counts.captured) : null]),
  ) as Record<LaterStage, number | null>;
  const medianHours = Object.fromEntries(
    LATER.map((s) => {
      const prefix = `h:${s}:`;
      const histogram = Object.fromEntries(
        Object.entries(v)
          .filter(([a]) => a.startsWith(prefix))
          .map(([a, n]) => [Number(a.slice(prefix.length)), n]),
      );
      const seconds = medianOf(histogram);
      return [s, seconds === null ? null : Math.round((seconds / 3600) * 1e6) / 1e6];
    }),
  ) as Record<LaterStage, number | null>;
  return { key, counts, reached, medianHours, revenueWon: Math.round((v.revenueWon ?? 0) * 100) / 100 };
}

export async function cohortReport(
  { funnel }: { funnel: FunnelStore },
  q: { from: string; to: string; by?: CohortDimension },
): Promise<CohortReport> {
  const days = checkRange(q);
  const total = cohortKey('all');
  const dimension = q.by ? `${cohortKey(q.by, '')}` : undefined;
  const read = await mapLimit(days, 8, async (day) => {
    const counters = await funnel.read(day, dimension ? [total, dimension] : [total]);
    return {
      day,
      all: counters.filter((c) => c.key === total),
      rows: dimension ? counters.filter((c) => c.key.startsWith(dimension)) : [],
    };
  });
  const rows = [...sumByValue(read.flatMap((d) => d.rows)).entries()]
    .map(([k, v]) => rowOf(k, v))
    .sort(
      (a, b) =>
        b.counts.captured - a.counts.captured || b.counts.won - a.counts.won || a.key.localeCompare(b.key),
    );
  return {
    from: q.from,
    to: q.to,
    ...(q.by ? { by: q.by } : {}),
    stages: [...COHORT_STAGES],
    total: rowOf('all', sumByValue(read.flatMap((d) => d.all)).get('all') ?? {}),
    rows,
    days: read.map(({ day, all }) => ({ day, counts: countsOf(sumByValue(all).get('all') ?? {}) })),
  };
}
