import { createHash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { config, funnelOptions, leadRetention } from '#functions/config/bundled.ts';
import type { Rep } from '#functions/config/schema.ts';
import { NoRepAvailableError, pickRep, teamFor } from '#functions/deal/assignment.ts';
import { wakeNextWaiter } from '#functions/deal/capacity.ts';
import { dynamoDeals } from '#functions/deal/deal-store.ts';
import { dynamoReps } from '#functions/deal/rep-store.ts';
import { scoreFactsOf } from '#functions/funnel/funnel-counters.ts';
import { dynamoFunnel } from '#functions/funnel/funnel-store.ts';
import { recordMilestones } from '#functions/funnel/milestones.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { assignmentEmail } from '#functions/mail/emails.ts';
import { sendMail } from '#functions/mail/mailer.ts';
import { linkContext } from '#functions/mail/public-url.ts';
import { latestReply } from '#functions/mail/replies.ts';
import { continuationDue } from '#functions/platform/continuation.ts';
import { NotFoundError } from '#functions/platform/errors.ts';
import { linkKeyOf } from '#functions/platform/link-key.ts';
import { logger, metrics } from '#functions/platform/observability.ts';
import { sfnRuns, type TaskRuns } from '#functions/platform/runs.ts';
import { StepInputError, stepHandler, TransientError } from '#functions/platform/step.ts';
import { appTable, DYNAMODB_REFUSALS } from '#functions/platform/table.ts';
import { type Assignment, CONTINUE_AS_NEW, contracts, type StepInput } from '#functions/steps/contracts.ts';
import type { DealRecord, LeadRecord, Stores } from '#functions/stores.ts';

/** One deal per run and nurture cycle: a retried step finds the same deal. */
export const dealIdFor = (executionName: string, cycle: number) =>
  `dl-${createHash('sha256').update(`${executionName}#${cycle}`).digest('hex').slice(0, 20)}`;

const repById = (id: string) => config.reps.reps.find((r) => r.id === id);
type Input = StepInput<'assignRep'>;

/**
 * A lead reaches a rep only through "Capture & score lead" or Nurture, which both store its score first: one
 * without is a workflow bug, failed loudly rather than shown to the rep with a score made up here.
 */
type ScoredLead = LeadRecord & Required<Pick<LeadRecord, 'score'>>;
const isScored = (lead: LeadRecord): lead is ScoredLead => lead.score !== undefined;

/**
 * Assign rep / Reassign rep (`.waitForTaskToken`): territory → team → weighted round-robin; creates (or
 * moves) the deal, emails the rep a lead summary, the score's reasons and signed action links, and resumes
 * the run with the assignment. When every rep of the team is full or away, the run waits in the team's
 * queue (first come, first served) until a deal of the team frees a slot or its timer looks again: a full
 * team is a wait, never a failure. Idempotent.
 */
export const createHandler = ({
  leads,
  deals,
  reps,
  funnel,
  runs,
}: Pick<Stores, 'leads' | 'deals' | 'reps' | 'funnel'> & { runs: TaskRuns }) => {
  /** A rep with room, holding the slot; the lead's current holder keeps theirs (no load change). */
  async function chooseRep(team: string, now: Date, exclude: string[], holder?: string) {
    const members = config.reps.reps.filter((r) => r.team === team);
    const position = await reps.nextCursor(team);
    const loads = await reps.loads(members.map((r) => r.id));
    const rep = pickRep({
      team,
      reps: members,
      loads,
      position,
      now,
      exclude,
      ...(holder ? { holder } : {}),
    });
    // Capacity is checked again atomically: losing the race retries the step, which picks the next rep.
    if (rep.id !== holder && !(await reps.adjustLoad(rep.id, 1, rep.capacity)))
      throw new TransientError(`Rep ${rep.id} just filled up`);
    return rep;
  }

  /**
   * The deal's write after `chooseRep` took a slot for `rep`: if DynamoDB refuses it (a throttle that
   * outlasted the SDK's retries: nothing was written), the slot goes back before the step is retried, or
   * the retry would take a second one and the first would never come back. A write whose outcome is
   * unknown (a timeout) keeps the slot: the deal may exist.
   */
  async function slotBackIfRefused<T>(rep: Rep, holder: string | undefined, write: () => Promise<T>) {
    try {
      return await write();
    } catch (e) {
      if (rep.id !== holder && DYNAMODB_REFUSALS.has(String((e as { name?: string })?.name)))
        await reps.adjustLoad(rep.id, -1, rep.capacity);
      throw e;
    }
  }

  /** A redriven run takes back the slot its deal gave up when the run ended. */
  async function holdAgain(deal: DealRecord) {
    const rep = repById(deal.repId);
    if (rep && (await deals.holdLoad(deal.dealId))) await reps.adjustLoad(rep.id, 1, Number.MAX_SAFE_INTEGER);
  }

  /** Creates or moves the deal; undefined when no rep of the team can take the lead now. */
  async function placeDeal(input: Input, lead: ScoredLead, team: string, now: Date, at: string) {
    const { leadId, executionName, cycle, previous } = input;
    // What the rep is shown: the deal keeps the score it is graded with, the timeline the whole snapshot.
    const facts = scoreFactsOf(lead.score);
    const { fit, engagement } = lead.score;
    const seen = timeline.seen(lead, { ...facts, fit, engagement });
    const dealId = previous?.dealId ?? dealIdFor(executionName, cycle);
    const deal = await deals.get(dealId);
    // What this call wrote, when it wrote it: no need to read the deal back (docs/performance.md).
    let placed: DealRecord | undefined;
    try {
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
          cycle,
          seen: facts,
          createdAt: at,
          updatedAt: at,
        };
        if (await slotBackIfRefused(rep, undefined, () => deals.create(fresh))) placed = fresh;
        else await reps.adjustLoad(rep.id, -1, rep.capacity);
        await leads.putEvent(leadId, timeline.assigned(at, { dealId, repId: rep.id, team, seen }));
      } else if (previous && deal && deal.attempt === previous.attempt) {
        // A run redriven at "Reassign rep" (it failed or was stopped there, before the move) had its rep's
        // slot given back by Record failure: take it again first, so the move below frees it once and
        // the deal's new rep gets theirs back when it closes.
        if (deal.loadReleasedAt) await holdAgain(deal);
        const exclude = [...deal.previousReps, deal.repId];
        const rep = await chooseRep(team, now, exclude, deal.repId);
        const moved = await slotBackIfRefused(rep, deal.repId, () =>
          deals.update(
            dealId,
            { attempt: previous.attempt },
            {
              repId: rep.id,
              attempt: previous.attempt + 1,
              previousReps: exclude,
              stage: 'assigned',
              seen: facts,
              updatedAt: at,
            },
            ['taskToken', 'tokenFor'],
          ),
        );
        const old = repById(previous.repId);
        if (rep.id !== previous.repId) {
          // The slot moves with the deal: the rep it left gets one back (or the new one does, if we lost).
          const freed = moved ? old : rep;
          if (freed && (await reps.adjustLoad(freed.id, -1, freed.capacity)))
            await wakeNextWaiter({ reps, runs }, freed.team);
        }
        if (moved) {
          const { taskToken: _, tokenFor: __, ...rest } = deal;
          placed = {
            ...rest,
            repId: rep.id,
            attempt: previous.attempt + 1,
            previousReps: exclude,
            stage: 'assigned',
            seen: facts,
            updatedAt: at,
          };
          metrics.addMetric('DealsReassigned', 'Count', 1);
          const move = { dealId, from: previous.repId, to: rep.id, seen };
          await leads.putEvent(leadId, timeline.reassigned(at, move));
        }
      } else if (deal) {
        await holdAgain(deal);
      }
    } catch (e) {
      if (e instanceof NoRepAvailableError) return undefined;
      throw e;
    }
    // Another attempt got there first, or a redriven run took its slot again: read what stands.
    placed ??= await deals.get(dealId);
    if (!placed) throw new StepInputError(`Deal ${dealId} was not found for reassignment`);
    return placed;
  }

  async function emailRep(deal: DealRecord, lead: ScoredLead, now: Date, at: string, context: Context) {
    const rep = repById(deal.repId);
    if (!rep)
      throw new StepInputError(`Deal ${deal.dealId} names rep ${deal.repId}, who is not in config/reps.json`);
    if (deal.emailedAttempt === deal.attempt) return rep;
    const ctx = linkContext(linkKeyOf(context), now);
    const { score } = lead;
    const { dealId, attempt } = deal;
    const slaHours = config.reps.sla.acceptWithinHours;
    const reply = await latestReply(leads, lead, config.nurture.steps);
    const input = { lead, rep, dealId, score, attempt, slaHours, ...(reply ? { reply } : {}) };
    await sendMail(assignmentEmail(input, config.app, ctx));
    await deals.update(dealId, { attempt }, { emailedAttempt: attempt, updatedAt: at });
    metrics.addMetric('AssignmentEmailsSent', 'Count', 1);
    return rep;
  }

  return stepHandler(
    contracts.assignRep,
    async (input, context) => {
      const now = new Date();
      const at = now.toISOString();
      const lead = await leads.get(input.leadId);
      if (!lead) throw new NotFoundError(`Lead ${input.leadId}`);
      if (!isScored(lead)) throw new StepInputError(`Lead ${input.leadId} reached "Assign rep" unscored`);
      const team = teamFor(lead, config.reps);
      for (let look = 0; look < 2; look++) {
        const deal = await placeDeal(input, lead, team, now, at);
        if (deal) {
          const rep = await emailRep(deal, lead, now, at, context);
          await leads.setStage(
            input.leadId,
            'assigned',
            at,
            { ownerRepId: rep.id, openDealId: deal.dealId },
            ['waitingSince'],
          );
          // Counted once per deal, when it was placed (the time on the timeline's 'assigned' event).
          await recordMilestones(
            { funnel },
            {
              leadId: input.leadId,
              execution: input.executionName,
              cycle: input.cycle,
              dealId: deal.dealId,
              at: deal.createdAt,
              lead,
              ...(deal.seen ? { score: deal.seen } : {}),
              rep: deal.repId,
            },
            ['assigned'],
          );
          const assignment: Assignment = {
            dealId: deal.dealId,
            repId: rep.id,
            attempt: deal.attempt,
            reassignmentsLeft: Math.max(0, config.reps.sla.maxReassignments - (deal.attempt - 1)),
          };
          // A retry after the run already moved on finds the task gone: nothing left to do.
          await runs.resume(input.taskToken, assignment);
          logger.info('lead assigned', { leadId: input.leadId, dealId: deal.dealId, repId: rep.id });
          return { status: 'assigned' as const };
        }
        // Every rep of the team is full or away: queue the run for the team's next free slot.
        const since = lead.waitingSince ?? at;
        if (!lead.waitingSince) await leads.setStage(input.leadId, lead.stage, at, { waitingSince: since });
        const waiter = {
          team,
          since,
          executionName: input.executionName,
          leadId: input.leadId,
          taskToken: input.taskToken,
        };
        await reps.enqueueWaiter(waiter);
        // A deal may have closed between the look and the queueing: look once more before waiting.
        if (look > 0 || !(await roomIn(team, now)) || !(await reps.removeWaiter(waiter))) {
          // A wait this execution has kept long enough goes on in a new one (its place in the queue kept:
          // `since` is the lead's). Taking the waiter off first means no waker holds this token.
          if (continuationDue({ startedAt: input.startedAt }, now) && (await reps.removeWaiter(waiter))) {
            // The cause names where the new execution resumes (contracts.ts RESUME_AT).
            await runs.fail(input.taskToken, CONTINUE_AS_NEW, input.previous ? 'reassign' : 'assign');
            logger.info('capacity wait continues as a new run', { leadId: input.leadId, team });
            return { status: 'waiting' as const };
          }
          break;
        }
      }
      await leads.putEvent(input.leadId, timeline.waitingForRep(at, team));
      metrics.addMetric('RepCapacityWaits', 'Count', 1);
      logger.info('waiting for a free rep', { leadId: input.leadId, team });
      return { status: 'waiting' as const };
    },
    { linkKey: true },
  );

  async function roomIn(team: string, now: Date): Promise<boolean> {
    const members = config.reps.reps.filter((r) => r.team === team);
    const loads = await reps.loads(members.map((r) => r.id));
    try {
      pickRep({ team, reps: members, loads, position: 0, now });
      return true;
    } catch (e) {
      if (e instanceof NoRepAvailableError) return false;
      throw e;
    }
  }
};

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  deals: dynamoDeals(table),
  reps: dynamoReps(table),
  funnel: dynamoFunnel(table, funnelOptions),
  runs: sfnRuns(),
});
