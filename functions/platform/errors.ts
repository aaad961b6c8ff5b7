// Expected, typed failures, by kind. They say what went wrong and carry no HTTP status: the HTTP edge
// answers each kind with its status from one table (ERROR_STATUS in http.ts). Capabilities extend a kind
// (LinkError is a DeniedError, NoRepAvailableError an UnavailableError), so the edge knows no business words.

/** Base of every expected, typed failure in Handoff's domain. */
export class DomainError extends Error {
  constructor(message: string) {
    super(message);
    // The class's own name (kept through minification), so logs and run histories show what failed.
    this.name = new.target.name;
  }
}

/** Input that breaks a rule, field by field. */
export class ValidationError extends DomainError {
  constructor(readonly fieldErrors: Record<string, string[]>) {
    super('Invalid input');
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** The thing is in a state that does not allow this: already done, moved on, or someone else's now. */
export class ConflictError extends DomainError {}

export class IllegalTransitionError extends ConflictError {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly entity: 'deal' | 'lead' = 'deal',
  ) {
    super(`A ${entity} cannot go from ${from} to ${to}`);
  }
}

/** The caller may not do this: a credential (a signed link) that is bad or expired, or a foreign origin. */
export class DeniedError extends DomainError {}

/** Nothing can take this now; the same request may work later. */
export class UnavailableError extends DomainError {}
