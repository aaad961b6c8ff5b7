// npm run cost -- [--mix nurture-completed=0.5,disqualified=0.5] [--counts docs/performance.json] [--json]
// AWS cost per 1,000 leads per journey path, for a mix, and for two alternative designs. Counts per path are
// the ones `npm run bench` measured from real local runs (docs/performance.json); prices come from
// config/prices.json (list prices with date and source); the model is analytics/cost.ts.
// Exit 0 ok · 2 usage or input error. See docs/cost.md.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
} from '../analytics/cost.ts';

const root = resolve(import.meta.dirname, '..');
export const DEFAULT_COUNTS = resolve(root, 'docs/performance.json');
/** The stated mix: most leads are nurtured; a tenth reach sales straight from a form. Sums to 1. */
export const DEFAULT_MIX = {
  'nurture-completed': 0.4,
  'nurture-qualified': 0.1,
  bounced: 0.02,
  disqualified: 0.18,
  'hot-won': 0.08,
  'hot-lost-recycled': 0.1,
  reassigned: 0.06,
  'capacity-wait': 0.06,
};

const USAGE = `Usage: npm run cost -- [--mix path=weight,…] [--counts FILE] [--json]
  --mix     weights per journey path, each ≥ 0, summing to 1 (default: ${Object.entries(DEFAULT_MIX)
    .map(([p, w]) => `${p}=${w}`)
    .join(',')})
  --counts  the measured counts per path (default docs/performance.json, written by npm run bench)
  --json    print JSON instead of the table`;

/** What `npm run bench` measured for one lead on a path (docs/performance.json `paths`). */
export interface MeasuredPath extends PathCounts {
  /** Nurture waits ended by their timer (an email due), and the states one such round enters. */
  timerRounds: number;
  roundStates: number;
}

// Express sub-workflow (alternative a): ASSUMED 200 ms billed (the capture Lambda plus the service's
// overhead) × the 64 MB minimum memory block.
const EXPRESS_GB_S = 0.2 * (64 / 1024);

interface PriceFile {
  asOf: string;
  region: string;
  items: Record<string, { price: number; unit: string; source: string }>;
}

export const loadPrices = (): { prices: Prices; asOf: string; region: string } => {
  const file = JSON.parse(readFileSync(resolve(root, 'config/prices.json'), 'utf8')) as PriceFile;
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

export const loadCounts = (file: string): Record<string, MeasuredPath> => {
  if (!existsSync(file))
    throw new CostInputError(`${file} does not exist: run \`npm run bench\` first, it measures the counts`);
  const paths = (JSON.parse(readFileSync(file, 'utf8')) as { paths?: Record<string, MeasuredPath> }).paths;
  if (!paths || !Object.keys(paths).length) throw new CostInputError(`${file} has no measured paths`);
  return paths;
};

export const parseMix = (text: string, paths: readonly string[]): Record<string, number> => {
  const mix: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z][a-z-]*)\s*=\s*([0-9]*\.?[0-9]+)\s*$/.exec(part);
    if (!m) throw new CostInputError(`bad mix entry "${part}" (expected path=weight)`);
    mix[m[1] as string] = Number(m[2]);
  }
  checkMix(mix, paths);
  return mix;
};

const DESIGNS = {
  today: (c: MeasuredPath) => c,
  expressCapture: (c: MeasuredPath) =>
    withExpressCapture(c, { moved: 1, added: 1, expressGbSeconds: EXPRESS_GB_S }),
  schedulerWaits: (c: MeasuredPath) =>
    withSchedulerWaits(c, {
      rounds: c.timerRounds,
      transitionsPerRound: c.roundStates,
      gbSecondsPerInvocation: c.lambdaInvocations ? c.lambdaGbSeconds / c.lambdaInvocations : 0,
    }),
} as const;
export type Design = keyof typeof DESIGNS;

export interface CostReport {
  pricesAsOf: string;
  region: string;
  mix: Record<string, number>;
  designs: Record<
    Design,
    { perPath: Record<string, { counts: PathCounts; cost: CostBreakdown }>; mix: CostBreakdown }
  >;
}

