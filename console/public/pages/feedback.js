// Scoring feedback: which grades, score bands and scoring reasons ended in won deals (with counts and 95 %
// intervals, so a reason seen 3 times is not trusted like one seen 300 times), and the sales-ready
// threshold to use (another than the current only when clearly better, with the reason); beside them, the
// ratings reps gave those leads, and what reps say by source, campaign and form (rep-voice.js).
import { api, qs } from '../lib/api.js';
import { ciBar } from '../lib/charts.js';
import { h, replace, s } from '../lib/dom.js';
import { count, pct } from '../lib/format.js';
import { rangeControls } from '../lib/range.js';
import { bodyLoader, emptyState, pageHeader } from '../lib/ui.js';
import { repVoice } from './rep-voice.js';

const FEW = 10;

export async function render({ main, query, every, isCurrent }) {
  let q = { from: query.get('from') ?? undefined, to: query.get('to') ?? undefined };
  const voice = { by: 'source', picked: undefined };
  const body = h('div');
  const controls = rangeControls(q, {
    onChange: (next) => {
      q = next;
      load();
    },
  });
  replace(main, pageHeader('Scoring feedback', controls), body);
  const load = bodyLoader(
    body,
    isCurrent,
    () => api(`scoring-feedback${qs(q)}`),
    (report) => {
      controls.showRange(report);
      return [...page(report), ...(report.reps ? [repVoice(report.reps, voice)] : [])];
    },
  );
  await load();
  every(15_000, load);
}

function page(r) {
  const closed = r.byGrade.reduce((n, g) => n + g.closed, 0);
  if (!closed) {
    return [
      emptyState(
        `No deal closed from ${r.from} to ${r.to}.`,
        h('p', {
          class: 'muted',
          text: 'Scoring feedback reads won, lost and unanswered deals: close a few (the rep’s email links) and they show here.',
        }),
      ),
    ];
  }
  return [
    h('p', {
      class: 'help',
      text: `${count(closed)} deals closed from ${r.from} to ${r.to}. Each rate shows its 95 % interval: a wide bar is a small sample.`,
    }),
    threshold(r.threshold),
    table('By grade', r.byGrade),
    table('By score band', r.byBand),
    table('By scoring reason', byEvidence(r.byReason), { collapseUnclosed: true }),
  ];
}

/** Most closed deals first (the narrowest intervals), then the higher won rate, then by name. */
function byEvidence(rows) {
  return [...rows].sort(
    (a, b) => b.closed - a.closed || (b.won.rate ?? -1) - (a.won.rate ?? -1) || a.key.localeCompare(b.key),
  );
}

