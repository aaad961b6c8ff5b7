// A layered (Sugiyama-style) layout of an Amazon States Language definition, top to bottom, as the Step
// Functions console draws it: break cycles, assign layers by longest path, add dummy nodes on long edges,
// order each layer by barycenters (fewest crossings kept), place x by isotonic regression toward the
// neighbours, then route edges through their dummies. Pure: no DOM, so it is unit-tested in Node.
// layoutAsl runs the phases in order; ordering and x are layout-order.js, the edge routes layout-route.js.
import { END, edgesOf, linesOf, START } from './asl-edges.js';
import { GAP_X, orderLayers, placeX } from './layout-order.js';
import { routeEdges } from './layout-route.js';

const MAX_LAYER_W = 640;
const DUMMY_W = 8;
const GAP_Y = 50;
const PAD = 24;
const LINE_H = 15;
const CHAR_W = 6.9;

/**
 * Lays the definition out.
 * @param {{StartAt: string, States: Record<string, any>}} definition
 * @returns {{nodes: any[], edges: any[], width: number, height: number}}
 */
export function layoutAsl(definition) {
  const edges = edgesOf(definition);
  const hasEnd = edges.some((e) => e.to === END);
  const ids = [START, ...Object.keys(definition.States), ...(hasEnd ? [END] : [])];
  const nodes = sizedNodes(definition, ids);
  const order = breakCycles(ids, edges, hasEnd);
  reserveSelfLoopRoom(nodes, edges);
  const dag = assignLayers(nodes, ids, edges);
  narrowWideLayers(nodes, ids, edges, order);
  if (hasEnd) putEndBelow(nodes);
  const links = addDummies(nodes, dag);
  const { layers, up, down } = orderLayers(nodes, order, links);
  placeX(nodes, layers, up, down);
  const { width, height } = placeY(nodes, layers);
  return {
    nodes: [...nodes.values()].filter((n) => n.kind !== 'dummy'),
    edges: routeEdges(nodes, edges),
    width: Math.ceil(width),
    height: Math.ceil(height),
  };
}

/** A node per id, sized for its label (a state's in one or two lines; Start and End small). */
function sizedNodes(definition, ids) {
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
  return nodes;
}

/**
 * 1. Break cycles: a DFS from Start (Next first, then Default, Choices, Catch) marks edges back to an
 * ancestor; they are laid out reversed and drawn back up. Marks `back` and `self` on the edges and
 * returns the DFS order.
 */
function breakCycles(ids, edges, hasEnd) {
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
  return order;
}

/** A node with a self-loop keeps room on its right for the loop and its label (two short lines). */
function reserveSelfLoopRoom(nodes, edges) {
  for (const e of edges) {
    if (!e.self) continue;
    const n = nodes.get(e.from);
    e.labelLines = e.label ? linesOf(e.label) : [];
    n.padRight = 38 + Math.max(0, ...e.labelLines.map((l) => l.length)) * 5.9;
  }
}

/**
 * 2. Layers: longest path over the acyclic graph (back edges reversed, self-loops left out). Returns that
 * graph's edges, `u` above `v`.
 */
function assignLayers(nodes, ids, edges) {
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
  return dag;
}

/**
 * A layer much wider than the rest (a Choice fanning out to many ends): every other end state in it
 * moves one layer down, so the graph stays narrow enough to read at the panel's width.
 */
function narrowWideLayers(nodes, ids, edges, order) {
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
}

/** End sits below everything. */
function putEndBelow(nodes) {
  nodes.get(END).layer = Math.max(...[...nodes.values()].filter((n) => n.id !== END).map((n) => n.layer)) + 1;
}

/**
 * 3. Dummy nodes: every edge spanning more than one layer gets one per layer it crosses. Sets each edge's
 * `chain` (its nodes, dummies included, from its source to its target) and returns the unit-length links
 * between consecutive layers: {u, v} (u above v).
 */
function addDummies(nodes, dag) {
  const links = [];
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
  return links;
}

/** 6. y per layer; shift everything into view. Returns the drawing's size. */
function placeY(nodes, layers) {
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
  return { width, height };
}