/** Prices every measured path on every design, and the mix. */
export function costReport(paths: Record<string, MeasuredPath>, mix: Record<string, number>): CostReport {
  const { prices, asOf, region } = loadPrices();
  checkMix(mix, Object.keys(paths));
  const designs = Object.fromEntries(
    Object.entries(DESIGNS).map(([design, f]) => {
      const perPath = Object.fromEntries(
        Object.entries(paths).map(([p, measured]) => {
          const counts = f(measured);
          return [p, { counts, cost: pathCost(counts, prices) }];
        }),
      );
      const costs = Object.fromEntries(Object.entries(perPath).map(([p, v]) => [p, v.cost]));
      return [design, { perPath, mix: mixCost(costs, mix) }];
    }),
  ) as CostReport['designs'];
  return { pricesAsOf: asOf, region, mix, designs };
}

const usd = (n: number) => `$${n.toFixed(3)}`;

/** The report as a Markdown table, per 1,000 leads. */
export function costMarkdown(r: CostReport): string {
  const today = r.designs.today;
  const rows = Object.keys(today.perPath).map((p) => {
    const c = today.perPath[p]?.cost as CostBreakdown;
    const k = per1000(c);
    return `| ${p} | ${usd(k.transitions)} | ${usd(k.lambda)} | ${usd(k.dynamo)} | ${usd(k.ses)} | **${usd(k.total)}** | ${usd(per1000(r.designs.expressCapture.perPath[p]?.cost as CostBreakdown).total)} | ${usd(per1000(r.designs.schedulerWaits.perPath[p]?.cost as CostBreakdown).total)} |`;
  });
  const m = per1000(today.mix);
  const mixText = Object.entries(r.mix)
    .map(([p, w]) => `${p} ${w}`)
    .join(', ');
  return [
    '| path (per 1,000 leads) | transitions | Lambda | DynamoDB | SES | total | (a) Express capture | (b) Scheduler waits |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    `| mix: ${mixText} | ${usd(m.transitions)} | ${usd(m.lambda)} | ${usd(m.dynamo)} | ${usd(m.ses)} | **${usd(m.total)}** | ${usd(per1000(r.designs.expressCapture.mix).total)} | ${usd(per1000(r.designs.schedulerWaits.mix).total)} |`,
    '',
    `List prices ${r.region} as of ${r.pricesAsOf} (config/prices.json, each with its source; check them), no free tier; CloudWatch, X-Ray, API Gateway and data transfer not included. (a) Capture & score as an Express sub-workflow; (b) EventBridge Scheduler for the nurture timers (each timer round's states and its two invocations become one Scheduler invocation and one Lambda invocation). docs/cost.md explains the model.`,
  ].join('\n');
}

function run(argv: string[]): number {
  let values: { mix?: string; counts?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        mix: { type: 'string' },
        counts: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
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
  const paths = loadCounts(values.counts ? resolve(values.counts) : DEFAULT_COUNTS);
  const names = Object.keys(paths);
  const missing = Object.keys(DEFAULT_MIX).filter((p) => !names.includes(p));
  if (!values.mix && missing.length)
    throw new CostInputError(`the counts have no ${missing.join(', ')} for the default mix: pass --mix`);
  const mix = values.mix ? parseMix(values.mix, names) : DEFAULT_MIX;
  const report = costReport(paths, mix);
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          pricesAsOf: report.pricesAsOf,
          region: report.region,
          mix,
          per1000Leads: Object.fromEntries(
            Object.entries(report.designs).map(([d, r]) => [
              d,
              {
                paths: Object.fromEntries(
                  Object.entries(r.perPath).map(([p, v]) => [p, { counts: v.counts, usd: per1000(v.cost) }]),
                ),
                mix: per1000(r.mix),
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
  console.log(costMarkdown(report));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = run(process.argv.slice(2));
  } catch (e) {
    console.error(`cost: ${(e as Error).message}${e instanceof CostInputError ? `\n${USAGE}` : ''}`);
    process.exitCode = 2;
  }
}
