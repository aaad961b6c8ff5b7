// The fault proxy in front of dynalite and aws-ses-v2-local: the public DynamoDB and SES ports (which the
// functions' AWS_ENDPOINT_URL_DYNAMODB and _SES point at) pass each request to the emulator's own request
// handler, in process (no second HTTP hop on the main thread), except the fraction the fault switch picks,
// which they answer as the service would (status, error type, body and headers), so the SDK raises its own
// exception class and retries it as throttling or a transient error.
import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { crc32 } from 'node:zlib';
import type { Faults } from './faults.ts';

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
export function dynamodbProxy(emulator: RequestListener, faults: Faults): RequestListener {
  return async (req, res) => {
    const api = req.method === 'POST' && String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_');
    const fault = api ? faults.dynamodb() : undefined;
    if (!fault) return emulator(req, res);
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
export function sesProxy(emulator: RequestListener, faults: Faults): RequestListener {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const v1 = req.method === 'POST' && path === '/';
    const v2 = path?.startsWith('/v2/email/') ?? false;
    const fault = v1 || v2 ? faults.ses() : undefined;
    if (!fault) return emulator(req, res);
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
