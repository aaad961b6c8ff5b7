import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  paginateQuery,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { requireEnv } from './env.ts';
import { TransientError } from './step.ts';

/** The single table (docs/architecture.md, "Data") as the entity modules use it: a document client and the table's name. */
export interface Table {
  doc: DynamoDBDocumentClient;
  name: string;
}

/** A document client on `client` (default: one from the environment; AWS_ENDPOINT_URL_DYNAMODB reaches an emulator). */
export function tableOf(name: string, client: DynamoDBClient = new DynamoDBClient({})): Table {
  return {
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    name,
  };
}

type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;

/** Every page a query on the table returns (the SDK's paginator follows LastEvaluatedKey). */
export function queryPages({ doc, name }: Table, input: QueryInput) {
  return paginateQuery({ client: doc }, { ...input, TableName: name });
}

/** Every item a query on the table matches, a page at a time. */
export async function* queryItems(
  table: Table,
  input: QueryInput,
): AsyncGenerator<NonNullable<QueryCommandOutput['Items']>[number]> {
  for await (const page of queryPages(table, input)) yield* page.Items ?? [];
}

type Key = Record<string, unknown>;
/** An item as the document client reads it (attribute values unmarshalled, typed as the SDK types them). */
type Item = NonNullable<BatchGetCommandOutput['Responses']>[string][number];

/** BatchGetItem's limit of keys a request. */
const BATCH_GET_KEYS = 100;
/**
 * How often keys DynamoDB left unprocessed (throttling, the response size limit) are asked for again, after
 * a pause that doubles from BATCH_GET_PAUSE_MS (with jitter): at most 1.55 s in all, well inside a step's time.
 */
export const BATCH_GET_RETRIES = 5;
const BATCH_GET_PAUSE_MS = 50;

/** Waits between half and all of `ms` (jitter spreads out callers throttled at the same moment). */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms * (0.5 + Math.random() / 2)));

/**
 * The items stored under `keys`, strongly consistent, in no particular order; a key with no item is absent.
 * One BatchGetItem per 100 keys, duplicate keys read once (DynamoDB refuses them). The keys DynamoDB leaves
 * unprocessed are asked for again with backoff; any still unread after BATCH_GET_RETRIES retries is a
 * TransientError (the caller's step is retried) rather than a silently shorter answer.
 */
export async function batchGet({ doc, name }: Table, keys: readonly Key[]): Promise<Item[]> {
  const unique = [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()];
  const out: Item[] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_KEYS) {
    let pending = unique.slice(i, i + BATCH_GET_KEYS);
    for (let retry = 0; pending.length; retry++) {
      if (retry > BATCH_GET_RETRIES)
        throw new TransientError(
          `BatchGetItem on ${name}: ${pending.length} keys still unprocessed after ${BATCH_GET_RETRIES} retries`,
        );
      if (retry > 0) await pause(BATCH_GET_PAUSE_MS * 2 ** (retry - 1));
      const { Responses, UnprocessedKeys } = await doc.send(
        new BatchGetCommand({ RequestItems: { [name]: { Keys: pending, ConsistentRead: true } } }),
      );
      out.push(...(Responses?.[name] ?? []));
      pending = UnprocessedKeys?.[name]?.Keys ?? [];
    }
  }
  return out;
}

/** BatchWriteItem's limit of items a request. */
const BATCH_WRITE_ITEMS = 25;

/**
 * Puts whole items (no conditions: BatchWriteItem has none), 25 a request, retrying what DynamoDB leaves
 * unprocessed as batchGet does; any item still unwritten after BATCH_GET_RETRIES retries is a TransientError
 * (the step is retried, and the puts are idempotent). Not atomic: a failure may leave some items written.
 */
export async function batchPut({ doc, name }: Table, items: readonly Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH_WRITE_ITEMS) {
    let pending = items.slice(i, i + BATCH_WRITE_ITEMS).map((Item) => ({ PutRequest: { Item } }));
    for (let retry = 0; pending.length; retry++) {
      if (retry > BATCH_GET_RETRIES)
        throw new TransientError(
          `BatchWriteItem on ${name}: ${pending.length} items still unprocessed after ${BATCH_GET_RETRIES} retries`,
        );
      if (retry > 0) await pause(BATCH_GET_PAUSE_MS * 2 ** (retry - 1));
      const { UnprocessedItems } = await doc.send(
        new BatchWriteCommand({ RequestItems: { [name]: pending } }),
      );
      pending = (UnprocessedItems?.[name] ?? []).flatMap((r) =>
        r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
      );
    }
  }
}

/**
 * DynamoDB's ways of saying "too fast" that outlast the SDK's retries: the request was refused, not
 * applied (transient, like a 5xx, but unlike a timeout it certainly changed nothing).
 */
export const DYNAMODB_REFUSALS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
]);

/** Runs a conditional write; false (instead of throwing) when its condition did not hold. */
export async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

/** Runs a conditional write that returns something; undefined when its condition did not hold. */
export async function unlessConditionFails<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return undefined;
    throw e;
  }
}

/** `SET #a = :a, #b = :b` with its names and values, for every defined entry of `values`. */
export function setExpression(values: Record<string, unknown>) {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  return {
    UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
    ExpressionAttributeValues: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
  };
}

/** `#stage IN (:p0, :p1, …)` with its values, for a condition on one attribute. */
export function inList(attribute: string, values: readonly string[], prefix: string) {
  return {
    expression: `#${attribute} IN (${values.map((_, i) => `:${prefix}${i}`).join(', ')})`,
    names: { [`#${attribute}`]: attribute },
    values: Object.fromEntries(values.map((v, i) => [`:${prefix}${i}`, v])),
  };
}

/**
 * Drops the key and index attributes from an item read back, leaving the entity's own fields (gsi1pk/gsi1sk:
 * what deals written before the gsi1 index was removed still carry).
 */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, ...rest } = item;
  return rest as T;
}

let app: Table | undefined;
/** The table named by TABLE_NAME, one client per container (a handler's stores share it). */
export function appTable(): Table {
  app ??= tableOf(requireEnv('TABLE_NAME'));
  return app;
}

/**
 * Adds one to the counter `attribute` of the item at `key` (created if missing, with `expiresAt` for the
 * table's TTL on its first write) and returns the new count: an unconditional ADD, so concurrent callers
 * each get their own number.
 */
export async function countUp(
  { doc, name: TableName }: Table,
  key: Key,
  attribute: string,
  expiresAt: number,
): Promise<number> {
  const { Attributes } = await doc.send(
    new UpdateCommand({
      TableName,
      Key: key,
      UpdateExpression: 'ADD #n :one SET expiresAt = if_not_exists(expiresAt, :expires)',
      ExpressionAttributeNames: { '#n': attribute },
      ExpressionAttributeValues: { ':one': 1, ':expires': expiresAt },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(Attributes?.[attribute] ?? 1);
}
