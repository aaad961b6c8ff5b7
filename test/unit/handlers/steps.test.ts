import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as assignRep, dealIdFor } from '../../../functions/steps/assign-rep.ts';
import { handler as capture } from '../../../functions/steps/capture.ts';
import { handler as sendNurture } from '../../../functions/steps/send-nurture.ts';
import { aDeal } from '../../fixtures/deals.ts';
import { aLambdaContext } from '../../fixtures/lambda.ts';
import { aLead } from '../../fixtures/leads.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const lead = aLead({ formType: 'newsletter' });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
const keyOf = (input: { Key?: Record<string, unknown> }) =>
  String(input.Key?.pk ?? '') + String(input.Key?.sk ?? '');

beforeEach(() => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(40) });
  ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
});
afterEach(() => {
  ddb.reset();
  ses.reset();
  secrets.reset();
});

describe('Capture lead', () => {
  it('captures a new lead with its email claim and a form event', async () => {
    const out = await capture(
      { lead, receivedAt: '2026-11-26T10:00:00.000Z', executionName: 'run-1' },
      aLambdaContext(),
    );
    expect(out).toEqual({ leadId: lead.id, outcome: 'captured' });
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.pk);
    expect(puts).toContain(`EMAIL#${lead.email}`);
    expect(puts).toContain(`LEAD#${lead.id}`);
  });

  it('merges into the lead’s active run instead of starting over', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const out = await capture(
      { lead, receivedAt: '2026-11-26T10:00:00.000Z', executionName: 'run-2' },
      aLambdaContext(),
    );
    expect(out.outcome).toBe('merged');
  });

  it('rejects input that breaks the step contract', async () => {
    await expect(capture({ lead: { ...lead, id: 'nope' } }, aLambdaContext())).rejects.toThrow(
      /Invalid step input/,
    );
  });
});

describe('Send nurture email', () => {
  const run = () => sendNurture({ leadId: lead.id, nurture: { cycle: 0, step: 1 } }, aLambdaContext());

  it('sends step 1 once and schedules the next step in business hours', async () => {
    ddb.on(GetCommand).callsFake((input) => ({
      Item: keyOf(input).startsWith('LEAD#') && keyOf(input).endsWith('PROFILE') ? lead : undefined,
    }));
    const out = await run();
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(out).toMatchObject({ cycle: 0, step: 2, status: 'sent', done: false });
    const hour = Number(
      new Intl.DateTimeFormat('en-US', { timeZone: lead.timeZone, hour: 'numeric', hourCycle: 'h23' }).format(
        new Date(String((out as { nextSendAt: string }).nextSendAt)),
      ),
    );
    expect(hour).toBeGreaterThanOrEqual(9);
    expect(hour).toBeLessThan(17);
    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.sk)).toContain('SEND#0#1');
  });

  it('does not send again when a retry finds the send marker', async () => {
    ddb.on(GetCommand).callsFake((input) => {
      const k = keyOf(input);
      if (k.endsWith('PROFILE')) return { Item: lead };
      if (k.endsWith('SEND#0#1')) return { Item: { messageId: 'm-0' } };
      return {};
    });
    const out = await run();
    expect(out).toMatchObject({ status: 'sent', step: 2 });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
  });

  it('honours the suppression list', async () => {
    ddb.on(GetCommand).callsFake((input) => {
      const k = keyOf(input);
      if (k.endsWith('PROFILE')) return { Item: lead };
      if (k.startsWith('SUPPRESS#')) return { Item: { reason: 'unsubscribed' } };
      return {};
    });
    expect(await run()).toMatchObject({ status: 'suppressed' });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
  });

  it('does not market to a lead without consent', async () => {
    ddb.on(GetCommand).callsFake((input) => ({
      Item: keyOf(input).endsWith('PROFILE') ? { ...lead, consent: false } : undefined,
    }));
    expect(await run()).toMatchObject({ status: 'not-emailable' });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
  });
});

describe('Assign rep', () => {
  const input = { leadId: lead.id, executionName: aDeal().executionName, cycle: 0 };

  it('assigns by territory with an atomic cursor, creates the deal and emails the rep', async () => {
    ddb.on(GetCommand).callsFake((i) => ({
      Item: keyOf(i).startsWith('LEAD#')
        ? lead
        : keyOf(i).startsWith('DEAL#') &&
            ddb.commandCalls(PutCommand).some((c) => String(c.args[0].input.Item?.pk).startsWith('DEAL#'))
          ? aDeal({ repId: 'rep-ava' })
          : undefined,
    }));
    ddb
      .on(UpdateCommand)
      .callsFake((i) => (String(i.Key?.pk).startsWith('TEAM#') ? { Attributes: { position: 7 } } : {}));
    ddb.on(BatchGetCommand).resolves({ Responses: {} });
    const out = await assignRep(input, aLambdaContext());
    expect(out).toMatchObject({ repId: 'rep-ava', attempt: 1, reassignmentsLeft: 2 });
    const cursor = ddb
      .commandCalls(UpdateCommand)
      .find((c) => String(c.args[0].input.Key?.pk) === 'TEAM#enterprise-na');
    expect(cursor?.args[0].input.UpdateExpression).toBe('ADD #p :one');
    expect(
      ddb.commandCalls(PutCommand).find((c) => String(c.args[0].input.Item?.pk).startsWith('DEAL#'))?.args[0]
        .input.ConditionExpression,
    ).toBe('attribute_not_exists(pk)');
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
  });

  it('is idempotent: a retry after the email went out sends nothing and moves no cursor', async () => {
    ddb
      .on(GetCommand)
      .callsFake((i) => ({ Item: keyOf(i).startsWith('LEAD#') ? lead : aDeal({ emailedAttempt: 1 }) }));
    const out = await assignRep(input, aLambdaContext());
    expect(out).toMatchObject({ dealId: dealIdFor(input.executionName, 0), repId: 'rep-ava', attempt: 1 });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    expect(
      ddb.commandCalls(UpdateCommand).some((c) => String(c.args[0].input.Key?.pk).startsWith('TEAM#')),
    ).toBe(false);
  });
});
