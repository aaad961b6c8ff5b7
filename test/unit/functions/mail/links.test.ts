import { describe, expect, it } from 'vitest';
import { type LinkClaims, LinkError, signLink, verifyLink } from '#functions/mail/links.ts';

const key = 'k'.repeat(32);
const now = new Date('2026-11-26T12:00:00Z');
const claims: LinkClaims = {
  action: 'accept',
  subject: 'dl-1',
  audience: 'rep-ava',
  exp: now.getTime() / 1000 + 3600,
};

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof LinkError) return e.reason;
    throw e;
  }
  return 'ok';
};

describe('signed links', () => {
  it('round-trips action, subject, audience and expiry', () => {
    expect(verifyLink(signLink(claims, key), key, now)).toEqual(claims);
  });

  it('rejects a link signed with another key', () => {
    expect(reasonOf(() => verifyLink(signLink(claims, 'other-key'), key, now))).toBe('tampered');
  });

  it('rejects a payload edited to another deal, rep, action or expiry', () => {
    const sig = signLink(claims, key).split('.')[1];
    const edits: Partial<LinkClaims>[] = [
      { subject: 'dl-2' },
      { audience: 'rep-ben' },
      { action: 'won' },
      { exp: claims.exp + 9e6 },
    ];
    for (const edit of edits) {
      const forged = `${signLink({ ...claims, ...edit }, key).split('.')[0]}.${sig}`;
      expect(reasonOf(() => verifyLink(forged, key, now))).toBe('tampered');
    }
  });

  it('rejects an expired link', () => {
    const later = new Date(now.getTime() + 3601_000);
    expect(reasonOf(() => verifyLink(signLink(claims, key), key, later))).toBe('expired');
  });

  it('rejects a valid link used for another purpose', () => {
    const unsubscribe = signLink({ ...claims, action: 'unsubscribe' }, key);
    expect(reasonOf(() => verifyLink(unsubscribe, key, now, ['accept', 'won', 'lost']))).toBe('malformed');
  });

  it.each(['', 'abc', 'a.b.c', '.', 'eyJ4IjoxfQ.'])('rejects the malformed token %j', (token) => {
    expect(['malformed', 'tampered']).toContain(reasonOf(() => verifyLink(token, key, now)));
  });
});
