import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type CfnTemplate, type TableSchema, tablesOf } from './template.ts';

/**
 * Creates the template's tables (key schema and GSIs as synthesized, named by logical id) unless they
 * exist, and waits until each is ACTIVE: dynalite answers CreateTable before it marks the table ACTIVE.
 */
export async function createTables(db: DynamoDBClient, template: CfnTemplate): Promise<TableSchema[]> {
  const tables = tablesOf(template);
  for (const t of tables) {
    try {
      await db.send(
        new CreateTableCommand({
          TableName: t.logicalId,
          KeySchema: t.KeySchema as never,
          AttributeDefinitions: t.AttributeDefinitions as never,
          GlobalSecondaryIndexes: t.GlobalSecondaryIndexes as never,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (e) {
      if ((e as Error).name !== 'ResourceInUseException') throw e;
    }
    for (let i = 0; ; i++) {
      const { Table } = await db.send(new DescribeTableCommand({ TableName: t.logicalId }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (i > 250) throw new Error(`Table ${t.logicalId} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return tables;
}
