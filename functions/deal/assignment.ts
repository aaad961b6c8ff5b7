import type { Rep, RepsConfig } from '../config/schema.ts';
import type { Lead } from '../lead/lead.ts';
import { UnavailableError } from '../platform/errors.ts';

/** A rep's live state, as the table holds it (config gives the rest). */
export interface RepLoad {
  openDeals: number;
}

/** Territory rules in order; the first that matches wins, else the default team. */
export function teamFor(lead: Pick<Lead, 'country' | 'companySize'>, cfg: RepsConfig): string {
  for (const t of cfg.territories) {
    if (t.default) continue;
    const countries = new Set([
      ...(t.countries ?? []),
      ...(t.regions ?? []).flatMap((r) => cfg.regions[r] ?? []),
    ]);
    if (countries.size > 0 && (!lead.country || !countries.has(lead.country))) continue;
    if (t.minCompanySize !== undefined && (lead.companySize ?? 0) < t.minCompanySize) continue;
    if (t.maxCompanySize !== undefined && (lead.companySize ?? Number.POSITIVE_INFINITY) > t.maxCompanySize)
      continue;
    return t.team;
  }
  const fallback = cfg.territories.find((t) => t.default);
  if (!fallback) throw new Error('config has no default territory');
  return fallback.team;
}

/**
 * The team's rotation: each rep appears `weight` times, spread out (smooth weighted round-robin),
 * in a fixed order, so a cursor position always means the same rep.
 */
export function rotation(reps: Rep[]): string[] {
  const sorted = [...reps].sort((a, b) => a.id.localeCompare(b.id));
  const total = sorted.reduce((s, r) => s + r.weight, 0);
  const current = new Map(sorted.map((r) => [r.id, 0]));
  const slots: string[] = [];
  for (let i = 0; i < total; i++) {
    let best: Rep | undefined;
    for (const r of sorted) {
      const v = (current.get(r.id) ?? 0) + r.weight;
      current.set(r.id, v);
      if (!best || v > (current.get(best.id) ?? 0)) best = r;
    }
    if (!best) break;
    current.set(best.id, (current.get(best.id) ?? 0) - total);
    slots.push(best.id);
  }
  return slots;
}

export function isOutOfOffice(rep: Rep, now: Date): boolean {
  if (!rep.outOfOffice) return false;
  const day = now.toISOString().slice(0, 10);
  return day >= rep.outOfOffice.from && day <= rep.outOfOffice.to;
}

export interface PickInput {
  team: string;
  reps: Rep[];
  loads: Record<string, RepLoad | undefined>;
  /** The team cursor after an atomic increment: this assignment's position in the rotation. */
  position: number;
  now: Date;
  /** Reps who already had this lead and let it lapse: skipped on reassignment. */
  exclude?: string[];
  /** The rep who holds this lead's deal now: that deal never counts against them (reassignment). */
  holder?: string;
}

/**
 * Weighted round-robin from the cursor: the slot at `position`, or the next eligible slot after it.
 * Inactive, out-of-office and full reps are skipped; a rep returning from leave simply re-enters the
 * rotation at their slots (the cursor is shared), so they never get a catch-up burst.
 */
export function pickRep({ team, reps, loads, position, now, exclude = [], holder }: PickInput): Rep {
  const members = reps.filter((r) => r.team === team);
  const slots = rotation(members);
  const byId = new Map(members.map((r) => [r.id, r]));
  const open = (r: Rep) => (loads[r.id]?.openDeals ?? 0) - (r.id === holder ? 1 : 0);
  const available = (r: Rep) => r.active && !isOutOfOffice(r, now) && open(r) < r.capacity;
  // Prefer a rep who has not had this lead yet; when none is left, an earlier owner other than the one
  // who just let it lapse; only then the holder (keeping it beats no one).
  const passes = [
    (r: Rep) => available(r) && !exclude.includes(r.id),
    (r: Rep) => available(r) && r.id !== holder,
    available,
  ];
  for (const eligible of passes) {
    for (let i = 0; i < slots.length; i++) {
      const rep = byId.get(slots[(position + i) % slots.length] ?? '');
      if (rep && eligible(rep)) return rep;
    }
  }
  throw new NoRepAvailableError(team);
}

/** No rep of the team is active, in office and under capacity: the run waits for one (never a failure). */
export class NoRepAvailableError extends UnavailableError {
  constructor(team: string) {
    super(`No rep in team ${team} is active, in office and under capacity`);
  }
}
