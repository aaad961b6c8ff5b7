// The cohort view of the funnel page: of the leads captured in the range, how many reached each stage (a
// share of the captured: never over 1), the median time from the capture to it, and the revenue they won;
// by source, campaign or form. The flow view (funnel.js) counts what happened in the range instead.
import { funnelBars, lineChart, stageLabel } from '../lib/charts.js';
import { h } from '../lib/dom.js';
import { count, hours, money, pct } from '../lib/format.js';
import { emptyState } from '../lib/ui.js';

export const COHORT_BREAKDOWNS = ['source', 'campaign', 'formType'];

export function cohortPage(r, kpi) {
  const t = r.total;
  const later = r.stages.filter((st) => st !== 'captured');
  const kpis = h(
    'div',
    { class: 'kpis' },
    kpi('Captured in the range', count(t.counts.captured)),
    kpi('Reached sales (SQL)', count(t.counts.sql), pct(t.reached.sql, 0), 'of them'),
    kpi('Won', count(t.counts.won), pct(t.reached.won, 0), 'of them'),
    kpi('Revenue won', money(t.revenueWon)),
  );
  if (!t.counts.captured) {
    return [
      kpis,
      emptyState(
        `No lead captured from ${r.from} to ${r.to}.`,
        h('p', {
          class: 'muted',
          text: 'A cohort is the leads captured in the range; it grows as they reach later stages.',
        }),
      ),
    ];
  }
  // The bars' "x % of" is of the captured: a cohort's share, not a step's conversion.
  const bars = {
    counts: t.counts,
    conversion: later.map((st) => ({ from: 'captured', to: st, rate: t.reached[st] })),
  };
  return [
    kpis,
    h(
      'div',
      { class: 'two-col' },
      h(
        'section',
        { class: 'panel' },
        h('h2', { text: `Leads captured ${r.from} to ${r.to}, by the stage they reached` }),
        funnelBars(r.stages, bars),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', { text: 'Time from capture (median)' }),
        h(
          'div',
          { class: 'kpis' },
          later.map((st) => kpi(`Capture → ${stageLabel(st)}`, hours(t.medianHours[st]))),
        ),
      ),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', { text: 'Per capture day' }),
      lineChart(r.days, ['captured', 'sql', 'assigned', 'won']),
    ),
    r.by ? breakdown(r, later) : null,
  ];
}

function breakdown(r, later) {
  const head = [
    '',
    'Captured',
    ...later.map((st) => `${stageLabel(st)} (share)`),
    'Revenue',
    'Capture → won',
  ];
  return h(
    'section',
    { class: 'panel' },
    h('h2', { text: `Cohort by ${r.by}` }),
    r.rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table breakdown cohort' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                head.map((x) => h('th', { scope: 'col', text: x })),
              ),
            ),
            h(
              'tbody',
              null,
              [r.total, ...r.rows].map((row) =>
                h(
                  'tr',
                  { class: row === r.total ? 'total' : undefined },
                  h('th', { scope: 'row', text: row === r.total ? 'All' : row.key }),
                  h('td', { class: 'num', text: count(row.counts.captured) }),
                  later.map((st) =>
                    h('td', { class: 'num', text: `${count(row.counts[st])} (${pct(row.reached[st], 0)})` }),
                  ),
                  h('td', { class: 'num', text: money(row.revenueWon) }),
                  h('td', { class: 'num', text: hours(row.medianHours.won) }),
                ),
              ),
            ),
          ),
        )
      : emptyState(`No ${r.by} recorded for this cohort.`),
  );
}
