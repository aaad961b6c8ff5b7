// npm run cost -- [--mix hot=0.2,nurture=0.6,disqualified=0.2] [--json]
// AWS cost per 1,000 leads per journey path, for a mix, and for two alternative designs. Prices come from
// config/prices.json (list prices with date and source); the model is functions/shared/domain/cost.ts.
// Exit 0 ok · 2 usage or input error. See docs/cost.md.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CostBreakdown,
  CostInputError,
  checkMix,
  mixCost,
  type PathCounts,
  type Prices,
  pathCost,
  per1000,
  withExpressCapture,
  withSchedulerWaits,
} from '../functions/shared/domain/cost.ts';

const USAGE = `Usage: npm run cost -- [--mix hot=0.2,nurture=0.6,disqualified=0.2] [--json]
  --mix   weights per path (hot, nurture, disqualified), each ≥ 0, summing to 1
  --json  print JSON instead of the table`;

// Lambda: every function is 512 MB (infra/constructs/handoff-function.ts, `memorySize ?? 512`; no
// function overrides it) on arm64 (Architecture.ARM_64). ASSUMED billed duration: 100 ms per invocation
// (not measured; the handlers make 1–15 DynamoDB calls and at most one SES call each).
const MEMORY_GB = 512 / 1024;
const ASSUMED_DURATION_S = 0.1;
const GB_S = MEMORY_GB * ASSUMED_DURATION_S;
// Express sub-workflow (alternative a): ASSUMED 200 ms billed (the capture Lambda plus the service's
// overhead) × the 64 MB minimum memory block.
const EXPRESS_GB_S = 0.2 * (64 / 1024);

/**
 * Per-path counts for one lead.
 * - transitions: MEASURED, docs/figures.md "State transitions per path" (counted from local execution
 *   histories by test/integration/workflow.test.ts and local-time.test.ts): hot 9, nurture with 4 emails
 *   14, disqualified 3.
 * - lambdaInvocations: COUNTED from workflows/lead-to-close.ts, one per Task state entered:
 *   hot = Capture & score, Assign rep, Await rep acceptance, Await deal outcome, Close deal (5);
 *   nurture = Capture & score + 4 × (Nurture, Wait for a signal) + the last Nurture and its wait (11);
 *   disqualified = Capture & score (1). The API Lambda that starts the run is not counted.
 * - emails: hot 1 (the rep's assignment email, assign-rep.ts); nurture 4; disqualified 0.
 * - dynamoWrites / dynamoReads: ESTIMATES from reading functions/steps/*.ts, 1 unit per call (items
 *   under 1 KB written, under 4 KB read; transactions and queries over 4 KB would cost more):
 *   capture 6 W 3 R (capture, 2 events, stage, rescore's get + events query, funnel milestones);
 *   nurture send 4 W 6 R (get, clear signal, rescore, suppression, breaker state, was-sent, mark-sent,
 *   stage, event); last nurture 5 W 6 R; await-signal 1 W (park), none when it resumes at once; assign-rep 7 W 5 R (cursor, loads,
 *   adjust load, create deal, event, emailed attempt, stage, milestones); await-outcome 1 W 1 R each;
 *   close-deal 8 W 4 R (deal, close recorded, milestones, release + adjust load, waiters, stage, event).
 *   To be replaced by units counted from real executions by `npm run bench` (issue 10).
 */
export const PATHS = {
  hot: {
    counts: {
      transitions: 9,
      lambdaInvocations: 5,
      lambdaGbSeconds: 5 * GB_S,
      dynamoWrites: 6 + 7 + 1 + 1 + 8,
      dynamoReads: 3 + 5 + 1 + 1 + 4,
      emails: 1,
    },
    nurtureEmails: 0,
  },
  nurture: {
    counts: {
      transitions: 14,
      lambdaInvocations: 11,
      lambdaGbSeconds: 11 * GB_S,
      dynamoWrites: 6 + 4 * (4 + 1) + 5,
      dynamoReads: 3 + 4 * 6 + 6,
      emails: 4,
    },
    nurtureEmails: 4,
  },
  disqualified: {
    counts: {
      transitions: 3,
      lambdaInvocations: 1,
      lambdaGbSeconds: 1 * GB_S,
      dynamoWrites: 6,
      dynamoReads: 3,
      emails: 0,
    },
    nurtureEmails: 0,
  },
} satisfies Record<string, { counts: PathCounts; nurtureEmails: number }>;
type Path = keyof typeof PATHS;
const PATH_NAMES = Object.keys(PATHS) as Path[];
const DEFAULT_MIX = 'hot=0.2,nurture=0.6,disqualified=0.2';

interface PriceFile {
  asOf: string;
  region: string;
  items: Record<string, { price: number; unit: string; source: string }>;
}

