// `containerctl clone SRC DST [--snapshot]`: a copy of a stopped container
// (cp -a: owners, modes, timestamps, hard links, xattrs, device nodes, sparse
// files; verified against the source before it is renamed in), or a snapshot
// that shares SRC's rootfs read-only through overlayfs (layers.ts). When SRC is
// itself a snapshot, the copy is of its merged view (assembled read-only in a
// private mount namespace, never on the host), and a snapshot of it is a layer
// chain: SRC's upper layer above SRC's own lower layers.
// DST gets SRC's spec (and drop-ins) with its own RootDirectory=, host name
// and MAC address, and a guest whose /etc/hostname, /etc/hosts and machine-id
// are its own. Built next to its destination and renamed in; failures and
// signals leave nothing.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyVerified } from "../import/copy";
import { overlayUpper } from "../render/derive";
import { readIni } from "../spec/ini-reader";
import { KEYS, type KeyId } from "../spec/keys";
import { loadSpec, readConfigDir, SPEC_SUFFIX, type ContainerSpec } from "../spec/load";
import { checkName } from "../spec/names";
import { writeSpecExclusive } from "./create";
import { run, withMounted } from "./disk-base";
import { applySteps, readGuestFile } from "./guest-fs";
import type { GuestStep } from "./guest-files";
import { checkInterrupted, claimEntry, guarded, inMountNamespace, lstatOrNull, realOrResolved, processesRootedIn, removeTree, runStreaming, runtimeSocketListening, systemdState, unmountAll } from "./host";
import { overlayMountArgv, readLayers, renderLayers, type Layers } from "./layers";
import { containerPaths, DEFAULT_LIB_DIR, type Paths } from "./paths";
import type { Reporter } from "./progress";
import { checkSpecText, renderSpecText, type SpecSettings } from "./spec-text";

export class CloneError extends Error {}

export interface CloneRequest { src: string; dst: string; snapshot: boolean; hostname?: string }

/** States of container@NAME.service in which its rootfs is in use. */
export const BUSY_STATES = ["active", "activating", "deactivating", "reloading", "refreshing"];

export function loadExisting(paths: Paths, name: string): ContainerSpec {
  const bad = checkName(name);
  if (bad) throw new CloneError(bad);
  const r = loadSpec(paths.configDir, name);
  if (!r.spec) throw new CloneError(`container '${name}': ${r.errors.map((e) => `${e.file}${e.line ? `:${e.line}` : ""}: ${e.message}`).join("; ")}`);
  return r.spec;
}

