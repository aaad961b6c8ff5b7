// npm run seed -- --table <TableName>: writes config/reps.json's reps into a deployed table (idempotent:
// profile fields are set, each rep's live openDeals counter is kept). The local runtime seeds itself.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../infra/load-config.ts';
import { seedReps } from '../local/seed.ts';

const { values } = parseArgs({ options: { table: { type: 'string', default: process.env.TABLE_NAME } } });
if (!values.table) {
  console.error('Usage: npm run seed -- --table <TableName>   (the TableName output of the Handoff stack)');
  process.exit(2);
}
const config = loadConfig(join(import.meta.dirname, '../config'));
const n = await seedReps(new DynamoDBClient({}), values.table, config.reps.reps);
console.log(`Seeded ${n} reps into ${values.table}`);
