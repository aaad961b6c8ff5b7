// Deliverability: the circuit breaker that pauses nurture sends, and the rolling rates against SES's lines.
import { api } from '../lib/api.js';
import { h, replace, s } from '../lib/dom.js';
import { absTime, count, pct, timeEl } from '../lib/format.js';
import { bodyLoader, facts, pageHeader } from '../lib/ui.js';

export async function render({ main, every, isCurrent }) {
  const body = h('div');
  replace(main, pageHeader('Deliverability'), body);
  const load = bodyLoader(body, isCurrent, () => api('deliverability'), page);
  await load();
  every(10_000, load);
}

function page(d) {
  const { rates, limits } = d;
  const enough = rates.sent >= limits.minVolume;
  return [
    h(
      'div',
      { class: `breaker ${d.tripped ? 'tripped' : 'ok'}`, role: 'status' },
      h('strong', { text: d.tripped ? 'Nurture sends are paused' : 'Sending normally' }),
      h(
        'p',
        null,
        d.tripped
          ? [
              `The breaker tripped ${d.at ? `${absTime(d.at)} ` : ''}because the ${d.reason ?? 'rates passed their limits'}. Leads wait; none are dropped. It closes by itself when the rates recover, or an admin resets it (POST /admin/deliverability/reset).`,
            ]
          : `The breaker trips when the bounce or complaint rate over the last ${limits.windowHours} h reaches its limit, once at least ${count(limits.minVolume)} emails were sent.`,
      ),
    ),
    h(
      'div',
      { class: 'gauges' },
      gauge('Bounce rate', rates.bounceRate, limits.bounceRate, 0.05, 'SES reviews accounts at 5 %'),
      gauge(
        'Complaint rate',
        rates.complaintRate,
        limits.complaintRate,
        0.001,
        'SES reviews accounts at 0.1 %',
      ),
    ),
    firstContacts(d.firstContact, limits),
    facts([
      [
        'Sent in the window',
        `${count(rates.sent)}${enough ? '' : ` (the breaker judges from ${count(limits.minVolume)})`}`,
      ],
      ['Window', `${limits.windowHours} h`],
      ['Checked', timeEl(d.checkedAt)],
    ]),
  ];
}

/**
 * First contacts (double opt-in confirmations, or the answers to forms) have their own breaker: junk
 * addresses bounce there, and pause first contacts only, never mail to leads who already take it.
 */
function firstContacts(f, limits) {
  if (!f) return null;
  const r = f.rates;
  const judged = r.sent >= limits.minVolume ? '' : ` (judged from ${count(limits.minVolume)} sent)`;
  const line = `${count(r.sent)} sent in ${limits.windowHours} h${judged} · bounces ${pct(r.bounceRate, 2)} · complaints ${pct(r.complaintRate, 2)}`;
  return h(
    'div',
    { class: `breaker ${f.tripped ? 'tripped' : 'ok'}`, role: 'status', 'data-stream': 'first-contact' },
    h('strong', {
      text: f.tripped ? 'First contacts are paused' : 'First contacts: sending normally',
    }),
    h(
      'p',
      null,
      f.tripped
        ? `Confirmations and answers to new forms wait (none dropped) because the ${f.reason ?? 'rates passed their limits'}. Mail to leads already reached goes on. ${line}.`
        : `Confirmations and answers to new forms are counted apart: bounces from junk addresses pause these only. ${line}.`,
    ),
  );
}

function gauge(label, value, limit, ses, note) {
  const max = Math.max(ses * 1.25, value * 1.1, limit * 1.5);
  const x = (v) => Math.min(100, (v / max) * 100);
  const level = value >= limit ? 'bad' : value >= limit * 0.75 ? 'warn' : 'ok';
  return h(
    'section',
    { class: 'panel gauge' },
    h('h2', { text: label }),
    h('div', { class: `gauge-value ${level}`, text: pct(value, 2) }),
    s(
      'svg',
      {
        class: 'gauge-bar',
        viewBox: '0 0 100 12',
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': `${label} ${pct(value, 2)}, breaker at ${pct(limit, 2)}`,
      },
      s('rect', { x: 0, y: 2, width: 100, height: 8, rx: 2, class: 'track' }),
      s('rect', { x: 0, y: 2, width: x(value), height: 8, rx: 2, class: `fill ${level}` }),
      s('line', { x1: x(limit), x2: x(limit), y1: 0, y2: 12, class: 'limit' }),
      s('line', { x1: x(ses), x2: x(ses), y1: 0, y2: 12, class: 'ses' }),
    ),
    h('p', { class: 'small muted', text: `Breaker at ${pct(limit, 2)} (solid line) · ${note} (dashed)` }),
  );
}