/** Why `name` counts as running, or null. */
export function runningReason(paths: Paths, name: string, root: string): string | null {
  if (runtimeSocketListening(name)) return `its runtime helper listens on @containerctl/${name}`;
  const pids = processesRootedIn(root);
  if (pids.length) return `processes run inside its rootfs (pid ${pids.slice(0, 5).join(", ")})`;
  const st = systemdState(name);
  if (st && BUSY_STATES.includes(st)) return `container@${name}.service is ${st}`;
  const run = containerPaths(paths, name).run;
  if (lstatOrNull(run)) {
    for (const f of fs.readdirSync(run)) {
      if (!/pid$/.test(f)) continue;
      const pid = Number(fs.readFileSync(path.join(run, f), "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && fs.existsSync(`/proc/${pid}`)) return `${path.join(run, f)} names running pid ${pid}`;
    }
  }
  return null;
}

/** The containers whose root or upper layer is one of `layers`, and that run now ("NAME (why)"). */
function runningOwners(paths: Paths, layers: readonly string[]): string[] {
  const want = new Set(layers.map((l) => realOrResolved(l)));
  const out: string[] = [];
  for (const f of [...readConfigDir(paths.configDir).entries].filter((e) => e.endsWith(SPEC_SUFFIX)).sort()) {
    const spec = loadSpec(paths.configDir, f.slice(0, -SPEC_SUFFIX.length)).spec;
    if (!spec) continue;
    const own = [spec.values.root!, ...(spec.values.rootLower.length ? [overlayUpper(spec)] : [])];
    if (!own.some((p) => want.has(realOrResolved(p)))) continue;
    const why = runningReason(paths, spec.name, spec.values.root!);
    if (why) out.push(`${spec.name} (${why})`);
  }
  return out;
}

/** Spec text without the given keys' assignments (continuation lines included). */
export function withoutKeys(file: string, text: string, ids: readonly KeyId[]): string {
  const drop = new Set<number>();
  const names = new Set(ids.map((id) => `${KEYS[id].section}\0${KEYS[id].name}`));
  const lines = text.split("\n");
  for (const a of readIni(file, text).assignments) {
    if (!names.has(`${a.section}\0${a.key}`)) continue;
    let i = a.line - 1;
    drop.add(i);
    while (lines[i]?.replace(/\r$/, "").endsWith("\\") && i + 1 < lines.length) drop.add(++i);
  }
  return lines.filter((_, i) => !drop.has(i)).join("\n");
}

function hostnameFor(dst: string, given?: string): string {
  return (given ?? dst).toLowerCase().replace(/[_.]+/g, "-");
}

export async function cloneContainer(req: CloneRequest, paths: Paths, rep: Reporter): Promise<{ spec: string; rootfs: string }> {
  const badDst = checkName(req.dst);
  if (badDst) throw new CloneError(badDst);
  const src = loadExisting(paths, req.src);
  const srcRoot = src.values.root!;
  if (!lstatOrNull(srcRoot)?.isDirectory()) throw new CloneError(`${req.src}'s rootfs ${srcRoot} is not a directory`);
  // The image is the root filesystem (docs/disk.md); the directory is only its mount point.
  const srcImage = lstatOrNull(`${srcRoot}.img`) ? `${srcRoot}.img` : null;
  if (srcImage && req.snapshot) throw new CloneError(`${req.src}'s root filesystem is the disk image ${srcImage}; a snapshot of it is not supported yet (a full clone is)`);
  if (req.src === req.dst) throw new CloneError(`name taken: ${req.dst} is the source`);
  const running = runningReason(paths, req.src, srcRoot);
  if (running) throw new CloneError(`${req.src} is running (${running}); stop it first: a copy of a running guest is inconsistent`);
  // SRC a snapshot: its root is the overlay of its upper layer over its lower layers.
  const srcLower = src.values.rootLower;
  const srcUpper = srcLower.length ? overlayUpper(src) : null;
  if (srcUpper !== null) {
    for (const l of [srcUpper, ...srcLower]) {
      if (!lstatOrNull(l)?.isDirectory()) throw new CloneError(`${req.src} is a snapshot whose layer ${l} is missing (was its base destroyed with --force?); it cannot be cloned`);
    }
    const busy = runningOwners(paths, srcLower);
    if (busy.length) throw new CloneError(`${req.src} is a snapshot of ${busy.join(", ")}, which ${busy.length > 1 ? "run" : "runs"}: its lower layers could change under the ${req.snapshot ? "snapshot" : "copy"}; stop ${busy.length > 1 ? "them" : "it"} first`);
    if (req.snapshot && lstatOrNull(`${srcUpper}.img`)) throw new CloneError(`${req.src}'s upper layer is in the disk image ${srcUpper}.img; a snapshot of it is not supported yet (a full clone is)`);
  }
  const dp = containerPaths(paths, req.dst);
  if (lstatOrNull(dp.spec)) throw new CloneError(`name taken: ${dp.spec} exists`);

  const snapLower = srcUpper === null ? [fs.realpathSync(srcRoot)] : [fs.realpathSync(srcUpper), ...srcLower];
  // The spec: SRC's files minus what must differ, plus DST's own values.
  const own: KeyId[] = ["root", "hostname", "mac", "rootLower", "rootUpper", "rootWork"];
  const srcTexts = src.sources.filter((f) => f === src.file || f.startsWith(src.file + ".d/")).map((f) => ({ path: f, text: fs.readFileSync(f, "utf8") }));
  const settings: SpecSettings = {};
  if (paths.libDir !== DEFAULT_LIB_DIR || src.origins.root) settings.root = dp.rootfs;
  const oldHostname = src.values.hostname ?? req.src;
  const hostname = hostnameFor(req.dst, req.hostname);
  settings.hostname = hostname;
  if (req.snapshot) {
    // The runtime assembles the overlay at start, inside the container's own mount namespace.
    settings.rootLower = snapLower;
    settings.rootUpper = dp.upper;
    settings.rootWork = dp.work;
  }
  const mainText =
    withoutKeys(src.file, srcTexts[0].text, own).replace(/\n*$/, "\n") +
    renderSpecText(settings, [`Set by containerctl clone ${req.src} ${req.dst}${req.snapshot ? " --snapshot" : ""}:`]).replace(/^/, "\n");
  const dropIns = srcTexts.slice(1).map((d) => ({ path: path.join(dp.dropIns, path.basename(d.path)), text: withoutKeys(d.path, d.text, own) }));
  checkSpecText(req.dst, dp.spec, mainText, dropIns, readConfigDir(paths.configDir).defaults);
  if (src.values.addresses.length) {
    rep.step(`warning: ${req.dst} has ${req.src}'s static Address= (${src.values.addresses.map((a) => a.address).join(", ")}); change it before running both`);
  }

  fs.mkdirSync(paths.libDir, { recursive: true, mode: 0o700 });
  const claim = claimEntry(dp.entry, dp.spec, (m) => rep.step(m));
  let done = false;
  await guarded(async () => {
    try {
      const steps = (root: string): GuestStep[] => guestIdentitySteps(root, oldHostname, hostname);
      if (req.snapshot) {
        rep.step(`snapshot of ${snapLower.join(" over ")} (overlayfs)`);
        const st = fs.statSync(srcRoot);
        for (const d of [dp.upper, dp.work, dp.rootfs]) fs.mkdirSync(d, { mode: 0o755 });
        // The merged root takes its owner and mode from the upper directory.
        fs.chownSync(dp.upper, st.uid, st.gid);
        fs.chmodSync(dp.upper, st.mode & 0o7777);
        const layers: Layers = { lower: snapLower, upper: dp.upper, work: dp.work };
        fs.writeFileSync(dp.layers, renderLayers(req.dst, layers, dp.rootfs));
        await mountSnapshot(layers, dp.rootfs);
        try {
          applySteps(dp.rootfs, steps(dp.rootfs));
        } finally {
          unmountAll(dp.rootfs);
        }
      } else if (srcImage) {
        await cloneImage(srcImage, srcRoot, dp.rootfs, steps, rep);
      } else {
        // Copied, then verified (compareTrees) before anything changes in it.
        try {
          if (srcUpper === null) await copyVerified(srcRoot, dp.staging, rep);
          else await withMergedView(fs.realpathSync(srcRoot), [srcUpper, ...srcLower], (view) => copyVerified(view, dp.staging, rep));
        } catch (e) {
          checkInterrupted(); // a ^C that also ended cp: say so, not "cp failed"
          throw e;
        }
        checkInterrupted();
        applySteps(dp.staging, steps(dp.staging));
        fs.renameSync(dp.staging, dp.rootfs);
      }
      checkInterrupted();
      if (dropIns.length) {
        fs.mkdirSync(dp.dropIns);
        for (const d of dropIns) fs.writeFileSync(d.path, d.text, { flag: "wx" });
      }
      try {
        writeSpecExclusive(dp.spec, mainText);
      } catch (e) {
        if (dropIns.length) removeTree(dp.dropIns);
        throw e;
      }
      claim.release();
      done = true;
    } finally {
      if (!done) removeTree(dp.entry);
    }
  });
  return { spec: dp.spec, rootfs: dp.rootfs };
}

/**
 * A container whose root is a disk image: the image copied (sparse) as
 * DST.img.partial, the clone's identity written into it while it is mounted in
 * a mount namespace of its own, checked with e2fsck, then renamed in beside an
 * empty mount point.
 */
async function cloneImage(srcImage: string, srcRoot: string, dstRoot: string, steps: (root: string) => GuestStep[], rep: Reporter): Promise<void> {
  const image = `${dstRoot}.img`;
  const partial = `${image}.partial`;
  rep.step(`copying ${srcImage}`);
  const r = await runStreaming(["cp", "--sparse=always", "--", srcImage, partial]);
  checkInterrupted();
  if (r.code !== 0) throw new CloneError(`copy failed: ${r.tail.slice(-3).join(" / ")}`);
  await withMounted(partial, `${image}.mnt`, async (inside) => applySteps(inside, steps(inside)));
  run(["e2fsck", "-f", "-n", partial], "checking the copied image");
  const st = fs.statSync(srcRoot);
  fs.mkdirSync(dstRoot, { mode: st.mode & 0o7777 });
  fs.chownSync(dstRoot, st.uid, st.gid);
  fs.renameSync(partial, image);
}

// The read-only merged view of a snapshot (its upper layer as the topmost
// lower: overlayfs applies its whiteouts and opaque directories, and writes
// nothing) on TARGET, the snapshot's own empty mount point. A disk image
// holding the upper layer (docs/disk.md) is loop-mounted first.
const MERGED_VIEW_SH = `target=$1 upper=$2 lowers=$3
if [ -f "$upper.img" ]; then
	mount -o ro,loop -- "$upper.img" "$upper"
	upper=$upper/upper
fi
mount -t overlay -o "ro,lowerdir=$upper:$lowers" overlay "$target"`;

/**
 * fn gets a path to the merged view of layers (topmost first) as a process in
 * a private mount namespace sees it (inMountNamespace): nothing is ever
 * mounted on the host, and nothing stays mounted if we are killed.
 */
export function withMergedView<T>(target: string, layers: string[], fn: (view: string) => Promise<T>): Promise<T> {
  const [upper, ...lowers] = layers;
  return inMountNamespace(MERGED_VIEW_SH, [target, upper, lowers.join(":")], target, fn,
    (err) => new CloneError(`cannot assemble the merged view of ${layers.join(" over ")}: ${err || "unshare failed"}`));
}

/** Mount a snapshot's overlay on target (the runtime's job at start; clone and tests use it too). */
export async function mountSnapshot(l: Layers, target: string): Promise<void> {
  const r = spawnSync(overlayMountArgv(l, target)[0], overlayMountArgv(l, target).slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new CloneError(`cannot mount the overlay on ${target}: ${(r.stderr || "").trim()}`);
}

export function snapshotLayers(paths: Paths, name: string): Layers | null {
  return readLayers(containerPaths(paths, name).layers);
}

/** The clone's own identity inside the guest: host name, hosts entries, a new machine-id at first boot. */
function guestIdentitySteps(root: string, oldName: string, newName: string): GuestStep[] {
  const steps: GuestStep[] = [];
  if (readGuestFile(root, "/etc/hostname") !== null) steps.push({ op: "file", path: "/etc/hostname", content: `${newName}\n`, mode: 0o644 });
  const hosts = readGuestFile(root, "/etc/hosts");
  if (hosts !== null) {
    const esc = oldName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`(?<=\\s)${esc}(?=\\s|$|\\.)`, "g");
    const oldShort = oldName.split(".")[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const reShort = new RegExp(`(?<=\\s)${oldShort}(?=\\s|$)`, "g");
    const next = hosts.split("\n").map((l) => (l.trimStart().startsWith("#") ? l : l.replace(re, newName).replace(reShort, newName.split(".")[0]))).join("\n");
    if (next !== hosts) steps.push({ op: "file", path: "/etc/hosts", content: next, mode: 0o644 });
  }
  steps.push({ op: "empty", path: "/etc/machine-id" });
  if (readGuestFile(root, "/var/lib/dbus/machine-id") !== null) steps.push({ op: "symlink", path: "/var/lib/dbus/machine-id", target: "/etc/machine-id" });
  return steps;
}
