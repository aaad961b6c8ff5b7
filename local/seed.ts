import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Rep } from '../functions/config/schema.ts';
import { dynamoStores } from '../functions/stores.ts';

/**
 * Writes each configured rep's profile item, idempotently: profile fields are set, the live
 * `openDeals` counter is kept (the rep store's `seed`). Used by the local runtime at start and by `npm run seed`.
 */
export function seedReps(db: DynamoDBClient, tableName: string, reps: Rep[]): Promise<number> {
  return dynamoStores(tableName, db).reps.seed(reps);
}
