// Container names for imported OpenVZ containers: NAME=, else HOSTNAME's first
// label, else ct<CTID>; each candidate must pass checkName (the rule for every
// container name). Collisions, with each other and with specs already in the
// config directory that were not imported from the same CTID, are resolved
// deterministically and reported: the lowest CTID keeps a contested name, the
// others get `-<CTID>` appended.

import { checkName } from "../spec/names";

export interface NameChoice {
  name: string;
  /** Why the name is what it is, when it is not simply NAME=. */
  notes: string[];
}

/** The preferred name of one container, before collisions. */
export function preferredName(ctid: string, nameParam: string | undefined, hostname: string | undefined): NameChoice {
  const notes: string[] = [];
  if (nameParam !== undefined) {
    const problem = checkName(nameParam);
    if (!problem) return { name: nameParam, notes };
    notes.push(`NAME: ${problem}`);
  }
  if (hostname !== undefined) {
    const label = hostname.split(".")[0].toLowerCase();
    const problem = checkName(label);
    if (!problem) return { name: label, notes: [...notes, `from HOSTNAME's first label`] };
    notes.push(`HOSTNAME: ${problem}`);
  }
  return { name: `ct${ctid}`, notes: [...notes, `no usable NAME or HOSTNAME: named after the CTID`] };
}

/**
 * Resolve collisions. `owner(name)` says who holds a spec of that name already:
 * null (free), the CTID it was imported from, or "other" (written by hand).
 */
export function resolveNames(
  wanted: ReadonlyMap<string, NameChoice>, owner: (name: string) => string | "other" | null,
): Map<string, NameChoice> {
  const out = new Map<string, NameChoice>();
  const taken = new Map<string, string>(); // name → ctid, within this run
  const ctids = [...wanted.keys()].sort((a, b) => Number(a) - Number(b));
  for (const ctid of ctids) {
    const w = wanted.get(ctid)!;
    const free = (n: string): string | null => {
      if (checkName(n)) return `'${n}' is not a usable name`;
      if (taken.has(n)) return `'${n}' is taken by CTID ${taken.get(n)} in this import`;
      const o = owner(n);
      if (o === "other") return `'${n}.container' already exists and was not imported from OpenVZ`;
      if (o !== null && o !== ctid) return `'${n}.container' was imported from CTID ${o}`;
      return null;
    };
    const notes = [...w.notes];
    let name: string | null = null;
    for (const candidate of [w.name, `${w.name}-${ctid}`, `ct${ctid}`]) {
      const why = free(candidate);
      if (why === null) {
        name = candidate;
        break;
      }
      notes.push(why);
    }
    if (name === null) {
      out.set(ctid, { name: "", notes });
      continue;
    }
    if (name !== w.name) notes.push(`renamed to '${name}'`);
    taken.set(name, ctid);
    out.set(ctid, { name, notes });
  }
  return out;
}
