// Phase 7 of the graph layout (layout.js): each edge's route through its dummy nodes and where its label
// goes, and the SVG path drawn through a route.

/**
 * 7. Edge routes. Ports spread along a node's bottom (edges leaving downward) and top (edges arriving
 * from above); a back edge leaves its node upward from the top and arrives at its target from below, so it
 * shares those sides with the forward edges, each at its own port. Self-loops loop on the right.
 * Returns the edges with their `points` (and `labelAt`), without their chains.
 */
export function routeEdges(nodes, edges) {
  const real = edges.map((e) => ({ ...e }));
  const portOf = portsOf(nodes, real);
  const labelsAbove = new Map();
  for (const e of real) {
    if (e.self) loopRight(e, nodes.get(e.from));
    else throughChain(e, nodes, portOf, labelsAbove);
  }
  return real.map(({ chain, ...e }) => e);
}

/**
 * Where each edge meets a node's top or bottom: the node's ports there, in the order of the neighbours
 * the edges go toward (left to right, fewer crossings), at most 16 apart.
 * @returns {(side: 'top' | 'bottom', id: string, e: any) => number} the port's x
 */
function portsOf(nodes, real) {
  const sides = { top: new Map(), bottom: new Map() };
  const push = (m, id, item) => (m.get(id) ?? m.set(id, []).get(id)).push(item);
  for (const e of real) {
    if (e.self) continue;
    // The node's neighbour along the edge decides the port order (left to right, fewer crossings).
    const chain = e.chain;
    if (e.back) {
      push(sides.top, e.from, { e, toward: nodes.get(chain[1]).x });
      push(sides.bottom, e.to, { e, toward: nodes.get(chain[chain.length - 2]).x });
    } else {
      push(sides.bottom, e.from, { e, toward: nodes.get(chain[1]).x });
      push(sides.top, e.to, { e, toward: nodes.get(chain[chain.length - 2]).x });
    }
  }
  return (side, id, e) => {
    const list = sides[side].get(id).sort((a, b) => a.toward - b.toward);
    const n = nodes.get(id);
    const i = list.findIndex((p) => p.e === e);
    const step = Math.min(16, (n.w - 16) / Math.max(1, list.length - 1));
    return n.x + (i - (list.length - 1) / 2) * (list.length > 1 ? step : 0);
  };
}

/** A self-loop: out of the node's right side and back in, its label beside it. */
function loopRight(e, u) {
  const r = u.x + u.w / 2;
  e.points = [
    { x: r, y: u.y - 6 },
    { x: r + 30, y: u.y - 18 },
    { x: r + 30, y: u.y + 18 },
    { x: r, y: u.y + 6 },
  ];
  if (e.label) e.labelAt = { x: r + 36, y: u.y + 4 - ((e.labelLines.length - 1) * 12) / 2, anchor: 'start' };
}

/**
 * Any other edge: from its port on the source, through its dummies, to its port on the target (a back
 * edge from the source's top to the target's bottom). `labelsAbove` counts the labels stacked over a node.
 */
function throughChain(e, nodes, portOf, labelsAbove) {
  const u = nodes.get(e.from);
  const v = nodes.get(e.to);
  const middle = e.chain.slice(1, -1).map((id) => ({ x: nodes.get(id).x, y: nodes.get(id).y }));
  const start = e.back
    ? { x: portOf('top', e.from, e), y: u.y - u.h / 2 }
    : { x: portOf('bottom', e.from, e), y: u.y + u.h / 2 };
  const end = e.back
    ? { x: portOf('bottom', e.to, e), y: v.y + v.h / 2 }
    : { x: portOf('top', e.to, e), y: v.y - v.h / 2 };
  e.points = [start, ...middle, end];
  if (!e.label) return;
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
