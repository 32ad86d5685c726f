// `containerctl destroy NAME`: remove a stopped container whole: its data
// directory (rootfs, or a snapshot's upper/work/layers), its spec and drop-ins.
// Refuses while it runs and while other containers are snapshots of it
// (--force removes it anyway, and says which snapshots that breaks).
// The data directory is first renamed aside (atomic), so the container is
// gone at once and a failure mid-way leaves no half container behind a spec.

import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec, SPEC_SUFFIX } from "../spec/load";
import { checkName } from "../spec/names";
import { runningReason } from "./clone";
import { claimantOf, lstatOrNull, mountsUnder, realOrResolved, removeTree } from "./host";
import { readLayers } from "./layers";
import { containerPaths, type Paths } from "./paths";

export class DestroyError extends Error {}

export interface DestroyPlan {
  name: string;
  /** What will be removed, for the confirmation question and the report. */
  removes: string[];
  /** A rootfs outside the container's data directory: left in place, and said so. */
  keeps: string[];
  /** Snapshots (--force) that lose a lower layer: they will not start again. */
  breaks: string[];
}

/** Containers whose lower layers (spec's RootLowerDirectory=, or the layers file) lie in `root` or in `entry`. */
export function snapshotsOf(paths: Paths, root: string, entry: string): string[] {
  const out: string[] = [];
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  const names = [...new Set([...list(paths.libDir), ...list(paths.configDir).filter((f) => f.endsWith(SPEC_SUFFIX)).map((f) => f.slice(0, -SPEC_SUFFIX.length))])];
  const mine = [realOrResolved(root), realOrResolved(entry)];
  for (const n of names.sort()) {
    const lowers: string[] = [];
    try {
      lowers.push(...(readLayers(containerPaths(paths, n).layers)?.lower ?? []));
    } catch {
      /* a bad layers file: the spec still says */
    }
    if (lstatOrNull(containerPaths(paths, n).spec)) lowers.push(...(loadSpec(paths.configDir, n).spec?.values.rootLower ?? []));
    if (mine.some((m) => lowers.some((x) => { const r = realOrResolved(x); return r === m || r.startsWith(m + "/"); }))) out.push(n);
  }
  return out;
}

export function planDestroy(paths: Paths, name: string, force = false): DestroyPlan {
  const bad = checkName(name);
  if (bad) throw new DestroyError(bad);
  const cp = containerPaths(paths, name);
  const exists = [cp.spec, cp.dropIns, cp.entry].filter((p) => lstatOrNull(p) !== null);
  if (!exists.length) throw new DestroyError(`no container '${name}' (no ${cp.spec}, no ${cp.entry})`);
  const maker = claimantOf(cp.entry);
  if (maker !== null && fs.existsSync(`/proc/${maker}`)) throw new DestroyError(`${name} is being made by pid ${maker} (a create or clone); wait for it, or end it`);
  const r = lstatOrNull(cp.spec) ? loadSpec(paths.configDir, name) : null;
  const root = r?.spec?.values.root ?? cp.rootfs;
  const running = runningReason(paths, name, root);
  if (running) throw new DestroyError(`${name} is running (${running}); stop it first`);
  const mounted = [...mountsUnder(cp.entry), ...(root.startsWith(cp.entry + "/") ? [] : mountsUnder(root))];
  if (mounted.length) throw new DestroyError(`${name} is in use: ${mounted.join(", ")} is mounted`);
  const deps = snapshotsOf(paths, root, cp.entry).filter((n) => n !== name);
  const many = deps.length > 1;
  if (deps.length && !force) {
    throw new DestroyError(`${deps.join(", ")} ${many ? "are snapshots" : "is a snapshot"} of ${name} (${name}'s files are ${many ? "their" : "its"} lower layer): destroy ${many ? "them" : "it"} first, or give --force (${many ? "they" : "it"} will not start again)`);
  }
  for (const d of deps) {
    const why = runningReason(paths, d, containerPaths(paths, d).rootfs);
    if (why) throw new DestroyError(`${d}, a snapshot of ${name}, is running (${why}); stop it first (even --force does not pull a layer from under a running container)`);
  }
  const inside = root === cp.entry || root.startsWith(cp.entry + "/");
  return {
    name,
    removes: exists,
    // A disk image lives beside its root (docs/disk.md): it goes, or stays, with it.
    keeps: inside ? [] : [root, `${root}.img`].filter((p) => lstatOrNull(p) !== null),
    breaks: deps,
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
