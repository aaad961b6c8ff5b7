// A lead's summary as a runs-list row and a deal card show it: name, company, form and score. The server
// sends it masked unless PII is revealed; every value goes in as text.
import { h } from './dom.js';
import { shortId } from './format.js';

/** "Grace Hopper" (or "G••• H•••" masked); '' without a summary. */
export function leadName(lead) {
  return lead ? [lead.firstName, lead.lastName].filter(Boolean).join(' ') : '';
}

/**
 * A link to the lead's page: its name when the answer carried the lead, else its short id (an erased or
 * expired lead has no summary). The full id is the link's title.
 */
export function leadLink(leadId, lead) {
  const name = leadName(lead);
  return h(
    'a',
    { href: `#/leads/${leadId}`, title: leadId, class: name ? 'pii lead-name' : 'mono' },
    name || shortId(leadId, 14),
  );
}

/** The grade as a small badge and the total: "A 72"; null when the lead is not scored yet. */
export function scoreBadge(score) {
  if (!score) return null;
  return h(
    'span',
    { class: 'score-badge', title: `Score ${score.total}, grade ${score.grade}` },
    h('span', { class: `grade grade-sm grade-${score.grade}`, text: score.grade }),
    h('span', { class: 'num', text: String(score.total) }),
  );
}
