import { describe, expect, it } from 'vitest';
import { executionNameFor, leadIdFor, normalizeEmail, parseLead } from '#functions/lead/lead.ts';
import { ValidationError } from '#functions/platform/errors.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';

const forms = ['demo-request', 'newsletter', 'contact'];
const fieldErrors = (input: unknown) => {
  try {
    parseLead(input, forms);
  } catch (e) {
    if (e instanceof ValidationError) return e.fieldErrors;
    throw e;
  }
  return {};
};

describe('parseLead', () => {
  it('normalizes a form post: trims, coerces numbers, upper-cases the country, reads the consent box', () => {
    const { lead, bot } = parseLead(
      aFormSubmission({ email: '  Jordan.Lee+webinar@ACME-Robotics.com ' }),
      forms,
    );
    expect(bot).toBe(false);
    expect(lead).toMatchObject({
      email: 'jordan.lee@acme-robotics.com',
      companySize: 1200,
      country: 'US',
      consent: true,
    });
    expect(lead.id).toBe(leadIdFor('jordan.lee@acme-robotics.com'));
  });

  it('reports every bad field at once', () => {
    const errors = fieldErrors(
      aFormSubmission({ email: 'nope', firstName: '', companySize: 'many', country: 'USA' }),
    );
    expect(Object.keys(errors).sort()).toEqual(['companySize', 'country', 'email', 'firstName']);
  });

  it('caps field lengths', () => {
    expect(fieldErrors(aFormSubmission({ message: 'x'.repeat(2001) }))).toHaveProperty('message');
  });

  it('rejects an unknown form type and a bad time zone', () => {
    expect(fieldErrors(aFormSubmission({ formType: 'pricing' }))).toHaveProperty('formType');
    expect(fieldErrors(aFormSubmission({ timeZone: 'Mars/Olympus' }))).toHaveProperty('timeZone');
  });

  it('reports an unknown form type together with the other field errors, not after them', () => {
    const errors = fieldErrors(aFormSubmission({ email: 'nope', formType: 'pricing' }));
    expect(Object.keys(errors).sort()).toEqual(['email', 'formType']);
    expect(errors.formType?.[0]).toMatch(/^must be one of: /);
  });

  it('marks a filled honeypot as a bot', () => {
    expect(parseLead(aFormSubmission({ website: 'http://spam.example' }), forms).bot).toBe(true);
  });

  it.each([
    ['company', 'Acme\u0000Robotics'],
    ['company', 'Acme\r\nBcc: x'],
    ['firstName', 'Jordan\u202eevil'],
    ['lastName', 'Lee\u2066'],
    ['title', 'VP\u0007'],
  ])('refuses a control or text-direction character in %s, naming the field', (field, value) => {
    expect(fieldErrors(aFormSubmission({ [field]: value }))).toEqual({
      [field]: ['must not contain control or text-direction characters'],
    });
  });

  it('keeps line breaks and tabs in a message, and nothing else of the kind', () => {
    expect(parseLead(aFormSubmission({ message: 'Hi,\n\tcall me.' }), forms).lead.message).toBe(
      'Hi,\n\tcall me.',
    );
    expect(fieldErrors(aFormSubmission({ message: 'Hi\u202e' }))).toHaveProperty('message');
  });

  it.each([
    ['+x@acme.com', 'must have an address before the +tag'],
    [`${'a'.repeat(65)}@acme.com`, 'must have at most 64 characters before the @'],
    [`a@${'b'.repeat(250)}.com`, 'must be at most 254 characters'],
  ])('refuses the email %s', (email, message) => {
    expect(fieldErrors(aFormSubmission({ email }))).toEqual({ email: [message] });
  });
});

describe('identity', () => {
  it('gives one lead id per person, whatever the casing or sub-address', () => {
    expect(normalizeEmail('A.B+x@Example.COM')).toBe('a.b@example.com');
    expect(leadIdFor('A.B+x@Example.COM')).toBe(leadIdFor('a.b@example.com'));
    expect(leadIdFor('a.b@example.com')).not.toBe(leadIdFor('a.c@example.com'));
  });

  it('names the execution by lead id, form and day', () => {
    const name = executionNameFor('ld-abc', 'demo-request', new Date('2026-11-26T23:59:00Z'));
    expect(name).toBe('ld-abc-demo-request-20261126');
    expect(name).toMatch(/^[A-Za-z0-9-_]{1,80}$/);
  });
});
