import { describe, expect, it } from 'vitest';
import { LinkError } from '../../../functions/shared/domain/errors.ts';
import { signLink, verifyLink } from '../../../functions/shared/domain/links.ts';

const key = 'k'.repeat(32);
const now = new Date('2026-11-26T12:00:00Z');
const claims = { dealId: 'dl-1', repId: 'rep-ava', action: 'accept' as const, exp: now.getTime() / 1000 + 3600 };

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof LinkError) return e.reason;
    throw e;
  }
  return 'ok';
};

describe('signed rep links', () => {
  it('round-trips deal, rep, action and expiry', () => {
    expect(verifyLink(signLink(claims, key), key, now)).toEqual(claims);
  });

  it('rejects a link signed with another key', () => {
    expect(reasonOf(() => verifyLink(signLink(claims, 'other-key'), key, now))).toBe('tampered');
  });

  it('rejects a payload edited to another deal, rep or action', () => {
    const token = signLink(claims, key);
    const sig = token.split('.')[1];
    for (const edit of [{ dealId: 'dl-2' }, { repId: 'rep-ben' }, { action: 'won' as const }, { exp: claims.exp + 9e6 }]) {
      const forged = `${signLink({ ...claims, ...edit }, key).split('.')[0]}.${sig}`;
      expect(reasonOf(() => verifyLink(forged, key, now))).toBe('tampered');
    }
  });

  it('rejects an expired link', () => {
    const later = new Date(now.getTime() + 3601_000);
    expect(reasonOf(() => verifyLink(signLink(claims, key), key, later))).toBe('expired');
  });

  it.each(['', 'abc', 'a.b.c', '.', 'eyJ4IjoxfQ.'])('rejects the malformed token %j', (token) => {
    expect(['malformed', 'tampered']).toContain(reasonOf(() => verifyLink(token, key, now)));
  });
});
