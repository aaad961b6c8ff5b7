// A small HTTP proxy in front of dynalite and aws-ses-v2-local: the functions' AWS_ENDPOINT_URL_DYNAMODB
// and _SES point here. It passes requests on, except the fraction the fault switch picks, which it
// answers as the service would (status, error type, body and headers), so the SDK raises its own
// exception class and retries it as throttling or a transient error.
import { randomUUID } from 'node:crypto';
import { Agent, type IncomingMessage, type RequestListener, request, type ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import type { Faults } from './faults.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Passes every request on to `target` (an http://host:port URL), streaming both ways. */
export function forward(target: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const t = new URL(target);
  return new Promise((resolve) => {
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: t.host },
        agent,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('end', resolve);
        upRes.on('error', () => {
          res.destroy();
          resolve();
        });
      },
    );
    up.on('error', (e) => {
      if (!res.headersSent)
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream: ${e.message}`);
      else res.destroy();
      resolve();
    });
    req.pipe(up);
  });
}

const DYNAMODB_ERRORS = {
  ProvisionedThroughputExceededException: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  ThrottlingException: {
    status: 400,
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  },
  InternalServerError: {
    status: 500,
    type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: 'Internal server error',
  },
};

/** DynamoDB (AWS JSON 1.0): every API call (`X-Amz-Target: DynamoDB_20120810.*`) may be faulted. */
export function dynamodbProxy(target: string, faults: Faults): RequestListener {
  return async (req, res) => {
    const api = req.method === 'POST' && String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_');
    const fault = api ? faults.dynamodb() : undefined;
    if (!fault) return forward(target, req, res);
    req.resume();
    const e = DYNAMODB_ERRORS[fault];
    const body = JSON.stringify({ __type: e.type, message: e.message });
    res.writeHead(e.status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      'x-amz-crc32': String(crc32(body)),
    });
    res.end(body);
  };
}

const SES_ERRORS = {
  Throttling: {
    status: 400,
    v2Status: 429,
    v2Type: 'TooManyRequestsException',
    kind: 'Sender',
    message: 'Maximum sending rate exceeded.',
  },
  ServiceUnavailable: {
    status: 503,
    v2Status: 503,
    v2Type: 'ServiceUnavailable',
    kind: 'Receiver',
    message: 'Service is unavailable. Please try again later.',
  },
};

/**
 * SES: the v1 query API (`POST /`) and the v2 REST API (`/v2/email/…`) may be faulted; the mailbox
 * viewer and its store are passed on untouched.
 */
export function sesProxy(target: string, faults: Faults): RequestListener {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const v1 = req.method === 'POST' && path === '/';
    const v2 = path?.startsWith('/v2/email/') ?? false;
    const fault = v1 || v2 ? faults.ses() : undefined;
    if (!fault) return forward(target, req, res);
    req.resume();
    const e = SES_ERRORS[fault];
    const requestId = randomUUID();
    if (v2) {
      res.writeHead(e.v2Status, {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': e.v2Type,
      });
      return void res.end(JSON.stringify({ message: e.message }));
    }
    res.writeHead(e.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>${e.kind}</Type><Code>${fault}</Code><Message>${e.message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  };
}
