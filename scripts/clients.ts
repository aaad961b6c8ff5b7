// Simulated visitors, each from its own loopback address. POST /leads counts forms per source address
// (config/app.json's `api.perClient`), as it would in AWS, where a load test from one machine is one
// client too: the load tools spread their clients over 127.0.0.0/8 (all of it is loopback on Linux) so
// the stack sees many visitors, not one. Where an address cannot be bound (macOS has only 127.0.0.1 on its
// loopback), requests go from the default address and the per-address limit may answer 429.
import { request } from 'node:http';

/** The i-th client's source address: 127.0.x.y, never 127.0.0.1 itself. */
export const clientAddress = (i: number) => `127.0.${Math.floor(i / 250) % 250}.${(i % 250) + 2}`;

export interface ClientAnswer {
  status: number;
  retryAfter: number | undefined;
  contentType: string;
  text: string;
}

let bindable = true;

/** POSTs `body` as JSON to `url` from client `i`'s address. */
export function postAs(i: number, url: string, body: string): Promise<ClientAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        ...(bindable ? { localAddress: clientAddress(i) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] ? Number(res.headers['retry-after']) : undefined,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (bindable && e.code === 'EADDRNOTAVAIL') {
        bindable = false;
        postAs(i, url, body).then(resolve, reject);
      } else reject(e);
    });
    req.end(body);
  });
}
