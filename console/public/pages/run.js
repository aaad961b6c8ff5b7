// One run: its graph with the path taken and the current state, the selected state's input and output,
// the steps and raw events, and the actions (stop, redrive, locally "send now").

import { api } from '../lib/api.js';
import { now as clockNow } from '../lib/clock.js';
import { h, replace } from '../lib/dom.js';
import { absTime, duration, statusBadge, timeEl } from '../lib/format.js';
import { drawGraph } from '../lib/graph.js';
import { jsonBlock } from '../lib/json.js';
import { confirmDialog, errorBox, facts, toast } from '../lib/ui.js';

const POLL_MS = 2000;

export async function render({ main, params, every, isCurrent }) {
  const name = params[0];
  const path = `runs/${encodeURIComponent(name)}`;
  // `follow`: the details panel shows the current state until the admin picks another.
  const view = {
    selected: undefined,
    visit: undefined,
    tab: 'steps',
    expanded: new Set(),
    fit: true,
    follow: true,
  };
  let data = await api(path);
  // The admin may have gone to another page while this one loaded: draw nothing, start no timer.
  if (!isCurrent()) return;
  let signature = '';

  const draw = () => {
    if (!isCurrent()) return;
    const sig = `${data.run.status}:${data.events.length}:${view.selected}:${view.visit}:${view.tab}:${view.fit}:${[...view.expanded].join(',')}`;
    if (sig === signature) return;
    signature = sig;
    const scroll = main.querySelector('.graph-scroll');
    const keep = scroll ? { left: scroll.scrollLeft, top: scroll.scrollTop } : undefined;
    replace(main, ...page(data, view, { select, setTab, toggle, act, fit }));
    const next = main.querySelector('.graph-scroll');
    if (keep && next) {
      next.scrollLeft = keep.left;
      next.scrollTop = keep.top;
    }
  };
  const select = (state, visit) => {
    view.follow = false;
    view.selected = state;
    view.visit = visit;
    draw();
  };
  const fit = () => {
    view.fit = !view.fit;
    draw();
  };
  const setTab = (tab) => {
    view.tab = tab;
    draw();
  };
  const toggle = (id) => {
    if (view.expanded.has(id)) view.expanded.delete(id);
    else view.expanded.add(id);
    draw();
  };
  const reload = async () => {
    try {
      const fresh = await api(path);
      if (!isCurrent()) return;
      data = fresh;
      if (view.follow) view.selected = data.path.current;
      draw();
    } catch (e) {
      if (!isCurrent()) return;
      const slot = main.querySelector('.poll-error');
      if (slot) replace(slot, errorBox(e));
    }
  };
  const act = async (action) => {
    const ok = await confirmDialog(ACTIONS[action].confirm(data));
    if (!ok) return;
    try {
      await api(`${path}/${action}`, {
        method: 'POST',
        body: action === 'redrive' ? { clientToken: crypto.randomUUID() } : {},
      });
      toast(ACTIONS[action].done);
    } catch (e) {
      toast(e.message, 'error');
    }
    signature = '';
    await reload();
  };

  view.selected = data.path.current;
  draw();
  every(POLL_MS, async () => {
    const running = data.run.status === 'RUNNING' || data.run.status === 'PENDING_REDRIVE';
    if (running) await reload();
  });
}

const ACTIONS = {
  stop: {
    done: 'Run stopped',
    confirm: (d) => ({
      title: 'Stop this run?',
      body: [
        `${d.run.name} ends as ABORTED in "${d.path.current ?? 'its first state'}".`,
        'Record failure marks the lead failed and gives the rep’s slot back. You can redrive the run later: it resumes in that state.',
      ],
      confirm: 'Stop run',
      danger: true,
    }),
  },
  redrive: {
    done: 'Run redriven',
    confirm: (d) => ({
      title: 'Redrive this run?',
      body: [
        `It runs again from "${d.path.current ?? 'the start'}", where it ${d.run.status === 'ABORTED' ? 'was stopped' : 'failed'}, with that state’s input. Steps before it are not repeated.`,
      ],
      confirm: 'Redrive',
    }),
  },
  'send-now': {
    done: 'Sent: the run goes on as if its scheduled time had come',
    confirm: (d) => ({
      title: 'Send the next email now?',
      body: [
        `The run is waiting in "${d.path.current}" until its next scheduled send. This ends the wait now, as if that time had come (local stack only).`,
      ],
      confirm: 'Send now',
    }),
  },
};

