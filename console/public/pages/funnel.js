// The funnel: counts by stage and conversion to the next, per day, time between stages, revenue, lost
// reasons, recycled wins; broken down by UTM source/medium/campaign, form, territory or rep. A toggle
// switches to the cohort view (cohort.js): what the leads captured in the range went on to reach.
import { api, qs } from '../lib/api.js';
import { funnelBars, hbars, lineChart, stageLabel } from '../lib/charts.js';
import { h, replace } from '../lib/dom.js';
import { count, hours, money, pct } from '../lib/format.js';
import { rangeControls } from '../lib/range.js';
import { setQuery } from '../lib/router.js';
import { bodyLoader, emptyState, pageHeader } from '../lib/ui.js';
import { COHORT_BREAKDOWNS, cohortPage } from './cohort.js';

const BREAKDOWNS = ['source', 'medium', 'campaign', 'formType', 'territory', 'rep'];

export async function render({ main, query, meta, every, isCurrent }) {
  const view = query.get('view') === 'cohort' ? 'cohort' : 'flow';
  const allowed = view === 'cohort' ? COHORT_BREAKDOWNS : BREAKDOWNS;
  const by = query.get('by') ?? undefined;
  let q = {
    from: query.get('from') ?? undefined,
    to: query.get('to') ?? undefined,
    by: allowed.includes(by) ? by : undefined,
  };
  const body = h('div');
  const dims = (meta.funnelDimensions ?? BREAKDOWNS).filter((d) => allowed.includes(d));
  const controls = rangeControls(q, {
    dimensions: dims,
    onChange: (next) => {
      q = next;
      if (view === 'cohort') setQuery({ ...q, view });
      load();
    },
  });
  replace(main, pageHeader('Funnel', viewToggle(view, q), controls), body);
  const load = bodyLoader(
    body,
    isCurrent,
    () => api(`${view === 'cohort' ? 'cohorts' : 'funnel'}${qs(q)}`),
    (report) => {
      controls.showRange(report);
      return view === 'cohort' ? cohortPage(report, kpi) : page(report);
    },
  );
  await load();
  every(10_000, load);
}

/** Flow (what happened in the range) or cohort (what the range's captured leads went on to do). */
function viewToggle(view, q) {
  const go = (next) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({
      from: q.from,
      to: q.to,
      view: next === 'cohort' ? 'cohort' : undefined,
    }))
      if (v) params.set(k, v);
    const text = params.toString();
    location.hash = `#/funnel${text ? `?${text}` : ''}`;
  };
  return h(
    'div',
    { class: 'segmented', role: 'group', 'aria-label': 'Funnel view' },
    [
      ['flow', 'Flow', 'What happened in the range, to any lead'],
      ['cohort', 'Cohort', 'What the leads captured in the range went on to reach'],
    ].map(([key, label, title]) =>
      h('button', {
        type: 'button',
        class: `btn small ${key === view ? 'primary' : 'ghost'}`,
        'aria-pressed': String(key === view),
        title,
        text: label,
        onclick: () => key !== view && go(key),
      }),
    ),
  );
}

function page(r) {
  const t = r.total;
  const closed = t.counts.won + t.counts.lost;
  const kpis = h(
    'div',
    { class: 'kpis' },
    kpi('Captured', count(t.counts.captured)),
    kpi(
      'Reached sales (SQL)',
      count(t.counts.sql),
      pct(rate(t.counts.sql, t.counts.captured), 0),
      'of captured',
    ),
    kpi(
      'Won',
      count(t.counts.won),
      closed ? pct(t.counts.won / closed, 0) : '—',
      'win rate (won / won + lost)',
    ),
    kpi('Revenue won', money(t.revenueWon)),
    kpi('Recycled, then won', count(t.recycledWon), null, 'lost “not now”, nurtured, won later'),
    kpi('Closed with no answer', count(t.counts.stale), null, 'stale: the rep never answered'),
  );
  const empty = r.stages.every((st) => !t.counts[st]) && !t.counts.stale;
  if (empty) {
    return [
      kpis,
      emptyState(
        `No leads from ${r.from} to ${r.to}.`,
        h('p', {
          class: 'muted',
          text: 'The funnel counts each lead once per stage it reaches, on the day it reached it.',
        }),
      ),
    ];
  }
  const lost = Object.entries(t.lostReasons).sort((a, b) => b[1] - a[1]);
  return [
    kpis,
    h(
      'div',
      { class: 'two-col' },
      h(
        'section',
        { class: 'panel' },
        h('h2', { text: `Stages, ${r.from} to ${r.to}` }),
        funnelBars(r.stages, t),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', { text: 'Time between stages (median)' }),
        h(
          'div',
          { class: 'kpis' },
          kpi('Lead → assigned', hours(t.medianHours.leadToAssigned)),
          kpi(
            'Assigned → accepted',
            hours(t.medianHours.assignedToAccepted),
            null,
            'the rep’s response time',
          ),
          kpi('Accepted → closed', hours(t.medianHours.acceptedToClosed)),
        ),
        h('h2', { text: 'Lost reasons' }),
        lost.length ? hbars(lost, 'lost') : h('p', { class: 'muted', text: 'No deal lost in this period.' }),
      ),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', { text: 'Per day' }),
      lineChart(r.days, ['captured', 'sql', 'assigned', 'won', 'lost']),
    ),
    r.by ? breakdown(r) : null,
  ];
}

function breakdown(r) {
  const head = ['', ...r.stages.map(stageLabel), 'Stale', 'Captured → won', 'Revenue', 'Lead → assigned'];
  return h(
    'section',
    { class: 'panel' },
    h('h2', { text: `By ${r.by}` }),
    r.rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table breakdown' },
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
                  r.stages.map((st) => h('td', { class: 'num', text: count(row.counts[st]) })),
                  h('td', { class: 'num', text: count(row.counts.stale) }),
                  h('td', { class: 'num', text: pct(rate(row.counts.won, row.counts.captured)) }),
                  h('td', { class: 'num', text: money(row.revenueWon) }),
                  h('td', { class: 'num', text: hours(row.medianHours.leadToAssigned) }),
                ),
              ),
            ),
          ),
        )
      : emptyState(`No ${r.by} recorded in this period.`),
  );
}

function kpi(label, value, sub, note) {
  return h(
    'div',
    { class: 'kpi' },
    h('div', { class: 'kpi-label', text: label }),
    h('div', { class: 'kpi-value', text: value }),
    sub || note ? h('div', { class: 'small muted', text: [sub, note].filter(Boolean).join(' ') }) : null,
  );
}

const rate = (a, b) => (b ? a / b : null);
