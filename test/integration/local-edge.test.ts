import { lstatSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LocalStack } from '#local/runtime.ts';
import { startTestStack } from '#test/fixtures/local-stack.ts';

let t: Awaited<ReturnType<typeof startTestStack>>;
const during: Record<string, { status: number; retryAfter: string | null }> = {};

beforeAll(async () => {
  t = await startTestStack(inject('cdkOut'), {
    // While every port listens but nothing is attached yet: each answers 503, none hangs.
    onListening: async (urls: LocalStack['urls']) => {
      const probes: [string, string, RequestInit][] = [
        ['api', `${urls.api}/leads`, { method: 'POST', body: '{}' }],
        [
          'sfn',
          urls.sfn,
          { method: 'POST', headers: { 'x-amz-target': 'AWSStepFunctions.ListStateMachines' } },
        ],
        [
          'dynamodb',
          urls.dynamodb,
          { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' } },
        ],
        ['ses', `${urls.ses}/store`, {}],
        ['secrets', urls.secrets, { method: 'POST' }],
      ];
      for (const [name, url, init] of probes) {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
        during[name] = { status: res.status, retryAfter: res.headers.get('retry-after') };
      }
    },
  });
});
afterAll(async () => {
  await t?.stack.stop();
});

function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    socket.write(request);
  });
}
const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);

describe('local stack edge', () => {
  it('answered 503 with Retry-After: 1 on every port during startup', () => {
    expect(during).toEqual(
      Object.fromEntries(
        ['api', 'sfn', 'dynamodb', 'ses', 'secrets'].map((n) => [n, { status: 503, retryAfter: '1' }]),
      ),
    );
  });

  it('answers 400 to bad percent-encoding and a bad Host on every listener, and keeps running', async () => {
    const { urls } = t.stack;
    for (const base of [urls.api, urls.sfn, urls.secrets, urls.dynamodb, urls.ses]) {
      const badPath = await raw(
        base,
        'GET /admin/leads/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      );
      expect(statusOf(badPath), `${base} bad path`).toBe(400);
      const badHost = await raw(
        base,
        'GET /admin/leads/x HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n',
      );
      expect(statusOf(badHost), `${base} bad host`).toBe(400);
      // A name that is not this machine (DNS rebinding) gets nothing; localhost works as 127.0.0.1 does.
      const foreignHost = await raw(
        base,
        'GET /admin/leads/x HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n',
      );
      expect(statusOf(foreignHost), `${base} foreign host`).toBe(421);
    }
    const localhost = await raw(
      urls.api,
      'GET /nope HTTP/1.1\r\nHost: localhost:3000\r\nConnection: close\r\n\r\n',
    );
    expect(statusOf(localhost)).toBe(404);
    expect((await t.api('/nope')).status).toBe(404);
    expect((await t.api('/admin/leads/ld-x')).status).toBe(403);
    expect(t.logs).toContain('api: 400 for GET /admin/leads/x: Host header is not a host');
  });

  it('answers 413 to a lead body over the limit and closes the connection', async () => {
    const text = await raw(
      t.stack.urls.api,
      `POST /leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${11 * 1024 * 1024}\r\n\r\n{"email":`,
    );
    expect(statusOf(text)).toBe(413);
    expect(text.toLowerCase()).toContain('connection: close');
  });

  it('keeps the data folder private: directories 0700, files 0600', async () => {
    const lead = { email: 'modes@acme-robotics.com', firstName: 'Mo', formType: 'newsletter', consent: true };
    const res = await t.api('/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(lead),
    });
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    const modes: string[] = [];
    const walk = (p: string) => {
      const st = lstatSync(p);
      modes.push(
        `${(st.mode & 0o777).toString(8)} ${st.isDirectory() ? 'dir' : 'file'} ${p.slice(t.dataDir.length)}`,
      );
      if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    };
    walk(t.dataDir);
    const names = modes.join('\n');
    for (const f of ['/admin-token', '/secrets.json', '/executions/', '/dynamodb/'])
      expect(names).toContain(f);
    expect(modes.filter((m) => !/^(700 dir|600 file) /.test(m))).toEqual([]);
  });

  it('serves the fault switch over HTTP: set, read what was injected, clear', async () => {
    const faults = `${t.stack.urls.sfn}/_local/faults`;
    const post = (body: string) =>
      fetch(faults, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const bad = await post('{"dynamodb":{"rate":5}}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'dynamodb.rate must be a number from 0 to 1' });
    expect((await post('not json')).status).toBe(400);
    // Another site's page cannot flip the switch: a simple (text/plain) post, or any foreign Origin.
    const fromPage = await fetch(faults, { method: 'POST', body: '{"ses":{"rate":1}}' });
    expect(fromPage.status).toBe(415);
    const foreign = await fetch(faults, {
      method: 'POST',
      body: '{"ses":{"rate":1}}',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect(((await (await fetch(faults)).json()) as { config: unknown }).config).toEqual({});
    const set = await post('{"crash":{"function":"SubmitLead","rate":1}}');
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ config: { crash: { function: 'SubmitLead', rate: 1 } } });
    const lead = { email: 'crash@acme-robotics.com', firstName: 'Cy', formType: 'newsletter', consent: true };
    const postLead = () =>
      t.api('/leads', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(lead),
      });
    expect((await postLead()).status).toBe(500);
    const read = (await (await fetch(faults)).json()) as { injected: { crash: number } };
    expect(read.injected.crash).toBe(1);
    expect(t.stack.functions.stats().find((s) => s.functionId === 'SubmitLead')?.crashes).toBe(1);
    expect((await fetch(faults, { method: 'DELETE' })).status).toBe(200);
    expect((await postLead()).status).toBe(202);
    expect(t.stack.faults.get().config).toEqual({});
  });

  it('exposes putEvents on the stack (the default bus, rules from the template)', async () => {
    const out = await t.stack.putEvents([{ Source: 'handoff.test', DetailType: 'Probe', Detail: '{}' }]);
    expect(out).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
  });
});
