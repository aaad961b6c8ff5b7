// `npm start -- --dynamodb local`: the whole local stack on DynamoDB Local, AWS's own emulator, instead of
// dynalite. Runs in the `dynamodb-local` project only (vitest.config.ts), where Java is installed.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { DynamoDbLocalError } from '#local/dynamodb-local.ts';
import {
  adminApi,
  eventually,
  postLead,
  runsOfLead,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

/** The DynamoDB Local processes whose database is in `dir` (their command lines, from /proc). */
function jvmsOn(dir: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    })
    .filter((cmd) => cmd.includes('DynamoDBLocal.jar') && cmd.includes(dir));
}

const dataDir = mkdtempSync(join(tmpdir(), 'handoff-ddb-local-'));
let t: TestStack | undefined;
afterAll(async () => {
  await t?.stack.stop();
});

describe('the local stack on DynamoDB Local', () => {
  it('runs a lead to its rep, keeps the tables across a restart, and stops the JVM with the stack', async () => {
    t = await startTestStack(inject('cdkOut'), { dataDir, dynamodb: 'dynamodb-local' });
    const email = 'dora.local@acme-robotics.com';
    const leadId = leadIdFor(email);
    expect((await postLead(t, { email, formType: 'demo-request' })).status).toBe(202);
    const stores = storesOf(t);
    const assigned = await eventually(
      async () => (await stores.leads.get(leadId))?.openDealId,
      20_000,
      'the lead’s deal',
    );
    expect((await stores.deals.get(assigned))?.stage).toBe('assigned');
    // Functions reached DynamoDB Local through the stack's edge, under their roles: nothing was refused.
    expect(t.logs.filter((l) => l.includes('AccessDenied'))).toEqual([]);

    // The emulator is a child process: the stack's stop ends it, and the next start finds the tables.
    expect(jvmsOn(dataDir)).toHaveLength(1);
    await t.stack.stop();
    expect(jvmsOn(dataDir)).toEqual([]);
    t = undefined;
    t = await startTestStack(inject('cdkOut'), { dataDir, dynamodb: 'dynamodb-local' });
    const lead = await adminApi(t, `/admin/leads/${leadId}`);
    expect(lead.status).toBe(200);
    expect(((await lead.json()) as { lead: { openDealId?: string } }).lead.openDealId).toBe(assigned);
    const [run] = await runsOfLead(t, leadId);
    expect(run?.status).toBe('RUNNING');
  }, 120_000);

  it('refuses to start that data folder on dynalite, whose tables are elsewhere', async () => {
    await t?.stack.stop();
    t = undefined;
    const refused = await startTestStack(inject('cdkOut'), { dataDir }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DynamoDbLocalError);
    expect((refused as Error).message).toContain("holds DynamoDB Local's tables");
  }, 60_000);
});
