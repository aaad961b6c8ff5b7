import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { close, listen } from '#local/aws-json.ts';
import { privateDataDir } from '#local/data-dir.ts';
import type { LocalFunctions } from '#local/functions.ts';
import { httpApiHandler, type LocalRoute } from '#local/http-api.ts';
import { type EdgeServer, edgeServer, readBody } from '#serve/edge.ts';

let edge: (EdgeServer & { port: number; lines: string[] }) | undefined;
afterEach(async () => {
  if (edge) await close(edge.server);
  edge = undefined;
});
async function serve(handler?: RequestListener) {
  const lines: string[] = [];
  const e = edgeServer('test', (l) => lines.push(l));
  if (handler) e.open(handler);
  edge = { ...e, port: await listen(e.server, 0), lines };
  return edge;
}

/** Sends raw bytes and collects what comes back until the server closes the connection (or `ms`). */
function raw(port: number, request: string | Buffer, ms = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, ms);
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.write(request);
  });
}
const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);

describe('local listeners at the edge', () => {
  it('answers 503 with Retry-After: 1 until the handler is attached, then serves', async () => {
    const e = await serve();
    const before = await fetch(`http://127.0.0.1:${e.port}/leads`, { method: 'POST', body: '{}' });
    expect(before.status).toBe(503);
    expect(before.headers.get('retry-after')).toBe('1');
    e.open((_req, res) => void res.writeHead(200).end('ok'));
    expect((await fetch(`http://127.0.0.1:${e.port}/leads`)).status).toBe(200);
  });

  it('answers 400 to bad percent-encoding, a Host that is not a host, and bytes that are not HTTP, and keeps serving', async () => {
    let reached = 0;
    const e = await serve((_req, res) => {
      reached += 1;
      res.writeHead(200).end('ok');
    });
    const badPath = await raw(
      e.port,
      'GET /admin/leads/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(statusOf(badPath.text)).toBe(400);
    const badHost = await raw(e.port, 'GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n');
    expect(statusOf(badHost.text)).toBe(400);
    const absolute = await raw(
      e.port,
      'GET http://evil/ HTTP/1.1\r\nHost: evil\r\nConnection: close\r\n\r\n',
    );
    expect(statusOf(absolute.text)).toBe(400);
    const garbage = await raw(e.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(statusOf(garbage.text)).toBe(400);
    expect(reached).toBe(0);
    expect((await fetch(`http://127.0.0.1:${e.port}/`)).status).toBe(200);
    expect(e.lines.length).toBeGreaterThanOrEqual(4);
  });

  it('turns a handler’s exception into a 500 and a log line, not a crash', async () => {
    const e = await serve(async () => {
      throw new Error('handler bug');
    });
    const res = await fetch(`http://127.0.0.1:${e.port}/x?t=secret`);
    expect(res.status).toBe(500);
    expect(e.lines.join('\n')).toMatch(/test: GET \/x: Error: handler bug/);
    expect(e.lines.join('\n')).not.toContain('secret');
  });

  it('answers a body over the limit with 413 and closes the connection while the client still sends', async () => {
    const e = await serve(async (req, res) => {
      await readBody(req, 1024);
      res.writeHead(200).end('read');
    });
    // Declared too large: refused before reading.
    const declared = await raw(
      e.port,
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\n',
    );
    expect(statusOf(declared.text)).toBe(413);
    expect(declared.text.toLowerCase()).toContain('connection: close');
    expect(declared.closed).toBe(true);
    // Chunked, and it never stops: the server answers and hangs up anyway.
    const socket = connect(e.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `400\r\n${'x'.repeat(1024)}\r\n`;
    const pump = setInterval(() => socket.writable && socket.write(chunk), 1);
    await closed;
    clearInterval(pump);
    expect(statusOf(text)).toBe(413);
    expect(text.toLowerCase()).toContain('connection: close');
  });

  it('HTTP API: a throttled invocation answers 429 with Retry-After: 1; a bad path parameter 400', async () => {
    const route: LocalRoute = {
      apiArn: 'arn:aws:execute-api:us-east-1:000000000000:Api',
      method: 'GET',
      path: '/admin/leads/{leadId}',
      functionArn: 'fn',
      iam: false,
      pattern: /^\/admin\/leads\/([^/]+)$/,
      params: ['leadId'],
    };
    const functions = {
      invoke: async () => ({ ok: false, errorType: 'Lambda.TooManyRequestsException', errorMessage: 'Rate' }),
    } as unknown as LocalFunctions;
    const e = await serve(httpApiHandler([route], functions, 'token'));
    const res = await fetch(`http://127.0.0.1:${e.port}/admin/leads/ld-1`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    // %ZZ is not percent-encoding: refused before the route's decoding could throw.
    const bad = await raw(
      e.port,
      'GET /admin/leads/%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(statusOf(bad.text)).toBe(400);
  });
});

describe('the data folder', () => {
  it('is 0700 with 0600 files, existing ones included, and later files are 0600 too', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'handoff-modes-')), 'data');
    mkdirSync(join(dir, 'executions'), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'admin-token'), 'x', { mode: 0o644 });
    writeFileSync(join(dir, 'executions', 'a.json'), '{}', { mode: 0o644 });
    const restore = privateDataDir(dir);
    try {
      writeFileSync(join(dir, 'later.json'), '{}');
      mkdirSync(join(dir, 'later'));
      const mode = (p: string) => statSync(join(dir, p)).mode & 0o777;
      expect(mode('.')).toBe(0o700);
      expect(mode('executions')).toBe(0o700);
      expect(mode('admin-token')).toBe(0o600);
      expect(mode('executions/a.json')).toBe(0o600);
      expect(mode('later.json')).toBe(0o600);
      expect(mode('later')).toBe(0o700);
    } finally {
      restore();
    }
  });
});
