// Phases 4 and 5 of the graph layout (layout.js): the order of the nodes within each layer (fewest
// crossings found), and their x (each toward its neighbours, in that order, by isotonic regression).

/** The gap between two nodes side by side in a layer. */
export const GAP_X = 22;

/**
 * 4. Order within layers: DFS order first, then barycenter sweeps; the order with fewest crossings wins,
 * then neighbours are swapped while that removes crossings. Returns the layers (ids, left to right) and
 * each node's neighbours in the layer above (`up`) and below (`down`).
 */
export function orderLayers(nodes, order, links) {
  const layerCount = Math.max(...[...nodes.values()].map((n) => n.layer)) + 1;
  const layers = Array.from({ length: layerCount }, () => []);
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
  const crossings = crossingsCounter(nodes, links);
  const best = barycenterSweeps(layers, up, down, crossings);
  transpose(best, crossings);
  return { layers: best, up, down };
}

/** The index of each id within its layer. */
function positions(ls) {
  const pos = new Map();
  for (const layer of ls) {
    layer.forEach((id, i) => {
      pos.set(id, i);
    });
  }
  return pos;
}

/** How many pairs of links cross, for an order of the layers. */
function crossingsCounter(nodes, links) {
  return (ls) => {
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
}

/**
 * Sorts each layer by the mean position of its neighbours, downward and upward in turn (12 sweeps);
 * returns the order with the fewest crossings seen (the DFS order included).
 */
function barycenterSweeps(layers, up, down, crossings) {
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
  return best;
}

/** Transpose: swap neighbours in a layer while that removes crossings (in place). */
function transpose(layers, crossings) {
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
}

/** 5. x: each node toward the mean of its neighbours, keeping order and spacing (isotonic regression). */
export function placeX(nodes, layers, up, down) {
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
