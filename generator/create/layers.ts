// Snapshot layers: a snapshot clone's root filesystem is an overlayfs whose
// lower layers are the base container's rootfs (and, for a snapshot of a
// snapshot, that snapshot's upper layer above its own lowers: a layer chain,
// topmost first) and whose upper and work directories belong to the clone. Until the key table has keys for layers
// (docs/create.md, "Snapshots"), they are recorded beside the clone's rootfs in
// /var/lib/containerctl/NAME/layers, in the runtime plan's format (KEY<TAB>VALUE
// lines, read with `read -r` in sh), and the spec's RootDirectory= is the
// mount point.

import * as fs from "node:fs";

/** lower: topmost first. */
export interface Layers { lower: string[]; upper: string; work: string }

export class LayersError extends Error {}

export function renderLayers(name: string, l: Layers, target: string): string {
  for (const p of [...l.lower, l.upper, l.work, target]) checkLayerPath(p);
  if (!l.lower.length) throw new LayersError("layers: no lower");
  return [
    `# Snapshot layers of container ${name} (written by containerctl clone --snapshot).`,
    `# The runtime mounts: overlay lowerdir=LOWER,upperdir=UPPER,workdir=WORK on RootDirectory=.`,
    ...l.lower.map((p) => `lower\t${p}`), `upper\t${l.upper}`, `work\t${l.work}`, "",
  ].join("\n");
}

export function parseLayers(text: string): Layers {
  const m = new Map<string, string>();
  const lower: string[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const [k, v, extra] = line.split("\t");
    if (v === undefined || extra !== undefined || !["lower", "upper", "work"].includes(k) || m.has(k)) throw new LayersError(`bad layers line '${line.replace(/[^\x20-\x7e]/g, "?")}'`);
    if (k === "lower") lower.push(checkLayerPath(v));
    else m.set(k, checkLayerPath(v));
  }
  if (!lower.length) throw new LayersError("layers: no lower");
  for (const k of ["upper", "work"]) if (!m.has(k)) throw new LayersError(`layers: no ${k}`);
  return { lower, upper: m.get("upper")!, work: m.get("work")! };
}

export function readLayers(file: string): Layers | null {
  try {
    return parseLayers(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** overlayfs options are comma-separated and lowerdir is colon-separated: such paths cannot be layers. */
function checkLayerPath(p: string): string {
  if (!p.startsWith("/") || /[,:\\\s\x00-\x1f\x7f]/.test(p)) throw new LayersError(`'${p.replace(/[^\x20-\x7e]/g, "?")}' cannot be an overlay layer (absolute, no ',', ':', '\\' or spaces)`);
  return p;
}

/** The mount(8) argv that assembles the snapshot on `target`. */
export function overlayMountArgv(l: Layers, target: string): string[] {
  return ["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${l.lower.join(":")},upperdir=${l.upper},workdir=${l.work}`, "--", target];
}
