// The Handoff stack: every function with exactly the grants it uses, the workflow, the API, the rules and the
// alarms, in one file (a little over 300 lines) so that least privilege is read and reviewed in one place;
// the parts with a life of their own are constructs (infra/constructs/).
import { CfnOutput, Duration, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { PROVIDERS } from '../functions/api/captcha.ts';
import type { HandoffConfig } from '../functions/config/schema.ts';
import { REMINDER_SCHEDULE } from '../functions/deal/reminders.ts';
import { COMPACT_SCHEDULE } from '../functions/funnel/funnel-compact.ts';
import { CONTINUE_AFTER } from '../functions/platform/continuation.ts';
import { LeadToCloseWorkflow } from '../workflows/lead-to-close.ts';
import { captchaSecret, HandoffApi } from './constructs/api.ts';
import { HandoffTable } from './constructs/data.ts';
import { HandoffDeadLetters } from './constructs/dead-letters.ts';
import { HandoffFunction } from './constructs/handoff-function.ts';
import { HandoffMail } from './constructs/mail.ts';
import { HandoffMonitoring } from './constructs/monitoring.ts';
import { HandoffReplies } from './constructs/replies.ts';

export interface HandoffStackProps extends StackProps {
  config: HandoffConfig;
}

/** Each function's construct id → its handler under `functions/`. Tests map template functions back through this. */
export const ENTRIES = {
  CaptureLead: 'steps/capture.ts',
  Nurture: 'steps/nurture.ts',
  AwaitSignal: 'steps/await-signal.ts',
  AssignRep: 'steps/assign-rep.ts',
  AwaitOutcome: 'steps/await-outcome.ts',
  CloseDeal: 'steps/close-deal.ts',
  ContinueRun: 'steps/continue-run.ts',
  RecordFailure: 'events/record-failure.ts',
  ReconcileRuns: 'events/reconcile.ts',
  SesEvents: 'events/ses-events.ts',
  DealReminders: 'events/deal-reminders.ts',
  CompactFunnel: 'events/compact-funnel.ts',
  SubmitLead: 'api/leads.ts',
  RepAction: 'api/rep-action.ts',
  Unsubscribe: 'api/unsubscribe.ts',
  ConfirmEmail: 'api/confirm.ts',
  TrackClick: 'api/click.ts',
  TrackVisit: 'api/track-visit.ts',
  InboundReply: 'events/inbound-reply.ts',
  AdminRead: 'api/admin.ts',
  AdminWrite: 'api/admin-write.ts',
} as const;
export type FunctionId = keyof typeof ENTRIES;

/**
 * Handoff: HTTP API → Step Functions (one run per lead) → Lambda steps, DynamoDB, SES. A thin stack: the
 * constructs hold the detail; here each function gets exactly what it touches (see HandoffFunction.use…).
 */
export class HandoffStack extends Stack {
  readonly functions: Partial<Record<FunctionId, HandoffFunction>> = {};

  constructor(scope: Construct, id: string, props: HandoffStackProps) {
    super(scope, id, props);
    const { config } = props;

    const data = new HandoffTable(this, 'Data');
    const mail = new HandoffMail(this, 'Mail', config.app.sender);
    const api = new HandoffApi(this, 'Api', config.app.api);
    const linkKey = new Secret(this, 'LinkSigningKey', {
      description: 'HMAC key for signed rep, unsubscribe and click links',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(linkKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC key invalidates every link already emailed; rotation is a documented manual runbook (docs/operations.md).',
    });

    const fn = (fnId: FunctionId, description: string, timeout?: Duration) => {
      const f = new HandoffFunction(this, fnId, {
        entry: ENTRIES[fnId],
        description,
        ...(timeout ? { timeout } : {}),
      });
      this.functions[fnId] = f;
      return f;
    };
    const steps = {
      capture: fn('CaptureLead', 'Capture & score lead').useTable(data, [
        'GetItem',
        'Query',
        'PutItem',
        'UpdateItem',
      ]),
      // BatchWriteItem: a sent email's marker and its timeline event in one call.
      nurture: fn('Nurture', 'Nurture: the next email, or the next move')
        .useTable(data, [
          'GetItem',
          'BatchGetItem',
          'Query',
          'PutItem',
          'UpdateItem',
          'DeleteItem',
          'BatchWriteItem',
        ])
        .useMail(mail)
        .readsSendQuota()
        .useLinks(linkKey, api.url),
      awaitSignal: fn('AwaitSignal', 'Park the nurture wait on the lead').useTable(data, ['UpdateItem']),
      // The capacity queue (TEAM#… WAIT#… items) needs Query and DeleteItem.
      assignRep: fn('AssignRep', 'Assign / reassign rep')
        .useTable(data, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'])
        .useMail(mail)
        .useLinks(linkKey, api.url),
      // PutItem: a redriven run that takes its rep's slot back writes a "redriven" event on the lead's timeline.
      awaitOutcome: fn('AwaitOutcome', 'Park the task token on the deal').useTable(data, [
        'GetItem',
        'PutItem',
        'UpdateItem',
      ]),
      // BatchGetItem: the funnel markers a milestone's duration and attribution are read from, in one call.
      closeDeal: fn('CloseDeal', 'Close deal').useTable(data, [
        'GetItem',
        'BatchGetItem',
        'Query',
        'PutItem',
        'UpdateItem',
        'DeleteItem',
      ]),
      // Reads the lead and points it at the new execution (StartExecution: resumesRunsOf below).
      continueRun: fn('ContinueRun', 'Continue a long-waiting run as a new execution').useTable(data, [
        'GetItem',
        'UpdateItem',
      ]),
    };
    // The steps that decide when a waiting run continues as a new execution read the limits from here.
    for (const f of [steps.awaitSignal, steps.assignRep]) {
      f.addEnvironment('CONTINUE_AFTER_LOOPS', String(CONTINUE_AFTER.loops));
      f.addEnvironment('CONTINUE_AFTER_DAYS', String(CONTINUE_AFTER.days));
    }

    const workflow = new LeadToCloseWorkflow(this, 'LeadToClose', {
      functions: steps,
      acceptWithin: Duration.hours(config.reps.sla.acceptWithinHours),
      closeWithin: Duration.days(config.reps.sla.closeWithinDays),
      capacityRecheck: Duration.minutes(config.reps.sla.capacityRecheckMinutes),
      continueAfter: CONTINUE_AFTER,
      maxReassignments: config.reps.sla.maxReassignments,
      // The longest delay between emails, plus the days to the lead's next business hours (or the double
      // opt-in's wait for the click, when that is longer).
      longestNurtureWait: Duration.days(
        Math.max(
          Math.max(0, ...config.nurture.steps.map((x) => x.delayDays)) + 4,
          config.nurture.doubleOptIn.confirmWithinDays,
        ),
      ),
    });
    const sm = workflow.stateMachine;
    // Steps that resume their own run (a rep faster than the wait, an assignment made at once) or wake a
    // run waiting for a free rep.
    steps.awaitOutcome.resumesRunsOf(sm);
    steps.awaitSignal.resumesRunsOf(sm, ['SendTaskSuccess', 'SendTaskFailure']);
    steps.assignRep.resumesRunsOf(sm, ['SendTaskSuccess', 'SendTaskFailure']);
    steps.closeDeal.resumesRunsOf(sm, ['SendTaskFailure']);
    steps.continueRun.resumesRunsOf(sm, ['StartExecution']);

    // Every EventBridge target: retried, then kept in a dead-letter queue (an alarm fires), never dropped.
    const deadLetters = new HandoffDeadLetters(this, 'DeadLetters');

    // A run that fails, times out or is stopped stays where it was (redrivable); this records it.
    const recordFailure = fn('RecordFailure', 'Record failure (run status change)')
      .useTable(data, ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'])
      .resumesRunsOf(sm, ['SendTaskFailure']);
    new Rule(this, 'RunEnded', {
      description: 'A lead run failed, timed out or was stopped: record it on the lead and free its rep',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [sm.stateMachineArn] },
      },
      targets: [deadLetters.target(recordFailure)],
    });

    // Reconcile, hourly: what Record failure would have done for a run whose status-change event was lost.
    const reconcile = fn('ReconcileRuns', 'Reconcile leads and deals with their runs (hourly)')
      .useTable(data, ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], ['gsi2'])
      .describesRunsOf(sm)
      .resumesRunsOf(sm, ['SendTaskFailure']);
    new Rule(this, 'ReconcileSchedule', {
      description: 'Hourly: repair leads and deals whose run ended without its status-change event',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [deadLetters.target(reconcile)],
    });

    // SubmitLead hands a submission for a lead with an active run to that run (a signal), and tells the
    // rep of an assigned lead about new activity (at most daily).
    const leads = fn('SubmitLead', 'POST /leads')
      .useForms(config.app.forms)
      .startsRunsOf(sm)
      .useTable(data, ['GetItem', 'PutItem', 'UpdateItem'])
      .useMail(mail)
      .resumesRunsOf(sm);
    // Server-side CAPTCHA, only when configured (the operator sets the provider's secret after the deploy).
    const { captcha } = config.app.forms;
    if (captcha)
      leads.useCaptcha(captchaSecret(this, captcha.provider), PROVIDERS[captcha.provider].verifyUrl);

    // SES events (sends, bounces, complaints, rejects) from the configuration set, via EventBridge. Not
    // deliveries: nothing reads them (the breaker's rates are bounces and complaints over sends), and each
    // would cost an invocation and two write units per email (measured by npm run bench).
    const sesEvents = fn('SesEvents', 'SES events: suppression, signals, deliverability')
      .useTable(data, ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'])
      .resumesRunsOf(sm);
    new Rule(this, 'MailEvents', {
      description: 'SES send, bounce, complaint and reject events of the configuration set',
      eventPattern: {
        source: ['aws.ses'],
        detailType: ['Email Sent', 'Email Bounced', 'Email Complaint Received', 'Email Rejected'],
        detail: { mail: { tags: { 'ses:configuration-set': [mail.configurationSet.configurationSetName] } } },
      },
      targets: [deadLetters.target(sesEvents)],
    });
    // Weekly: each rep's open deals with fresh won/lost links (docs/architecture.md, "Links live as long as
    // their wait"). Open deals from the stage index (gsi2), never a scan; a marker per deal and week (PutItem).
    const reminders = fn('DealReminders', 'Weekly reminder of open deals to their reps', Duration.minutes(2))
      .useTable(data, ['BatchGetItem', 'Query', 'PutItem'], ['gsi2'])
      .useMail(mail)
      .useLinks(linkKey, api.url);
    new Rule(this, 'DealRemindersSchedule', {
      description: 'Weekly: remind each rep of their open deals, with fresh links to report the outcome',
      schedule: Schedule.expression(REMINDER_SCHEDULE),
      targets: [deadLetters.target(reminders)],
    });
    // Daily: yesterday's funnel shards (and the week before's, if a run was missed or a late milestone came)
    // folded into one item per counter key, so a long report reads a fraction (docs/funnel.md).
    const compactFunnel = fn(
      'CompactFunnel',
      "Daily: fold closed days' funnel shards",
      Duration.minutes(2),
    ).useTable(data, ['BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']);
    new Rule(this, 'CompactFunnelSchedule', {
      description: "Daily: fold the closed days' funnel counter shards into one item per counter key",
      schedule: Schedule.expression(COMPACT_SCHEDULE),
      targets: [deadLetters.target(compactFunnel)],
    });
    const repAction = fn('RepAction', 'Rep action pages')
      .useTable(data, ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'])
      .useLinkKey(linkKey)
      .resumesRunsOf(sm);
    // Unsubscribes and tracked clicks wake a nurtured lead's run at once (signals).
    const unsubscribe = fn('Unsubscribe', 'Unsubscribe')
      .useTable(data, ['GetItem', 'PutItem', 'UpdateItem'])
      .useLinkKey(linkKey)
      .resumesRunsOf(sm);
    // Double opt-in: the click that confirms an address wakes its run (config/nurture.json doubleOptIn).
    const confirmEmail = fn('ConfirmEmail', 'Double opt-in confirmation page')
      .useTable(data, ['GetItem', 'PutItem', 'UpdateItem'])
      .useLinkKey(linkKey)
      .resumesRunsOf(sm);
    const click = fn('TrackClick', 'Click tracking redirect')
      .useTable(data, ['PutItem', 'UpdateItem'])
      .useLinkKey(linkKey)
      .resumesRunsOf(sm);
    // High-intent page views from the company's site wake a nurtured lead's run (examples/track.js).
    const visit = fn('TrackVisit', 'Site page views: high-intent visits')
      .useTable(data, ['GetItem', 'PutItem', 'UpdateItem'])
      .useForms(config.app.forms)
      .useLinkKey(linkKey)
      .resumesRunsOf(sm);
    // Replies to nurture emails (app.replies): SES receiving → SNS → InboundReply, which wakes the run.
    const replies = config.app.replies;
    if (replies) {
      const inbound = fn('InboundReply', 'Replies to nurture emails: stop the sequence, reach a rep')
        .useTable(data, ['GetItem', 'PutItem', 'UpdateItem'])
        .useLinkKey(linkKey)
        .resumesRunsOf(sm);
      const receiving = new HandoffReplies(this, 'Replies', { domain: replies.domain, handler: inbound });
      new CfnOutput(this, 'ReplyRuleSetName', {
        value: receiving.ruleSet.receiptRuleSetName,
        description: `Activate it (one active rule set per account): aws ses set-active-receipt-rule-set --rule-set-name <this>; MX of ${replies.domain} → inbound-smtp.<region>.amazonaws.com`,
      });
    }
    // Its index: reps' notes by month (scoring feedback).
    const admin = fn('AdminRead', 'Admin reads').useTable(
      data,
      ['GetItem', 'BatchGetItem', 'Query'],
      ['gsi2'],
    );
    // Erase (stops the run, frees the rep, deletes the lead's items) and the deliverability breaker's reset.
    const adminWrite = fn('AdminWrite', 'Admin: erase a lead, reset the deliverability breaker')
      .useTable(data, ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'])
      .stopsRunsOf(sm);

    // Separate budgets (config/app.json's `api`): forms never take an unsubscribe's or a rep link's tokens.
    api.route('/leads', [HttpMethod.POST, HttpMethod.OPTIONS], leads, { budget: 'forms' });
    api.route('/deals/action', [HttpMethod.GET, HttpMethod.POST], repAction, { budget: 'links' });
    api.route('/unsubscribe', [HttpMethod.GET, HttpMethod.POST], unsubscribe, { budget: 'links' });
    api.route('/confirm', [HttpMethod.GET, HttpMethod.POST], confirmEmail, { budget: 'links' });
    api.route('/c', [HttpMethod.GET], click, { budget: 'links' });
    api.route('/events', [HttpMethod.POST, HttpMethod.OPTIONS], visit, { budget: 'events' });
    api.route('/admin/leads/{leadId}', [HttpMethod.GET], admin, { iam: true, budget: 'admin' });
    api.route('/admin/deals/{dealId}', [HttpMethod.GET], admin, { iam: true, budget: 'admin' });
    api.route('/admin/leads/{leadId}', [HttpMethod.DELETE], adminWrite, { iam: true, budget: 'admin' });
    api.route('/admin/deliverability', [HttpMethod.GET], admin, { iam: true, budget: 'admin' });
    api.route('/admin/funnel', [HttpMethod.GET], admin, { iam: true, budget: 'admin' });
    api.route('/admin/cohorts', [HttpMethod.GET], admin, { iam: true, budget: 'admin' });
    api.route('/admin/scoring-feedback', [HttpMethod.GET], admin, { iam: true, budget: 'admin' });
    api.route('/admin/deliverability/reset', [HttpMethod.POST], adminWrite, { iam: true, budget: 'admin' });

    const monitoring = new HandoffMonitoring(this, 'Monitoring', {
      stateMachine: sm,
      functions: this.functions as Record<string, HandoffFunction>,
      api: api.api,
      deadLetters: {
        EventsUndelivered: {
          queue: deadLetters.undelivered,
          meaning:
            'EventBridge could not invoke a target function for 24 hours (throttled, missing or denied).',
        },
        EventsFailed: {
          queue: deadLetters.failed,
          meaning: 'An event-driven function (RecordFailure, SesEvents) failed on an event three times.',
        },
      },
    });

    new CfnOutput(this, 'ApiUrl', { value: api.url });
    new CfnOutput(this, 'StateMachineArn', { value: sm.stateMachineArn });
    new CfnOutput(this, 'TableName', { value: data.table.tableName });
    new CfnOutput(this, 'SenderDomain', { value: mail.identity.emailIdentityName });
    // The DKIM records to publish for the sender domain (docs/deploy.md): SES verifies it once they resolve.
    mail.identity.dkimRecords.forEach((r, i) => {
      new CfnOutput(this, `SenderDkimRecord${i + 1}`, {
        description: `DKIM record ${i + 1} of 3 for the sender domain: publish as NAME CNAME VALUE`,
        value: Fn.join(' ', [r.name, 'CNAME', r.value]),
      });
    });
    new CfnOutput(this, 'AlertsTopic', { value: monitoring.alerts.topicArn });
  }
}
