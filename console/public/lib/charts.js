// Small SVG charts for the funnel and scoring feedback pages: no library, text as text nodes.
import { h, s } from './dom.js';
import { count, pct } from './format.js';

const STAGE_LABELS = {
  captured: 'Captured',
  mql: 'MQL',
  sql: 'SQL',
  assigned: 'Assigned',
  accepted: 'Accepted',
  won: 'Won',
  lost: 'Lost',
};
export const stageLabel = (stage) => STAGE_LABELS[stage] ?? stage;

/**
 * The funnel as horizontal bars, one per stage, with the conversion from the stage before.
 * @param {string[]} stages
 * @param {{counts: Record<string, number>, conversion: {from: string, to: string, rate: number|null}[]}} row
 */
export function funnelBars(stages, row) {
  const width = 720;
  const barH = 26;
  const gap = 12;
  const left = 96;
  const right = 150;
  const max = Math.max(1, ...stages.map((st) => row.counts[st] ?? 0));
  const conv = new Map(row.conversion.map((c) => [c.to, c]));
  const height = stages.length * (barH + gap);
  const svg = s('svg', {
    class: 'chart funnel-chart',
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Funnel: ${stages.map((st) => `${stageLabel(st)} ${row.counts[st] ?? 0}`).join(', ')}`,
  });
  stages.forEach((st, i) => {
    const y = i * (barH + gap);
    const n = row.counts[st] ?? 0;
    const w = Math.max(n ? 2 : 0, ((width - left - right) * n) / max);
    const c = conv.get(st);
    svg.append(
      s('text', {
        x: left - 10,
        y: y + barH / 2 + 4,
        'text-anchor': 'end',
        class: 'label',
        text: stageLabel(st),
      }),
      s('rect', { x: left, y, width: w, height: barH, rx: 4, class: `bar ${st}` }),
      s('text', { x: left + w + 8, y: y + barH / 2 + 4, class: 'value', text: count(n) }),
    );
    if (c) {
      svg.append(
        s('text', {
          x: width - 4,
          y: y + barH / 2 + 4,
          'text-anchor': 'end',
          class: 'conv',
          text: `${pct(c.rate, 0)} of ${stageLabel(c.from)}`,
        }),
      );
    }
  });
  return svg;
}

/**
 * Lines per series over days.
 * @param {{day: string, counts: Record<string, number>}[]} days
 * @param {string[]} series
 */
export function lineChart(days, series) {
  const width = 720;
  const height = 220;
  const pad = { l: 36, r: 12, t: 10, b: 24 };
  const max = Math.max(1, ...days.flatMap((d) => series.map((k) => d.counts[k] ?? 0)));
  const x = (i) => pad.l + (days.length <= 1 ? 0 : (i * (width - pad.l - pad.r)) / (days.length - 1));
  const y = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / max;
  const svg = s('svg', {
    class: 'chart line-chart',
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'Leads per day by stage',
  });
  const ticks = niceTicks(max);
  for (const t of ticks) {
    svg.append(
      s('line', { x1: pad.l, x2: width - pad.r, y1: y(t), y2: y(t), class: 'grid' }),
      s('text', { x: pad.l - 6, y: y(t) + 4, 'text-anchor': 'end', text: count(t) }),
    );
  }
  const every = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((d, i) => {
    const last = i === days.length - 1;
    if ((i % every === 0 && (last || days.length - 1 - i >= every)) || last)
      svg.append(s('text', { x: x(i), y: height - 6, 'text-anchor': 'middle', text: d.day.slice(5) }));
  });
  for (const k of series) {
    const points = days.map((d, i) => `${x(i).toFixed(1)},${y(d.counts[k] ?? 0).toFixed(1)}`);
    svg.append(s('polyline', { points: points.join(' '), class: `line series-${k}` }));
    if (days.length === 1)
      svg.append(s('circle', { cx: x(0), cy: y(days[0].counts[k] ?? 0), r: 3, class: `series-${k}` }));
  }
  return h(
    'div',
    null,
    svg,
    h(
      'div',
      { class: 'chart-legend' },
      series.map((k) => h('span', { class: `legend-${k}`, text: stageLabel(k) })),
    ),
  );
}

function niceTicks(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = max <= 5 ? 1 : ([1, 2, 5, 10].find((m) => raw / mag <= m) ?? 10) * mag;
  const out = [];
  for (let t = 0; t <= max; t += step) out.push(t);
  return out;
}

/**
 * Horizontal bars for named counts (lost reasons).
 * @param {[string, number][]} entries
 */
export function hbars(entries, cls = '') {
  const width = 420;
  const barH = 18;
  const gap = 8;
  const left = 130;
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${entries.length * (barH + gap)}`,
    role: 'img',
    'aria-label': entries.map(([k, n]) => `${k} ${n}`).join(', '),
  });
  entries.forEach(([k, n], i) => {
    const y = i * (barH + gap);
    const w = ((width - left - 40) * n) / max;
    svg.append(
      s('text', { x: left - 8, y: y + barH / 2 + 4, 'text-anchor': 'end', class: 'label', text: k }),
      s('rect', { x: left, y, width: Math.max(2, w), height: barH, rx: 3, class: `bar ${cls}` }),
      s('text', { x: left + w + 6, y: y + barH / 2 + 4, class: 'value', text: count(n) }),
    );
  });
  return svg;
}

/**
 * A rate with its 95 % interval on a 0–100 % scale: the whisker is the interval, the dot the rate.
 * @param {{count: number, rate: number|null, low: number, high: number}} r
 */
export function ciBar(r, cls = '') {
  const w = 160;
  const x = (v) => 4 + v * (w - 8);
  const svg = s('svg', {
    class: 'chart ci-chart',
    viewBox: `0 0 ${w} 14`,
    width: w,
    height: 14,
    role: 'img',
    'aria-label':
      r.rate === null ? 'no cases' : `${pct(r.rate)} (95 % interval ${pct(r.low)} to ${pct(r.high)})`,
  });
  svg.append(s('line', { x1: x(0), x2: x(1), y1: 7, y2: 7, class: 'grid' }));
  if (r.rate !== null) {
    svg.append(
      s('line', { x1: x(r.low), x2: x(r.high), y1: 7, y2: 7, class: `ci ${cls}` }),
      s('line', { x1: x(r.low), x2: x(r.low), y1: 3, y2: 11, class: `ci ${cls}` }),
      s('line', { x1: x(r.high), x2: x(r.high), y1: 3, y2: 11, class: `ci ${cls}` }),
      s('circle', { cx: x(r.rate), cy: 7, r: 3.5, class: `dot ${cls}` }),
    );
  }
  return svg;
}
