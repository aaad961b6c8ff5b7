// The run page's history (pages/run.js): tabs for its steps (each expands to its input and output), the
// raw events, and the execution's input and output.
import { now as clockNow } from '../lib/clock.js';
import { h } from '../lib/dom.js';
import { absTime, duration } from '../lib/format.js';
import { jsonBlock } from '../lib/json.js';

/** The tabs and the open tab's table. */
export function historyPanel(data, view, on) {
  const tabs = h(
    'div',
    { class: 'tabs', role: 'tablist' },
    [
      ['steps', `Steps (${data.steps.length})`],
      ['events', `Events (${data.events.length})`],
      ['io', 'Execution input & output'],
    ].map(([id, label]) =>
      h('button', {
        type: 'button',
        role: 'tab',
        'aria-selected': String(view.tab === id),
        class: 'tab',
        onclick: () => on.setTab(id),
        text: label,
      }),
    ),
  );
  const tabBody =
    view.tab === 'steps'
      ? stepsTable(data, view, on)
      : view.tab === 'events'
        ? eventsTable(data, view, on)
        : executionIo(data.run);
  return h('section', { class: 'panel' }, tabs, tabBody);
}

/** The execution's input and output, side by side. */
function executionIo(run) {
  return h(
    'div',
    { class: 'io-grid' },
    h('div', null, h('h3', { text: 'Input' }), jsonBlock(run.input)),
    h(
      'div',
      null,
      h('h3', { text: 'Output' }),
      jsonBlock(run.output, { empty: run.status === 'RUNNING' ? 'Still running' : 'No output' }),
    ),
  );
}

function stepsTable(data, view, on) {
  if (!data.steps.length) return h('p', { class: 'muted', text: 'The run has not entered a state yet.' });
  const start = Date.parse(data.run.startDate);
  const rows = [];
  data.steps.forEach((s, i) => {
    const open = view.expanded.has(s.id);
    rows.push(stepRow(data, view, on, { s, i, open, start }));
    if (open) rows.push(stepDetailRow(s));
  });
  return h(
    'table',
    { class: 'table steps' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['#', 'State', 'Type', 'Status', 'Started', 'Duration', ''].map((t) =>
          h('th', { scope: 'col', text: t }),
        ),
      ),
    ),
    h('tbody', null, rows),
  );
}

/** A step's row: its number, state (click to expand), type, status, start and duration, "Show in graph". */
function stepRow(data, view, on, { s, i, open, start }) {
  const end = s.exitedAt ? Date.parse(s.exitedAt) : s.status === 'running' ? clockNow() : undefined;
  return h(
    'tr',
    { class: `step-row${open ? ' open' : ''}${s.state === view.selected ? ' selected' : ''}` },
    h('td', { class: 'num muted', text: String(i + 1) }),
    h(
      'td',
      null,
      h('button', {
        type: 'button',
        class: 'link',
        'aria-expanded': String(open),
        onclick: () => {
          on.toggle(s.id);
        },
        text: `${open ? '▾' : '▸'} ${s.state}`,
      }),
    ),
    h('td', { class: 'muted', text: s.type }),
    h('td', null, h('span', { class: `step-status step-${s.status}`, text: s.status })),
    h('td', {
      class: 'num',
      title: absTime(s.enteredAt),
      text: `+${duration(Date.parse(s.enteredAt) - start)}`,
    }),
    h('td', { class: 'num', text: end ? duration(end - Date.parse(s.enteredAt)) : '—' }),
    h(
      'td',
      null,
      h('button', {
        type: 'button',
        class: 'btn small ghost',
        onclick: () => on.select(s.state, data.steps.filter((x) => x.state === s.state).indexOf(s)),
        text: 'Show in graph',
      }),
    ),
  );
}

/** An expanded step: its error and cause, input and output. */
function stepDetailRow(s) {
  return h(
    'tr',
    { class: 'step-detail' },
    h(
      'td',
      { colspan: 7 },
      s.error ? h('p', null, h('strong', { text: 'Error ' }), h('code', { text: s.error })) : null,
      s.cause ? jsonBlock(s.cause) : null,
      h(
        'div',
        { class: 'io-grid' },
        h('div', null, h('h3', { text: 'Input' }), jsonBlock(s.input)),
        h(
          'div',
          null,
          h('h3', { text: 'Output' }),
          jsonBlock(s.output, { empty: s.status === 'running' ? 'Not finished yet' : 'No output' }),
        ),
      ),
    ),
  );
}

function eventsTable(data, view, on) {
  const start = Date.parse(data.run.startDate);
  const rows = [];
  for (const e of data.events) {
    const key = -e.id; // expanded events use negative ids, steps positive
    const open = view.expanded.has(key);
    rows.push(
      h(
        'tr',
        { class: `event-row${/Failed|TimedOut|Aborted/.test(e.type) ? ' bad' : ''}` },
        h('td', { class: 'num muted', text: String(e.id) }),
        h(
          'td',
          null,
          e.details
            ? h('button', {
                type: 'button',
                class: 'link',
                'aria-expanded': String(open),
                onclick: () => on.toggle(key),
                text: `${open ? '▾' : '▸'} ${e.type}`,
              })
            : e.type,
        ),
        h('td', null, e.state ?? ''),
        h('td', {
          class: 'num',
          title: absTime(e.timestamp),
          text: `+${duration(Date.parse(e.timestamp) - start)}`,
        }),
      ),
    );
    if (open)
      rows.push(
        h('tr', { class: 'step-detail' }, h('td', { colspan: 4 }, jsonBlock(detailsForShow(e.details)))),
      );
  }
  return h(
    'table',
    { class: 'table events' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['ID', 'Type', 'State', 'Time'].map((t) => h('th', { scope: 'col', text: t })),
      ),
    ),
    h('tbody', null, rows),
  );
}

/** Details with their JSON texts (input, output) parsed, so they print as JSON rather than escaped strings. */
function detailsForShow(d) {
  const out = {};
  for (const [k, v] of Object.entries(d ?? {})) {
    if ((k === 'input' || k === 'output') && typeof v === 'string') {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // shown as text
      }
    }
    out[k] = v;
  }
  return out;
}
