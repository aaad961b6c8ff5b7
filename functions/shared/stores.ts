import { config } from './config.ts';
import { dynamoStores, type Stores } from './data/index.ts';

/** The stores a handler runs on: the table named by TABLE_NAME, lead items kept `leadRetentionDays`. */
export function appStores(): Stores {
  return dynamoStores(undefined, undefined, { retentionDays: config.app.data.leadRetentionDays });
}
