// What each local endpoint's request asks of IAM (action, resources, condition keys), and the guard that puts
// IamEnforcer (local/iam.ts) in front of an emulator: a request signed with a function's key is read, checked
// and handed on unchanged, or answered as AWS answers AccessDeniedException; an operator's request passes
// untouched. One guard per protocol: AWS JSON (DynamoDB, Step Functions, Secrets Manager) and SES's v1 query.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { readBody } from '../serve/edge.ts';
import { operationOf, replayed } from './aws-json.ts';
import { accessKeyOf, type BodyCheck, type IamEnforcer, type IamRequest } from './iam.ts';
import { sendOfV1 } from './ses-simulator.ts';

export interface Place {
  region: string;
  account: string;
}

/**
 * The IAM check for one protocol: `asks` says what a request (its body text) needs, undefined for a request
 * IAM does not see (the emulator answers it as it would anyway); `deny` writes AWS's answer.
 */
export function iamCheck(
  enforcer: IamEnforcer,
  asks: (req: IncomingMessage, body: string) => IamRequest[] | undefined,
  deny: (res: ServerResponse, message: string) => void,
): BodyCheck {
  return async (req, body, res) => {
    const key = accessKeyOf(req.headers.authorization);
    if (!enforcer.isFunctionKey(key)) return false;
    let requests: IamRequest[] | undefined;
    try {
      requests = asks(req, body);
    } catch {
      requests = undefined; // a malformed body: the emulator answers it with its own validation error
    }
    const denied = requests ? await enforcer.denial(key, requests) : undefined;
    if (!denied) return false;
    deny(res, denied);
    return true;
  };
}

/**
 * Puts an IAM check in front of `handler`: a request signed with a function's key is read, checked and
 * replayed to the handler unchanged (or denied); an operator's request passes untouched, unread.
 */
export function iamGuard(handler: RequestListener, enforcer: IamEnforcer, check: BodyCheck): RequestListener {
  return async (req, res) => {
    if (!enforcer.isFunctionKey(accessKeyOf(req.headers.authorization))) return handler(req, res);
    let body: string;
    try {
      body = (await readBody(req)).toString('utf8');
    } catch {
      res.writeHead(413).end();
      return;
    }
    if (await check(req, body, res)) return;
    return handler(replayed(req, body), res);
  };
}

/** AWS JSON 1.0/1.1: 400 with `__type` AccessDeniedException, which the SDK raises as that name. */
export function awsJsonDenied(res: ServerResponse, message: string): void {
  res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
  res.end(
    JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message, message }),
  );
}

/** SES's v1 query API: 403 with the XML error `AccessDenied`. */
export function sesQueryDenied(res: ServerResponse, message: string): void {
  const requestId = randomUUID();
  const text = message.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);
  res.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(
    `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${text}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

const json = (body: string) => (body ? JSON.parse(body) : {}) as Record<string, unknown>;

/** DynamoDB: the table (or index) each call touches; a transaction is authorized item by item, as AWS does. */
export function dynamodbAsks(p: Place) {
  const table = (name: unknown) => `arn:aws:dynamodb:${p.region}:${p.account}:table/${String(name)}`;
  return (req: IncomingMessage, body: string): IamRequest[] | undefined => {
    const op = operationOf(req);
    if (!op) return undefined;
    const b = json(body);
    const action = `dynamodb:${op}`;
    if (op === 'BatchGetItem' || op === 'BatchWriteItem')
      return [{ action, resources: Object.keys((b.RequestItems as object) ?? {}).map(table) }];
    if (op === 'TransactWriteItems' || op === 'TransactGetItems') {
      const items = (b.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? [];
      return items.flatMap((item) =>
        Object.entries(item).map(([kind, x]) => ({
          action: `dynamodb:${kind === 'Put' ? 'PutItem' : kind === 'Update' ? 'UpdateItem' : kind === 'Delete' ? 'DeleteItem' : kind === 'Get' ? 'GetItem' : 'ConditionCheckItem'}`,
          resources: [table(x.TableName)],
        })),
      );
    }
    if (op === 'ListTables') return [{ action, resources: ['*'] }];
    if (b.TableName === undefined) return undefined;
    const index = b.IndexName === undefined ? '' : `/index/${String(b.IndexName)}`;
    return [{ action, resources: [`${table(b.TableName)}${index}`] }];
  };
}

/**
 * Step Functions: the state machine or execution a call names; a callback is authorized against the state
 * machine of its token's execution (`executionOf`), or `*` for a token the stack does not know.
 */
export function sfnAsks(executionOf: (token: string) => string | undefined) {
  const machineOfExecution = (arn: string) => arn.replace(/:execution:([^:]+):[^:]+$/, ':stateMachine:$1');
  return (req: IncomingMessage, body: string): IamRequest[] | undefined => {
    const op = operationOf(req);
    if (!op) return undefined;
    const b = json(body);
    const action = `states:${op}`;
    if (op.startsWith('SendTask')) {
      const execution = executionOf(String(b.taskToken ?? ''));
      return [{ action, resources: [execution ? machineOfExecution(execution) : '*'] }];
    }
    const named = b.executionArn ?? b.stateMachineArn;
    return [{ action, resources: [named === undefined ? '*' : String(named)] }];
  };
}

/** Secrets Manager: the secret a call names, as the ARN the template's grants use. */
export function secretsAsks(arnOf: (secretId: string) => string | undefined) {
  return (req: IncomingMessage, body: string): IamRequest[] | undefined => {
    const op = operationOf(req);
    if (!op) return undefined;
    const id = String(json(body).SecretId ?? '');
    return [{ action: `secretsmanager:${op}`, resources: [arnOf(id) ?? id] }];
  };
}

/**
 * SES v1: a send is authorized on the sending identity (the sender's domain) and on the configuration set
 * it names, with the `ses:FromAddress` condition key; the mailbox viewer and anything else pass.
 */
export function sesAsks(p: Place) {
  return (req: IncomingMessage, body: string): IamRequest[] | undefined => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/') return undefined;
    const form = new URLSearchParams(body);
    const action = form.get('Action');
    const send = sendOfV1(form);
    if (!action || !send) return action ? [{ action: `ses:${action}`, resources: ['*'] }] : undefined;
    const from = send.source.replace(/^.*<([^>]+)>.*$/, '$1').trim();
    const identity = `arn:aws:ses:${p.region}:${p.account}:identity/${from.split('@')[1] ?? from}`;
    const resources = [identity];
    if (send.configurationSet)
      resources.push(`arn:aws:ses:${p.region}:${p.account}:configuration-set/${send.configurationSet}`);
    return [{ action: `ses:${action}`, resources, context: { 'ses:FromAddress': from } }];
  };
}
