import { type CfnElement, Duration, Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  type IChainable,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  CAPACITY_FREED,
  CONTINUE_AS_NEW,
  type RESUME_AT,
  type StepInput,
  type StepOutput,
} from '../functions/steps/contracts.ts';
import { type LeadStates, type LeadToCloseWorkflowProps, leadStates, type StepFunctions } from './states.ts';

export type { LeadToCloseWorkflowProps, StepFunctions } from './states.ts';
export { RETRY, THROTTLE_RETRY, THROTTLES, TRANSIENT_ERRORS } from './tasks.ts';

type Nurture = StepOutput<'nurture'>;
type Outcome = StepInput<'closeDeal'>['outcome'];
type Route = StepOutput<'capture'>['route'];
type ResumeAt = (typeof RESUME_AT)[number];

/**
 * The lead-to-close journey (docs/architecture.md, "The workflow") as one Standard state machine; the only place the flow is
 * defined. State names are what admins read in the console. Every Task retries transient errors with
 * backoff and jitter; a step that still fails fails the run at that state, so RedriveExecution resumes
 * it there after the fix ("Record failure" runs from an EventBridge rule, not from this definition).
 * The journey listens: a nurtured lead's run waits on a task token that any signal (a form, a click, an
 * unsubscribe, a bounce, a complaint) resumes at once. A full sales team is a wait inside "Assign rep".
 * Every state costs a transition: a nurture email costs two (Nurture, the wait), as "Next?" comes after
 * the wait, not inside the loop of sends.
 *
 * Read in the order a lead travels: the happy path, then its branches. Each phase only wires states that
 * `leadStates` (workflows/states.ts) builds once each; which phase wires a transition changes nothing
 * in the synthesized definition, only where a reader finds it.
 */
export class LeadToCloseWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: LeadToCloseWorkflowProps) {
    super(scope, id);
    const s = leadStates(this, props);
    const definition = happyPath(this, s);
    nurtureLoop(this, s);
    capacityWait(s);
    reassignment(this, s);
    recycling(s);
    failures(s);
    const start = continuation(this, s, definition);
    this.stateMachine = machine(this, start, props.functions, runTimeout(props));
  }
}

/**
 * The happy path: capture & score → nurture, or straight to a rep → the rep accepts → the deal closes.
 * Returns the start of the definition; the choices here name every fork, the branches below wire the rest.
 */
function happyPath(scope: Construct, s: LeadStates): IChainable {
  const start = s.capture.next(
    new Choice(scope, 'Route lead')
      .when(Condition.stringEquals('$.capture.route', 'merged' satisfies Route), s.merged)
      .when(Condition.stringEquals('$.capture.route', 'disqualify' satisfies Route), s.disqualified)
      .when(Condition.stringEquals('$.capture.route', 'sales-ready' satisfies Route), s.assign)
      .otherwise(s.nurture),
  );
  // A nurtured lead joins here once it is sales-ready ("Next?" in the nurture loop).
  s.assign.next(s.awaitAcceptance);
  s.awaitAcceptance.next(
    new Choice(scope, 'Rep accepted?')
      .when(
        Condition.stringEquals('$.outcome.action', 'accept' satisfies Outcome['action']),
        s.awaitOutcome.next(s.close),
      )
      .otherwise(s.close),
  );
  s.close.next(
    new Choice(scope, 'Recycle?')
      .when(Condition.booleanEquals('$.close.recycle', true), s.recycle)
      .otherwise(s.closed),
  );
  return start;
}

/**
 * Nurture: every nurture step is followed by the wait, so an email costs two states. With `wait` the wait
 * parks until the next email is due (the step's waitSeconds; the timer → Nurture) unless a signal resumes
 * it sooner (→ "Next?" → Nurture). Any other answer resumes it at once, without parking (waitSeconds then
 * only bounds that), and "Next?" routes it. "Next?" reads `$.nurture.next`, which only the nurture step
 * writes: what resumed the wait (`$.wake`: `{ signal }` or `{ next }`) never steers the run. Why a signal
 * during an ending answer cannot send a lead astray: functions/steps/await-signal.ts.
 */
function nurtureLoop(scope: Construct, s: LeadStates) {
  s.waitForSignal.addCatch(s.nurture, { errors: ['States.Timeout'], resultPath: '$.wake' });
  s.nurture.next(s.waitForSignal);
  s.waitForSignal.next(
    new Choice(scope, 'Next?')
      // A signal woke the wait: the nurture step looks again.
      .when(Condition.stringEquals('$.nurture.next', 'wait' satisfies Nurture['next']), s.nurture)
      .when(Condition.stringEquals('$.nurture.next', 'sales-ready' satisfies Nurture['next']), s.assign)
      .when(
        Condition.stringEquals('$.nurture.next', 'unsubscribed' satisfies Nurture['next']),
        s.unsubscribed,
      )
      .when(Condition.stringEquals('$.nurture.next', 'bounced' satisfies Nurture['next']), s.bounced)
      .when(Condition.stringEquals('$.nurture.next', 'complained' satisfies Nurture['next']), s.complained)
      .when(
        Condition.stringEquals('$.nurture.next', 'not-emailable' satisfies Nurture['next']),
        s.notEmailable,
      )
      .when(Condition.stringEquals('$.nurture.next', 'unconfirmed' satisfies Nurture['next']), s.notConfirmed)
      .otherwise(s.nurtured),
  );
}

