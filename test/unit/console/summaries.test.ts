import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeStateMachineCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { leadSummaryOf } from '#console/records-api.ts';
import { createConsole } from '#console/server.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import { config } from '#test/fixtures/config.ts';
import { aDeal } from '#test/fixtures/deals.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { memoryStores } from '#test/fixtures/memory-stores.ts';

// The runs list and the deals board show each row's lead (name, company, form, score): read in one
// batch per answer, only for the rows of that answer, and masked as the lead page masks them.

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Handoff';
const execArn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:Handoff:${name}`;
const definition = { StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 1, End: true } } };
const AT = '2026-11-27T10:00:00.000Z';

const grace = aLead({
  email: 'grace.hopper@acme-robotics.com',
  firstName: 'Grace',
  lastName: 'Hopper',
  company: 'Acme Robotics',
  phone: '+1 555 0100',
  message: 'Call me about pricing',
});
const ada = aLead({
  email: 'ada@analytical.example',
  firstName: '<img src=x onerror=alert(1)>',
  lastName: 'Lovelace',
  company: 'Analytical Engines',
  formType: 'contact',
});
const erased = leadIdFor('gone@example.org');
const runOf = (id: string, suffix: string) => `${id}-demo-request-${suffix}`;
const names = [
  runOf(grace.id, '20261127'),
  runOf(grace.id, '20261126'),
  runOf(ada.id, '20261127'),
  runOf(erased, '20261127'),
  'not-a-lead-run',
];

const sfn = mockClient(SFNClient);
const stores = memoryStores();
let server: Server;
let base: string;

async function get(path: string) {
  const res = await fetch(`${base}${path}`);
  const body = await res.text();
  return { status: res.status, body, data: JSON.parse(body) };
}

beforeAll(async () => {
  await stores.leads.capture(grace, names[0] as string, AT);
  await stores.leads.setStage(grace.id, 'sales-ready', AT, {
    score: {
      fit: 40,
      engagement: 32,
      total: 72,
      grade: 'A',
      reasons: [],
      flags: [],
      rulesVersion: 'v1',
      scoredAt: AT,
    },
  });
  await stores.leads.capture(ada, names[2] as string, AT);
  const rep = config.reps.reps[0];
  await stores.deals.create(
    aDeal({
      dealId: 'dl-won-1',
      leadId: grace.id,
      executionName: names[0],
      repId: rep?.id,
      stage: 'won',
      amount: 12_000,
    }),
  );
  await stores.deals.create(aDeal({ dealId: 'dl-open-1', leadId: ada.id, stage: 'assigned' }));
  await stores.deals.create(
    aDeal({ dealId: 'dl-open-2', leadId: ada.id, stage: 'assigned', updatedAt: '2026-11-26T11:00:00.000Z' }),
  );
  await stores.deals.create(aDeal({ dealId: 'dl-erased', leadId: erased, stage: 'lost' }));
  const handler = createConsole({ sfn: new SFNClient({}), stores, stateMachineArn: ARN });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  sfn.on(DescribeStateMachineCommand).resolves({ name: 'Handoff', definition: JSON.stringify(definition) });
  sfn.on(ListExecutionsCommand).callsFake((input: { maxResults?: number }) => ({
    executions: names.slice(0, input.maxResults).map(
      (name): ExecutionListItem => ({
        executionArn: execArn(name),
        stateMachineArn: ARN,
        name,
        status: 'SUCCEEDED',
        startDate: new Date(AT),
        stopDate: new Date(AT),
      }),
    ),
  }));
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
});
afterEach(() => {
  sfn.reset();
  vi.restoreAllMocks();
});

describe('lead summaries in the runs list', () => {
  it('gives each row its lead’s name, company, form and score, masked until revealed', async () => {
    const { status, data, body } = await get('/api/runs');
    expect(status).toBe(200);
    const byName = Object.fromEntries(data.runs.map((r: { name: string }) => [r.name, r]));
    const masked = {
      firstName: 'G•••',
      lastName: 'H•••',
      company: 'A•••',
      formType: 'demo-request',
      stage: 'sales-ready',
      score: { total: 72, grade: 'A' },
    };
    expect(byName[names[0] as string].lead).toEqual(masked);
    expect(byName[names[1] as string].lead).toEqual(masked);
    expect(byName[names[2] as string].lead).toEqual({
      firstName: '<•••',
      lastName: 'L•••',
      company: 'A•••',
      formType: 'contact',
      stage: 'captured',
    });
    // An erased lead and a run that is no lead's show no summary.
    expect(byName[names[3] as string]).not.toHaveProperty('lead');
    expect(byName['not-a-lead-run']).not.toHaveProperty('lead');
    expect(body).not.toMatch(/grace|hopper|acme|robotics|lovelace|analytical|img src/i);
    expect(body).not.toMatch(/555|pricing|@/);

    const revealed = await get('/api/runs?reveal=1');
    expect(revealed.data.runs[0].lead).toMatchObject({
      firstName: 'Grace',
      lastName: 'Hopper',
      company: 'Acme Robotics',
    });
    expect(revealed.data.runs[2].lead.firstName).toBe('<img src=x onerror=alert(1)>');
    // Reveal shows what the row needs, never the email, phone or message.
    expect(revealed.body).not.toMatch(/grace\.hopper@|555|pricing/);
  });

  it('reads the leads in one batch per answer, only those of the rows answered', async () => {
    const getMany = vi.spyOn(stores.leads, 'getMany');
    const getOne = vi.spyOn(stores.leads, 'get');
    await get('/api/runs?limit=3');
    expect(getMany).toHaveBeenCalledTimes(1);
    expect([...(getMany.mock.calls[0]?.[0] ?? [])].sort()).toEqual([grace.id, ada.id].sort());
    await get('/api/runs');
    expect(getMany).toHaveBeenCalledTimes(2);
    expect(getMany.mock.calls[1]?.[0]).toHaveLength(3);
    // A filtered list (a scan) also reads once, for the matches it answers.
    const search = await get(`/api/runs?q=${grace.id}`);
    expect(search.data.runs).toHaveLength(2);
    expect(getMany).toHaveBeenCalledTimes(3);
    expect(getMany.mock.calls[2]?.[0]).toEqual([grace.id]);
    expect(getOne).not.toHaveBeenCalled();
    // No lead among the rows: no read at all.
    await get('/api/runs?q=not-a-lead');
    expect(getMany).toHaveBeenCalledTimes(3);
  });
});

describe('lead summaries on the deals board', () => {
  it('gives each card its lead (masked until revealed), its rep’s name and amount', async () => {
    const { data, body } = await get('/api/deals');
    const deals = Object.fromEntries(
      data.stages.flatMap((s: { deals: { dealId: string }[] }) => s.deals.map((d) => [d.dealId, d])),
    );
    const rep = config.reps.reps[0];
    expect(deals['dl-won-1']).toMatchObject({
      leadId: grace.id,
      repId: rep?.id,
      repName: rep?.name,
      amount: 12_000,
      lead: { firstName: 'G•••', lastName: 'H•••', company: 'A•••', score: { total: 72, grade: 'A' } },
    });
    expect(deals['dl-won-1']).not.toHaveProperty('taskToken');
    expect(deals['dl-erased']).not.toHaveProperty('lead');
    expect(body).not.toMatch(/grace|hopper|acme|robotics|lovelace|analytical|img src/i);
    const revealed = await get('/api/deals?reveal=1');
    const won = revealed.data.stages.find((s: { stage: string }) => s.stage === 'won');
    expect(won.deals[0].lead).toMatchObject({ firstName: 'Grace', company: 'Acme Robotics' });
  });

  it('reads the leads of the cards shown only, in one batch for the board', async () => {
    const getMany = vi.spyOn(stores.leads, 'getMany');
    const { data } = await get('/api/deals?limit=1');
    const assigned = data.stages.find((s: { stage: string }) => s.stage === 'assigned');
    expect(assigned).toMatchObject({ total: 2 });
    expect(assigned.deals).toHaveLength(1);
    expect(getMany).toHaveBeenCalledTimes(1);
    const asked = getMany.mock.calls[0]?.[0] ?? [];
    expect([...asked].sort()).toEqual([grace.id, ada.id, erased].sort());
  });
});

it('summarizes a lead without its email, phone or message', () => {
  const summary = leadSummaryOf({
    ...grace,
    stage: 'captured',
    capturedAt: AT,
    updatedAt: AT,
  });
  expect(Object.keys(summary).sort()).toEqual(['company', 'firstName', 'formType', 'lastName', 'stage']);
});