const loadPrices = (): { prices: Prices; asOf: string; region: string } => {
  const file = JSON.parse(
    readFileSync(resolve(import.meta.dirname, '../config/prices.json'), 'utf8'),
  ) as PriceFile;
  const at = (k: string): number => {
    const v = file.items[k]?.price;
    if (typeof v !== 'number') throw new CostInputError(`config/prices.json has no price for ${k}`);
    return v;
  };
  return {
    asOf: file.asOf,
    region: file.region,
    prices: {
      standardPerTransition: at('stepFunctionsStandardPer1kTransitions') / 1e3,
      expressPerRequest: at('stepFunctionsExpressPer1MRequests') / 1e6,
      expressPerGbSecond: at('stepFunctionsExpressPerGbSecond'),
      lambdaPerRequest: at('lambdaPer1MRequests') / 1e6,
      lambdaPerGbSecond: at('lambdaPerGbSecondArm64'),
      dynamoPerWriteUnit: at('dynamoDbPer1MWriteRequestUnits') / 1e6,
      dynamoPerReadUnit: at('dynamoDbPer1MReadRequestUnits') / 1e6,
      sesPerEmail: at('sesPer1kEmails') / 1e3,
      schedulerPerInvocation: at('schedulerPer1MInvocations') / 1e6,
    },
  };
};

export const parseMix = (text: string): Record<string, number> => {
  const mix: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([0-9]*\.?[0-9]+)\s*$/.exec(part);
    if (!m) throw new CostInputError(`bad mix entry "${part}" (expected path=weight)`);
    mix[m[1] as string] = Number(m[2]);
  }
  checkMix(mix, PATH_NAMES);
  return mix;
};

const DESIGNS = {
  today: (c: PathCounts) => c,
  expressCapture: (c: PathCounts) =>
    withExpressCapture(c, { moved: 1, added: 1, expressGbSeconds: EXPRESS_GB_S }),
  schedulerWaits: (c: PathCounts, nurtureEmails: number) =>
    withSchedulerWaits(c, { nurtureEmails, gbSecondsPerInvocation: GB_S }),
} as const;

const run = (argv: string[]): number => {
  let values: { mix?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { mix: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { prices, asOf, region } = loadPrices();
  const mix = parseMix(values.mix ?? DEFAULT_MIX);
  const result = Object.fromEntries(
    Object.entries(DESIGNS).map(([design, f]) => {
      const perPath = Object.fromEntries(
        PATH_NAMES.map((p) => {
          const counts = f(PATHS[p].counts, PATHS[p].nurtureEmails);
          return [p, { counts, cost: pathCost(counts, prices) }];
        }),
      ) as Record<Path, { counts: PathCounts; cost: CostBreakdown }>;
      const costs = Object.fromEntries(PATH_NAMES.map((p) => [p, perPath[p].cost]));
      return [design, { perPath, mix: mixCost(costs, mix) }];
    }),
  ) as Record<
    keyof typeof DESIGNS,
    { perPath: Record<Path, { counts: PathCounts; cost: CostBreakdown }>; mix: CostBreakdown }
  >;

  if (values.json) {
    const k = (b: CostBreakdown) => per1000(b);
    console.log(
      JSON.stringify(
        {
          pricesAsOf: asOf,
          region,
          mix,
          per1000Leads: Object.fromEntries(
            Object.entries(result).map(([d, r]) => [
              d,
              {
                paths: Object.fromEntries(
                  PATH_NAMES.map((p) => [p, { counts: r.perPath[p].counts, usd: k(r.perPath[p].cost) }]),
                ),
                mix: k(r.mix),
              },
            ]),
          ),
        },
        null,
        2,
      ),
    );
    return 0;
  }

  const usd = (n: number) => `$${n.toFixed(3)}`;
  const today = result.today;
  const rows = [
    [
      'path',
      'transitions',
      'invocations',
      'GB-s',
      'DDB W',
      'DDB R',
      'emails',
      '$/1k today',
      '$/1k (a)',
      '$/1k (b)',
    ],
    ...PATH_NAMES.map((p) => {
      const c = today.perPath[p].counts;
      return [
        p,
        String(c.transitions),
        String(c.lambdaInvocations),
        c.lambdaGbSeconds.toFixed(2),
        String(c.dynamoWrites),
        String(c.dynamoReads),
        String(c.emails),
        usd(per1000(today.perPath[p].cost).total),
        usd(per1000(result.expressCapture.perPath[p].cost).total),
        usd(per1000(result.schedulerWaits.perPath[p].cost).total),
      ];
    }),
    [
      `mix (${PATH_NAMES.map((p) => `${p} ${mix[p] ?? 0}`).join(', ')})`,
      '',
      '',
      '',
      '',
      '',
      '',
      usd(per1000(today.mix).total),
      usd(per1000(result.expressCapture.mix).total),
      usd(per1000(result.schedulerWaits.mix).total),
    ],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows)
    console.log(
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
    );
  const m = per1000(today.mix);
  console.log(
    `\nmix today per 1,000 leads: transitions ${usd(m.transitions)}, SES ${usd(m.ses)}, Lambda ${usd(m.lambda)}, DynamoDB ${usd(m.dynamo)}`,
  );
  console.log(
    `(a) Express sub-workflow for Capture & score · (b) EventBridge Scheduler for nurture waits\nList prices ${region} as of ${asOf} (config/prices.json; check them). No free tier; CloudWatch, X-Ray, API Gateway not included.\nDynamoDB units and Lambda durations are estimates (docs/cost.md).`,
  );
  return 0;
};

try {
  process.exitCode = run(process.argv.slice(2));
} catch (e) {
  if (e instanceof CostInputError) {
    console.error(`${e.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`cost: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
