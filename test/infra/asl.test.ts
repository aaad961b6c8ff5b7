// The synthesized state machine, checked by AWS's own tools and against the error names AWS documents:
// amazon-states-language-service (the checker behind the AWS Toolkit's ASL editor) and asl-validator must
// report nothing, and every name in a Retry or Catch must be one that something can actually throw.
import { createRequire } from 'node:module';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import { getLanguageService, TextDocument } from 'amazon-states-language-service';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { TransientError } from '#functions/platform/step.ts';
import { CAPACITY_FREED, CONTINUE_AS_NEW } from '#functions/steps/contracts.ts';
import { type AslDefinition, loadTemplate, stateMachinesOf } from '#local/template.ts';

const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errors: unknown[];
};

/**
 * Error names AWS documents for a Task that invokes Lambda, with where:
 * - States.*: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 * - Lambda.*: the Lambda Invoke errors Step Functions surfaces, and `Lambda.Unknown`, which a function
 *   timeout or out-of-memory can surface as (same page, "Handling Lambda service exceptions");
 * - Sandbox.Timedout and Runtime.ExitError: the `errorType` Lambda reports for a function that timed out or
 *   whose runtime exited (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html).
 */
const AWS_DOCUMENTED = [
  'States.ALL',
  'States.Timeout',
  'States.TaskFailed',
  'States.Permissions',
  'States.Runtime',
  'States.HeartbeatTimeout',
  'States.DataLimitExceeded',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.IntrinsicFailure',
  'States.NoChoiceMatched',
  'States.BranchFailed',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'Sandbox.Timedout',
  'Runtime.ExitError',
];

/**
 * Names a Handoff function throws itself or lets through from the AWS SDK (a Lambda's error name is its
 * error's `name`): our own errors, the DynamoDB client's exception classes (checked as exports below), SES
 * v1's query error codes `Throttling` and `ServiceUnavailable`, and the SDK's socket `TimeoutError`.
 */
const THROWN_BY_FUNCTIONS = [
  new TransientError('x').name,
  CAPACITY_FREED,
  CONTINUE_AS_NEW,
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'Throttling',
  'ServiceUnavailable',
  'TimeoutError',
];

let def: AslDefinition;
beforeAll(() => {
  const machine = stateMachinesOf(loadTemplate(inject('cdkOut')), {
    region: 'us-east-1',
    account: '000000000000',
  })[0];
  if (!machine) throw new Error('no state machine in the template');
  def = machine.definition;
});

async function aslDiagnostics(definition: unknown): Promise<string[]> {
  const doc = TextDocument.create(
    'file:///lead-to-close.asl.json',
    'json',
    1,
    JSON.stringify(definition, null, 2),
  );
  const service = getLanguageService({});
  const found = await service.doValidation(doc, service.parseJSONDocument(doc));
  return found.map((d) => `${d.range.start.line + 1}: ${d.message}`);
}

describe('the synthesized definition, checked by AWS’s tools', () => {
  it('has no diagnostic from amazon-states-language-service', async () => {
    expect(await aslDiagnostics(def)).toEqual([]);
  });

  it('is valid for asl-validator', () => {
    const result = validate(def);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('the checkers do find a broken definition (a Next to no state)', async () => {
    const broken = structuredClone(def);
    const [name, state] = Object.entries(broken.States).find(([, s]) => typeof s.Next === 'string') ?? [];
    if (!name || !state) throw new Error('no state with a Next');
    state.Next = 'No such state';
    expect((await aslDiagnostics(broken)).join('\n')).toMatch(/existing state/);
    expect(validate(broken).isValid).toBe(false);
  });
});

describe('error names in Retry and Catch', () => {
  const named = () =>
    Object.entries(def.States).flatMap(([state, s]) =>
      [
        ...((s.Retry as { ErrorEquals: string[] }[]) ?? []),
        ...((s.Catch as { ErrorEquals: string[] }[]) ?? []),
      ].flatMap((r) => r.ErrorEquals.map((error) => ({ state, error }))),
    );

  it('names only errors AWS documents or that a function throws', () => {
    const known = new Set([...AWS_DOCUMENTED, ...THROWN_BY_FUNCTIONS]);
    expect(named().filter(({ error }) => !known.has(error))).toEqual([]);
  });

  it('retries Lambda.Unknown (a function timeout can surface as it) wherever it retries a sandbox timeout', () => {
    const retriers = Object.entries(def.States).flatMap(([state, s]) =>
      ((s.Retry as { ErrorEquals: string[] }[]) ?? []).map((r) => ({ state, errors: r.ErrorEquals })),
    );
    const timeouts = retriers.filter((r) => r.errors.includes('Sandbox.Timedout'));
    expect(timeouts.length).toBeGreaterThan(0);
    for (const r of timeouts) expect(r.errors, r.state).toContain('Lambda.Unknown');
  });

  it('the SDK exception names it retries are the DynamoDB client’s own classes', () => {
    for (const name of [
      'ThrottlingException',
      'ProvisionedThroughputExceededException',
      'RequestLimitExceeded',
      'InternalServerError',
    ])
      expect(dynamodb, name).toHaveProperty(name);
  });
});
