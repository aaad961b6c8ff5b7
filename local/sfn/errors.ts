/**
 * An AWS-shaped error: `name` becomes the `__type` the SDK maps to its exception class; the status is 400
 * unless `statusCode` says otherwise (a 5xx the SDK retries).
 */
export class SfnError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * InvalidArn, as AWS answers a parameter that is not an ARN of the kind the operation takes (before it looks
 * for the resource: `nope` is InvalidArn, not ExecutionDoesNotExist).
 */
export function checkArn(arn: string | undefined, kind: 'execution' | 'stateMachine'): void {
  if (arn === undefined) return;
  if (!arn.startsWith('arn:')) throw new SfnError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  if (!new RegExp(`^arn:aws[\\w-]*:states:[\\w-]+:\\d{12}:${kind}:`).test(arn))
    throw new SfnError(
      'InvalidArn',
      `Invalid Arn: 'Resource type not valid in this context: ${arn.split(':')[5] ?? ''}'`,
    );
}
