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
