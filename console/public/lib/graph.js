// The run's graph: the state machine laid out from its definition, the path taken and the current state
// highlighted, as in the Step Functions console's graph view. Click a state to see its input and output.

import { END, START } from './asl-edges.js';
import { s } from './dom.js';
import { layoutAsl } from './layout.js';
import { pathThrough } from './layout-route.js';

/** The last layout, by definition text: a poll that brings the same definition reuses it. */
let cached = { key: '', layout: undefined };

/**
 * Draws the graph.
 * @param {object} definition the ASL definition
 * @param {{visits: Record<string, number>, transitions: {from: string, to: string}[], current?: string}} path
 * @param {{status: string, steps: {state: string, status: string}[], selected?: string, onSelect?: (state: string) => void}} run
 * @returns {SVGSVGElement}
 */
export function drawGraph(definition, path, run) {
  const key = JSON.stringify(definition);
  if (cached.key !== key) cached = { key, layout: layoutAsl(definition) };
  const { layout } = cached;
  const outcome = outcomesOf(run.steps);
  const taken = new Set(path.transitions.map((t) => `${t.from}\u0000${t.to}`));
  if (run.steps.length) taken.add(`${START}\u0000${run.steps[0].state}`);
  if (run.status === 'SUCCEEDED' && path.current) taken.add(`${path.current}\u0000${END}`);

  const svg = s('svg', {
    class: 'graph',
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    role: 'img',
    'aria-label': 'State machine graph',
  });
  svg.append(
    s(
      'defs',
      null,
      ...['edge', 'taken', 'back'].map((k) =>
        s(
          'marker',
          {
            id: `arrow-${k}`,
            viewBox: '0 0 10 10',
            refX: 9,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto-start-reverse',
          },
          s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead arrowhead-${k}` }),
        ),
      ),
    ),
  );

  const edgeLayer = s('g', { class: 'edges' });
  const labelLayer = s('g', { class: 'edge-labels' });
  for (const e of layout.edges) {
    const isTaken = taken.has(`${e.from}\u0000${e.to}`);
    const cls = ['edge', `edge-${e.kind}`, isTaken && 'taken', e.back && 'back', e.self && 'self']
      .filter(Boolean)
      .join(' ');
    const marker = isTaken ? 'taken' : e.back || e.self ? 'back' : 'edge';
    const p = s('path', {
      d: pathThrough(e.points),
      class: cls,
      'marker-end': `url(#arrow-${marker})`,
      'data-from': e.from,
      'data-to': e.to,
    });
    if (e.title) p.append(s('title', { text: e.title }));
    edgeLayer.append(p);
    if (e.label && e.labelAt) {
      const lines = e.labelLines?.length
        ? e.labelLines
        : [e.label.length > 30 ? `${e.label.slice(0, 29)}…` : e.label];
      const text = s('text', {
        x: e.labelAt.x,
        y: e.labelAt.y,
        'text-anchor': e.labelAt.anchor,
        class: `edge-label${isTaken ? ' taken' : ''}`,
      });
      lines.forEach((line, i) => {
        text.append(s('tspan', { x: e.labelAt.x, dy: i === 0 ? 0 : 12, text: line }));
      });
      if (e.title) text.append(s('title', { text: e.title }));
      labelLayer.append(text);
    }
  }
  svg.append(edgeLayer, labelLayer);

  const nodeLayer = s('g', { class: 'nodes' });
  for (const n of layout.nodes) {
    const visits = path.visits[n.id] ?? 0;
    const isCurrent = n.id === path.current && run.status === 'RUNNING';
    const result = outcome.get(n.id);
    const reached =
      n.kind === 'start' ? run.steps.length > 0 : n.kind === 'end' ? run.status === 'SUCCEEDED' : visits > 0;
    const cls = [
      'node',
      `node-${n.kind}`,
      `type-${String(n.type).toLowerCase()}`,
      reached ? 'visited' : 'unvisited',
      isCurrent && 'current',
      result && `result-${result}`,
      n.id === run.selected && 'selected',
    ]
      .filter(Boolean)
      .join(' ');
    const g = s('g', {
      class: cls,
      transform: `translate(${n.x - n.w / 2},${n.y - n.h / 2})`,
      'data-state': n.kind === 'state' ? n.id : undefined,
      tabindex: n.kind === 'state' ? 0 : undefined,
      role: n.kind === 'state' ? 'button' : undefined,
      'aria-label': n.kind === 'state' ? `${n.id}${isCurrent ? ' (current)' : ''}` : undefined,
    });
    const end = n.type === 'Succeed' || n.type === 'Fail';
    const rx = n.kind !== 'state' || n.type === 'Choice' ? n.h / 2 : end ? 12 : 6;
    g.append(s('rect', { width: n.w, height: n.h, rx, ry: rx, class: 'shape' }));
    const text = s('text', {
      x: n.w / 2,
      y: n.h / 2 - ((n.lines.length - 1) * 15) / 2 + 4,
      'text-anchor': 'middle',
    });
    n.lines.forEach((line, i) => {
      const glyph = i === 0 && end ? (n.type === 'Succeed' ? '✓ ' : '✕ ') : '';
      text.append(s('tspan', { x: n.w / 2, dy: i === 0 ? 0 : 15, text: `${glyph}${line}` }));
    });
    g.append(text);
    if (n.kind === 'state') {
      const tip = `${n.id} · ${n.type}${visits ? ` · entered ${visits}×` : ' · not entered'}${isCurrent ? ' · current' : ''}`;
      g.append(s('title', { text: tip }));
      if (visits > 1) {
        g.append(
          s('g', { class: 'visits', transform: `translate(${n.w - 4},-6)` }, [
            s('rect', { x: -14, y: -3, width: 24, height: 15, rx: 7.5 }),
            s('text', { x: -2, y: 8, 'text-anchor': 'middle', text: `×${visits}` }),
          ]),
        );
      }
      if (run.onSelect) {
        g.addEventListener('click', () => run.onSelect(n.id));
        g.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            run.onSelect(n.id);
          }
        });
      }
    }
    nodeLayer.append(g);
  }
  svg.append(nodeLayer);
  return svg;
}

/** Each state's latest outcome: succeeded, caught, failed, aborted, timed-out or running. */
function outcomesOf(steps) {
  const out = new Map();
  for (const st of steps) out.set(st.state, st.status);
  return out;
}
