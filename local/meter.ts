// The DynamoDB meter (`npm run bench`): counts the request units each call consumes, as dynalite computes
// them (item size rounded up to 1 KB per write unit, 4 KB per read unit, eventually consistent reads
// halved). It sits between the fault proxy and dynalite, asks dynalite for `ReturnConsumedCapacity:
// TOTAL` on every call and adds up what comes back; the answer reaches the caller unchanged apart from
// that extra field, which the SDK ignores. Off unless the runtime is started with `meter: true`.
// Where dynalite and DynamoDB differ (docs/performance.md says so beside the figures):
// - a write whose condition fails consumes write units in DynamoDB; dynalite returns none, so the meter
//   counts 1 (the items here are under 1 KB);
// - writes to a global secondary index consume units of their own in DynamoDB; dynalite does not count
//   them, and neither does the meter (`indexWrites` counts the writes to items that carry an index key,
//   as a hint of what is missing).

import type { RequestListener, ServerResponse } from 'node:http';
import { operationOf, replayed } from './aws-json.ts';
import { accessKeyOf } from './iam.ts';

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface MeterReading {
  calls: number;
  readUnits: number;
  writeUnits: number;
  /** Writes refused by their condition (1 write unit each, as DynamoDB bills them). */
  conditionFailures: number;
  /** Calls per operation. */
  byOperation: Record<string, number>;
  /**
   * Single-item writes per kind of item (`LEAD/PROFILE`: the partition and sort keys' text before their
   * first `#`), to see where write units go and which writes also update an index.
   */
  writesByKind: Record<string, { calls: number; units: number }>;
  /** Calls per caller: the access key id each request was signed with (a function's: local/iam.ts). */
  byCaller: Record<string, number>;
}

export class DynamoMeter {
  private r: MeterReading = {
    calls: 0,
    readUnits: 0,
    writeUnits: 0,
    conditionFailures: 0,
    byOperation: {},
    writesByKind: {},
    byCaller: {},
  };

  /** A copy of the counts so far. */
  read(): MeterReading {
    return structuredClone(this.r);
  }

  /** What was consumed between two readings. */
  static since(before: MeterReading, after: MeterReading): MeterReading {
    const byOperation: Record<string, number> = {};
    for (const [op, n] of Object.entries(after.byOperation)) {
      const d = n - (before.byOperation[op] ?? 0);
      if (d) byOperation[op] = d;
    }
    const byCaller: Record<string, number> = {};
    for (const [caller, n] of Object.entries(after.byCaller)) {
      const d = n - (before.byCaller[caller] ?? 0);
      if (d) byCaller[caller] = d;
    }
    const writesByKind: MeterReading['writesByKind'] = {};
    for (const [kind, w] of Object.entries(after.writesByKind)) {
      const b = before.writesByKind[kind] ?? { calls: 0, units: 0 };
      if (w.calls !== b.calls) writesByKind[kind] = { calls: w.calls - b.calls, units: w.units - b.units };
    }
    return {
      calls: after.calls - before.calls,
      readUnits: after.readUnits - before.readUnits,
      writeUnits: after.writeUnits - before.writeUnits,
      conditionFailures: after.conditionFailures - before.conditionFailures,
      byOperation,
      writesByKind,
      byCaller,
    };
  }

  record(operation: string, request: ItemRequest, status: number, body: string, caller = '?'): void {
    this.r.calls += 1;
    this.r.byCaller[caller] = (this.r.byCaller[caller] ?? 0) + 1;
    this.r.byOperation[operation] = (this.r.byOperation[operation] ?? 0) + 1;
    let data: { __type?: string; ConsumedCapacity?: Capacity | Capacity[] };
    try {
      data = JSON.parse(body);
    } catch {
      return;
    }
    if (status !== 200) {
      if (WRITES.has(operation) && String(data.__type).endsWith('ConditionalCheckFailedException')) {
        this.r.conditionFailures += 1;
        this.r.writeUnits += 1;
        this.byKind(request, 1);
      }
      return;
    }
    const units = [data.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
    if (READS.has(operation)) this.r.readUnits += units;
    else if (WRITES.has(operation)) {
      this.r.writeUnits += units;
      this.byKind(request, units);
    }
  }

  private byKind(request: ItemRequest, units: number): void {
    const key = request.Key ?? request.Item;
    if (!key) return;
    const part = (a?: { S?: string }) => String(a?.S ?? '?').split('#')[0];
    const kind = `${part(key.pk)}/${part(key.sk)}`;
    const w = this.r.writesByKind[kind] ?? { calls: 0, units: 0 };
    this.r.writesByKind[kind] = { calls: w.calls + 1, units: w.units + units };
  }
}

/** The part of a single-item request the meter reads: its key (or, for PutItem, the item). */
export interface ItemRequest {
  Key?: Record<string, { S?: string }>;
  Item?: Record<string, { S?: string }>;
}

interface Capacity {
  CapacityUnits?: number;
}

/** Wraps dynalite's request handler so that every DynamoDB API call is metered. */
export function metered(emulator: RequestListener, meter: DynamoMeter): RequestListener {
  return (req, res) => {
    const operation = operationOf(req);
    if (req.method !== 'POST' || !operation) return emulator(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let text = Buffer.concat(chunks).toString('utf8');
      let data: ItemRequest & { ReturnConsumedCapacity?: string } = {};
      try {
        data = JSON.parse(text);
        if (!data.ReturnConsumedCapacity || data.ReturnConsumedCapacity === 'NONE') {
          data.ReturnConsumedCapacity = 'TOTAL';
          text = JSON.stringify(data);
        }
      } catch {
        // Not JSON: dynalite answers it with its own SerializationException, unmetered.
      }
      const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        if (typeof chunk === 'string' || Buffer.isBuffer(chunk))
          meter.record(
            operation,
            data,
            res.statusCode,
            chunk.toString(),
            accessKeyOf(req.headers.authorization),
          );
        return end(chunk, ...rest);
      }) as ServerResponse['end'];
      emulator(replayed(req, text), res);
    });
  };
}
