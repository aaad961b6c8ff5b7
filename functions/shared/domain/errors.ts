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

export class LinkError extends DomainError {
  constructor(
    readonly reason: 'malformed' | 'tampered' | 'expired' | 'used',
    message: string,
  ) {
    super(message, reason === 'used' ? 409 : 403);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(`${what} not found`, 404);
  }
}

/** No rep of the team is active, in office and under capacity: the run waits for one (never a failure). */
export class NoRepAvailableError extends DomainError {
  constructor(team: string) {
    super(`No rep in team ${team} is active, in office and under capacity`, 503);
  }
}
