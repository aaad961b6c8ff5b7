// The account's send quota, locally: SES answers GetSendQuota (v1) with MaxSendRate, Max24HourSend and
// SentLast24Hours, and throttles a send beyond either limit (`Throttling`, "Maximum sending rate exceeded."
// or "Daily message quota exceeded."), as AWS does. The sandbox's quota is 1 email a second and
// 200 a day (SANDBOX_QUOTA); the stack's default is a new production account's (LocalOptions.sesQuota).
// Both are counted on the stack's clock, so a compressed day has its 200 emails too.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export interface SesQuotaLimits {
  maxSendRate: number;
  max24HourSend: number;
}

export const SANDBOX_QUOTA: SesQuotaLimits = { maxSendRate: 1, max24HourSend: 200 };
/** A new production account's quota: the local stack's default, so load and bench runs are not paced to 1/s. */
export const PRODUCTION_START_QUOTA: SesQuotaLimits = { maxSendRate: 14, max24HourSend: 50_000 };

const DAY_MS = 86_400_000;

export class SesQuota {
  /** Accepted sends' times (the stack's clock), oldest first, within the last 24 hours. */
  private readonly sent: number[] = [];

  constructor(
    private readonly limits: SesQuotaLimits = SANDBOX_QUOTA,
    private readonly now: () => number = Date.now,
  ) {}

  private prune(now: number): void {
    while (this.sent.length && (this.sent[0] ?? 0) <= now - DAY_MS) this.sent.shift();
  }

  /** What GetSendQuota answers now. */
  read(): SesQuotaLimits & { sentLast24Hours: number } {
    this.prune(this.now());
    return { ...this.limits, sentLast24Hours: this.sent.length };
  }

  /**
   * One send: undefined (counted) when it is within both limits, else the message SES throttles it with.
   * The rate is judged per second of the clock (MaxSendRate sends in each), as the send budget counts.
   */
  admit(): string | undefined {
    const now = this.now();
    this.prune(now);
    if (this.limits.max24HourSend >= 0 && this.sent.length >= this.limits.max24HourSend)
      return 'Daily message quota exceeded.';
    const second = Math.floor(now / 1000) * 1000;
    let inThisSecond = 0;
    for (let i = this.sent.length - 1; i >= 0 && (this.sent[i] ?? 0) >= second; i--) inThisSecond += 1;
    if (inThisSecond >= Math.max(1, Math.floor(this.limits.maxSendRate)))
      return 'Maximum sending rate exceeded.';
    this.sent.push(now);
    return undefined;
  }
}

const XMLNS = 'http://ses.amazonaws.com/doc/2010-12-01/';

/** The v1 GetSendQuota answer. */
export function answerQuota(res: ServerResponse, q: ReturnType<SesQuota['read']>): void {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(
    `<GetSendQuotaResponse xmlns="${XMLNS}"><GetSendQuotaResult><SentLast24Hours>${q.sentLast24Hours.toFixed(1)}</SentLast24Hours><Max24HourSend>${q.max24HourSend.toFixed(1)}</Max24HourSend><MaxSendRate>${q.maxSendRate.toFixed(1)}</MaxSendRate></GetSendQuotaResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetSendQuotaResponse>`,
  );
}

/** A send over the quota, as SES answers it (v1 XML, v2 JSON). */
export function answerThrottled(res: ServerResponse, message: string, v2: boolean): void {
  const requestId = randomUUID();
  if (v2) {
    res.writeHead(429, {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': 'TooManyRequestsException',
    });
    return void res.end(JSON.stringify({ message }));
  }
  res.writeHead(400, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}
