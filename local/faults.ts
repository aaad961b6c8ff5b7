// The fault switch: what fraction of DynamoDB and SES requests fail (and how), and which function's
// worker crashes mid-invocation. Set from tests (`stack.faults`) or over HTTP (`/_local/faults`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EdgeError, isLoopbackOrigin, readBody } from '../serve/edge.ts';

export const DYNAMODB_FAULTS = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'InternalServerError',
] as const;
export const SES_FAULTS = ['Throttling', 'ServiceUnavailable'] as const;

export interface FaultConfig {
  dynamodb?: { rate: number; error: (typeof DYNAMODB_FAULTS)[number] };
  ses?: { rate: number; error: (typeof SES_FAULTS)[number] };
  /** `function` is the construct id (e.g. `CaptureLead`) or the logical id. */
  crash?: { function: string; rate: number };
}

export interface FaultState {
  config: FaultConfig;
  /** Faults injected since the stack started. */
  injected: { dynamodb: number; ses: number; crash: number };
  /** Requests and invocations the switch saw (each could have been faulted). */
  seen: { dynamodb: number; ses: number; invocations: number };
}

/** A fault setting that is not one: answered 400 over HTTP. */
export class FaultConfigError extends EdgeError {
  constructor(message: string) {
    super(400, message);
  }
}

/**
 * The DynamoDB fault setting and its counters in shared memory: dynalite and its edge run on their own
 * thread (local/dynamodb-thread.ts), which rolls each request against the setting the main thread wrote,
 * at once and without a message.
 */
export class SharedDynamodbFaults {
  /** seen, injected, the error's index + 1 (0: no fault) */
  private readonly ints: Int32Array;
  private readonly rate: Float64Array;

  constructor(
    readonly buffer = new SharedArrayBuffer(24),
    private readonly random: () => number = Math.random,
  ) {
    this.ints = new Int32Array(buffer, 0, 3);
    this.rate = new Float64Array(buffer, 16, 1);
  }

  set(f: FaultConfig['dynamodb']): void {
    this.rate[0] = f?.rate ?? 0;
    Atomics.store(this.ints, 2, f ? DYNAMODB_FAULTS.indexOf(f.error) + 1 : 0);
  }

  get seen(): number {
    return Atomics.load(this.ints, 0);
  }

  get injected(): number {
    return Atomics.load(this.ints, 1);
  }

  /** For one DynamoDB request: the error to answer with, or undefined to pass it on. */
  dynamodb(): (typeof DYNAMODB_FAULTS)[number] | undefined {
    Atomics.add(this.ints, 0, 1);
    const error = DYNAMODB_FAULTS[Atomics.load(this.ints, 2) - 1];
    const rate = this.rate[0] ?? 0;
    if (!error || !(rate >= 1 || (rate > 0 && this.random() < rate))) return undefined;
    Atomics.add(this.ints, 1, 1);
    return error;
  }
}

export class Faults {
  private config: FaultConfig = {};
  private readonly injected = { ses: 0, crash: 0 };
  private readonly seen = { ses: 0, invocations: 0 };
  /** The DynamoDB part, which the DynamoDB thread reads (pass `shared.buffer` to it). */
  readonly shared: SharedDynamodbFaults;

  constructor(
    /** The functions `crash` may name: construct id and logical id of each. */
    private readonly functions: { id: string; logicalId: string }[] = [],
    private readonly random: () => number = Math.random,
  ) {
    this.shared = new SharedDynamodbFaults(new SharedArrayBuffer(24), random);
  }

  /** Replaces the setting (validated); returns the state. */
  set(input: unknown): FaultState {
    this.config = this.validate(input);
    this.shared.set(this.config.dynamodb);
    return this.get();
  }

  get(): FaultState {
    return {
      config: structuredClone(this.config),
      injected: { dynamodb: this.shared.injected, ...this.injected },
      seen: { dynamodb: this.shared.seen, ...this.seen },
    };
  }

  /** Turns every fault off (the counters stay). */
  clear(): FaultState {
    this.config = {};
    this.shared.set(undefined);
    return this.get();
  }

