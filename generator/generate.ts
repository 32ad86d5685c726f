// The generator core: every spec in a config directory → one Tree, plus the
// problems found. One bad spec is reported and skipped; the others are still
// generated (DESIGN.md principle 3). Only reads; never writes.

import type { SpecError } from "./spec/errors";
import { type ContainerSpec, listSpecNames, loadSpec, readConfigDir } from "./spec/load";
import { readManagedBridge } from "./network-conf";
import { hostInterfaces } from "./render/derive";
import { KEYS } from "./spec/keys";
import { type RenderFailure, renderSystemd } from "./render/systemd";
import type { Tree } from "./tree";

export const DEFAULT_CONFIG_DIR = "/etc/containerctl";

export interface LoadedSpecs {
  specs: ContainerSpec[];
  errors: SpecError[];
  warnings: SpecError[];
}

export function loadAll(configDir: string): LoadedSpecs {
  const cfg = readConfigDir(configDir);
  const specs: ContainerSpec[] = [];
  const errors: SpecError[] = [];
  const warnings: SpecError[] = [];
  for (const name of listSpecNames(cfg)) {
    const r = loadSpec(cfg, name);
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    if (r.spec) specs.push(r.spec);
  }
  return dropCollisions({ specs, errors, warnings });
}

/**
 * Two containers whose host interface names collide cannot both start: drop
 * both. A further interface's collision is reported at its ExtraInterface= line.
 */
function dropCollisions(l: LoadedSpecs): LoadedSpecs {
  const byIf = new Map<string, { spec: ContainerSpec; extra: number | null }[]>();
  for (const s of l.specs) {
    for (const h of hostInterfaces(s)) byIf.set(h.name, [...(byIf.get(h.name) ?? []), { spec: s, extra: h.extra }]);
  }
  const bad = new Set<ContainerSpec>();
  for (const [ifn, group] of byIf) {
    if (group.length < 2) continue;
    for (const { spec: s, extra } of group) {
      bad.add(s);
      const others = group.filter((o) => o.spec !== s).map((o) => o.spec.name).join(", ");
      const message = `host interface name '${ifn}' collides with container ${others}; rename one`;
      const o = extra === null ? undefined : s.itemOrigins?.extraInterfaces?.[extra];
      l.errors.push(o ? { file: o.file, line: o.line, section: KEYS.extraInterfaces.section, key: KEYS.extraInterfaces.name, message } : { file: s.file, line: 0, message });
    }
  }
  return bad.size ? { ...l, specs: l.specs.filter((s) => !bad.has(s)) } : l;
}

export interface GenerateResult extends LoadedSpecs {
  tree: Tree;
}

/**
 * Load every spec, render them; a container the renderer could not write
 * safely joins the errors. The renderer also gets the managed bridge's name
 * (network.conf), null when that file is broken (its error is reported).
 */
export function generateWith(configDir: string, render: (specs: ContainerSpec[], managedBridge: string | null) => { tree: Tree; failed: RenderFailure[] }): GenerateResult {
  const loaded = loadAll(configDir);
  const managed = readManagedBridge(configDir);
  loaded.errors.push(...managed.errors);
  const { tree, failed } = render(loaded.specs, managed.name);
  for (const f of failed) loaded.errors.push({ file: f.spec.file, line: 0, message: `cannot be written safely: ${f.error}` });
  return { ...loaded, specs: loaded.specs.filter((s) => !failed.some((f) => f.spec === s)), tree };
}

export function generateSystemd(configDir: string, outputDir: string): GenerateResult {
  return generateWith(configDir, (specs, managed) => renderSystemd(specs, outputDir, managed));
}
