import { describe, expect, it } from 'vitest';
import { maskDeep, maskEmail, maskJsonText, maskMessage, maskPhone } from '#console/mask.ts';
import { aLead } from '#test/fixtures/leads.ts';

describe('console PII masking', () => {
  it('keeps the first letters of an email and its top-level domain only', () => {
    expect(maskEmail('grace.hopper@acme-robotics.com')).toBe('g•••@a•••.com');
  });

  it('masks every personal field of a lead at any depth and leaves the rest as it was', () => {
    const lead = aLead({ phone: '+1 415 555 0142', message: 'Call me about pricing' });
    const masked = maskDeep({ input: { lead }, score: 80 });
    expect(masked.score).toBe(80);
    expect(masked.input.lead).toMatchObject({
      email: 'j•••@a•••.com',
      emailDomain: 'a•••.com',
      firstName: 'J•••',
      lastName: 'L•••',
      company: 'A•••',
      phone: '••• 42',
      message: maskMessage('Call me about pricing'),
      title: lead.title,
      companySize: lead.companySize,
      id: lead.id,
    });
    expect(JSON.stringify(masked)).not.toMatch(/jordan|acme|555/i);
  });

  it('masks emails inside other text, and JSON documents held in strings', () => {
    expect(maskDeep({ cause: 'send to ada@example.org failed' }).cause).toBe('send to a•••@e•••.org failed');
    const text = JSON.stringify({ lead: { email: 'ada@example.org', firstName: 'Ada' } });
    expect(JSON.parse(maskJsonText(text))).toEqual({ lead: { email: 'a•••@e•••.org', firstName: 'A•••' } });
    expect(maskJsonText('not json, mail ada@example.org')).toBe('not json, mail a•••@e•••.org');
  });

  it('shows a phone number by its last two digits and a message by its length only', () => {
    expect(maskPhone('(415) 555-0142')).toBe('••• 42');
    expect(maskMessage('hello')).toBe('••• (5 characters)');
  });
});
