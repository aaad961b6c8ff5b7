import { createHash } from 'node:crypto';
import { config } from '#shared/config.ts';
import { contracts } from '#shared/contracts.ts';
import { type DealRecord, dynamoStores, type Stores } from '#shared/data/index.ts';
import { pickRep, teamFor } from '#shared/domain/assignment.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { assignmentEmail } from '#shared/emails.ts';
import { linkKeyOf } from '#shared/link-key.ts';
import { sendMail } from '#shared/mailer.ts';
import { logger, metrics } from '#shared/observability.ts';
import { linkContext } from '#shared/public-url.ts';
import { StepInputError, stepHandler, TransientError } from '#shared/step.ts';

/** One deal per run and nurture cycle: a retried step finds the same deal. */
export const dealIdFor = (executionName: string, cycle: number) =>
  `dl-${createHash('sha256').update(`${executionName}#${cycle}`).digest('hex').slice(0, 20)}`;

const repById = (id: string) => config.reps.reps.find((r) => r.id === id);

/**
 * Assign rep / Reassign rep: territory → team → weighted round-robin; creates (or moves) the deal
 * and emails the rep a lead summary, the score's reasons and signed action links. Idempotent.
 */
export const createHandler = ({ leads, deals, reps }: Pick<Stores, 'leads' | 'deals' | 'reps'>) => {
  async function chooseRep(team: string, now: Date, exclude: string[]) {
    const members = config.reps.reps.filter((r) => r.team === team);
    const position = await reps.nextCursor(team);
    const loads = await reps.loads(members.map((r) => r.id));
    const rep = pickRep({ team, reps: members, loads, position, now, exclude });
    // Capacity is checked again atomically: losing the race retries the step, which picks the next rep.
    if (!(await reps.adjustLoad(rep.id, 1, rep.capacity)))
      throw new TransientError(`Rep ${rep.id} just filled up`);
    return rep;
  }

  return stepHandler(
    contracts.assignRep,
    async ({ leadId, executionName, cycle, previous }, context) => {
      const now = new Date();
      const at = now.toISOString();
      const lead = await leads.get(leadId);
      if (!lead) throw new NotFoundError(`Lead ${leadId}`);
      const team = teamFor(lead, config.reps);
      const dealId = previous?.dealId ?? dealIdFor(executionName, cycle);
      let deal = await deals.get(dealId);

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
        if (!(await deals.create(fresh))) await reps.adjustLoad(rep.id, -1, rep.capacity);
        deal = await deals.get(dealId);
        await leads.putEvent(leadId, { type: 'assigned', at, data: { dealId, repId: deal?.repId, team } });
      } else if (previous && deal && deal.attempt === previous.attempt) {
        const exclude = [...deal.previousReps, deal.repId];
        const rep = await chooseRep(team, now, exclude);
        const moved = await deals.update(
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
          const old = repById(previous.repId);
          if (old) await reps.adjustLoad(old.id, -1, old.capacity);
          metrics.addMetric('DealsReassigned', 'Count', 1);
          await leads.putEvent(leadId, {
            type: 'reassigned',
            at,
            data: { dealId, from: previous.repId, to: rep.id },
          });
        } else {
          await reps.adjustLoad(rep.id, -1, rep.capacity);
        }
        deal = await deals.get(dealId);
      }
      if (!deal) throw new StepInputError(`Deal ${dealId} was not found for reassignment`);

      const rep = repById(deal.repId);
      if (!rep)
        throw new StepInputError(`Deal ${dealId} names rep ${deal.repId}, who is not in config/reps.json`);
      if (deal.emailedAttempt !== deal.attempt) {
        const ctx = linkContext(linkKeyOf(context), now, config.app.links.ttlDays);
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
        await deals.update(
          dealId,
          { attempt: deal.attempt },
          { emailedAttempt: deal.attempt, updatedAt: at },
        );
        metrics.addMetric('AssignmentEmailsSent', 'Count', 1);
      }
      await leads.setStage(leadId, 'assigned', at, { ownerRepId: rep.id });
      logger.info('lead assigned', { leadId, dealId, repId: rep.id, attempt: deal.attempt });
      return {
        dealId,
        repId: rep.id,
        attempt: deal.attempt,
        reassignmentsLeft: Math.max(0, config.reps.sla.maxReassignments - (deal.attempt - 1)),
      };
    },
    { linkKey: true },
  );
};

export const handler = createHandler(dynamoStores());
