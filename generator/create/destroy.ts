// `containerctl destroy NAME`: remove a stopped container whole: its data
// directory (rootfs, or a snapshot's upper/work/layers), its spec and drop-ins.
// Refuses while it runs and while other containers are snapshots of it.
// The data directory is first renamed aside (atomic), so the container is
// gone at once and a failure mid-way leaves no half container behind a spec.

import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../spec/load";
import { checkName } from "../spec/names";
import { runningReason } from "./clone";
import { lstatOrNull, mountsUnder, removeTree } from "./host";
import { readLayers } from "./layers";
import { containerPaths, type Paths } from "./paths";

export class DestroyError extends Error {}

export interface DestroyPlan {
  name: string;
  /** What will be removed, for the confirmation question and the report. */
  removes: string[];
  /** A rootfs outside the container's data directory: left in place, and said so. */
  keeps: string[];
}

/** Containers whose snapshot layers have a lower layer in `root` or in `entry`. */
export function snapshotsOf(paths: Paths, root: string, entry: string): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(paths.libDir);
  } catch {
    return out;
  }
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const mine = [real(root), real(entry)];
  for (const n of names.sort()) {
    let l = null;
    try {
      l = readLayers(containerPaths(paths, n).layers);
    } catch {
      continue;
    }
    if (l && mine.some((m) => l!.lower === m || l!.lower.startsWith(m + "/"))) out.push(n);
  }
  return out;
}

export function planDestroy(paths: Paths, name: string): DestroyPlan {
  const bad = checkName(name);
  if (bad) throw new DestroyError(bad);
  const cp = containerPaths(paths, name);
  const exists = [cp.spec, cp.dropIns, cp.entry].filter((p) => lstatOrNull(p) !== null);
  if (!exists.length) throw new DestroyError(`no container '${name}' (no ${cp.spec}, no ${cp.entry})`);
  const r = lstatOrNull(cp.spec) ? loadSpec(paths.configDir, name) : null;
  const root = r?.spec?.values.root ?? cp.rootfs;
  const running = runningReason(paths, name, root);
  if (running) throw new DestroyError(`${name} is running (${running}); stop it first`);
  const mounted = [...mountsUnder(cp.entry), ...(root.startsWith(cp.entry + "/") ? [] : mountsUnder(root))];
  if (mounted.length) throw new DestroyError(`${name} is in use: ${mounted.join(", ")} is mounted`);
  const deps = snapshotsOf(paths, root, cp.entry).filter((n) => n !== name);
  if (deps.length) throw new DestroyError(`${deps.join(", ")} ${deps.length > 1 ? "are snapshots" : "is a snapshot"} of ${name}: destroy ${deps.length > 1 ? "them" : "it"} first`);
  const inside = root === cp.entry || root.startsWith(cp.entry + "/");
  return {
    name,
    removes: exists,
    // A disk image lives beside its root (docs/disk.md): it goes, or stays, with it.
    keeps: inside ? [] : [root, `${root}.img`].filter((p) => lstatOrNull(p) !== null),
  };
}

export function destroyContainer(paths: Paths, plan: DestroyPlan): void {
  const cp = containerPaths(paths, plan.name);
  let aside: string | null = null;
  if (lstatOrNull(cp.entry)) {
    aside = path.join(paths.libDir, `.${plan.name}.destroying-${process.pid}`);
    fs.renameSync(cp.entry, aside);
  }
  fs.rmSync(cp.spec, { force: true });
  removeTree(cp.dropIns);
  if (aside) removeTree(aside);
}
