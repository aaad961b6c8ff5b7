// A layered (Sugiyama-style) layout of an Amazon States Language definition, top to bottom, as the Step
// Functions console draws it: break cycles, assign layers by longest path, add dummy nodes on long edges,
// order each layer by barycenters (fewest crossings kept), place x by isotonic regression toward the
// neighbours, then route edges through their dummies. Pure: no DOM, so it is unit-tested in Node.

export const START = '__start__';
export const END = '__end__';

const GAP_X = 22;
const MAX_LAYER_W = 640;
const DUMMY_W = 8;
const GAP_Y = 50;
const PAD = 24;
const LINE_H = 15;
const CHAR_W = 6.9;

/**
 * The edges of a definition: Start → StartAt; each state's Next, Choices and Default; Catch targets; End
 * (End: true, Succeed, Fail) → End. Edges between the same two states are merged, their labels joined.
 * @param {{StartAt: string, States: Record<string, any>}} definition
 */
export function edgesOf(definition) {
  /** @type {Map<string, {from: string, to: string, kind: string, label?: string, title?: string}>} */
  const edges = new Map();
  const add = (from, to, kind, label, title) => {
    if (!to || (to !== END && !(to in definition.States))) return;
    const key = `${from}\u0000${to}`;
    const e = edges.get(key);
    if (!e) {
      edges.set(key, {
        from,
        to,
        kind,
        ...(label ? { label } : {}),
        ...(title || label ? { title: title ?? label } : {}),
      });
      return;
    }
    if (label) {
      e.label = e.label ? `${e.label} · ${label}` : label;
      e.title = e.title ? `${e.title}\n${title ?? label}` : (title ?? label);
    }
  };
  add(START, definition.StartAt, 'next');
  for (const [name, st] of Object.entries(definition.States)) {
    if (st.Type === 'Choice') {
      for (const c of st.Choices ?? [])
        add(name, c.Next, 'choice', conditionLabel(c, true), conditionLabel(c));
      if (st.Default) add(name, st.Default, 'default', 'otherwise');
    } else if (st.Next) add(name, st.Next, 'next');
    // Succeed and Fail are ends in themselves (drawn as such); an End node collects only `End: true` states.
    if (st.End) add(name, END, 'end');
    for (const c of st.Catch ?? []) {
      const errors = (c.ErrorEquals ?? []).join(', ');
      const short = (c.ErrorEquals ?? [])
        .map((x) => (x === 'States.ALL' ? 'any error' : x.replace(/^States\./, '')))
        .join(', ');
      add(name, c.Next, 'catch', `catch ${short}`, `Catch: ${errors}`);
    }
  }
  return [...edges.values()];
}

const OPS = {
  Equals: '=',
  GreaterThan: '>',
  GreaterThanEquals: '≥',
  LessThan: '<',
  LessThanEquals: '≤',
  Matches: '~',
};

/**
 * A Choice rule as short text: `$.capture.route` StringEquals `merged` → `route = merged` (short) or
 * `$.capture.route = "merged"`.
 */
export function conditionLabel(rule, short = false) {
  if (!rule || typeof rule !== 'object') return '';
  if (Array.isArray(rule.And)) return rule.And.map((r) => conditionLabel(r, short)).join(' and ');
  if (Array.isArray(rule.Or)) return rule.Or.map((r) => conditionLabel(r, short)).join(' or ');
  if (rule.Not) return `not (${conditionLabel(rule.Not, short)})`;
  if (typeof rule.Condition === 'string') return rule.Condition;
  const variable = String(rule.Variable ?? '');
  const name = short ? (variable.split('.').at(-1) ?? variable) : variable;
  const key = Object.keys(rule).find((k) => k !== 'Variable' && k !== 'Next' && k !== 'Comment');
  if (!key) return name;
  const value = rule[key];
  const m =
    /^(String|Numeric|Boolean|Timestamp)(Equals|GreaterThan|GreaterThanEquals|LessThan|LessThanEquals|Matches)(Path)?$/.exec(
      key,
    );
  if (m) {
    const shown = m[3]
      ? String(value)
      : typeof value === 'string' && !short
        ? JSON.stringify(value)
        : String(value);
    return `${name} ${OPS[m[2]]} ${shown}`;
  }
  if (/^Is(Present|Null|String|Numeric|Boolean|Timestamp)$/.test(key))
    return `${name} ${value ? '' : 'not '}${key.slice(2).toLowerCase()}`.replace('  ', ' ');
  return `${name} ${key} ${String(value)}`;
}

