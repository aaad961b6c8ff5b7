// "Now" for the console's pages: the stack's clock as its server last told it (the `x-handoff-clock`
// header on every API answer). On the local stack that clock is virtual (`npm start -- --time-scale`,
// `--start-at`), so "3 min ago" and a running step's duration read the same time the functions do; against
// AWS it is the server's real time.

let seen = { server: Date.now(), local: performance.now(), scale: 1 };

/** Takes `<epoch ms>; scale=<n>` from an API answer; ignores a missing or malformed header. */
export function observeClock(header) {
  const m = /^(\d+)\s*;\s*scale=([\d.e+]+)$/i.exec(header ?? '');
  if (!m) return;
  const server = Number(m[1]);
  const scale = Number(m[2]);
  if (Number.isFinite(server) && Number.isFinite(scale) && scale > 0)
    seen = { server, local: performance.now(), scale };
}

/** The stack's time now, in epoch ms. */
export function now() {
  return seen.server + (performance.now() - seen.local) * seen.scale;
}
