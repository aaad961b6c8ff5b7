// Funnel math (pure): the stages and dimensions, conversion between stages, medians from log-spaced
// histograms, Wilson score intervals and the sales-ready threshold to recommend (only one clearly better
// than the current). The counters this reads are built by funnel-counters.ts; docs/funnel.md explains the choices.

export const FUNNEL_STAGES = ['captured', 'mql', 'sql', 'assigned', 'accepted', 'won', 'lost'] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];

/** What is counted: the funnel's stages plus `stale` (a deal closed with no answer from the rep). */
export const MILESTONES = [...FUNNEL_STAGES, 'stale'] as const;
export type Milestone = (typeof MILESTONES)[number];

/** What a report may break the funnel down by (besides the total, `all`). */
export const FUNNEL_DIMENSIONS = [
  'source',
  'medium',
  'campaign',
  'formType',
  'territory',
  'rep',
  'grade',
  'band',
  'reason',
] as const;
export type FunnelDimension = (typeof FUNNEL_DIMENSIONS)[number];

export const DURATIONS = ['leadToAssigned', 'assignedToAccepted', 'acceptedToClosed'] as const;
export type DurationName = (typeof DURATIONS)[number];

/** Each stage to the next; an accepted deal ends won or lost. */
export const CONVERSIONS: readonly (readonly [FunnelStage, FunnelStage])[] = [
  ['captured', 'mql'],
  ['mql', 'sql'],
  ['sql', 'assigned'],
  ['assigned', 'accepted'],
  ['accepted', 'won'],
  ['accepted', 'lost'],
];

export interface Conversion {
  from: FunnelStage;
  to: FunnelStage;
  /** to / from in the same period (flow, not cohort: may exceed 1); null when nothing entered `from`. */
  rate: number | null;
}

export function conversions(counts: Record<FunnelStage, number>): Conversion[] {
  return CONVERSIONS.map(([from, to]) => ({
    from,
    to,
    rate: counts[from] > 0 ? round(counts[to] / counts[from]) : null,
  }));
}

/** A real UTC calendar day written YYYY-MM-DD (not 2026-02-30). */
export function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
}

// ---- Durations: log-spaced histograms (4 buckets per doubling, so a bucket spans 19 %). ----

const PER_DOUBLING = 4;

/** Bucket 0 holds [0, 1 s); bucket k ≥ 1 holds [2^((k-1)/4), 2^(k/4)) seconds. */
export function bucketOf(seconds: number): number {
  if (!(seconds >= 1)) return 0;
  return 1 + Math.floor(PER_DOUBLING * Math.log2(seconds) + 1e-9);
}

export function bucketBounds(bucket: number): [number, number] {
  if (bucket <= 0) return [0, 1];
  return [2 ** ((bucket - 1) / PER_DOUBLING), 2 ** (bucket / PER_DOUBLING)];
}

/**
 * The median (seconds) of a histogram `{ bucket: count }`: the bucket holding the middle rank, interpolated
 * within it on a log scale (linearly in bucket 0). At most half a bucket (≈ 9 %) from the true median.
 */
export function medianOf(histogram: Record<number, number>): number | null {
  const buckets = Object.entries(histogram)
    .map(([b, n]) => [Number(b), n] as const)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a - b);
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const middle = total / 2;
  let below = 0;
  for (const [bucket, n] of buckets) {
    if (below + n >= middle) {
      const fraction = (middle - below) / n;
      const [lo, hi] = bucketBounds(bucket);
      return bucket === 0 ? lo + (hi - lo) * fraction : lo * (hi / lo) ** fraction;
    }
    below += n;
  }
  return null;
}

// ---- Rates with 95 % Wilson score intervals. ----

export interface Rate {
  count: number;
  /** count / n; null when n is 0. */
  rate: number | null;
  /** The 95 % Wilson score interval: wide for a handful of cases, narrow for hundreds. */
  low: number;
  high: number;
}

export function wilson(count: number, n: number, z = 1.96): Rate {
  if (n <= 0) return { count, rate: null, low: 0, high: 1 };
  const p = Math.min(1, count / n);
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return {
    count,
    rate: round(p),
    low: round(Math.max(0, centre - half)),
    high: round(Math.min(1, centre + half)),
  };
}

// ---- Score bands and the best sales-ready threshold. ----

