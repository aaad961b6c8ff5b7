// Hash routes: every page has a URL that can be bookmarked and shared (`#/runs/<name>`, `#/leads/<id>`).

const PAGES = ['runs', 'deals', 'funnel', 'feedback', 'deliverability'];

/** `#/runs/abc?status=RUNNING` → { page: 'run', nav: 'runs', params: ['abc'], query } */
export function parseHash(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const [first = 'runs', second, ...rest] = parts;
  if (rest.length) return { page: 'notfound', nav: '', params: parts, query };
  if (first === 'runs' && second) return { page: 'run', nav: 'runs', params: [second], query };
  if (first === 'leads' && second) return { page: 'lead', nav: 'runs', params: [second], query };
  if (PAGES.includes(first) && !second) return { page: first, nav: first, params: [], query };
  return { page: 'notfound', nav: '', params: parts, query };
}

/** Replaces the hash's query without a new history entry (filters typed into a page). */
export function setQuery(params) {
  const [path] = location.hash.split('?');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const text = q.toString();
  history.replaceState(null, '', `${path || '#/runs'}${text ? `?${text}` : ''}`);
}
