// One run: its graph with the path taken and the current state, the selected state's input and output,
// the steps and raw events, and the actions (stop, redrive, locally "send now").

import { api } from '../lib/api.js';
import { now as clockNow } from '../lib/clock.js';
import { h, replace } from '../lib/dom.js';
import { absTime, duration, statusBadge, timeEl } from '../lib/format.js';
import { jsonBlock } from '../lib/json.js';
import { confirmDialog, errorBox, facts, toast } from '../lib/ui.js';
import { detailsPanel, graphPanel } from './run-graph.js';
import { historyPanel } from './run-history.js';

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

/** The page: header with the actions, summary, failure, graph and selected state, then the history tabs. */
function page(data, view, on) {
  return [
    runHeader(data, on),
    h('div', { class: 'poll-error' }),
    runSummary(data),
    runFailure(data.run),
    data.truncated
      ? h('p', {
          class: 'muted',
          text: 'The history is longer than the console reads (10,000 events): the newest are missing.',
        })
      : null,
    h('div', { class: 'run-grid' }, graphPanel(data, view, on), detailsPanel(data, view, on)),
    historyPanel(data, view, on),
  ];
}

/** The run's name and status, where it is, and the buttons for what can be done to it. */
function runHeader(data, on) {
  const { run, path, actions } = data;
  return h(
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
}

/** When the run started and ended (or how long it has run), its lead, how many states it entered. */
function runSummary(data) {
  const { run, actions } = data;
  const started = Date.parse(run.startDate);
  const ended = run.stopDate ? Date.parse(run.stopDate) : clockNow();
  return facts([
    ['Lead', run.leadId ? h('a', { href: `#/leads/${run.leadId}`, class: 'mono', text: run.leadId }) : '—'],
    ['Started', h('span', { title: run.startDate }, absTime(run.startDate), ' · ', timeEl(run.startDate))],
    [
      run.stopDate ? 'Ended' : 'Running for',
      run.stopDate
        ? h('span', null, absTime(run.stopDate), ` · took ${duration(ended - started)}`)
        : duration(ended - started),
    ],
    ['States entered', String(data.steps.length)],
    run.continuedFrom ? ['Continued from', runLink(run.continuedFrom)] : null,
    run.continuedAs ? ['Continued as', runLink(run.continuedAs)] : null,
    run.redriveCount ? ['Redriven', `${run.redriveCount}×`] : null,
    actions.redriveReason ? ['Redrive', actions.redriveReason] : null,
  ]);
}

/**
 * A link to another run of the same chain: a long-waiting run continues as a new execution
 * (docs/operations.md, "Long waits and reconcile").
 */
function runLink(name) {
  return h('a', { href: `#/runs/${encodeURIComponent(name)}`, class: 'mono run-chain', text: name });
}

/** The run's error and cause, when it failed. */
function runFailure(run) {
  return run.error || run.cause
    ? h(
        'div',
        { class: 'error-box run-error', role: 'alert' },
        h('strong', { text: run.error ?? 'Error' }),
        run.cause ? jsonBlock(run.cause) : null,
      )
    : null;
}
