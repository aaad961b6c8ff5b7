// A lead: profile, score with its reasons and rules version, timeline, deals and runs.
import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { absTime, money, shortId, stageBadge, statusBadge, timeEl } from '../lib/format.js';
import { eventFields, scoreLine } from '../lib/score.js';
import { emptyState, facts, pageHeader } from '../lib/ui.js';

export async function render({ main, params, every, isCurrent }) {
  const leadId = params[0];
  const draw = (data) => replace(main, ...page(data));
  const first = await api(`leads/${encodeURIComponent(leadId)}`);
  // The admin may have gone to another page while this one loaded: draw nothing then.
  if (!isCurrent()) return;
  draw(first);
  every(5000, async () => {
    const data = await api(`leads/${encodeURIComponent(leadId)}`).catch(() => undefined);
    if (data && isCurrent()) {
      const y = window.scrollY;
      draw(data);
      window.scrollTo(0, y);
    }
  });
}

function page({ lead, timeline, deals, runs }) {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
  const score = lead.score;
  const profile = facts([
    ['Email', h('span', { class: 'pii', text: lead.email })],
    ['Name', h('span', { class: 'pii', text: name })],
    ['Company', lead.company ? h('span', { class: 'pii', text: lead.company }) : null],
    ['Title', lead.title],
    ['Company size', lead.companySize ? String(lead.companySize) : null],
    ['Industry', lead.industry],
    ['Country', lead.country],
    ['Phone', lead.phone ? h('span', { class: 'pii', text: lead.phone }) : null],
    ['Form', lead.formType],
    ['Consent', lead.consent ? 'yes' : 'no'],
    ['Time zone', lead.timeZone],
    [
      'UTM',
      [lead.utmSource, lead.utmMedium, lead.utmCampaign].some(Boolean)
        ? [lead.utmSource ?? '—', lead.utmMedium ?? '—', lead.utmCampaign ?? '—'].join(' / ')
        : null,
    ],
    ['Owner', lead.ownerRepId],
    [
      'Captured',
      h('span', { title: lead.capturedAt }, absTime(lead.capturedAt), ' · ', timeEl(lead.capturedAt)),
    ],
    ['Updated', timeEl(lead.updatedAt)],
    ['Waiting', lead.waiting ? 'parked on its nurture wait (a signal wakes it)' : null],
  ]);
  const message = lead.message
    ? h('div', null, h('h3', { text: 'Message' }), h('p', { class: 'message pii', text: lead.message }))
    : null;

  const scoreCard = score
    ? h(
        'section',
        { class: 'panel' },
        h(
          'div',
          { class: 'panel-head' },
          h('h2', { text: 'Score' }),
          h('span', { class: `grade grade-${score.grade}`, text: score.grade }),
        ),
        h(
          'div',
          { class: 'score-line' },
          h('span', { class: 'score-total', text: String(score.total) }),
          h('span', { class: 'muted' }, scoreLine(score).slice(String(score.total).length)),
        ),
        facts([
          ['Rules version', h('code', { text: score.rulesVersion })],
          ['Scored', timeEl(score.scoredAt)],
          score.flags?.length ? ['Flags', score.flags.join(', ')] : null,
        ]),
        h(
          'table',
          { class: 'table reasons' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Reason', 'Kind', 'Points'].map((t) => h('th', { scope: 'col', text: t })),
            ),
          ),
          h(
            'tbody',
            null,
            (score.reasons ?? []).map((r) =>
              h(
                'tr',
                null,
                h('td', { text: r.label }),
                h('td', { class: 'muted', text: r.kind }),
                h('td', {
                  class: `num points ${r.points < 0 ? 'neg' : 'pos'}`,
                  text: `${r.points > 0 ? '+' : ''}${r.points}`,
                }),
              ),
            ),
          ),
        ),
      )
    : h(
        'section',
        { class: 'panel' },
        h('h2', { text: 'Score' }),
        h('p', { class: 'muted', text: 'Not scored yet.' }),
      );

  const events = [...timeline].sort((a, b) => (a.at < b.at ? 1 : -1));
  const timelineCard = h(
    'section',
    { class: 'panel' },
    h('h2', { text: `Timeline (${timeline.length})` }),
    events.length
      ? h(
          'ol',
          { class: 'timeline' },
          events.map((e) =>
            h(
              'li',
              { class: `tl tl-${e.type}` },
              h(
                'div',
                { class: 'tl-head' },
                h('strong', { text: e.type }),
                ' ',
                h('span', { class: 'muted', title: e.at }, absTime(e.at), ' · ', timeEl(e.at)),
              ),
              e.data && eventFields(e.data).length ? h('div', { class: 'tl-data' }, summary(e.data)) : null,
            ),
          ),
        )
      : emptyState('No events yet.'),
  );

  const dealsCard = h(
    'section',
    { class: 'panel' },
    h('h2', { text: `Deals (${deals.length})` }),
    deals.length
      ? deals.map((d) =>
          h(
            'div',
            { class: 'deal-card' },
            h('div', { class: 'deal-top' }, h('code', { text: d.dealId }), stageBadge(d.stage)),
            facts([
              ['Rep', d.repId],
              ['Attempt', String(d.attempt)],
              d.amount !== undefined ? ['Amount', money(d.amount)] : null,
              d.lostReason ? ['Lost because', d.lostReason] : null,
              d.runEnd ? ['Run ended', d.runEnd] : null,
              ['Created', timeEl(d.createdAt)],
              ['Updated', timeEl(d.updatedAt)],
            ]),
          ),
        )
      : emptyState('No deal: the lead has not reached a rep.'),
  );

  const runsCard = h(
    'section',
    { class: 'panel' },
    h('h2', { text: `Runs (${runs.length})` }),
    runs.length
      ? h(
          'ul',
          { class: 'plain' },
          runs.map((r) =>
            h(
              'li',
              null,
              statusBadge(r.status),
              ' ',
              h('a', { class: 'mono', href: `#/runs/${encodeURIComponent(r.name)}`, text: r.name }),
              ' ',
              h('span', { class: 'muted' }, r.state ?? '', ' · ', timeEl(r.startDate)),
            ),
          ),
        )
      : emptyState('No runs found for this lead.'),
  );

  return [
    pageHeader(name || shortId(lead.id)),
    h('div', { class: 'lead-sub' }, h('code', { text: lead.id }), ' ', stageBadge(lead.stage)),
    h(
      'div',
      { class: 'lead-grid' },
      h(
        'div',
        null,
        h('section', { class: 'panel' }, h('h2', { text: 'Profile' }), profile, message),
        dealsCard,
        runsCard,
      ),
      h('div', null, scoreCard, timelineCard),
    ),
  ];
}

/**
 * A timeline event's data as short text ("dealId dl-… · repId rep-ava"): lists (a score's reasons) as
 * readable text, nested values as JSON, empty ones (no flags) left out.
 */
function summary(data) {
  const parts = eventFields(data).map(([k, text, json]) => [
    h('span', { class: 'muted', text: `${k} ` }),
    json ? h('code', { text }) : h('span', { text }),
  ]);
  return parts.flatMap((p, i) => (i ? [' · ', ...p] : p));
}