  /** For one DynamoDB request: the error to answer with, or undefined to pass it on. */
  dynamodb(): (typeof DYNAMODB_FAULTS)[number] | undefined {
    return this.shared.dynamodb();
  }

  /** For one SES API request: the error to answer with, or undefined to pass it on. */
  ses(): (typeof SES_FAULTS)[number] | undefined {
    this.seen.ses += 1;
    const f = this.config.ses;
    if (!f || !this.roll(f.rate)) return undefined;
    this.injected.ses += 1;
    return f.error;
  }

  /** For one invocation: whether its worker crashes mid-invocation. */
  crash(fn: { id: string; logicalId: string }): boolean {
    this.seen.invocations += 1;
    const f = this.config.crash;
    if (!f || (f.function !== fn.id && f.function !== fn.logicalId) || !this.roll(f.rate)) return false;
    this.injected.crash += 1;
    return true;
  }

  /** GET reads, POST sets (JSON body), DELETE clears: `/_local/faults` on the Step Functions port. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    // Only this machine's tools change faults: a page elsewhere cannot send JSON here without a preflight,
    // and an Origin that is not a local page is refused outright.
    const origin = req.headers.origin;
    if (origin && !isLoopbackOrigin(origin)) return answer(403, { message: 'Origin not allowed' });
    if ((req.method === 'POST' || req.method === 'DELETE') && req.headers['content-type'] !== undefined) {
      if (!/^application\/json\b/i.test(req.headers['content-type']))
        return answer(415, { message: 'send the fault settings as application/json' });
    }
    if (req.method === 'GET') return answer(200, this.get());
    if (req.method === 'DELETE') return answer(200, this.clear());
    if (req.method !== 'POST') return answer(405, { message: 'GET, POST or DELETE' });
    const raw = (await readBody(req, 64 * 1024)).toString('utf8');
    try {
      answer(200, this.set(JSON.parse(raw)));
    } catch (e) {
      if (e instanceof FaultConfigError) return answer(400, { message: e.message });
      if (e instanceof SyntaxError) return answer(400, { message: 'the body is not JSON' });
      throw e;
    }
  }

  private roll(rate: number): boolean {
    return rate >= 1 || (rate > 0 && this.random() < rate);
  }

  private validate(input: unknown): FaultConfig {
    if (!isObject(input)) throw new FaultConfigError('expected an object: { dynamodb?, ses?, crash? }');
    const unknown = Object.keys(input).filter((k) => !['dynamodb', 'ses', 'crash'].includes(k));
    if (unknown.length)
      throw new FaultConfigError(`unknown fault ${unknown.join(', ')}: dynamodb, ses or crash`);
    const out: FaultConfig = {};
    const rate = (where: string, v: unknown) => {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        throw new FaultConfigError(`${where}.rate must be a number from 0 to 1`);
      return v;
    };
    const oneOf = <T extends string>(where: string, v: unknown, allowed: readonly T[]): T => {
      if (!allowed.includes(v as T))
        throw new FaultConfigError(`${where}.error must be one of ${allowed.join(', ')}`);
      return v as T;
    };
    const { dynamodb, ses, crash } = input;
    if (dynamodb !== undefined) {
      if (!isObject(dynamodb)) throw new FaultConfigError('dynamodb must be { rate, error }');
      out.dynamodb = {
        rate: rate('dynamodb', dynamodb.rate),
        error: oneOf('dynamodb', dynamodb.error, DYNAMODB_FAULTS),
      };
    }
    if (ses !== undefined) {
      if (!isObject(ses)) throw new FaultConfigError('ses must be { rate, error }');
      out.ses = { rate: rate('ses', ses.rate), error: oneOf('ses', ses.error, SES_FAULTS) };
    }
    if (crash !== undefined) {
      if (!isObject(crash) || typeof crash.function !== 'string')
        throw new FaultConfigError('crash must be { function, rate }');
      const name = crash.function;
      if (this.functions.length && !this.functions.some((f) => f.id === name || f.logicalId === name))
        throw new FaultConfigError(
          `crash.function: no function ${name}; one of ${this.functions.map((f) => f.id).join(', ')}`,
        );
      out.crash = { function: name, rate: rate('crash', crash.rate) };
    }
    return out;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
