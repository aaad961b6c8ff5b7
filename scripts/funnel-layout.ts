// `npm run probe:funnel-layout`: what a step's funnel counters cost in DynamoDB calls and write units in
// the two layouts (docs/funnel.md, "Storage"): per value (one small item per day × dimension value, 10–15
// UpdateItems a milestone: what the handlers wrote before shards, and what the rebuild writes) and sharded
// (every dimension in one UpdateItem on one of the day's shards: what they write now). Arithmetic on
// DynamoDB's item-size rules (an UpdateItem costs the larger of the item's sizes before and after, per
// started KB), fed by the counters the handlers really write (countersOf) for a seeded synthetic day of
// leads, so it runs in seconds at any volume; docs/funnel.md has the figures and what they decide.
import { pathToFileURL } from 'node:url';
import {
  type CounterItems,
  countersOf,
  type MilestoneEvent,
  sumInto,
} from '../functions/funnel/funnel-counters.ts';

/** DynamoDB's size of a number: about one byte per two significant digits, plus one. */
const numberBytes = (n: number) =>
  Math.ceil(String(Math.abs(n)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length / 2) + 1;

/** An item's size as DynamoDB counts it: attribute names (UTF-8) plus values; `keys` the key attributes' bytes. */
export function itemBytes(keys: number, attrs: Map<string, number>): number {
  let bytes = keys;
  for (const [name, value] of attrs) bytes += Buffer.byteLength(name) + numberBytes(value);
  return bytes;
}

/** Write units of one UpdateItem: the larger of the item's sizes before and after, per started KB. */
export const writeUnits = (before: number, after: number) =>
  Math.max(1, Math.ceil(Math.max(before, after) / 1024));

/** A small seeded generator (mulberry32), so every run prints the same table. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Scenario {
  leadsPerDay: number;
  campaigns: number;
  shards: number;
}

export interface LayoutFigures extends Scenario {
  milestones: number;
  /** Per value: one item per day × dimension value. */
  perValue: { callsPerLead: number; wcuPerLead: number; largestItemKB: number };
  /** One item per day × shard holding every dimension's counters. */
  sharded: { callsPerLead: number; wcuPerLead: number; largestItemKB: number };
}

const REASONS = [
  'demo-request',
  'pricing-page',
  'newsletter',
  'webinar',
  'company-size',
  'job-title',
  'country',
  'industry',
  'email-click',
  'contact-form',
];

/** A lead's milestones of one day: each lead captured, most MQL, about a third of those sales-ready and closed. */
export function syntheticDay(leads: number, campaigns: number, seed = 1): MilestoneEvent[][] {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const sources = ['google', 'linkedin', 'newsletter', 'partner', 'bing', 'facebook', 'event', 'referral'];
  const campaignNames = Array.from({ length: campaigns }, (_, i) => `campaign-2026-${i}`);
  const hours = (n: number) => Math.floor(r() * n * 3600);
  return Array.from({ length: leads }, () => {
    const run = {
      formType: pick(['demo', 'contact', 'newsletter', 'webinar', 'pricing']),
      source: pick(sources),
      medium: pick(['cpc', 'email', 'social', 'organic']),
      campaign: pick(campaignNames),
      territory: pick(['amer', 'emea', 'apac']),
    };
    const score = {
      total: Math.floor(r() * 100),
      grade: pick(['A', 'B', 'C', 'D']),
      reasons: REASONS.filter(() => r() < 0.3),
    };
    const rep = `rep-${Math.floor(r() * 12)}`;
    const steps: Partial<MilestoneEvent>[] = [{ milestone: 'captured' }];
    if (r() < 0.82) steps.push({ milestone: 'mql' });
    if (steps.length === 2 && r() < 0.35)
      steps.push(
        { milestone: 'sql' },
        { milestone: 'assigned', rep, durations: { leadToAssigned: hours(48) } },
        { milestone: 'accepted', rep, durations: { assignedToAccepted: hours(24) } },
        r() < 0.4
          ? {
              milestone: 'won',
              rep,
              amount: Math.round(r() * 50_000),
              durations: { acceptedToClosed: hours(900) },
            }
          : {
              milestone: 'lost',
              rep,
              lostReason: pick(['price', 'timing', 'competitor', 'no-budget']),
              durations: { acceptedToClosed: hours(900) },
            },
      );
    return steps.map(
      (step) => ({ at: '2026-12-07T12:00:00Z', cycle: 0, run, score, ...step }) as MilestoneEvent,
    );
  });
}

