/** An AWS-shaped error: `name` becomes the `__type` the SDK maps to its exception class. */
export class SfnError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}
