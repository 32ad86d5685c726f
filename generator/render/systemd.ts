// Spec → systemd units (systemd.unit(5), systemd.service(5),
// systemd.resource-control(5)). Pure: returns files as a Tree.
//
// Per container the generator writes a drop-in for the static template
// units/container@.service (docs/design.md explains drop-ins over instance
// units), the runtime plan, and for Autostart=yes the wants links and the
// ordering chain that gives LXC's lxc.start.order/delay semantics.

import { EscapeError } from "../escape";
import type { ContainerSpec } from "../spec/load";
import { KEYS, KEY_IDS, type KeyDef } from "../spec/keys";
import { NETWORK_UNIT } from "../network-conf";
import { addFile, addSymlink, type Tree } from "../tree";
import { renderPlan } from "./plan";
import { type Directive, serializeUnit } from "./unit";

export const UNIT_DIR = "/usr/lib/systemd/system";
export const TEMPLATE = "container@.service";
export const DELAY_TEMPLATE = "container-delay@.service";
export const TARGET = "containers.target";
export const DROPIN_NAME = "10-containerctl.conf";

export const unitName = (name: string): string => `container@${name}.service`;
const delayUnit = (name: string): string => `container-delay@${name}.service`;
export const planRel = (name: string): string => `containerctl/${name}.plan`;

/** Directives from the key table for one spec (the key table's systemd column). */
export function keyDirectives(spec: ContainerSpec): Directive[] {
  const out: Directive[] = [];
  for (const id of KEY_IDS) {
    const def = KEYS[id] as KeyDef<any>;
    const map = def.systemd;
    if (typeof map === "string") continue;
    const value = spec.values[id] as unknown;
    if (value === undefined) continue;
    for (const v of def.list ? (value as unknown[]) : [value]) {
      const rendered = map.value(v);
      if (rendered !== null) out.push({ section: map.section, key: map.directive, value: rendered });
    }
  }
  return out;
}

export function containerDropIn(spec: ContainerSpec, outputDir: string, after: string | null, managedBridge: string | null = null): string {
  const d: Directive[] = [
    { section: "Unit", key: "SourcePath", value: spec.file },
    // RequiresMountsFor= splits on spaces and unquotes: the root may contain both.
    { section: "Unit", key: "RequiresMountsFor", value: { words: [spec.values.root!] } },
  ];
  if (after) d.push({ section: "Unit", key: "After", value: after });
  if (managedBridge !== null && spec.values.bridge === managedBridge) {
    // The bridge is containerctl's own (network.conf): its job makes it before this container starts.
    d.push({ section: "Unit", key: "Requires", value: NETWORK_UNIT }, { section: "Unit", key: "After", value: NETWORK_UNIT });
  }
  d.push({ section: "Service", key: "Environment", value: { env: ["CONTAINERCTL_PLAN", `${outputDir}/${planRel(spec.name)}`] } });
  d.push(...keyDirectives(spec));
  d.push(...diskDevices(spec));
  // Key-table directives for [Unit] (Description) read best first.
  d.sort((a, b) => (a.section === b.section ? 0 : a.section === "Unit" ? -1 : 1));
  return serializeUnit(d, [`Source: ${spec.sources.join(" ")}`]);
}

/**
 * Disk= with a disk image: runtime/disk loop-mounts it at start inside the unit's
 * cgroup, so the device policy must let it reach /dev/loop-control and a loop
 * device (as systemd-nspawn@.service does for --image=). The runtime denies both
 * again right after the mount where it can (cgroup v1; docs/disk.md).
 */
export function diskDevices(spec: ContainerSpec): Directive[] {
  const v = spec.values;
  if (v.diskBacking === "project" || (typeof v.disk !== "number" && v.diskBacking !== "image")) return [];
  return [["/dev/loop-control", "rw"], ["block-loop", "rw"]].map((w) => ({ section: "Service", key: "DeviceAllow", value: { words: w } }));
}

/** Autostart containers in start order: Order ascending, then name. */
export function autostartOrder(specs: readonly ContainerSpec[]): ContainerSpec[] {
  return specs
    .filter((s) => s.values.autostart && !s.values.disabled)
    .sort((a, b) => a.values.order! - b.values.order! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface RenderFailure { spec: ContainerSpec; error: string }

/**
 * All containers' files. Validation should refuse anything the escaping module
 * cannot write; if a value still slips through, the escaping module throws and
 * only that container is left out (and reported), never the others.
 */
export function renderSystemd(all: readonly ContainerSpec[], outputDir: string, managedBridge: string | null = null): { tree: Tree; failed: RenderFailure[] } {
  const tree: Tree = new Map();
  const failed: RenderFailure[] = [];
  const perSpec = new Map<ContainerSpec, string>();
  for (const s of all) {
    try {
      perSpec.set(s, renderPlan(s));
    } catch (e) {
      if (!(e instanceof EscapeError)) throw e;
      failed.push({ spec: s, error: e.message });
    }
  }
  const specs = all.filter((s) => perSpec.has(s));
  const chain = autostartOrder(specs);
  const after = new Map<string, string>();
  chain.forEach((s, i) => {
    if (i === 0) return;
    const prev = chain[i - 1];
    // The delay unit sits between two containers only in the boot transaction,
    // so a manual `systemctl start` of either never waits for it.
    after.set(s.name, prev.values.delay ? delayUnit(prev.name) : unitName(prev.name));
  });
  for (const s of specs) {
    let dropIn: string;
    try {
      dropIn = containerDropIn(s, outputDir, after.get(s.name) ?? null, managedBridge);
    } catch (e) {
      if (!(e instanceof EscapeError)) throw e;
      failed.push({ spec: s, error: e.message });
      continue; // the chain still names it in After=, which is harmless for a unit that never starts
    }
    addFile(tree, `${unitName(s.name)}.d/${DROPIN_NAME}`, dropIn);
    addFile(tree, planRel(s.name), perSpec.get(s)!);
  }
  chain.forEach((s, i) => {
    if (failed.some((f) => f.spec === s)) return;
    addSymlink(tree, `${TARGET}.wants/${unitName(s.name)}`, `${UNIT_DIR}/${TEMPLATE}`);
    if (s.values.delay && i < chain.length - 1) {
      addSymlink(tree, `${TARGET}.wants/${delayUnit(s.name)}`, `${UNIT_DIR}/${DELAY_TEMPLATE}`);
      addFile(tree, `${delayUnit(s.name)}.d/${DROPIN_NAME}`, serializeUnit([
        { section: "Service", key: "Environment", value: { env: ["CONTAINERCTL_DELAY", String(s.values.delay / 1e6)] } },
      ]));
    }
  });
  // containers.target is always reached at boot, so autostart needs no `systemctl enable`.
  addSymlink(tree, `multi-user.target.wants/${TARGET}`, `${UNIT_DIR}/${TARGET}`);
  return { tree, failed };
}
