// The run page's middle (pages/run.js): the graph with the path taken and the current state, and beside
// it the selected state's details (type, status, times, input and output of the visit picked).
import { now as clockNow } from '../lib/clock.js';
import { h } from '../lib/dom.js';
import { absTime, duration, timeEl } from '../lib/format.js';
import { drawGraph } from '../lib/graph.js';
import { jsonBlock } from '../lib/json.js';
import { facts } from '../lib/ui.js';

/** The graph, its legend, and the button that fits it to the panel or shows it at its actual size. */
export function graphPanel(data, view, on) {
  const { run, path } = data;
  return h(
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
}

/** The panel beside the graph: the selected state's details. */
export function detailsPanel(data, view, on) {
  return h(
    'section',
    { class: 'panel details-panel', 'aria-label': 'Step details' },
    stepDetails(data, view, on),
  );
}

/** The selected state: not entered in this run, or the visit picked (the last by default). */
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
