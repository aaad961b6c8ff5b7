// The text report of npm run backtest (scripts/backtest.ts): what a candidate scoring.json would change,
// as tables for a terminal.
import type { BacktestResult, GradeRate } from '../analytics/backtest.ts';
import { OUTCOMES, type Outcome } from '../analytics/journey.ts';

export const count = (n: number) => n.toLocaleString('en-US');
/** `1 lead`, `2 leads`. */
export const many = (n: number, one: string, more = `${one}s`) => `${count(n)} ${n === 1 ? one : more}`;

const LABEL: Record<Outcome, string> = {
  sales: 'to sales',
  nurture: 'to nurture',
  disqualified: 'disqualified',
};
export const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const pct = (r: number | null) => (r === null ? '' : `${Math.round(r * 100)}%`);

function duration(ms: number): string {
  const round1 = (x: number) => (x >= 10 ? Math.round(x).toString() : x.toFixed(1).replace(/\.0$/, ''));
  if (ms < 90 * 60_000) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 48 * 3_600_000) return `${round1(ms / 3_600_000)} h`;
  return `${round1(ms / 86_400_000)} d`;
}

function table(rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map(
    (r) =>
      `  ${r
        .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join('   ')
        .trimEnd()}`,
  );
}

function rateCell(g: GradeRate | undefined): string {
  if (!g) return '';
  return g.closed ? `${g.won}/${g.closed}  ${pct(g.rate).padStart(4)}` : '—';
}

/** The report for the terminal: routing, time to sales, won deals lost, win rate per grade, missing inputs. */
export function report(
  r: BacktestResult,
  o: { rulesFile: string; sinceText: string },
  where: string,
): string {
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  out(
    `Backtest of candidate rules "${r.rules.candidate}" (${o.rulesFile}) against current rules "${r.rules.current}" (config/scoring.json)`,
  );
  out(`Source: ${where}`);
  const stages = Object.entries(r.byStage)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([s, n]) => `${s} ${count(n ?? 0)}`)
    .join(' · ');
  out(`Closed leads since ${when(r.since)} (${o.sinceText}): ${count(r.leads)} — ${stages}`);
  const other = r.replayCheck.scoredWithOtherRules;
  out(
    `Replaying the current rules reproduces the recorded route of ${count(r.replayCheck.matches)} of ${many(r.leads, 'lead')}` +
      (r.replayCheck.differs ? ` (${count(r.replayCheck.differs)} differ)` : '') +
      (other ? `; ${many(other, 'lead was', 'leads were')} last scored under another rules version` : '') +
      '.',
  );

  out();
  out('Routing (rows: current rules · columns: candidate)');
  const rows = OUTCOMES.map((c) => {
    const row = OUTCOMES.map((x) => r.routing[c][x]);
    return [LABEL[c], ...row.map(count), count(row.reduce((a, b) => a + b, 0))];
  });
  const totals = OUTCOMES.map((x) => OUTCOMES.reduce((s, c) => s + r.routing[c][x], 0));
  lines.push(
    ...table(
      [
        ['', ...OUTCOMES.map((x) => LABEL[x]), 'total'],
        ...rows,
        ['total', ...totals.map(count), count(r.leads)],
      ],
      ['l', 'r', 'r', 'r', 'r'],
    ),
  );
  out(`  ${count(r.changed)} of ${many(r.leads, 'lead')} ${r.changed === 1 ? 'changes' : 'change'} route`);

  out();
  const t = r.timing;
  out(`Time to sales (${many(t.compared, 'lead')} both rule sets hand to sales)`);
  lines.push(
    ...table(
      [
        [
          'sooner',
          count(t.sooner.count),
          t.sooner.medianMs === null ? '' : `median ${duration(t.sooner.medianMs)} earlier`,
        ],
        [
          'later',
          count(t.later.count),
          t.later.medianMs === null ? '' : `median ${duration(t.later.medianMs)} later`,
        ],
        ['same time', count(t.same), ''],
      ],
      ['l', 'r', 'l'],
    ),
  );

  out();
  out(`Won deals the candidate would disqualify: ${count(r.wonDisqualified.length)}`);
  for (const id of r.wonDisqualified) out(`  ${id}`);
  out(
    `Won deals the candidate would keep in nurture (never hand to sales): ${count(r.wonKeptInNurture.length)}`,
  );
  for (const id of r.wonKeptInNurture) out(`  ${id}`);

  out();
  out(`Win rate per grade (won / closed deals, each graded at its hand-off; ${many(r.deals, 'deal')})`);
  const cur = r.winRate.current;
  const cand = r.winRate.candidate;
  const sameGrades = cur.map((g) => g.grade).join() === cand.map((g) => g.grade).join();
  const n = Math.max(cur.length, cand.length);
  const gradeRows = Array.from({ length: n }, (_, i) =>
    sameGrades
      ? [cur[i]?.grade ?? '', rateCell(cur[i]), rateCell(cand[i])]
      : [cur[i]?.grade ?? '', rateCell(cur[i]), cand[i]?.grade ?? '', rateCell(cand[i])],
  );
  lines.push(
    ...table(
      sameGrades
        ? [['grade', 'current', 'candidate'], ...gradeRows]
        : [['grade', 'current', 'grade', 'candidate'], ...gradeRows],
      sameGrades ? ['l', 'r', 'r'] : ['l', 'r', 'l', 'r'],
    ),
  );

  const left = r.winRate.notHandedOverByCandidate;
  if (left.closed) {
    out(
      `  ${many(left.won, 'won deal')} (of ${many(left.closed, 'closed deal')}) the candidate would not have handed to sales: ` +
        'not in its column',
    );
  }

  const g = r.gaps;
  const gaps = [
    g.leadsWithoutEvents &&
      `${many(g.leadsWithoutEvents, 'lead')} with no timeline events (scored on the profile alone)`,
    g.formsWithoutType && `${many(g.formsWithoutType, 'form event')} without a form type (count for nothing)`,
    g.dealsWithoutAssignment &&
      `${many(g.dealsWithoutAssignment, 'deal')} without an assignment event (hand-off estimated)`,
    g.dealsWithoutCloseEvent &&
      `${many(g.dealsWithoutCloseEvent, 'deal')} without a close event (outcome from the lead's stage)`,
  ].filter(Boolean);
  if (gaps.length) {
    out();
    out(`Inputs missing: ${gaps.join(' · ')}`);
  }
  return lines.join('\n');
}
