// How the console's API says no: ApiError is an answer other than 200 with a message the page shows as it
// is; apiErrorOf turns whatever a read or an action threw (SDK, store, domain) into one.
import { DomainError, ValidationError } from '../functions/platform/errors.ts';
import { httpStatusOf } from '../functions/platform/http.ts';

/** An answer other than 200, with a message the page shows as it is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** SDK and store errors as answers: a missing thing is 404, a refused action 409, AWS's own refusals as such. */
export function apiErrorOf(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ValidationError) {
    const fields = Object.fromEntries(Object.entries(e.fieldErrors).map(([k, v]) => [k, v.join(', ')]));
    const first = Object.entries(fields)[0];
    return new ApiError(400, first ? `Bad query: ${first[0]} ${first[1]}` : 'Bad query', fields);
  }
  const status = httpStatusOf(e);
  if (e instanceof DomainError && status !== undefined && status < 500)
    return new ApiError(status, e.message);
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = String(err?.name ?? '');
  const message = String(err?.message ?? name);
  if (['ExecutionDoesNotExist', 'StateMachineDoesNotExist', 'ResourceNotFoundException'].includes(name))
    return new ApiError(404, message);
  if (['ExecutionNotRedrivable', 'ExecutionLimitExceeded', 'TaskDoesNotExist', 'TaskTimedOut'].includes(name))
    return new ApiError(409, message);
  if (['InvalidArn', 'InvalidName', 'ValidationException', 'InvalidToken'].includes(name))
    return new ApiError(400, message);
  if (name === 'ThrottlingException' || name === 'ProvisionedThroughputExceededException')
    return new ApiError(429, `AWS is throttling the console (${name}); it will catch up`);
  if (
    [
      'AccessDeniedException',
      'UnrecognizedClientException',
      'ExpiredTokenException',
      'InvalidSignatureException',
    ].includes(name)
  )
    return new ApiError(403, `AWS refused the console's credentials: ${message}`);
  if (name === 'CredentialsProviderError') return new ApiError(503, `No AWS credentials: ${message}`);
  if (err?.$metadata?.httpStatusCode) return new ApiError(502, `${name || 'AWS error'}: ${message}`);
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(String((e as { code?: string })?.code)))
    return new ApiError(503, `Cannot reach the service: ${message}`);
  return new ApiError(500, 'Internal error (see the console server’s terminal)');
}
