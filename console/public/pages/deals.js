// The deals board: one column per deal stage, newest first; each card with its lead's name and company
// (masked until PII is revealed), score, rep and amount.
import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { count, money, timeEl } from '../lib/format.js';
import { leadLink, scoreBadge } from '../lib/lead.js';
import { emptyState, errorBox, pageHeader } from '../lib/ui.js';

const LABELS = { assigned: 'Assigned', accepted: 'Accepted', won: 'Won', lost: 'Lost', stale: 'Stale' };

export async function render({ main, every, isCurrent }) {
  const board = h('div', { class: 'board' });
  const errorSlot = h('div');
  const totals = h('span', { class: 'muted' });
  replace(main, pageHeader('Deals', totals), errorSlot, board);
  const load = async () => {
    try {
      const data = await api('deals');
      if (!isCurrent()) return;
      replace(errorSlot);
      const won = data.stages.find((s) => s.stage === 'won');
      const revenue = (won?.deals ?? []).reduce((s, d) => s + (d.amount ?? 0), 0);
      replace(
        totals,
        `${count(data.stages.reduce((s, x) => s + x.total, 0))} deals`,
        won?.deals.length ? ` · ${money(revenue)} won in the ${won.deals.length} newest` : '',
      );
      replace(board, ...data.stages.map(column));
    } catch (e) {
      if (isCurrent()) replace(errorSlot, errorBox(e));
    }
  };
  await load();
  every(5000, load);
}

function column({ stage, total, deals, truncated }) {
  return h(
    'section',
    { class: `column col-${stage}`, 'aria-label': LABELS[stage] },
    h(
      'header',
      null,
      h('h2', { text: LABELS[stage] ?? stage }),
      h('span', { class: 'count', text: `${count(total)}${truncated ? '+' : ''}` }),
    ),
    deals.length
      ? h(
          'ol',
          { class: 'cards' },
          deals.map((d) =>
            h(
              'li',
              { class: 'card' },
              h('div', { class: 'card-top' }, leadLink(d.leadId, d.lead), timeEl(d.updatedAt)),
              d.lead?.company || d.lead?.score
                ? h(
                    'div',
                    { class: 'card-lead' },
                    d.lead.company ? h('span', { class: 'small muted pii', text: d.lead.company }) : null,
                    scoreBadge(d.lead.score),
                  )
                : null,
              h(
                'div',
                { class: 'card-body' },
                h('span', { class: 'rep', title: d.repId, text: d.repName ?? d.repId }),
                d.attempt > 1 ? h('span', { class: 'muted', text: ` · attempt ${d.attempt}` }) : null,
                d.amount !== undefined ? h('strong', { class: 'amount', text: money(d.amount) }) : null,
                d.lostReason ? h('span', { class: 'reason', text: d.lostReason }) : null,
                d.runEnd ? h('span', { class: 'reason bad', text: `run ${d.runEnd.toLowerCase()}` }) : null,
              ),
              h('a', {
                class: 'small muted mono',
                href: `#/runs/${encodeURIComponent(d.executionName)}`,
                text: 'run ›',
              }),
            ),
          ),
        )
      : emptyState('None'),
    deals.length < total
      ? h('p', {
          class: 'small muted',
          text: `The newest ${deals.length} of ${count(total)}${truncated ? '+' : ''}`,
        })
      : null,
  );
}