/** Score bands of 10: `0-9` … `80-89`, `90-100`. */
export function bandOf(total: number): string {
  const low = Math.min(90, Math.max(0, Math.floor(total / 10) * 10));
  return low === 90 ? '90-100' : `${low}-${low + 9}`;
}

export const bandLow = (band: string): number => Number(band.split('-')[0]);

export interface BandOutcome {
  band: string;
  won: number;
  /** Assignments with a known outcome: won + lost + no response. */
  closed: number;
}

export interface ThresholdRow {
  threshold: number;
  assigned: number;
  won: number;
  rate: number | null;
  low: number;
  high: number;
}

/** A threshold is recommended over the current one only with at least this many closed assignments… */
export const MIN_CLOSED_FOR_CHANGE = 30;
/** …and a 95 % Wilson lower bound of won per assignment at least this much above the current one's. */
export const MIN_LOWER_BOUND_GAIN = 0.05;

export const THRESHOLD_RULE =
  'For each band edge t, the assignments closed in the period whose lead scored ≥ t (won + lost + no response) ' +
  'and the deals won among them. The current threshold is compared as its band edge (65 → the row ≥ 60). ' +
  `Another t is recommended only when it has at least ${MIN_CLOSED_FOR_CHANGE} closed assignments and its 95 % ` +
  `Wilson lower bound of won / assigned beats the current one's by at least ${MIN_LOWER_BOUND_GAIN * 100} points ` +
  '(among those, the highest lower bound, ties to more wins, then to the nearer t); otherwise best = current, ' +
  'with the reason. Thresholds below the current one are only partly observable: only leads that reached a ' +
  'rep (high-intent forms, engagement) have outcomes there, so their rate is an optimistic guess.';

export interface ThresholdAdvice {
  /** The threshold to use: the current one unless another is clearly better (see THRESHOLD_RULE). */
  best: number;
  /** Why `best` is what it is, in a sentence an admin can read. */
  reason: string;
  table: ThresholdRow[];
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

/**
 * The threshold table at each band edge, and a recommendation: another edge only when it clearly beats the
 * current threshold (enough closed assignments, a higher Wilson lower bound by a margin), else the current.
 */
export function bestThreshold(bands: BandOutcome[], current: number): ThresholdAdvice {
  const edges = Array.from({ length: 10 }, (_, i) => i * 10);
  const table = edges.map((threshold) => {
    const above = bands.filter((b) => bandLow(b.band) >= threshold);
    const assigned = above.reduce((s, b) => s + b.closed, 0);
    const won = above.reduce((s, b) => s + b.won, 0);
    const { rate, low, high } = wilson(won, assigned);
    return { threshold, assigned, won, rate, low, high };
  });
  const total = table[0]?.assigned ?? 0;
  if (total === 0) return { best: current, reason: 'no closed deals in the period', table };
  const currentEdge = Math.min(90, Math.max(0, Math.floor(current / 10) * 10));
  const base = table.find((r) => r.threshold === currentEdge);
  const baseLow = base?.low ?? 0;
  const enough = table.filter((r) => r.assigned >= MIN_CLOSED_FOR_CHANGE);
  if (!enough.length)
    return {
      best: current,
      reason: `not enough closed deals to recommend a change (n = ${total}; at least ${MIN_CLOSED_FOR_CHANGE} needed)`,
      table,
    };
  const better = enough
    .filter((r) => r.threshold !== currentEdge && r.low >= baseLow + MIN_LOWER_BOUND_GAIN - 1e-9)
    .sort(
      (a, b) =>
        b.low - a.low ||
        b.won - a.won ||
        Math.abs(a.threshold - current) - Math.abs(b.threshold - current) ||
        a.threshold - b.threshold,
    );
  const pick = better[0];
  if (!pick)
    return {
      best: current,
      reason: `no threshold beats the current one by ${MIN_LOWER_BOUND_GAIN * 100} points of the lower bound of won per assignment (current ${pct(baseLow)}, n = ${base?.assigned ?? 0})`,
      table,
    };
  return {
    best: pick.threshold,
    reason: `≥ ${pick.threshold} wins ${pct(pick.low)} per assignment at worst (95 % lower bound, n = ${pick.assigned}) against ${pct(baseLow)} at the current threshold (n = ${base?.assigned ?? 0})`,
    table,
  };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
