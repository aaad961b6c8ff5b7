// CloudFormation's DescribeStacks for the one stack the local runtime runs, in AWS's query protocol (form
// POST or GET, XML answer), with the synthesized template's outputs resolved to the local resources. It is
// what `npm run console -- --stack Handoff` (console/stack.ts) reads in AWS: with
// AWS_ENDPOINT_URL_CLOUDFORMATION pointing here, the console's AWS mode runs against the local stack.
// Every other action is refused as AWS refuses an unknown one; nothing here changes a stack.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { readBody } from '../serve/edge.ts';
import type { IamRequest } from './iam.ts';
import type { Place } from './iam-requests.ts';
import { type CfnTemplate, type LocalNames, resolve } from './template.ts';

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export interface StackOutput {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
}

export interface LocalStackDescription {
  StackName: string;
  StackId: string;
  /** When the local stack started (the stack's clock). */
  CreationTime: Date;
  Outputs: StackOutput[];
}

/** The template's Outputs, each resolved as CloudFormation would resolve it in this account and region. */
export function outputsOf(template: CfnTemplate, names: LocalNames): StackOutput[] {
  return Object.entries(template.Outputs ?? {}).map(([key, o]) => ({
    OutputKey: key,
    OutputValue: String(resolve(template, o.Value, names)),
    ...(o.Description ? { Description: o.Description } : {}),
  }));
}

/** The stack's id as CloudFormation writes it (a stack ARN with a per-stack UUID). */
export const stackIdOf = (stackName: string, p: Place, uuid: string) =>
  `arn:aws:cloudformation:${p.region}:${p.account}:stack/${stackName}/${uuid}`;

/** The action and the stack a request names (form body for POST, query string for GET). */
export function queryOf(req: IncomingMessage, body: string): URLSearchParams {
  return req.method === 'GET'
    ? new URL(req.url ?? '/', 'http://local').searchParams
    : new URLSearchParams(body);
}

/** The HTTP handler: DescribeStacks (by name, by stack id, or all), everything else an AWS error. */
export function cloudFormationHandler(stack: LocalStackDescription): RequestListener {
  return async (req, res) => {
    if (req.method !== 'POST' && req.method !== 'GET') return fail(res, 405, 'InvalidAction', 'Use POST.');
    let body: string;
    try {
      body = (await readBody(req)).toString('utf8');
    } catch {
      return fail(res, 413, 'ValidationError', 'The request is too large.');
    }
    const form = queryOf(req, body);
    const action = form.get('Action') ?? '';
    if (action !== 'DescribeStacks')
      return fail(
        res,
        400,
        'InvalidAction',
        `The action ${action || '(none)'} is not valid for this web service (the local stack answers DescribeStacks only).`,
      );
    const name = form.get('StackName');
    if (name && name !== stack.StackName && name !== stack.StackId)
      return fail(res, 400, 'ValidationError', `Stack with id ${name} does not exist`);
    const requestId = randomUUID();
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<DescribeStacksResponse xmlns="${XMLNS}"><DescribeStacksResult><Stacks>${member(stack)}</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  };
}

function member(s: LocalStackDescription): string {
  const outputs = s.Outputs.map(
    (o) =>
      `<member><OutputKey>${x(o.OutputKey)}</OutputKey><OutputValue>${x(o.OutputValue)}</OutputValue>${o.Description ? `<Description>${x(o.Description)}</Description>` : ''}</member>`,
  ).join('');
  return `<member><StackName>${x(s.StackName)}</StackName><StackId>${x(s.StackId)}</StackId><CreationTime>${s.CreationTime.toISOString()}</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${outputs}</Outputs></member>`;
}

/** What a request signed with a function's key asks of IAM (local/iam-requests.ts): the stack it names. */
export function cloudFormationAsks(stack: LocalStackDescription) {
  return (req: IncomingMessage, body: string): IamRequest[] | undefined => {
    const form = queryOf(req, body);
    const action = form.get('Action');
    if (!action) return undefined;
    return [{ action: `cloudformation:${action}`, resources: [form.get('StackName') ? stack.StackId : '*'] }];
  };
}

/** A function denied by IAM: 403 `AccessDenied`, as CloudFormation answers it. */
export const cloudFormationDenied = (res: ServerResponse, message: string) =>
  fail(res, 403, 'AccessDenied', message);

/** AWS's query-protocol error, which the SDK raises as an exception named `code`. */
function fail(res: ServerResponse, status: number, code: string, message: string): void {
  const requestId = randomUUID();
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${x(code)}</Code><Message>${x(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

const x = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
