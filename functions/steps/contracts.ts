// Step contracts: what each Task of the lead-to-close workflow sends its handler and gets back. The
// workflow (workflows/lead-to-close.ts) builds its payloads and reads results by these; each handler
// parses its input and checks its output against them (functions/platform/step.ts).

import * as z from 'zod/mini';
import { DEAL_STAGES, LOST_REASONS, MAX_AMOUNT } from '../deal/deal.ts';

/** The error the workflow catches at a waiting "Assign rep" when a slot of its team frees up. */
export { CAPACITY_FREED } from '../deal/deal.ts';

import '../platform/zod.ts';

const id = z.string().check(z.minLength(1, 'is required'));
const count = z.int('must be a whole number').check(z.gte(0, 'must be 0 or more'));
const attempt = z.int('must be a whole number').check(z.gte(1, 'must be 1 or more'));

export const dealOutcomeSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('accept') }),
  z.object({
    action: z.literal('won'),
    amount: z
      .number()
      .check(z.gte(0, 'must be 0 or more'), z.lte(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`)),
  }),
  z.object({ action: z.literal('lost'), reason: z.enum(LOST_REASONS) }),
  z.object({ action: z.literal('stale') }),
]);

/** What the nurture step decided: wait for the next send (or a signal), or where the run goes now. */
const nurtureNext = z.enum([
  'wait',
  'sales-ready',
  'done',
  'unsubscribed',
  'bounced',
  'complained',
  'not-emailable',
  'unconfirmed',
]);

/**
 * The longest a nurture wait may be timed (its TimeoutSecondsPath): a year, a Standard run's own limit
 * (Step Functions takes positive whole seconds up to 99,999,999).
 */
export const MAX_WAIT_SECONDS = 31_536_000;

const nurtureState = z.object({
  cycle: count,
  step: count,
  nextSendAt: z.optional(z.iso.datetime()),
  /** Double opt-in: this run's confirmation email went; it waits for the click until then. */
  confirmBy: z.optional(z.iso.datetime()),
  /**
   * How many nurture steps this execution has run: the run's count of its own loop, which decides when it
   * continues as a new execution before its history nears Step Functions' 25,000 events
   * (functions/platform/continuation.ts). Absent in runs started before it was kept.
   */
  loops: z.optional(count),
});

/** The nurture state a step is handed, its loop counted: every Nurture step adds one on the way in. */
const countedNurtureState = z.pipe(
  nurtureState,
  z.transform((s): z.output<typeof nurtureState> => ({ ...s, loops: (s.loops ?? 0) + 1 })),
);

/** The error a waiting step fails its own task with to hand the run on to a new execution ("Continue as a new run"). */
export const CONTINUE_AS_NEW = 'ContinueAsNew';

/** Where a continued execution picks the journey up: the waiting state it left. */
export const RESUME_AT = ['nurture', 'assign', 'reassign'] as const;

/** A continued execution's link to the one before: on its input at `$.continued`. */
export const continuedSchema = z.object({
  /** The first execution of the chain (its name derives every continuation's). */
  root: id,
  /** The execution this one continues. */
  from: id,
  /** This execution's place in the chain: 2 for the first continuation. */
  n: z.int().check(z.gte(2, 'must be 2 or more')),
  at: z.enum(RESUME_AT),
});

/**
 * What a lead's run starts with: the lead's id (its submission waits in DynamoDB: SubmissionStore), when
 * it came, and an empty nurture state and wake-up. No contact details: Step Functions keeps an execution's
 * input, history and status-change events where an erase cannot reach them.
 */
export function runInput(leadId: string, receivedAt: Date) {
  return {
    lead: { id: leadId },
    receivedAt: receivedAt.toISOString(),
    nurture: { cycle: 0, step: 0 },
    wake: null,
  };
}

export const contracts = {
  /** "Capture & score lead": stores the lead, scores it and routes it ("merged": another run owns it). */
  capture: {
    input: z.object({ lead: z.object({ id }), receivedAt: z.iso.datetime(), executionName: id }),
    output: z.object({
      leadId: id,
      route: z.enum(['merged', 'disqualify', 'sales-ready', 'nurture']),
      total: count,
      grade: z.string(),
    }),
  },
  /** "Nurture": the lead's next move, after a wake-up (the first, a timer, or a signal at `$.wake`). */
  nurture: {
    input: z.object({ leadId: id, nurture: countedNurtureState, wake: z.optional(z.unknown()) }),
    output: z.extend(nurtureState, {
      next: nurtureNext,
      /**
       * The timeout of the wait that always follows (its TimeoutSecondsPath), so on every answer: with
       * `wait`, the seconds until the next email is due; otherwise a bound on a wait that resumes at once.
       */
      waitSeconds: z
        .int('must be a whole number')
        .check(
          z.gte(1, 'must be at least 1'),
          z.lte(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS} (a year)`),
        ),
    }),
  },
  /**
   * "Wait for a signal or the next send" (`.waitForTaskToken`): with `wait`, parks the token on the lead;
   * otherwise resumes the run at once, to "Next?". A run started before `next` was sent (the wait then
   * came after "Next?", on `wait` only) sends none: it means `wait`.
   */
  awaitSignal: {
    input: z.object({
      taskToken: id,
      leadId: id,
      next: z._default(nurtureNext, 'wait'),
      /** The nurture step's state (its `loops`) and when this execution started: whether it continues now. */
      nurture: z.optional(nurtureState),
      startedAt: z.optional(z.iso.datetime({ offset: true })),
    }),
    output: z.object({ parked: z.boolean() }),
  },
  /**
   * "Assign rep" / "Reassign rep" are `.waitForTaskToken` tasks: the handler sends the assignment (below)
   * with SendTaskSuccess at once, or, when every rep of the team is full or away, queues the run and
   * returns; a deal closing elsewhere then wakes it (a `CapacityFreed` failure the state catches to retry).
   */
  assignRep: {
    input: z.object({
      taskToken: id,
      leadId: id,
      executionName: id,
      cycle: count,
      /** Present on "Reassign rep": the assignment whose SLA lapsed. */
      previous: z.optional(z.object({ dealId: id, repId: id, attempt })),
      /** When this execution started: a long wait for a free rep continues as a new execution. */
      startedAt: z.optional(z.iso.datetime({ offset: true })),
    }),
    output: z.object({ status: z.enum(['assigned', 'waiting']) }),
  },
  awaitRep: {
    input: z.object({
      taskToken: id,
      dealId: id,
      attempt,
      waitingFor: z.enum(['acceptance', 'outcome']),
    }),
    output: z.object({ parked: z.boolean() }),
  },
  closeDeal: {
    input: z.object({ leadId: id, dealId: id, cycle: count, outcome: dealOutcomeSchema }),
    output: z.object({ stage: z.enum(DEAL_STAGES), recycle: z.boolean(), nextCycle: count }),
  },
  /**
   * "Continue as a new run": starts the next execution of the chain with the run's state (the name
   * derived from the chain's first: `<root>-c<n>`), points the lead at it, and ends this one.
   */
  continueRun: {
    input: z.object({
      leadId: id,
      executionName: id,
      stateMachineArn: id,
      at: z.enum(RESUME_AT),
      /** The whole state of the run (`$`): the new execution's input, with `continued` set. */
      state: z.record(z.string(), z.unknown()),
    }),
    output: z.object({ name: id, n: z.int() }),
  },
} as const;

