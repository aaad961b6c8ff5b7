import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { readBody } from '../serve/edge.ts';

export { readBody } from '../serve/edge.ts';
// Every listener binds through serve/ports.ts: a port held by an outgoing connection is retried, a taken
// one named.
export { listen } from '../serve/ports.ts';

export async function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

type Operation = (body: Record<string, unknown>) => unknown | Promise<unknown>;

/**
 * An AWS JSON protocol endpoint (`X-Amz-Target: <Prefix>.<Operation>`), as the AWS SDKs and CLI speak
 * it. Errors with a `name` answer 400 with `__type`, which the SDK turns into its typed exception; a
 * body that is not JSON is a SerializationException. Run it behind an edge server (serve/edge.ts),
 * which answers a body over the limit with 413.
 */
export function awsJsonHandler(
  targetPrefix: string,
  operations: Record<string, Operation>,
  fallback?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): RequestListener {
  return async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || !target) {
      if (fallback) return void (await fallback(req, res));
      res.writeHead(404).end();
      return;
    }
    const [prefix, op = ''] = target.split('.');
    const contentType = /^application\/x-amz-json-1\.[01]$/.test(String(req.headers['content-type']))
      ? String(req.headers['content-type'])
      : 'application/x-amz-json-1.0';
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': crypto.randomUUID() });
      res.end(JSON.stringify(body));
    };
    const handler = prefix === targetPrefix ? operations[op] : undefined;
    if (!handler)
      return send(400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
    const raw = (await readBody(req)).toString('utf8');
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return send(400, {
        __type: 'SerializationException',
        message: 'The request body is not a JSON object',
      });
    }
    try {
      send(200, (await handler(body)) ?? {});
    } catch (e) {
      const err = e as Error;
      const known =
        err.name && err.name !== 'Error' && err.name !== 'TypeError' && err.name !== 'SyntaxError';
      if (!known) console.error(`${targetPrefix}.${op}: ${err.stack ?? err}`);
      // An error may carry its own status (a 503 the SDK retries); otherwise a named error is the caller's (400).
      const status = (err as { statusCode?: number }).statusCode ?? (known ? 400 : 500);
      send(status, { __type: known ? err.name : 'InternalFailure', message: err.message });
    }
  };
}

/** The operation an AWS JSON request names (`X-Amz-Target: <Prefix>.<Operation>`), '' for none. */
export function operationOf(req: IncomingMessage): string {
  return String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
}

/** `req` again with `text` as its body, for the handler behind a guard that read it (IAM, the meter). */
export function replayed(req: IncomingMessage, text: string): IncomingMessage {
  const replay = Object.assign(new PassThrough(), {
    headers: { ...req.headers, 'content-length': String(Buffer.byteLength(text)) },
    method: req.method,
    url: req.url,
    socket: req.socket,
  }) as unknown as IncomingMessage;
  queueMicrotask(() => (replay as unknown as PassThrough).end(text));
  return replay;
}
