// The AWS cost model of one lead's journey. Pure: counts and prices in, dollars out.
// Assumptions, each also in docs/cost.md:
// - List prices, no free tier (Step Functions 4,000 transitions, Lambda 1M requests and 400,000 GB-s,
//   Scheduler 14M invocations a month are ignored), so the figures are an upper bound at small volume.
// - Only what a run itself drives is priced: Step Functions, Lambda, DynamoDB request units, SES and
//   (for the alternatives) Express and EventBridge Scheduler. CloudWatch Logs/metrics, X-Ray, API
//   Gateway, data transfer and DynamoDB storage are not included.
// - DynamoDB units are request units (on-demand): the caller passes units, not calls.
// - Express duration is passed in already rounded to the billing increment and memory (64 MB blocks).

/** One price per billed unit, in USD (a flattened config/prices.json). */
export interface Prices {
  standardPerTransition: number;
  expressPerRequest: number;
  expressPerGbSecond: number;
  lambdaPerRequest: number;
  lambdaPerGbSecond: number;
  dynamoPerWriteUnit: number;
  dynamoPerReadUnit: number;
  sesPerEmail: number;
  schedulerPerInvocation: number;
}

/** What one lead on one path consumes. */
export interface PathCounts {
  transitions: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  dynamoWrites: number;
  dynamoReads: number;
  emails: number;
  schedulerInvocations?: number;
  expressRequests?: number;
  expressGbSeconds?: number;
}

export interface CostBreakdown {
  transitions: number;
  lambda: number;
  dynamo: number;
  ses: number;
  scheduler: number;
  express: number;
  total: number;
}

export class CostInputError extends Error {
  override name = 'CostInputError';
}

/** Cost in USD of one lead on a path. */
export const pathCost = (c: PathCounts, p: Prices): CostBreakdown => {
  for (const [k, v] of Object.entries(c)) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0))
      throw new CostInputError(`${k} must be a number ≥ 0, got ${v}`);
  }
  const parts = {
    transitions: c.transitions * p.standardPerTransition,
    lambda: c.lambdaInvocations * p.lambdaPerRequest + c.lambdaGbSeconds * p.lambdaPerGbSecond,
    dynamo: c.dynamoWrites * p.dynamoPerWriteUnit + c.dynamoReads * p.dynamoPerReadUnit,
    ses: c.emails * p.sesPerEmail,
    scheduler: (c.schedulerInvocations ?? 0) * p.schedulerPerInvocation,
    express:
      (c.expressRequests ?? 0) * p.expressPerRequest + (c.expressGbSeconds ?? 0) * p.expressPerGbSecond,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { ...parts, total };
};

/** The same breakdown for 1,000 leads. */
export const per1000 = (b: CostBreakdown): CostBreakdown =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v * 1000])) as unknown as CostBreakdown;

/** Weights per path must be ≥ 0, name known paths and sum to 1 (±0.001); rejected otherwise, not normalised. */
export const checkMix = (mix: Record<string, number>, paths: readonly string[]): void => {
  const entries = Object.entries(mix);
  if (entries.length === 0) throw new CostInputError('the mix names no path');
  for (const [path, w] of entries) {
    if (!paths.includes(path))
      throw new CostInputError(`unknown path "${path}" (known: ${paths.join(', ')})`);
    if (!Number.isFinite(w) || w < 0) throw new CostInputError(`weight of ${path} must be ≥ 0, got ${w}`);
  }
  const sum = entries.reduce((a, [, w]) => a + w, 0);
  if (Math.abs(sum - 1) > 0.001) throw new CostInputError(`weights must sum to 1, they sum to ${sum}`);
};

/** Weighted cost of one lead over a mix of paths (each path's cost × its weight). */
export const mixCost = (costs: Record<string, CostBreakdown>, mix: Record<string, number>): CostBreakdown => {
  checkMix(mix, Object.keys(costs));
  const out: CostBreakdown = {
    transitions: 0,
    lambda: 0,
    dynamo: 0,
    ses: 0,
    scheduler: 0,
    express: 0,
    total: 0,
  };
  for (const [path, w] of Object.entries(mix)) {
    const c = costs[path] as CostBreakdown;
    for (const k of Object.keys(out) as (keyof CostBreakdown)[]) out[k] += c[k] * w;
  }
  return out;
};

/**
 * (a) Capture & score as an Express sub-workflow called from the Standard run.
 * `moved` Standard states run in Express instead; the Standard run gains `added` states (the Task that
 * starts the sub-workflow synchronously). With today's merged "Capture & score lead" the honest numbers
 * are moved 1, added 1: "Route lead" must stay in the Standard run because it branches it. The Lambda
 * invocation and its DynamoDB units are the same either way. One Express request per run that reaches
 * capture; `expressGbSeconds` is the sub-workflow's billed duration × memory.
 */
export const withExpressCapture = (
  c: PathCounts,
  o: { moved: number; added: number; expressGbSeconds: number },
): PathCounts => {
  if (o.moved > c.transitions) throw new CostInputError('cannot move more transitions than the path has');
  return {
    ...c,
    transitions: c.transitions - o.moved + o.added,
    expressRequests: (c.expressRequests ?? 0) + 1,
    expressGbSeconds: (c.expressGbSeconds ?? 0) + o.expressGbSeconds,
  };
};

/**
 * (b) EventBridge Scheduler for the nurture timers. Each nurture wait ended by its timer (an email due) is a
 * round of `transitionsPerRound` Standard states (Nurture … Wait for a signal or the next send) and 2 Lambda
 * invocations (the Nurture step and the wait's Task); with Scheduler it is 1 Scheduler invocation that
 * invokes 1 Lambda (which sends the email). DynamoDB units are assumed unchanged (the same reads and writes
 * move into the scheduled Lambda). Not priced: how signals would reach a lead between emails without a
 * parked run (a redesign, not a price).
 */
export const withSchedulerWaits = (
  c: PathCounts,
  o: { rounds: number; transitionsPerRound: number; gbSecondsPerInvocation: number },
): PathCounts => {
  const n = o.rounds;
  if (o.transitionsPerRound * n > c.transitions || 2 * n > c.lambdaInvocations)
    throw new CostInputError('more timer rounds than the path has states or invocations for');
  return {
    ...c,
    transitions: c.transitions - o.transitionsPerRound * n,
    lambdaInvocations: c.lambdaInvocations - 2 * n + n,
    lambdaGbSeconds: Math.max(0, c.lambdaGbSeconds - n * o.gbSecondsPerInvocation),
    schedulerInvocations: (c.schedulerInvocations ?? 0) + n,
  };
};
