/** Base of every expected, typed failure in Handoff's domain. `status` is the HTTP status at the edge. */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(readonly fieldErrors: Record<string, string[]>) {
    super('Invalid input', 400, fieldErrors);
  }
}

export class IllegalTransitionError extends DomainError {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly entity: 'deal' | 'lead' = 'deal',
  ) {
    super(`A ${entity} cannot go from ${from} to ${to}`, 409);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(`${what} not found`, 404);
  }
}
