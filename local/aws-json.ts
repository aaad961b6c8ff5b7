import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function readBody(req: IncomingMessage, limit = 6 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('Request too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${host} is already in use: pass another --port`)
          : e,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

type Operation = (body: Record<string, unknown>) => unknown | Promise<unknown>;

/**
 * An AWS JSON protocol endpoint (`X-Amz-Target: <Prefix>.<Operation>`), as the AWS SDKs and CLI speak
 * it. Errors with a `name` answer 400 with `__type`, which the SDK turns into its typed exception.
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
    const contentType = String(req.headers['content-type'] ?? 'application/x-amz-json-1.0');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': crypto.randomUUID() });
      res.end(JSON.stringify(body));
    };
    const handler = prefix === targetPrefix ? operations[op] : undefined;
    if (!handler)
      return send(400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
    try {
      const raw = (await readBody(req)).toString('utf8');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      send(200, (await handler(body)) ?? {});
    } catch (e) {
      const err = e as Error;
      const known =
        err.name && err.name !== 'Error' && err.name !== 'TypeError' && err.name !== 'SyntaxError';
      send(known ? 400 : 500, { __type: known ? err.name : 'InternalFailure', message: err.message });
    }
  };
}
