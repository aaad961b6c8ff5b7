// Single-table key builders: the only place key formats live (DESIGN §3).
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
  suppression: (email: string) => ({ pk: `SUPPRESS#${email}`, sk: 'EMAIL' }),
  nurtureSend: (leadId: string, cycle: number, step: number) => ({
    pk: `LEAD#${leadId}`,
    sk: `SEND#${cycle}#${step}`,
  }),
} as const;

/** GSI attribute values. gsi1: a rep's deals by stage. gsi2: leads / deals by stage (funnel). */
export const indexKeys = {
  repDeals: (repId: string, stage: string, at: string) => ({
    gsi1pk: `REP#${repId}`,
    gsi1sk: `${stage}#${at}`,
  }),
  leadStage: (stage: string, at: string) => ({ gsi2pk: `LEADSTAGE#${stage}`, gsi2sk: at }),
  dealStage: (stage: string, at: string) => ({ gsi2pk: `DEALSTAGE#${stage}`, gsi2sk: at }),
} as const;

export const INDEX = { repDeals: 'gsi1', byStage: 'gsi2' } as const;
