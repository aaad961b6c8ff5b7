// "What reps say" on the scoring-feedback page: the lead-quality ratings reps gave with their answers, by
// source, campaign or form (a toggle), beside won and lost; and their notes in their own words, newest
// first, for the value picked. The server masks notes unless PII is revealed (only their length shows).
import { h } from '../lib/dom.js';
import { count } from '../lib/format.js';

const DIMENSIONS = [
  ['source', 'Source'],
  ['campaign', 'Campaign'],
  ['formType', 'Form'],
];
const RATINGS = [
  ['good-fit', 'Good fit'],
  ['wrong-fit', 'Wrong fit'],
  ['wrong-timing', 'Wrong timing'],
];
const ACTIONS = { accept: 'accepted', won: 'won', lost: 'lost' };
const NONE = '(none)';

/** `state` ({ by, picked }) outlives a reload of the page's data, so a refresh keeps the reader's choice. */
export function repVoice(reps, state) {
  const tabs = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Group by' });
  const table = h('div', { class: 'table-wrap' });
  const notes = h('div', { class: 'rep-notes' });
  const draw = () => {
    tabs.replaceChildren(
      ...DIMENSIONS.map(([key, label]) =>
        h('button', {
          type: 'button',
          class: `btn small ${key === state.by ? 'primary' : 'ghost'}`,
          'aria-pressed': String(key === state.by),
          text: label,
          onclick: () => {
            state.by = key;
            state.picked = undefined;
            draw();
          },
        }),
      ),
    );
    const rows = reps.by[state.by] ?? [];
    table.replaceChildren(
      ratingsTable(rows, state.picked, (key) => {
        state.picked = state.picked === key ? undefined : key;
        draw();
      }),
    );
    notes.replaceChildren(...notesList(reps, state.by, state.picked));
  };
  draw();
  return h(
    'section',
    { class: 'panel rep-voice' },
    h('h2', { text: 'What reps say' }),
    h('p', {
      class: 'help',
      text: 'Ratings reps gave with their answers (accept, won, lost), beside the deals closed. Pick a row for its notes.',
    }),
    tabs,
    table,
    notes,
  );
}

function ratingsTable(rows, picked, onPick) {
  if (!rows.length) return h('p', { class: 'muted', text: 'No rating or closed deal in this range.' });
  return h(
    'table',
    { class: 'table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['', 'Rated', ...RATINGS.map(([, l]) => l), 'Won', 'Lost', 'No response'].map((x, i) =>
          h('th', { scope: 'col', class: i ? 'num' : undefined, text: x }),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          { class: r.key === picked ? 'selected' : undefined },
          h(
            'th',
            { scope: 'row' },
            h('button', {
              type: 'button',
              class: 'link',
              'aria-pressed': String(r.key === picked),
              text: r.key,
              onclick: () => onPick(r.key),
            }),
          ),
          h('td', { class: 'num', text: count(r.rated) }),
          ...RATINGS.map(([key]) => h('td', { class: 'num', text: count(r.ratings[key] ?? 0) })),
          h('td', { class: 'num', text: count(r.won) }),
          h('td', { class: 'num', text: count(r.lost) }),
          h('td', { class: 'num', text: count(r.noResponse) }),
        ),
      ),
    ),
  );
}

function notesList(reps, by, picked) {
  const shown = reps.notes.filter((n) => picked === undefined || (n[by] ?? NONE) === picked);
  const title = picked === undefined ? 'Notes' : `Notes: ${picked}`;
  if (!shown.length) return [h('h3', { text: title }), h('p', { class: 'muted', text: 'No note.' })];
  const label = Object.fromEntries(RATINGS);
  return [
    h('h3', { text: `${title} (${count(shown.length)}${reps.notesTruncated ? ', the newest' : ''})` }),
    h(
      'ul',
      { class: 'notes' },
      shown.map((n) =>
        h(
          'li',
          null,
          h('div', {
            class: 'muted',
            text: [
              n.at.slice(0, 16).replace('T', ' '),
              `${n.repId} ${ACTIONS[n.action] ?? n.action}`,
              n.rating ? label[n.rating] : undefined,
              n.grade ? `grade ${n.grade}` : undefined,
              [n.source, n.campaign, n.formType].filter(Boolean).join(' · '),
            ]
              .filter(Boolean)
              .join(' — '),
          }),
          n.note ? h('p', { class: 'note', text: n.note }) : null,
          h('a', { href: `#/leads/${encodeURIComponent(n.leadId)}`, text: 'Lead' }),
        ),
      ),
    ),
  ];
}
