import { describe, expect, it } from 'vitest';
import {
  CostInputError,
  mixCost,
  type PathCounts,
  type Prices,
  pathCost,
  per1000,
  withExpressCapture,
  withSchedulerWaits,
} from '#analytics/cost.ts';

// Round numbers so the expected costs are computed by hand.
const prices: Prices = {
  standardPerTransition: 0.025 / 1000,
  expressPerRequest: 1 / 1e6,
  expressPerGbSecond: 0.00001667,
  lambdaPerRequest: 0.2 / 1e6,
  lambdaPerGbSecond: 0.0000133334,
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
  sesPerEmail: 0.1 / 1000,
  schedulerPerInvocation: 1 / 1e6,
};
const tiny: PathCounts = {
  transitions: 2,
  lambdaInvocations: 1,
  lambdaGbSeconds: 0.5,
  dynamoWrites: 4,
  dynamoReads: 8,
  emails: 1,
};

describe('pathCost', () => {
  it('prices a tiny path by hand', () => {
    const c = pathCost(tiny, prices);
    // 2 × 0.000025 = 0.00005; 0.0000002 + 0.5 × 0.0000133334 = 0.0000068667; 4 × 0.000000625 +
    // 8 × 0.000000125 = 0.0000035; 1 × 0.0001
    expect(c.transitions).toBeCloseTo(0.00005, 12);
    expect(c.lambda).toBeCloseTo(0.0000068667, 12);
    expect(c.dynamo).toBeCloseTo(0.0000035, 12);
    expect(c.ses).toBeCloseTo(0.0001, 12);
    expect(c.total).toBeCloseTo(0.0001603667, 12);
    expect(per1000(c).total).toBeCloseTo(0.1603667, 9);
  });

  it('prices Express and Scheduler counts when present', () => {
    const c = pathCost(
      { ...tiny, expressRequests: 1, expressGbSeconds: 0.0125, schedulerInvocations: 4 },
      prices,
    );
    expect(c.express).toBeCloseTo(0.000001 + 0.0125 * 0.00001667, 12);
    expect(c.scheduler).toBeCloseTo(0.000004, 12);
  });

  it('rejects negative or non-finite counts', () => {
    expect(() => pathCost({ ...tiny, emails: -1 }, prices)).toThrow(CostInputError);
    expect(() => pathCost({ ...tiny, dynamoReads: Number.NaN }, prices)).toThrow(CostInputError);
  });
});

describe('mixCost', () => {
  const costs = { a: pathCost({ ...tiny, emails: 0 }, prices), b: pathCost({ ...tiny, emails: 10 }, prices) };

  it('weights each path by its share', () => {
    const m = mixCost(costs, { a: 0.25, b: 0.75 });
    expect(m.total).toBeCloseTo(0.25 * costs.a.total + 0.75 * costs.b.total, 12);
    expect(m.ses).toBeCloseTo(0.75 * 10 * 0.0001, 12);
  });

  it('rejects weights that do not sum to 1 (no normalising), negative weights and unknown paths', () => {
    expect(() => mixCost(costs, { a: 0.5, b: 0.6 })).toThrow(/sum to 1/);
    expect(() => mixCost(costs, { a: 1 })).not.toThrow();
    expect(() => mixCost(costs, { a: 1.5, b: -0.5 })).toThrow(CostInputError);
    expect(() => mixCost(costs, { a: 0.5, c: 0.5 })).toThrow(/unknown path "c"/);
    expect(() => mixCost(costs, {})).toThrow(CostInputError);
  });
});

describe('alternatives', () => {
  const nurture: PathCounts = {
    transitions: 17,
    lambdaInvocations: 10,
    lambdaGbSeconds: 0.5,
    dynamoWrites: 31,
    dynamoReads: 33,
    emails: 4,
  };

  it('(b) Scheduler waits: 3 transitions per nurture email become 1 Scheduler + 1 Lambda invocation', () => {
    const alt = withSchedulerWaits(nurture, {
      rounds: 4,
      transitionsPerRound: 3,
      gbSecondsPerInvocation: 0.05,
    });
    expect(alt.transitions).toBe(5);
    expect(alt.lambdaInvocations).toBe(6);
    expect(alt.lambdaGbSeconds).toBeCloseTo(0.3, 12);
    expect(alt.schedulerInvocations).toBe(4);
    const before = pathCost(nurture, prices);
    const after = pathCost(alt, prices);
    // 12 transitions fewer: 12 × $0.000025 = $0.0003 per lead, $0.30 per 1,000 leads.
    expect(before.transitions - after.transitions).toBeCloseTo(0.0003, 12);
    expect(per1000(before).transitions - per1000(after).transitions).toBeCloseTo(0.3, 9);
    expect(after.total).toBeLessThan(before.total);
    expect(after.ses).toBe(before.ses);
  });

  it('(b) leaves a path without nurture emails unchanged and rejects more emails than rounds', () => {
    expect(
      withSchedulerWaits(tiny, { rounds: 0, transitionsPerRound: 3, gbSecondsPerInvocation: 0.05 }),
    ).toEqual({
      ...tiny,
      schedulerInvocations: 0,
    });
    expect(() =>
      withSchedulerWaits(tiny, { rounds: 1, transitionsPerRound: 3, gbSecondsPerInvocation: 0.05 }),
    ).toThrow(CostInputError);
  });

  it('(a) Express capture moves states out of Standard and adds the calling Task plus Express charges', () => {
    const alt = withExpressCapture(nurture, { moved: 1, added: 1, expressGbSeconds: 0.0125 });
    expect(alt.transitions).toBe(17);
    expect(alt.expressRequests).toBe(1);
    const diff = pathCost(alt, prices).total - pathCost(nurture, prices).total;
    expect(diff).toBeCloseTo(0.000001 + 0.0125 * 0.00001667, 12);
    // Moving the old 5-state prefix (Receive … Route) behind 1 Task would save 4 transitions.
    expect(withExpressCapture(nurture, { moved: 5, added: 1, expressGbSeconds: 0 }).transitions).toBe(13);
  });
});
