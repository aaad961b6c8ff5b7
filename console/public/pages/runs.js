// Runs: every execution, newest first, live, each with its lead's name, company, form and score (masked
// until PII is revealed). Filter by status or current state; search by email, lead id or run name.

import { api, qs } from '../lib/api.js';
import { now as clockNow } from '../lib/clock.js';
import { h, replace } from '../lib/dom.js';
import { absTime, duration, shortId, statusBadge, timeEl } from '../lib/format.js';
import { leadLink, scoreBadge } from '../lib/lead.js';
import { setQuery } from '../lib/router.js';
import { emptyState, errorBox, pageHeader } from '../lib/ui.js';

const POLL_MS = 2000;

export async function render({ main, query, meta, every, isCurrent }) {
  const filters = {
    q: query.get('q') ?? '',
    status: query.get('status') ?? '',
    state: query.get('state') ?? '',
  };
  let pages = 1;
  let next;
  let known = new Set();

  const live = h(
    'span',
    { class: 'live', title: 'Refreshed every 2 seconds while this tab is visible' },
    'Live',
  );
  const search = h('input', {
    type: 'search',
    name: 'q',
    placeholder: 'Email, lead id or run name',
    value: filters.q,
    'aria-label': 'Search runs by email, lead id or run name',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const status = h(
    'select',
    { name: 'status', 'aria-label': 'Status' },
    h('option', { value: '', text: 'Any status' }),
    meta.statuses.map((s) => h('option', { value: s, text: s, selected: s === filters.status })),
  );
  const state = h(
    'select',
    { name: 'state', 'aria-label': 'Current state' },
    h('option', { value: '', text: 'Any state' }),
    meta.states.map((s) => h('option', { value: s, text: s, selected: s === filters.state })),
  );
  const clear = h('button', { type: 'button', class: 'btn ghost', text: 'Clear' });
  const form = h('form', { class: 'filters', role: 'search' }, search, status, state, clear);
  const note = h('div', { class: 'list-note' });
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'runs table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Status', 'Run', 'Lead', 'Form', 'Score', 'Current state', 'Started', 'Duration'].map((t) =>
          h('th', { scope: 'col', text: t }),
        ),
      ),
    ),
    body,
  );
  const more = h('button', { type: 'button', class: 'btn', text: 'Load more', hidden: true });
  const errorSlot = h('div');
  replace(main, pageHeader('Runs', live), form, errorSlot, note, table, h('div', { class: 'more' }, more));

  const row = (r, isNew) =>
    h(
      'tr',
      { class: isNew ? 'new' : undefined, 'data-run': r.name },
      h('td', null, statusBadge(r.status)),
      h(
        'td',
        { class: 'mono' },
        h('a', { href: `#/runs/${encodeURIComponent(r.name)}`, text: r.name, title: r.executionArn }),
      ),
      h(
        'td',
        { class: 'lead-cell' },
        r.leadId ? leadLink(r.leadId, r.lead) : '—',
        r.lead?.company ? h('div', { class: 'small muted pii', text: r.lead.company }) : null,
        r.lead ? h('div', { class: 'small muted mono', text: shortId(r.leadId, 14) }) : null,
      ),
      h('td', null, r.lead?.formType ?? '—'),
      h('td', null, scoreBadge(r.lead?.score) ?? '—'),
      h(
        'td',
        null,
        r.state
          ? h('span', { class: `state-name${r.status === 'RUNNING' ? ' running' : ''}`, text: r.state })
          : '—',
      ),
      h('td', { title: absTime(r.startDate) }, timeEl(r.startDate)),
      h(
        'td',
        { class: 'num', 'data-start': r.startDate, 'data-stop': r.stopDate ?? '' },
        duration((r.stopDate ? Date.parse(r.stopDate) : clockNow()) - Date.parse(r.startDate)),
      ),
    );

  async function load({ append = false } = {}) {
    const limit = Math.min(100, 50 * pages);
    const params = { ...filters, limit: append ? 50 : limit, next: append ? next : undefined };
    let data;
    try {
      data = await api(`runs${qs(params)}`);
      if (!isCurrent()) return;
      replace(errorSlot);
      live.classList.remove('stale');
    } catch (e) {
      if (!isCurrent()) return;
      replace(errorSlot, errorBox(e));
      live.classList.add('stale');
      return;
    }
    const first = known.size === 0 && !append;
    const rows = data.runs.map((r) => row(r, !first && !known.has(r.name)));
    if (append) body.append(...rows);
    else replace(body, ...rows);
    known = new Set([...body.querySelectorAll('tr[data-run]')].map((tr) => tr.dataset.run));
    if (!append) next = data.next;
    else next = data.next;
    more.hidden = !next;
    const notes = [];
    if (data.leadId) {
      notes.push(
        h(
          'span',
          null,
          'Lead ',
          h('a', { href: `#/leads/${data.leadId}`, class: 'mono', text: data.leadId }),
          ' · ',
        ),
      );
    }
    if (data.truncated)
      notes.push(`Showing the first ${data.runs.length} matches among the newest ${data.scanned} runs.`);
    else if (data.scanned !== undefined)
      notes.push(`${data.runs.length} match${data.runs.length === 1 ? '' : 'es'}.`);
    replace(note, ...notes);
    if (!data.runs.length) {
      const filtered = filters.q || filters.status || filters.state;
      replace(
        body,
        h(
          'tr',
          null,
          h(
            'td',
            { colspan: 8 },
            filtered
              ? emptyState(
                  'No runs match these filters.',
                  h('p', { class: 'muted', text: 'Clear them to see every run.' }),
                )
              : emptyState(
                  'No runs yet.',
                  h(
                    'p',
                    { class: 'muted' },
                    'Each lead posted to the API starts one. ',
                    meta.exampleForm
                      ? h('a', {
                          href: meta.exampleForm,
                          target: '_blank',
                          rel: 'noopener',
                          text: 'Open the example form',
                        })
                      : null,
                  ),
                ),
          ),
        ),
      );
    }
  }

  const apply = () => {
    filters.q = search.value.trim();
    filters.status = status.value;
    filters.state = state.value;
    setQuery(filters);
    pages = 1;
    known = new Set();
    load();
  };
  let typing;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(apply, 300);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  status.addEventListener('change', apply);
  state.addEventListener('change', apply);
  clear.addEventListener('click', () => {
    search.value = '';
    status.value = '';
    state.value = '';
    apply();
  });
  more.addEventListener('click', async () => {
    pages += 1;
    await load({ append: true });
  });

  await load();
  every(POLL_MS, async () => {
    // The live view refreshes the pages shown; "Load more" pages beyond the first few stay as they were.
    if (pages <= 2) await load();
    for (const td of body.querySelectorAll('td[data-start]')) {
      if (!td.dataset.stop) td.textContent = duration(clockNow() - Date.parse(td.dataset.start));
    }
  });
}