/** What "Assign rep" resumes its run with: the workflow keeps it at `$.assignment`. */
export const assignmentSchema = z.object({ dealId: id, repId: id, attempt, reassignmentsLeft: count });
export type Assignment = z.output<typeof assignmentSchema>;

/** EventBridge "Step Functions Execution Status Change" for a run that ended without succeeding. */
export const runEndedEvent = {
  input: z.object({
    'detail-type': z.literal('Step Functions Execution Status Change'),
    /** When the status changed: the same on every redelivery of the event. */
    time: z.optional(z.iso.datetime()),
    detail: z.object({
      executionArn: id,
      name: id,
      status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
      input: z.optional(z.nullable(z.string())),
      error: z.optional(z.nullable(z.string())),
      cause: z.optional(z.nullable(z.string())),
    }),
  }),
  output: z.object({ recorded: z.boolean(), released: z.boolean() }),
} as const;

/** EventBridge's "Scheduled Event" that runs ReconcileRuns, and what reconcile found. */
export const reconcileSchedule = {
  input: z.object({ 'detail-type': z.literal('Scheduled Event'), time: z.optional(z.iso.datetime()) }),
  output: z.object({ leadsChecked: count, dealsChecked: count, found: count }),
} as const;

export type StepName = keyof typeof contracts;
export type StepInput<S extends StepName> = z.output<(typeof contracts)[S]['input']>;
export type StepOutput<S extends StepName> = z.output<(typeof contracts)[S]['output']>;

/** An SES event of the configuration set, as EventBridge delivers it (the fields Handoff reads). */
export const sesEvent = {
  input: z.object({
    id: z.optional(z.string()),
    'detail-type': z.string(),
    time: z.optional(z.iso.datetime()),
    detail: z.object({
      eventType: z.string(),
      mail: z.object({
        destination: z.array(z.string()),
        tags: z.optional(z.record(z.string(), z.array(z.string()))),
      }),
      bounce: z.optional(
        z.object({
          bounceType: z.string(),
          bouncedRecipients: z.array(z.object({ emailAddress: z.string() })),
        }),
      ),
      complaint: z.optional(
        z.object({ complainedRecipients: z.array(z.object({ emailAddress: z.string() })) }),
      ),
    }),
  }),
  output: z.object({ counted: z.string(), suppressed: z.int(), woken: z.int(), tripped: z.boolean() }),
} as const;