function page(data, view, on) {
  const { run, path, actions } = data;
  const started = Date.parse(run.startDate);
  const ended = run.stopDate ? Date.parse(run.stopDate) : clockNow();
  const header = h(
    'header',
    { class: 'page-header run-header' },
    h(
      'div',
      null,
      h(
        'nav',
        { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('a', { href: '#/runs', text: 'Runs' }),
        ' / ',
      ),
      h('h1', { class: 'mono run-name' }, run.name),
      h(
        'div',
        { class: 'run-status' },
        statusBadge(run.status),
        path.current ? h('span', { class: 'muted' }, ' in ', h('strong', { text: path.current })) : null,
      ),
    ),
    h(
      'div',
      { class: 'page-tools' },
      actions.sendNow
        ? h('button', { class: 'btn', type: 'button', onclick: () => on.act('send-now'), text: 'Send now' })
        : null,
      actions.stop
        ? h('button', { class: 'btn danger', type: 'button', onclick: () => on.act('stop'), text: 'Stop' })
        : null,
      actions.redrive
        ? h('button', {
            class: 'btn primary',
            type: 'button',
            onclick: () => on.act('redrive'),
            text: 'Redrive',
          })
        : null,
    ),
  );
  const summary = facts([
    ['Lead', run.leadId ? h('a', { href: `#/leads/${run.leadId}`, class: 'mono', text: run.leadId }) : '—'],
    ['Started', h('span', { title: run.startDate }, absTime(run.startDate), ' · ', timeEl(run.startDate))],
    [
      run.stopDate ? 'Ended' : 'Running for',
      run.stopDate
        ? h('span', null, absTime(run.stopDate), ` · took ${duration(ended - started)}`)
        : duration(ended - started),
    ],
    ['States entered', String(data.steps.length)],
    run.redriveCount ? ['Redriven', `${run.redriveCount}×`] : null,
    actions.redriveReason ? ['Redrive', actions.redriveReason] : null,
  ]);
  const failure =
    run.error || run.cause
      ? h(
          'div',
          { class: 'error-box run-error', role: 'alert' },
          h('strong', { text: run.error ?? 'Error' }),
          run.cause ? jsonBlock(run.cause) : null,
        )
      : null;

  const graphPanel = h(
    'section',
    { class: 'panel graph-panel', 'aria-label': 'Graph' },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', { text: 'Graph' }),
      h(
        'div',
        { class: 'legend', 'aria-hidden': 'true' },
        ['current', 'succeeded', 'caught', 'failed', 'unvisited'].map((k) =>
          h('span', { class: `key key-${k}`, text: k === 'unvisited' ? 'not entered' : k }),
        ),
      ),
      h('button', {
        type: 'button',
        class: 'btn small',
        onclick: on.fit,
        title: view.fit ? 'Show the graph at its actual size (scroll to move)' : 'Fit the graph to the panel',
        text: view.fit ? 'Actual size' : 'Fit',
      }),
    ),
    h(
      'div',
      { class: `graph-scroll${view.fit ? ' fit' : ''}` },
      drawGraph(data.definition, path, {
        status: run.status,
        steps: data.steps,
        selected: view.selected,
        onSelect: (state) => on.select(state),
      }),
    ),
  );
  const details = h(
    'section',
    { class: 'panel details-panel', 'aria-label': 'Step details' },
    stepDetails(data, view, on),
  );

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
        : h(
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
  return [
    header,
    h('div', { class: 'poll-error' }),
    summary,
    failure,
    data.truncated
      ? h('p', {
          class: 'muted',
          text: 'The history is longer than the console reads (10,000 events): the newest are missing.',
        })
      : null,
    h('div', { class: 'run-grid' }, graphPanel, details),
    h('section', { class: 'panel' }, tabs, tabBody),
  ];
}

function stepDetails(data, view, on) {
  const state = view.selected;
  if (!state)
    return [
      h('h2', { text: 'Step details' }),
      h('p', { class: 'muted', text: 'Select a state in the graph.' }),
    ];
  const visits = data.steps.filter((s) => s.state === state);
  const def = data.definition.States[state] ?? {};
  if (!visits.length) {
    return [
      h('h2', { text: state }),
      facts([
        ['Type', def.Type],
        ['Entered', 'Not in this run'],
      ]),
      def.Comment ? h('p', { class: 'muted', text: def.Comment }) : null,
    ];
  }
  const index = Math.min(view.visit ?? visits.length - 1, visits.length - 1);
  const step = visits[index];
  const end = step.exitedAt ? Date.parse(step.exitedAt) : step.status === 'running' ? clockNow() : undefined;
  return [
    h('h2', { text: state }),
    visits.length > 1
      ? h(
          'label',
          { class: 'visit-picker' },
          'Visit ',
          h(
            'select',
            { onchange: (e) => on.select(state, Number(e.target.value)) },
            visits.map((v, i) =>
              h('option', {
                value: i,
                selected: i === index,
                text: `${i + 1} of ${visits.length} · ${absTime(v.enteredAt)}`,
              }),
            ),
          ),
        )
      : null,
    facts([
      ['Type', step.type],
      ['Status', h('span', { class: `step-status step-${step.status}`, text: step.status })],
      ['Entered', h('span', null, absTime(step.enteredAt), ' · ', timeEl(step.enteredAt))],
      ['Duration', end ? duration(end - Date.parse(step.enteredAt)) : '—'],
      step.failures ? ['Failed attempts', String(step.failures)] : null,
      step.error ? ['Error', h('code', { text: step.error })] : null,
    ]),
    step.cause ? h('div', null, h('h3', { text: 'Cause' }), jsonBlock(step.cause)) : null,
    h('h3', { text: 'Input' }),
    jsonBlock(step.input),
    h('h3', { text: 'Output' }),
    jsonBlock(step.output, {
      empty: step.status === 'running' ? 'Not finished yet' : 'No output (left through a Catch or stopped)',
    }),
  ];
}

function stepsTable(data, view, on) {
  if (!data.steps.length) return h('p', { class: 'muted', text: 'The run has not entered a state yet.' });
  const start = Date.parse(data.run.startDate);
  const rows = [];
  data.steps.forEach((s, i) => {
    const open = view.expanded.has(s.id);
    const end = s.exitedAt ? Date.parse(s.exitedAt) : s.status === 'running' ? clockNow() : undefined;
    rows.push(
      h(
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
      ),
    );
    if (open) {
      rows.push(
        h(
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
        ),
      );
    }
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
