import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Rep } from '../functions/shared/config-schema.ts';

/**
 * Writes each configured rep's profile item (`REP#<id>` / `PROFILE`), idempotently: profile fields are
 * set, the live `openDeals` counter is kept. Used by the local runtime at start and by `npm run seed`.
 */
export async function seedReps(db: DynamoDBClient, tableName: string, reps: Rep[]): Promise<number> {
  for (const r of reps) {
    await db.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `REP#${r.id}` }, sk: { S: 'PROFILE' } },
        UpdateExpression:
          'SET #id = :id, #n = :name, #e = :email, #t = :team, #c = :cap, #w = :w, #a = :active, #o = if_not_exists(#o, :zero)',
        ExpressionAttributeNames: {
          '#id': 'repId',
          '#n': 'name',
          '#e': 'email',
          '#t': 'team',
          '#c': 'capacity',
          '#w': 'weight',
          '#a': 'active',
          '#o': 'openDeals',
        },
        ExpressionAttributeValues: {
          ':id': { S: r.id },
          ':name': { S: r.name },
          ':email': { S: r.email },
          ':team': { S: r.team },
          ':cap': { N: String(r.capacity) },
          ':w': { N: String(r.weight) },
          ':active': { BOOL: r.active },
          ':zero': { N: '0' },
        },
      }),
    );
  }
  return reps.length;
}
