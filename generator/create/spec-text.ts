// The spec a new container gets, as text: only the keys create decides, each
// written under its section and name from the key table (never spelled here),
// then checked with buildSpec before anything is written.

import { literalValue } from "../escape";
import { KEYS, SECTIONS, type KeyId } from "../spec/keys";
import { buildSpec, type ContainerSpec } from "../spec/load";
import { formatSpecError } from "../spec/errors";

/** Key → values in spec syntax; a list key may have several. */
export type SpecSettings = Partial<Record<KeyId, string | string[]>>;

export class SpecBuildError extends Error {}

export function renderSpecText(settings: SpecSettings, header: readonly string[]): string {
  const out = header.map((l) => `# ${l}`);
  for (const section of SECTIONS) {
    const lines: string[] = [];
    for (const [id, v] of Object.entries(settings) as [KeyId, string | string[] | undefined][]) {
      if (v === undefined || KEYS[id].section !== section) continue;
      for (const one of Array.isArray(v) ? v : [v]) lines.push(`${KEYS[id].name}=${literalValue(one)}`);
    }
    if (lines.length) out.push("", `[${section}]`, ...lines);
  }
  return out.join("\n") + "\n";
}

/** Parses and validates spec text as the generator will; throws with every problem. */
export function checkSpecText(name: string, file: string, text: string, dropIns: { path: string; text: string }[] = [], defaults: { path: string; text: string } | null = null): ContainerSpec {
  // Merged as the generator merges: defaults.conf < NAME.container < drop-ins.
  const r = buildSpec(name, file, [...(defaults ? [defaults] : []), { path: file, text }, ...dropIns]);
  if (!r.spec) throw new SpecBuildError(r.errors.map(formatSpecError).join("\n"));
  return r.spec;
}