/** A full team: Assign / Reassign waits in the team's queue; a freed slot or the timer tries again. */
function capacityWait(s: LeadStates) {
  for (const t of [s.assign, s.reassign])
    t.addCatch(t, { errors: [CAPACITY_FREED, 'States.Timeout'], resultPath: '$.capacity' });
}

/** A rep who does not accept in time: the lead goes to another rep while reassignments are left. */
function reassignment(scope: Construct, s: LeadStates) {
  s.awaitAcceptance.addCatch(
    new Choice(scope, 'Reassignments left?')
      .when(
        Condition.numberGreaterThan('$.assignment.reassignmentsLeft', 0),
        s.reassign.next(s.awaitAcceptance),
      )
      .otherwise(s.closeStale),
    { errors: ['States.Timeout'], resultPath: '$.timeout' },
  );
}

/** A deal lost for a reason config lists (nurture.recycleLostReasons) sends the lead back to nurture, next cycle. */
function recycling(s: LeadStates) {
  s.recycle.next(s.nurture);
}

/**
 * What goes wrong on the way: no rep accepted (and none left to try) or a deal left open too long closes
 * as stale. A step that still fails after its retries is caught nowhere: the run fails at that state.
 */
function failures(s: LeadStates) {
  s.awaitOutcome.addCatch(s.closeStale, { errors: ['States.Timeout'], resultPath: '$.timeout' });
  s.closeStale.next(s.closed);
}

/**
 * Runs that wait a year (docs/architecture.md): a waiting step whose run has looped or waited long enough
 * fails its task with ContinueAsNew; "Continue as a new run" starts the next execution of the chain with
 * the run's state, and this one ends Succeeded. The new execution enters at "New or continued run?",
 * which sends it straight back to the wait it left (through Nurture, or to Assign / Reassign rep); a new
 * lead's run goes on to "Capture & score lead". One Choice per execution, none per loop.
 */
function continuation(scope: Construct, s: LeadStates, captureAndRoute: IChainable): IChainable {
  for (const t of [s.waitForSignal, s.assign, s.reassign])
    t.addCatch(s.continueRun, { errors: [CONTINUE_AS_NEW], resultPath: '$.continuing' });
  s.continueRun.next(s.continued);
  const resumesAt = (at: ResumeAt) =>
    Condition.and(Condition.isPresent('$.continued.at'), Condition.stringEquals('$.continued.at', at));
  return new Choice(scope, 'New or continued run?')
    .when(resumesAt('nurture'), s.nurture)
    .when(resumesAt('assign'), s.assign)
    .when(resumesAt('reassign'), s.reassign)
    .otherwise(captureAndRoute);
}

/**
 * The execution's own TimeoutSeconds: just above the longest span one execution of the chain may
 * legitimately run. A run continues only at a wait that looks again (nurture, a full team), and only once
 * it is `continueAfter.days` old; the longest it can go past that without reaching such a wait is one
 * nurture wait, then a deal (every acceptance wait, then the outcome wait) recycled into nurture. A day
 * more for the steps between. A run still going then is stuck: it times out, and Record failure frees its
 * rep and marks the lead failed.
 */
export function runTimeout(props: LeadToCloseWorkflowProps): Duration {
  const seconds =
    Duration.days(props.continueAfter.days).toSeconds() +
    props.longestNurtureWait.toSeconds() +
    (props.maxReassignments + 1) * props.acceptWithin.toSeconds() +
    props.closeWithin.toSeconds() +
    Duration.days(1).toSeconds();
  return Duration.seconds(seconds);
}

/** The Standard state machine around the definition: traced, logged without execution data. */
function machine(scope: Construct, definition: IChainable, functions: StepFunctions, timeout: Duration) {
  const stateMachine = new StateMachine(scope, 'StateMachine', {
    stateMachineType: StateMachineType.STANDARD,
    timeout,
    definitionBody: DefinitionBody.fromChainable(definition),
    comment: 'Handoff: one execution per lead, capture → score → nurture → assign → close',
    tracingEnabled: true,
    logs: {
      destination: new LogGroup(scope, 'Logs', { retention: RetentionDays.THREE_MONTHS }),
      level: LogLevel.ALL,
      includeExecutionData: false,
    },
  });
  for (const fn of Object.values(functions)) {
    Validations.of(stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stateMachine.stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'LambdaInvoke grants lambda:InvokeFunction on the function and its versions/aliases (ARN:*); limited to this workflow’s own functions.',
    });
  }
  Validations.of(stateMachine).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery etc.) have no resource-level permissions.',
  });
  return stateMachine;
}
