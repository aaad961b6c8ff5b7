import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { INDEX, indexKeys, keys } from '../platform/keys.ts';
import { conditional, queryItems, type Table } from '../platform/table.ts';
import type { Rating } from './deal-vocabulary.ts';

/**
 * What a rep said with one answer on a deal: a lead-quality rating and a note in their own words (the
 * customer's preferences and challenges), with what marketing groups them by: the run's attribution and the
 * grade the rep was shown. The note is personal data: it lives under the lead's partition (an erase deletes
 * it, TTL expires it with the lead), the console masks it, and no log line carries it.
 */
export interface RepNote {
  leadId: string;
  dealId: string;
  repId: string;
  action: 'accept' | 'won' | 'lost';
  at: string;
  rating?: Rating;
  note?: string;
  formType: string;
  source?: string;
  campaign?: string;
  grade?: string;
}

export interface RepNoteStore {
  /** Keeps the note of one answer; the first stands (a retried or repeated answer changes nothing). */
  put(note: RepNote): Promise<boolean>;
  /** Notes given on the UTC days `from` to `to` (both included), newest first, at most `limit`. */
  list(from: string, to: string, limit: number): Promise<RepNote[]>;
}

/** The UTC months (`2026-12`) from `to` back to `from`, newest first. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const start = from.slice(0, 7);
  for (let d = new Date(`${to.slice(0, 7)}-01T00:00:00Z`); ; d.setUTCMonth(d.getUTCMonth() - 1)) {
    const month = d.toISOString().slice(0, 7);
    if (month < start) break;
    out.push(month);
  }
  return out;
}

const FIELDS = [
  'leadId',
  'dealId',
  'repId',
  'action',
  'at',
  'rating',
  'note',
  'formType',
  'source',
  'campaign',
  'grade',
];

export function dynamoRepNotes(
  table: Table,
  { retentionDays }: { retentionDays: number } = { retentionDays: 730 },
): RepNoteStore {
  const { doc, name: TableName } = table;
  return {
    async put(note) {
      return conditional(() =>
        doc.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.repNote(note.leadId, note.dealId, note.action),
              ...indexKeys.repNotes(note.at.slice(0, 7), note.at, note.leadId),
              ...note,
              expiresAt: Math.floor(Date.parse(note.at) / 1000) + retentionDays * 86_400,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    },
    async list(from, to, limit) {
      const out: RepNote[] = [];
      for (const month of monthsBetween(from, to)) {
        const query = {
          IndexName: INDEX.repNotes,
          KeyConditionExpression: 'gsi2pk = :p AND gsi2sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':p': indexKeys.repNotes(month, '', '').gsi2pk,
            ':from': from,
            // Every time on the day `to`, and its lead id after it.
            ':to': `${to}T\uffff`,
          },
          ScanIndexForward: false,
        };
        for await (const item of queryItems(table, query)) {
          out.push(
            Object.fromEntries(
              FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]]),
            ) as unknown as RepNote,
          );
          if (out.length >= limit) return out;
        }
      }
      return out;
    },
  };
}
