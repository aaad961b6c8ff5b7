// Single-table key builders: the only place key formats live (docs/architecture.md, "Data").
export const keys = {
  lead: (leadId: string) => ({ pk: `LEAD#${leadId}`, sk: 'PROFILE' }),
  emailClaim: (email: string) => ({ pk: `EMAIL#${email}`, sk: 'LEAD' }),
  event: (leadId: string, at: string, type: string) => ({ pk: `LEAD#${leadId}`, sk: `EVENT#${at}#${type}` }),
  eventPrefix: 'EVENT#',
  rep: (repId: string) => ({ pk: `REP#${repId}`, sk: 'PROFILE' }),
  teamCursor: (team: string) => ({ pk: `TEAM#${team}`, sk: 'CURSOR' }),
  /** A run waiting for a rep of the team to have room, in the order it started waiting. */
  capacityWaiter: (team: string, since: string, executionName: string) => ({
    pk: `TEAM#${team}`,
    sk: `WAIT#${since}#${executionName}`,
  }),
  capacityWaiterPrefix: 'WAIT#',
  deal: (dealId: string) => ({ pk: `DEAL#${dealId}`, sk: 'PROFILE' }),
  /** By the address's hash only: an erased lead's address is never stored again, yet never mailed. */
  suppression: (emailHash: string) => ({ pk: `SUPPRESS#${emailHash}`, sk: 'EMAIL' }),
  /** The form that started run `executionName` (the run's input holds only the lead's id). */
  submission: (leadId: string, executionName: string) => ({
    pk: `LEAD#${leadId}`,
    sk: `SUBMISSION#${executionName}`,
  }),
  /** A rep's rating and note with one answer on a deal (the first stands): erased with the lead. */
  repNote: (leadId: string, dealId: string, action: string) => ({
    pk: `LEAD#${leadId}`,
    sk: `REPNOTE#${dealId}#${action}`,
  }),
  /** A one-off for the lead: the day's "new activity" email to its rep, a form delivered to its run. */
  once: (leadId: string, marker: string) => ({ pk: `LEAD#${leadId}`, sk: `ONCE#${marker}` }),
  /** Deliverability counters per UTC hour (`2026-11-27T10`), and the circuit breaker's state. */
  deliverabilityHour: (hour: string, stream = '') => ({
    pk: `DELIVERABILITY${stream && `#${stream}`}`,
    sk: `HOUR#${hour}`,
  }),
  deliverabilityState: (stream = '') => ({ pk: `DELIVERABILITY${stream && `#${stream}`}`, sk: 'STATE' }),
  deliverabilityWindowStart: (stream = '') => ({
    pk: `DELIVERABILITY${stream && `#${stream}`}`,
    sk: 'WINDOW_START',
  }),
  /** Whether the lead confirmed its address (double opt-in), and its confirmation rounds. */
  confirmation: (leadId: string) => ({ pk: `LEAD#${leadId}`, sk: 'CONFIRMATION' }),
  /** One SES event (its EventBridge id) counted: a redelivered event is not counted twice. */
  deliveryEvent: (eventId: string) => ({ pk: `SESEVENT#${eventId}`, sk: 'COUNTED' }),
  leadPrefix: (leadId: string) => `LEAD#${leadId}`,
  /** A funnel milestone counted for the lead (`<run>#<cycle>#mql`, `<dealId>#won`): erased with the lead. */
  funnelMarker: (leadId: string, marker: string) => ({ pk: `LEAD#${leadId}`, sk: `FUNNEL#${marker}` }),
  /** Funnel counters of a UTC day (`2026-11-27`), one item per `<dimension>#<value>`. */
  funnelDay: (day: string) => `FUNNEL#${day}`,
  funnelCounter: (day: string, key: string) => ({ pk: `FUNNEL#${day}`, sk: key }),
  /** A day's counter shard `n` (every dimension's counters in one item): `FUNNEL#<day>#07`. */
  funnelShard: (day: string, n: number) => ({
    pk: `FUNNEL#${day}#${String(n).padStart(2, '0')}`,
    sk: 'counters',
  }),
  /** The shared send budget's counter of one second (epoch seconds): functions/mail/send-budget.ts. */
  sendBudgetSecond: (second: number) => ({ pk: 'SENDBUDGET', sk: `SECOND#${second}` }),
  /** A form client's counter (`ip#<hash>`, `domain#<name>`) for the window starting at epoch second `start`. */
  clientWindow: (client: string, start: number) => ({ pk: `CLIENT#${client}`, sk: `WINDOW#${start}` }),
  nurtureSend: (leadId: string, cycle: number, step: number) => ({
    pk: `LEAD#${leadId}`,
    sk: `SEND#${cycle}#${step}`,
  }),
} as const;

/**
 * GSI attribute values. gsi2: leads / deals by stage (funnel). (gsi1, a rep's deals by stage, was written
 * and never read: gone, index and all; older deal items may still carry gsi1pk/gsi1sk, which reads drop.)
 */
export const indexKeys = {
  leadStage: (stage: string, at: string) => ({ gsi2pk: `LEADSTAGE#${stage}`, gsi2sk: at }),
  dealStage: (stage: string, at: string) => ({ gsi2pk: `DEALSTAGE#${stage}`, gsi2sk: at }),
  /** Reps' notes by the UTC month they were given (`2026-12`), newest last: scoring feedback reads them. */
  repNotes: (month: string, at: string, leadId: string) => ({
    gsi2pk: `REPNOTES#${month}`,
    gsi2sk: `${at}#${leadId}`,
  }),
} as const;

export const INDEX = { byStage: 'gsi2', repNotes: 'gsi2' } as const;
