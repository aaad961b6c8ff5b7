// The console shell: hash routes (every page is linkable), the nav, the PII switch, and page lifecycles
// (a page's timers stop when the admin leaves it).
import { api, privacy } from './lib/api.js';
import { replace } from './lib/dom.js';
import { refreshTimes } from './lib/format.js';
import { parseHash } from './lib/router.js';
import { errorBox, loading } from './lib/ui.js';

const PAGES = {
  runs: () => import('./pages/runs.js'),
  run: () => import('./pages/run.js'),
  lead: () => import('./pages/lead.js'),
  deals: () => import('./pages/deals.js'),
  funnel: () => import('./pages/funnel.js'),
  feedback: () => import('./pages/feedback.js'),
  deliverability: () => import('./pages/deliverability.js'),
};

const main = document.getElementById('main');
let meta;
let current; // { cleanups: [] }

async function route() {
  for (const fn of current?.cleanups ?? []) fn();
  const ctx = { cleanups: [] };
  current = ctx;
  const r = parseHash(location.hash);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (r.page === 'notfound') {
    replace(main, errorBox({ status: 404, message: `No page at ${location.hash}` }));
    return;
  }
  replace(main, loading());
  try {
    const mod = await PAGES[r.page]();
    if (current !== ctx) return;
    await mod.render({
      main,
      params: r.params,
      query: r.query,
      meta,
      /**
       * Runs `fn` every `ms` while this page is shown and the tab is visible. Nothing starts once the admin
       * has left the page (a page that called this after an await would leave a timer no one clears).
       */
      every(ms, fn) {
        if (current !== ctx) return;
        let busy = false;
        const t = setInterval(async () => {
          if (document.hidden || busy) return;
          busy = true;
          try {
            await fn();
          } finally {
            busy = false;
          }
        }, ms);
        ctx.cleanups.push(() => clearInterval(t));
      },
      /** Runs `fn` when the admin leaves the page (at once if they already have). */
      onLeave(fn) {
        if (current !== ctx) fn();
        else ctx.cleanups.push(fn);
      },
      isCurrent: () => current === ctx,
      rerender: route,
    });
  } catch (e) {
    if (current === ctx) replace(main, errorBox(e, route));
  }
}

function setReveal(on) {
  privacy.reveal = on;
  const b = document.getElementById('reveal');
  b.setAttribute('aria-pressed', String(on));
  b.textContent = on ? 'Hide PII' : 'Reveal PII';
  document.body.classList.toggle('pii-revealed', on);
  document.getElementById('reveal-note').textContent = on
    ? 'Personal data is visible. Hide it before sharing your screen.'
    : 'Emails, names, phone, company and messages are masked.';
}

async function start() {
  document.getElementById('reveal').addEventListener('click', () => {
    setReveal(!privacy.reveal);
    route();
  });
  try {
    meta = await api('meta');
    document.getElementById('env').textContent = meta.label;
    document.getElementById('env').classList.add(`env-${meta.mode}`);
    if (meta.exampleForm) {
      const link = document.getElementById('form-link');
      link.href = meta.exampleForm;
      link.target = '_blank';
      link.rel = 'noopener';
      link.hidden = false;
    }
  } catch (e) {
    replace(
      main,
      errorBox(e, () => location.reload()),
    );
    return;
  }
  window.addEventListener('hashchange', route);
  setInterval(() => refreshTimes(main), 5000);
  await route();
}

start();
