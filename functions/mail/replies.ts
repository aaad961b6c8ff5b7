// A lead's reply to a nurture email, as its rep's assignment email quotes it: the words of the latest reply
// since the lead's cycle began, and which email of the sequence it answered. Read only for a lead that
// replied (`repliedAt`, set by functions/events/inbound-reply.ts): no timeline read on any other assignment.
import type { NurtureConfig } from '../config/schema.ts';
import type { LeadRecord, LeadStore } from '../lead/lead-store.ts';
import { fillTemplate } from './mime.ts';

export async function latestReply(
  leads: Pick<LeadStore, 'listEvents'>,
  lead: LeadRecord,
  steps: NurtureConfig['steps'],
): Promise<{ message: string; answered: string } | undefined> {
  if (!lead.repliedAt || lead.repliedAt < (lead.engagementSince ?? '')) return undefined;
  const replied = (await leads.listEvents(lead.id)).filter((e) => e.type === 'replied').at(-1);
  const data = replied?.data as { message?: string; step?: number } | undefined;
  if (!data?.message) return undefined;
  const step = Number(data.step ?? 0);
  const subject = steps[step]?.subject;
  const values = { firstName: lead.firstName, company: lead.company ?? 'your team' };
  const named = subject ? ` ("${fillTemplate(subject, values)}")` : '';
  return { message: data.message, answered: `nurture email ${step + 1}${named}` };
}
