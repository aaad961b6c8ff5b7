import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/shared/domain/errors.ts';
import {
  executionNameFor,
  leadIdFor,
  normalizeEmail,
  parseLead,
} from '../../../functions/shared/domain/lead.ts';
import { aFormSubmission } from '../../fixtures/leads.ts';

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

  it('marks a filled honeypot as a bot', () => {
    expect(parseLead(aFormSubmission({ website: 'http://spam.example' }), forms).bot).toBe(true);
  });

  it('strips control characters from text fields', () => {
    const { lead } = parseLead(aFormSubmission({ company: 'Acme\u0000\r\nRobotics' }), forms);
    expect(lead.company).toBe('Acme Robotics');
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
