import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../platform/keys.ts';
import { conditional, type Table } from '../platform/table.ts';
import type { Lead } from './lead.ts';

/** A form as SubmitLead took it, kept for the run it starts (docs/architecture.md, "Ids only in runs"). */
export interface Submission {
  lead: Lead;
  receivedAt: string;
}

/**
 * The submissions that start runs. A run's input carries only the lead's id: the contact details stay in
 * DynamoDB (under the lead's partition, so an erase deletes them and TTL expires them), never in Step
 * Functions' execution input, history or status-change events, which nothing can delete.
 */
export interface SubmissionStore {
  /** Keeps the submission for run `executionName`; the first one stands (a same-day resend changes nothing). */
  put(submission: Submission, executionName: string): Promise<boolean>;
  get(leadId: string, executionName: string): Promise<Submission | undefined>;
}

export function dynamoSubmissions(
  { doc, name: TableName }: Table,
  { retentionDays }: { retentionDays: number } = { retentionDays: 730 },
): SubmissionStore {
  return {
    async put({ lead, receivedAt }, executionName) {
      return conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.submission(lead.id, executionName),
              lead,
              receivedAt,
              expiresAt: Math.floor(Date.parse(receivedAt) / 1000) + retentionDays * 86_400,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    },
    async get(leadId, executionName) {
      const { Item } = await doc.send(
        new GetCommand({ TableName, Key: keys.submission(leadId, executionName), ConsistentRead: true }),
      );
      return Item ? { lead: Item.lead as Lead, receivedAt: String(Item.receivedAt) } : undefined;
    },
  };
}