/** An item whose size is kept as it changes (recounting every attribute on each write is quadratic). */
class SizedItem {
  readonly attrs = new Map<string, number>();
  constructor(public bytes: number) {}
  add(name: string, n: number): void {
    const old = this.attrs.get(name);
    const next = (old ?? 0) + n;
    this.bytes +=
      old === undefined ? Buffer.byteLength(name) + numberBytes(next) : numberBytes(next) - numberBytes(old);
    this.attrs.set(name, next);
  }
}

/** One day of leads through both layouts: calls, write units per milestone and the largest item of each. */
export function simulate({ leadsPerDay, campaigns, shards }: Scenario, seed = 1): LayoutFigures {
  const r = random(seed + 1);
  const keyBytes = (sk: string) => 'pk'.length + 'FUNNEL#2026-12-07#00'.length + 'sk'.length + sk.length;
  const perValue = new Map<string, SizedItem>();
  const sharded = Array.from({ length: shards }, () => new SizedItem(keyBytes('counters')));
  const units = { perValue: 0, sharded: 0 };
  const calls = { perValue: 0, sharded: 0 };
  let milestones = 0;
  for (const lead of syntheticDay(leadsPerDay, campaigns, seed)) {
    // As the handlers write: Capture's milestones (captured, mql, sql) summed into one write, the rest one each.
    const capture = lead.filter((e) => ['captured', 'mql', 'sql'].includes(e.milestone));
    const writes = [capture, ...lead.filter((e) => !capture.includes(e)).map((e) => [e])];
    milestones += lead.length;
    for (const events of writes) {
      const items: CounterItems = {};
      for (const e of events) sumInto(items, countersOf(e).items);
      const shard = sharded[Math.floor(r() * shards)] as SizedItem;
      const shardBefore = shard.bytes;
      for (const [key, values] of Object.entries(items)) {
        const item = perValue.get(key) ?? new SizedItem(keyBytes(key));
        perValue.set(key, item);
        const before = item.bytes;
        for (const [attr, n] of Object.entries(values)) {
          item.add(attr, n);
          shard.add(`${key}|${attr}`, n);
        }
        units.perValue += writeUnits(before, item.bytes);
        calls.perValue += 1;
      }
      units.sharded += writeUnits(shardBefore, shard.bytes);
      calls.sharded += 1;
    }
  }
  const kb = (n: number) => Math.round((n / 1024) * 10) / 10;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    leadsPerDay,
    campaigns,
    shards,
    milestones,
    perValue: {
      callsPerLead: round(calls.perValue / leadsPerDay),
      wcuPerLead: round(units.perValue / leadsPerDay),
      largestItemKB: kb(Math.max(...[...perValue.values()].map((i) => i.bytes))),
    },
    sharded: {
      callsPerLead: round(calls.sharded / leadsPerDay),
      wcuPerLead: round(units.sharded / leadsPerDay),
      largestItemKB: kb(Math.max(...sharded.map((i) => i.bytes))),
    },
  };
}

export const SCENARIOS: Scenario[] = [
  { leadsPerDay: 50, campaigns: 5, shards: 1 },
  { leadsPerDay: 50, campaigns: 5, shards: 16 },
  { leadsPerDay: 300, campaigns: 10, shards: 1 },
  { leadsPerDay: 300, campaigns: 10, shards: 16 },
  { leadsPerDay: 1000, campaigns: 20, shards: 1 },
  { leadsPerDay: 1000, campaigns: 20, shards: 16 },
  { leadsPerDay: 1000, campaigns: 20, shards: 32 },
  { leadsPerDay: 2000, campaigns: 30, shards: 64 },
  { leadsPerDay: 5000, campaigns: 50, shards: 64 },
];

export function layoutMarkdown(rows: LayoutFigures[]): string {
  return [
    '| leads a day | campaigns | shards | milestones a lead | per value: calls a lead | per value: WCU a lead | per value: largest item | sharded: calls a lead | sharded: WCU a lead | sharded: largest item |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (x) =>
        `| ${x.leadsPerDay} | ${x.campaigns} | ${x.shards} | ${(x.milestones / x.leadsPerDay).toFixed(1)} | ${x.perValue.callsPerLead} | ${x.perValue.wcuPerLead} | ${x.perValue.largestItemKB} KB | ${x.sharded.callsPerLead} | ${x.sharded.wcuPerLead} | ${x.sharded.largestItemKB} KB |`,
    ),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${layoutMarkdown(SCENARIOS.map((s) => simulate(s)))}\n`);
}