/** A label in one or two lines (split at the space nearest the middle when longer than 20 characters). */
export function linesOf(label) {
  if (label.length <= 20) return [label];
  const mid = label.length / 2;
  let best = -1;
  for (let i = 0; i < label.length; i++) {
    if (label[i] === ' ' && (best < 0 || Math.abs(i - mid) < Math.abs(best - mid))) best = i;
  }
  return best < 0 ? [label] : [label.slice(0, best), label.slice(best + 1)];
}

/**
 * Lays the definition out.
 * @param {{StartAt: string, States: Record<string, any>}} definition
 * @returns {{nodes: any[], edges: any[], width: number, height: number}}
 */
export function layoutAsl(definition) {
  const edges = edgesOf(definition);
  const hasEnd = edges.some((e) => e.to === END);
  const ids = [START, ...Object.keys(definition.States), ...(hasEnd ? [END] : [])];
  /** @type {Map<string, any>} */
  const nodes = new Map();
  for (const id of ids) {
    const st = definition.States[id];
    const kind = id === START ? 'start' : id === END ? 'end' : 'state';
    const label = id === START ? 'Start' : id === END ? 'End' : id;
    const lines = kind === 'state' ? linesOf(label) : [label];
    const longest = Math.max(...lines.map((l) => l.length));
    const w = kind === 'state' ? Math.max(96, Math.min(260, Math.round(longest * CHAR_W + 34))) : 58;
    const hgt = kind === 'state' ? 22 + lines.length * LINE_H : 28;
    nodes.set(id, { id, label, lines, type: st?.Type ?? kind, kind, w, h: hgt, x: 0, y: 0, layer: 0 });
  }

  // 1. Break cycles: a DFS from Start (Next first, then Default, Choices, Catch) marks edges back to an
  // ancestor; they are laid out reversed and drawn back up.
  const rank = { next: 0, default: 1, choice: 2, catch: 3, end: 4 };
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.from).push(e);
  for (const list of out.values()) list.sort((a, b) => rank[a.kind] - rank[b.kind]);
  const state = new Map();
  const order = [];
  const visit = (id) => {
    state.set(id, 'open');
    order.push(id);
    for (const e of out.get(id)) {
      if (e.from === e.to) {
        e.self = true;
        continue;
      }
      const s = state.get(e.to);
      if (s === 'open') e.back = true;
      else if (s === undefined) visit(e.to);
    }
    state.set(id, 'done');
  };
  visit(START);
  for (const id of ids) if (!state.has(id)) visit(id); // unreachable states still get drawn
  if (hasEnd && !order.includes(END)) order.push(END);

  // A node with a self-loop keeps room on its right for the loop and its label (two short lines).
  for (const e of edges) {
    if (!e.self) continue;
    const n = nodes.get(e.from);
    e.labelLines = e.label ? linesOf(e.label) : [];
    n.padRight = 38 + Math.max(0, ...e.labelLines.map((l) => l.length)) * 5.9;
  }

  // 2. Layers: longest path over the acyclic graph (back edges reversed, self-loops left out).
  const dag = edges
    .filter((e) => !e.self)
    .map((e) => (e.back ? { u: e.to, v: e.from, e } : { u: e.from, v: e.to, e }));
  const succ = new Map(ids.map((id) => [id, []]));
  const indeg = new Map(ids.map((id) => [id, 0]));
  for (const d of dag) {
    succ.get(d.u).push(d);
    indeg.set(d.v, indeg.get(d.v) + 1);
  }
  const queue = ids.filter((id) => indeg.get(id) === 0);
  while (queue.length) {
    const id = queue.shift();
    for (const d of succ.get(id)) {
      const n = nodes.get(d.v);
      n.layer = Math.max(n.layer, nodes.get(id).layer + 1);
      indeg.set(d.v, indeg.get(d.v) - 1);
      if (indeg.get(d.v) === 0) queue.push(d.v);
    }
  }
  // A layer much wider than the rest (a Choice fanning out to many ends): every other end state in it
  // moves one layer down, so the graph stays narrow enough to read at the panel's width.
  const sinks = new Set(ids.filter((id) => id !== END && !edges.some((e) => e.from === id && !e.self)));
  const widthOf = (layer) =>
    [...nodes.values()].filter((n) => n.layer === layer).reduce((w, n) => w + n.w + GAP_X, 0);
  const layerIds = [...new Set([...nodes.values()].map((n) => n.layer))].sort((a, b) => a - b);
  for (const layer of layerIds.filter((l) => widthOf(l) > MAX_LAYER_W)) {
    const ends = order.filter((id) => sinks.has(id) && nodes.get(id).layer === layer);
    ends.forEach((id, i) => {
      if (i % 2 === 1) nodes.get(id).layer += 1;
    });
  }
  // End sits below everything.
  if (hasEnd)
    nodes.get(END).layer =
      Math.max(...[...nodes.values()].filter((n) => n.id !== END).map((n) => n.layer)) + 1;

  // 3. Dummy nodes: every edge spanning more than one layer gets one per layer it crosses.
  const links = []; // unit-length links between consecutive layers: {u, v} (u above v)
  for (const d of dag) {
    const chain = [d.u];
    const from = nodes.get(d.u).layer;
    const to = nodes.get(d.v).layer;
    for (let l = from + 1; l < to; l++) {
      const id = `${d.e.from}\u0000${d.e.to}\u0000${l}`;
      nodes.set(id, { id, kind: 'dummy', w: DUMMY_W, h: 0, x: 0, y: 0, layer: l, lines: [] });
      chain.push(id);
    }
    chain.push(d.v);
    for (let i = 0; i + 1 < chain.length; i++) links.push({ u: chain[i], v: chain[i + 1] });
    d.e.chain = d.e.back ? [...chain].reverse() : chain;
  }

  // 4. Order within layers: DFS order first, then barycenter sweeps; the order with fewest crossings wins.
  const layerCount = Math.max(...[...nodes.values()].map((n) => n.layer)) + 1;
  let layers = Array.from({ length: layerCount }, () => []);
  const seen = new Set();
  for (const id of order) {
    layers[nodes.get(id).layer].push(id);
    seen.add(id);
  }
  for (const n of nodes.values()) if (!seen.has(n.id)) layers[n.layer].push(n.id);
  const up = new Map([...nodes.keys()].map((id) => [id, []]));
  const down = new Map([...nodes.keys()].map((id) => [id, []]));
  for (const l of links) {
    down.get(l.u).push(l.v);
    up.get(l.v).push(l.u);
  }
  const positions = (ls) => {
    const pos = new Map();
    for (const layer of ls) {
      layer.forEach((id, i) => {
        pos.set(id, i);
      });
    }
    return pos;
  };
  const crossings = (ls) => {
    const pos = positions(ls);
    let c = 0;
    for (let i = 0; i + 1 < ls.length; i++) {
      const between = links
        .filter((l) => nodes.get(l.u).layer === i)
        .map((l) => [pos.get(l.u), pos.get(l.v)]);
      for (let a = 0; a < between.length; a++)
        for (let b = a + 1; b < between.length; b++) {
          const [a1, a2] = between[a];
          const [b1, b2] = between[b];
          if ((a1 - b1) * (a2 - b2) < 0) c++;
        }
    }
    return c;
  };
  let best = layers.map((l) => [...l]);
  let bestCrossings = crossings(best);
  for (let iter = 0; iter < 12; iter++) {
    const downward = iter % 2 === 0;
    const pos = positions(layers);
    const range = downward ? [...layers.keys()].slice(1) : [...layers.keys()].reverse().slice(1);
    for (const li of range) {
      const neighbours = downward ? up : down;
      const layer = layers[li];
      const bary = new Map(
        layer.map((id, i) => {
          const ns = neighbours.get(id);
          return [id, ns.length ? ns.reduce((s, n) => s + pos.get(n), 0) / ns.length : i];
        }),
      );
      layer.sort((a, b) => bary.get(a) - bary.get(b));
      layer.forEach((id, i) => {
        pos.set(id, i);
      });
    }
    const c = crossings(layers);
    if (c < bestCrossings) {
      best = layers.map((l) => [...l]);
      bestCrossings = c;
    }
  }
  layers = best;
  // Transpose: swap neighbours in a layer while that removes crossings.
  for (let pass = 0; pass < 4; pass++) {
    let improved = false;
    for (const layer of layers) {
      for (let i = 0; i + 1 < layer.length; i++) {
        const before = crossings(layers);
        [layer[i], layer[i + 1]] = [layer[i + 1], layer[i]];
        if (crossings(layers) < before) improved = true;
        else [layer[i], layer[i + 1]] = [layer[i + 1], layer[i]];
      }
    }
    if (!improved) break;
  }

  // 5. x: each node toward the mean of its neighbours, keeping order and spacing (isotonic regression).
  for (const layer of layers) {
    let x = 0;
    for (const id of layer) {
      const n = nodes.get(id);
      n.x = x + n.w / 2;
      x += n.w + (n.padRight ?? 0) + GAP_X;
    }
  }
  const gapBetween = (a, b) => (a.kind === 'dummy' || b.kind === 'dummy' ? 14 : GAP_X);
  for (let iter = 0; iter < 24; iter++) {
    const downward = iter % 2 === 0;
    const range = downward ? [...layers.keys()] : [...layers.keys()].reverse();
    for (const li of range) {
      const layer = layers[li];
      const desired = layer.map((id) => {
        const n = nodes.get(id);
        const ns = [
          ...(downward ? up.get(id) : down.get(id)),
          ...(iter > 16 ? (downward ? down.get(id) : up.get(id)) : []),
        ];
        return ns.length ? ns.reduce((s, m) => s + nodes.get(m).x, 0) / ns.length : n.x;
      });
      const weights = layer.map((id) => (nodes.get(id).kind === 'dummy' ? 0.6 : 1));
      const seps = [0];
      for (let i = 1; i < layer.length; i++) {
        const a = nodes.get(layer[i - 1]);
        const b = nodes.get(layer[i]);
        seps.push(seps[i - 1] + a.w / 2 + (a.padRight ?? 0) + b.w / 2 + gapBetween(a, b));
      }
      const xs = isotonic(
        desired.map((d, i) => d - seps[i]),
        weights,
      ).map((y, i) => y + seps[i]);
      layer.forEach((id, i) => {
        nodes.get(id).x = xs[i];
      });
    }
  }

  // 6. y per layer; shift everything into view.
  let y = PAD;
  for (const layer of layers) {
    const hgt = Math.max(0, ...layer.map((id) => nodes.get(id).h));
    for (const id of layer) nodes.get(id).y = y + hgt / 2;
    y += hgt + GAP_Y;
  }
  const all = [...nodes.values()];
  const minX = Math.min(...all.map((n) => n.x - n.w / 2));
  for (const n of all) n.x += PAD - minX + 40;
  const width = Math.max(...all.map((n) => n.x + n.w / 2 + (n.padRight ?? 0))) + PAD + 40;
  const height = y - GAP_Y + PAD;

  // 7. Edge routes. Ports spread along a node's bottom (edges leaving downward) and top (edges arriving
  // from above); a back edge leaves its node upward from the top and arrives at its target from below, so it
  // shares those sides with the forward edges, each at its own port. Self-loops loop on the right.
  const real = edges.map((e) => ({ ...e }));
  const bottoms = new Map();
  const tops = new Map();
  const push = (m, id, item) => (m.get(id) ?? m.set(id, []).get(id)).push(item);
  for (const e of real) {
    if (e.self) continue;
    // The node's neighbour along the edge decides the port order (left to right, fewer crossings).
    const chain = e.chain;
    if (e.back) {
      push(tops, e.from, { e, toward: nodes.get(chain[1]).x });
      push(bottoms, e.to, { e, toward: nodes.get(chain[chain.length - 2]).x });
    } else {
      push(bottoms, e.from, { e, toward: nodes.get(chain[1]).x });
      push(tops, e.to, { e, toward: nodes.get(chain[chain.length - 2]).x });
    }
  }
  const portOf = (m, id, e) => {
    const list = m.get(id).sort((a, b) => a.toward - b.toward);
    const n = nodes.get(id);
    const i = list.findIndex((p) => p.e === e);
    const step = Math.min(16, (n.w - 16) / Math.max(1, list.length - 1));
    return n.x + (i - (list.length - 1) / 2) * (list.length > 1 ? step : 0);
  };
  const labelsAbove = new Map();
  for (const e of real) {
    const u = nodes.get(e.from);
    const v = nodes.get(e.to);
    if (e.self) {
      const r = u.x + u.w / 2;
      e.points = [
        { x: r, y: u.y - 6 },
        { x: r + 30, y: u.y - 18 },
        { x: r + 30, y: u.y + 18 },
        { x: r, y: u.y + 6 },
      ];
      if (e.label)
        e.labelAt = { x: r + 36, y: u.y + 4 - ((e.labelLines.length - 1) * 12) / 2, anchor: 'start' };
      continue;
    }
    const middle = e.chain.slice(1, -1).map((id) => ({ x: nodes.get(id).x, y: nodes.get(id).y }));
    const start = e.back
      ? { x: portOf(tops, e.from, e), y: u.y - u.h / 2 }
      : { x: portOf(bottoms, e.from, e), y: u.y + u.h / 2 };
    const end = e.back
      ? { x: portOf(bottoms, e.to, e), y: v.y + v.h / 2 }
      : { x: portOf(tops, e.to, e), y: v.y - v.h / 2 };
    e.points = [start, ...middle, end];
    if (e.label) {
      // Forward: just above the target, where the branch arrives (stacked when several arrive). Back:
      // beside the first leg.
      if (e.back) {
        const [a, b] = [e.points[0], e.points[1]];
        e.labelAt = { x: (a.x + b.x) / 2 + 6, y: (a.y + b.y) / 2, anchor: 'start' };
      } else {
        const k = labelsAbove.get(e.to) ?? 0;
        labelsAbove.set(e.to, k + 1);
        e.labelAt = { x: end.x, y: end.y - 6 - k * 12, anchor: 'middle' };
      }
    }
  }
  return {
    nodes: all.filter((n) => n.kind !== 'dummy'),
    edges: real.map(({ chain, ...e }) => e),
    width: Math.ceil(width),
    height: Math.ceil(height),
  };
}

/** Weighted least squares fit to `values` under y[i] ≤ y[i+1] (pool adjacent violators). */
export function isotonic(values, weights) {
  const blocks = [];
  values.forEach((v, i) => {
    blocks.push({ sum: v * weights[i], w: weights[i], n: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a.sum / a.w <= b.sum / b.w) break;
      blocks.splice(-2, 2, { sum: a.sum + b.sum, w: a.w + b.w, n: a.n + b.n });
    }
  });
  return blocks.flatMap((b) => Array(b.n).fill(b.sum / b.w));
}

/** An SVG path through the points: vertical S-curves between points one above the other, else Catmull-Rom. */
export function pathThrough(points) {
  if (points.length < 2) return '';
  const f = (n) => Math.round(n * 10) / 10;
  let d = `M${f(points[0].x)},${f(points[0].y)}`;
  for (let i = 0; i + 1 < points.length; i++) {
    const p0 = points[i - 1] ?? points[i];
    const p1 = points[i];
    const p2 = points[i + 1];
    const p3 = points[i + 2] ?? p2;
    const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
    const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
    d += ` C${f(c1.x)},${f(c1.y)} ${f(c2.x)},${f(c2.y)} ${f(p2.x)},${f(p2.y)}`;
  }
  return d;
}