function threshold(t) {
  const rows = t.table;
  const width = 720;
  const height = 170;
  const pad = { l: 40, r: 10, t: 12, b: 30 };
  const bw = (width - pad.l - pad.r) / rows.length;
  const y = (v) => height - pad.b - v * (height - pad.t - pad.b);
  const svg = s('svg', {
    class: 'chart threshold-chart',
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'Won per assignment at each sales-ready threshold',
  });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(
      s('line', { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', text: `${v * 100}%` }),
    );
  }
  rows.forEach((row, i) => {
    const cx = pad.l + bw * i + bw / 2;
    const cls = row.threshold === t.best ? 'best' : '';
    if (row.rate !== null) {
      svg.append(
        s('line', { x1: cx, x2: cx, y1: y(row.low), y2: y(row.high), class: `ci ${cls}` }),
        s('circle', { cx, cy: y(row.rate), r: row.threshold === t.best ? 5 : 3.5, class: `dot ${cls}` }),
      );
    }
    svg.append(
      s('text', {
        x: cx,
        y: height - 16,
        'text-anchor': 'middle',
        class: row.threshold === t.current ? 'value' : undefined,
        text: `≥ ${row.threshold}`,
      }),
      s('text', { x: cx, y: height - 4, 'text-anchor': 'middle', text: `${row.won}/${row.assigned}` }),
    );
  });
  return h(
    'section',
    { class: 'panel' },
    h('h2', { text: 'Sales-ready threshold' }),
    h(
      'div',
      { class: 'kpis' },
      h(
        'div',
        { class: 'kpi' },
        h('div', { class: 'kpi-label', text: 'Current' }),
        h('div', { class: 'kpi-value', text: String(t.current) }),
      ),
      h(
        'div',
        { class: 'kpi' },
        h('div', { class: 'kpi-label', text: 'Recommended' }),
        h('div', { class: 'kpi-value', text: String(t.best) }),
      ),
    ),
    h(
      'p',
      { class: 'threshold-reason' },
      t.best === t.current ? `Keep ${t.current}: ` : `Change to ${t.best}: `,
      t.reason,
      '.',
    ),
    svg,
    h('p', { class: 'help', text: t.rule }),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Threshold', 'Assigned', 'Won', 'Won per assignment', '95 % interval'].map((x) =>
              h('th', { scope: 'col', text: x }),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          rows.map((row) =>
            h(
              'tr',
              { class: row.threshold === t.best ? 'best' : undefined },
              h('td', {
                text: `≥ ${row.threshold}${row.threshold === t.current ? ' (current)' : ''}${row.threshold === t.best ? ' (best)' : ''}`,
              }),
              h('td', { class: 'num', text: count(row.assigned) }),
              h('td', { class: 'num', text: count(row.won) }),
              h('td', { class: 'num', text: pct(row.rate) }),
              h('td', {
                class: 'num muted',
                text: row.rate === null ? '—' : `${pct(row.low)} – ${pct(row.high)}`,
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A rates table; with `collapseUnclosed`, rows with no closed deal hide behind a "show all" toggle. */
function table(title, rows, { collapseUnclosed = false } = {}) {
  const hidden = collapseUnclosed ? rows.filter((r) => r.closed === 0).length : 0;
  const body = h(
    'tbody',
    null,
    rows.map((r) => rateRow(r, collapseUnclosed && r.closed === 0)),
  );
  const toggle = hidden
    ? h('button', {
        type: 'button',
        class: 'btn small ghost show-all',
        'aria-expanded': 'false',
        text: `Show all (${hidden} more with no closed deal)`,
        onclick: (e) => {
          const open = e.currentTarget.getAttribute('aria-expanded') !== 'true';
          e.currentTarget.setAttribute('aria-expanded', String(open));
          e.currentTarget.textContent = open
            ? 'Show only those with closed deals'
            : `Show all (${hidden} more with no closed deal)`;
          for (const tr of body.querySelectorAll('tr.unclosed')) tr.hidden = !open;
        },
      })
    : null;
  return h(
    'section',
    { class: 'panel' },
    h('h2', { text: title }),
    rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table rates' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['', 'Closed', 'Won', '', 'Lost', 'No response', 'Reps rated'].map((x) =>
                  h('th', { scope: 'col', text: x }),
                ),
              ),
            ),
            body,
          ),
          toggle,
        )
      : emptyState('Nothing closed.'),
  );
}

function rateRow(r, collapsed) {
  return h(
    'tr',
    {
      class: [r.closed < FEW ? 'few' : '', collapsed ? 'unclosed' : ''].join(' ').trim() || undefined,
      hidden: collapsed,
    },
    h(
      'th',
      { scope: 'row' },
      r.key,
      r.closed < FEW ? h('span', { class: 'small muted', text: ' · few cases' }) : null,
    ),
    h('td', { class: 'num', text: count(r.closed) }),
    h('td', {
      class: 'num',
      title: interval(r.won),
      text: `${pct(r.won.rate, 0)} (${r.won.count})`,
    }),
    h('td', { class: 'ci-cell' }, ciBar(r.won, 'best')),
    h('td', {
      class: 'num',
      title: interval(r.lost),
      text: `${pct(r.lost.rate, 0)} (${r.lost.count})`,
    }),
    h('td', {
      class: 'num',
      title: interval(r.noResponse),
      text: `${pct(r.noResponse.rate, 0)} (${r.noResponse.count})`,
    }),
    h('td', { class: 'small', text: rated(r.ratings) }),
  );
}

/** The reps' ratings of a row's leads, beside its outcomes: "good fit 3 · wrong timing 1", or —. */
function rated(ratings = {}) {
  const shown = Object.entries(ratings)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r.replace('-', ' ')} ${count(n)}`);
  return shown.length ? shown.join(' · ') : '—';
}

const interval = (r) => (r.rate === null ? 'no cases' : `95 % interval ${pct(r.low)} – ${pct(r.high)}`);
