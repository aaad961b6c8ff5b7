import { createHash } from 'node:crypto';
import { z } from 'zod';
import { config } from '#shared/config.ts';
import { type DealRecord, store } from '#shared/data/store.ts';
import { pickRep, teamFor } from '#shared/domain/assignment.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { assignmentEmail } from '#shared/emails.ts';
import { sendMail } from '#shared/mailer.ts';
import { logger, metrics } from '#shared/observability.ts';
import { linkContext } from '#shared/public-url.ts';
import { StepInputError, stepHandler, TransientError } from '#shared/step.ts';

const input = z.object({
  leadId: z.string().min(1),
  executionName: z.string().min(1),
  cycle: z.number().int().min(0),
  /** Present on "Reassign rep": the assignment whose SLA lapsed. */
  previous: z.object({ dealId: z.string(), repId: z.string(), attempt: z.number().int().min(1) }).optional(),
});

/** One deal per run and nurture cycle: a retried step finds the same deal. */
export const dealIdFor = (executionName: string, cycle: number) =>
  `dl-${createHash('sha256').update(`${executionName}#${cycle}`).digest('hex').slice(0, 20)}`;

async function chooseRep(team: string, now: Date, exclude: string[]) {
  const members = config.reps.reps.filter((r) => r.team === team);
  const position = await store.nextCursor(team);
  const loads = await store.repLoads(members.map((r) => r.id));
  const rep = pickRep({ team, reps: members, loads, position, now, exclude });
  // Capacity is checked again atomically: losing the race retries the step, which picks the next rep.
  if (!(await store.adjustRepLoad(rep.id, 1, rep.capacity)))
    throw new TransientError(`Rep ${rep.id} just filled up`);
  return rep;
}

/**
 * Assign rep / Reassign rep: territory → team → weighted round-robin; creates (or moves) the deal
 * and emails the rep a lead summary, the score's reasons and signed action links. Idempotent.
 */
export const handler = stepHandler(input, async ({ leadId, executionName, cycle, previous }) => {
  const now = new Date();
  const at = now.toISOString();
  const lead = await store.getLead(leadId);
  if (!lead) throw new NotFoundError(`Lead ${leadId}`);
  const team = teamFor(lead, config.reps);
  const dealId = previous?.dealId ?? dealIdFor(executionName, cycle);
  let deal = await store.getDeal(dealId);

  if (!previous && !deal) {
    const rep = await chooseRep(team, now, []);
    const fresh: DealRecord = {
      dealId,
      leadId,
      executionName,
      repId: rep.id,
      attempt: 1,
      previousReps: [],
      stage: 'assigned',
      createdAt: at,
      updatedAt: at,
    };
    if (!(await store.createDeal(fresh))) await store.adjustRepLoad(rep.id, -1, rep.capacity);
    deal = await store.getDeal(dealId);
    await store.putEvent(leadId, { type: 'assigned', at, data: { dealId, repId: deal?.repId, team } });
  } else if (previous && deal && deal.attempt === previous.attempt) {
    const exclude = [...deal.previousReps, deal.repId];
    const rep = await chooseRep(team, now, exclude);
    const moved = await store.updateDeal(
      dealId,
      { attempt: previous.attempt },
      {
        repId: rep.id,
        attempt: previous.attempt + 1,
        previousReps: exclude,
        stage: 'assigned',
        updatedAt: at,
      },
      ['taskToken', 'tokenFor'],
    );
    if (moved) {
      const old = config.reps.reps.find((r) => r.id === previous.repId);
      if (old) await store.adjustRepLoad(old.id, -1, old.capacity);
      metrics.addMetric('DealsReassigned', 'Count', 1);
      await store.putEvent(leadId, {
        type: 'reassigned',
        at,
        data: { dealId, from: previous.repId, to: rep.id },
      });
    } else {
      await store.adjustRepLoad(rep.id, -1, rep.capacity);
    }
    deal = await store.getDeal(dealId);
  }
  if (!deal) throw new StepInputError(`Deal ${dealId} was not found for reassignment`);

  const rep = config.reps.reps.find((r) => r.id === deal.repId);
  if (!rep)
    throw new StepInputError(`Deal ${dealId} names rep ${deal.repId}, who is not in config/reps.json`);
  if (deal.emailedAttempt !== deal.attempt) {
    const ctx = await linkContext(now, config.app.links.ttlDays);
    const score = lead.score ?? {
      total: 0,
      fit: 0,
      engagement: 0,
      grade: '?',
      reasons: [],
      rulesVersion: config.scoring.version,
    };
    await sendMail(
      assignmentEmail(
        { lead, rep, dealId, score, attempt: deal.attempt, slaHours: config.reps.sla.acceptWithinHours },
        config.app,
        ctx,
      ),
    );
    await store.updateDeal(
      dealId,
      { attempt: deal.attempt },
      { emailedAttempt: deal.attempt, updatedAt: at },
    );
    metrics.addMetric('AssignmentEmailsSent', 'Count', 1);
  }
  await store.setLeadStage(leadId, 'assigned', at, { ownerRepId: rep.id });
  logger.info('lead assigned', { leadId, dealId, repId: rep.id, attempt: deal.attempt });
  return {
    dealId,
    repId: rep.id,
    attempt: deal.attempt,
    reassignmentsLeft: Math.max(0, config.reps.sla.maxReassignments - (deal.attempt - 1)),
  };
});
