// `containerctl disk create | grow | check NAME` (docs/disk.md): what enforces
// Disk=. Two backings:
//  - image: the root filesystem lives in a sparse ext4 image beside the root
//    directory (RootDirectory.img), which runtime/disk loop-mounts on
//    RootDirectory inside the container's own mount namespace at start;
//  - project: a project quota on RootDirectory, where its filesystem (ext4 or
//    xfs) is mounted with prjquota (disk-project.ts).
// Every operation refuses while the container runs or its image is attached to
// a loop device, and changes nothing when it refuses. The image is built as
// IMG.partial, checked (the copy compared file by file with the rootfs, then
// e2fsck), and only then renamed into place.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { compareTrees } from "../import/copy";
import { size as sizeType } from "../spec/values";
import { overlayUpper } from "../render/derive";
import { loadExisting, runningReason } from "./clone";
import { checkInterrupted, freeBytes, guarded, lstatOrNull, mountsUnder, removeTree, runStreaming } from "./host";
import { DiskError, human, loopsOf, run, withMounted, type Backing, type CheckReport, type DiskTarget } from "./disk-base";
import { projectCheck, projectCreate, projectGrow, projectOf } from "./disk-project";
import { tryLock } from "./lock";
import type { Paths } from "./paths";

/** The image of a root directory: beside it, so two roots never share one. */
export const imagePath = (root: string): string => `${root}.img`;

export function diskTarget(paths: Paths, name: string): DiskTarget {
  const spec = loadExisting(paths, name);
  const v = spec.values;
  const root = v.root!;
  const layered = v.rootLower.length > 0;
  const data = layered ? overlayUpper(spec) : root;
  return { name, spec, root, layered, data, image: imagePath(data), limit: typeof v.disk === "number" ? v.disk : null, backing: v.diskBacking ?? "auto" };
}

export function parseSize(text: string): number {
  const v = sizeType.parse(text);
  if (v === "infinity" || v <= 0) throw new DiskError(`'${text}' is not a disk size (e.g. 64M, 10G)`);
  return v;
}

/**
 * Refuse while the container runs or the image is attached. A stopped
 * container's loop device goes with its mount namespace, a moment after the
 * helper exits: wait for that a little.
 */
export async function notInUse(paths: Paths, t: DiskTarget, what: string): Promise<void> {
  const running = runningReason(paths, t.name, t.root);
  if (running) throw new DiskError(`${what}: the disk is in use: ${t.name} is running (${running}); stop it first`);
  for (const file of [t.image, `${t.image}.partial`]) {
    for (let i = 0; loopsOf(file).length; i++) {
      if (i >= 30) throw new DiskError(`${what}: the image ${file} is in use: attached to ${loopsOf(file).join(", ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const mounted = [...mountsUnder(t.root), ...mountsUnder(t.data)];
  if (mounted.length) throw new DiskError(`${what}: ${mounted[0]} is mounted; unmount it first`);
}

/** One disk command at a time per container: a lock directory beside the image (lock.ts; a dead owner's is taken over). */
async function locked<T>(t: DiskTarget, what: string, fn: () => Promise<T>): Promise<T> {
  const dir = `${t.image}.lock`;
  const owner = tryLock(dir);
  if (owner !== null) throw new DiskError(`${what}: another disk command works on ${t.name} (pid ${owner}, lock ${dir})`);
  try {
    return await fn();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- create

export interface CreateOptions { size?: string; backing?: Backing }

/** The backing `disk create` uses: --backing, else DiskBacking=, else project where the root's filesystem has prjquota, else image. */
export function chooseBacking(t: DiskTarget, given?: Backing): Backing {
  if (given && t.backing !== "auto" && given !== t.backing) throw new DiskError(`--backing ${given} contradicts DiskBacking=${t.backing} in ${t.spec.file}`);
  const b = given ?? (t.backing !== "auto" ? t.backing : t.layered || !projectOf(t.root).prjquota ? "image" : "project");
  if (b === "project" && t.layered) throw new DiskError(`${t.name} is a snapshot (an overlay root): its disk can only be an image`);
  return b;
}

export async function diskCreate(paths: Paths, name: string, o: CreateOptions, say: (line: string) => void): Promise<void> {
  const t = diskTarget(paths, name);
  const size = o.size !== undefined ? parseSize(o.size) : t.limit;
  if (size === null) throw new DiskError(`no size: give --size SIZE, or set Disk= in ${t.spec.file}`);
  if (t.limit !== null && t.limit !== size) say(`note: Disk= in ${t.spec.file} is ${human(t.limit)}; set it to ${o.size} so the spec says what the disk is`);
  if (t.limit === null) say(`note: ${t.spec.file} sets no Disk=; the disk limits the container anyway (set Disk=${o.size} to keep it on record)`);
  const backing = chooseBacking(t, o.backing);
  if (lstatOrNull(t.image)) throw new DiskError(`${name} already has a disk image ${t.image} (containerctl disk grow ${name} SIZE resizes it)`);
  const st = lstatOrNull(t.data);
  if (!st?.isDirectory()) throw new DiskError(`${name}'s ${t.layered ? "upper directory" : "root"} ${t.data} is not a directory`);
  await locked(t, `disk create ${name}`, async () => {
    await notInUse(paths, t, `disk create ${name}`);
    if (lstatOrNull(t.image)) throw new DiskError(`${name} already has a disk image ${t.image}`);
    if (backing === "project") projectCreate(t, size, say);
    else await guarded(() => imageCreate(t, size, st, say));
  });
}

/** Bytes and inodes below dir on its own filesystem (du). */
function usage(dir: string): { bytes: number; inodes: number } {
  const bytes = Number(run(["du", "-sxB1", "--", dir], "measuring the rootfs").split("\t")[0]);
  const inodes = Number(run(["du", "-sx", "--inodes", "--", dir], "counting the rootfs's files").split("\t")[0]);
  return { bytes, inodes };
}

/** Free bytes and inodes, block size and size of an unmounted ext4 image (dumpe2fs -h). */
export function ext4Facts(image: string): { blockSize: number; blocks: number; freeBlocks: number; inodes: number; freeInodes: number } {
  const text = run(["dumpe2fs", "-h", image], `reading ${image}`);
  const num = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return {
    blockSize: num("Block size"), blocks: num("Block count"), freeBlocks: num("Free blocks"),
    inodes: num("Inode count"), freeInodes: num("Free inodes"),
  };
}

async function imageCreate(t: DiskTarget, size: number, rootStat: fs.Stats, say: (line: string) => void): Promise<void> {
  const partial = `${t.image}.partial`;
  const mnt = `${t.image}.mnt`;
  // What an earlier, killed run left (notInUse made sure nothing has it attached).
  fs.rmSync(partial, { force: true });
  if (lstatOrNull(mnt)) fs.rmdirSync(mnt);

  const used = usage(t.data);
  const margin = 16 * 1024 * 1024;
  const free = freeBytes(path.dirname(t.image));
  if (free < used.bytes + margin) {
    throw new DiskError(`no space on the host: copying ${t.data} into ${t.image} needs about ${human(used.bytes + margin)}, ${path.dirname(t.image)} has ${human(free)} free`);
  }
  if (free < size - used.bytes) say(`warning: the image is sparse; ${path.dirname(t.image)} has ${human(free)} free, less than the ${human(size)} disk could grow to`);
  let done = false;
  try {
    say(`making a ${human(size)} ext4 image ${partial}`);
    fs.closeSync(fs.openSync(partial, "wx", 0o600));
    fs.truncateSync(partial, size);
    // -m 0: the guest gets all of Disk= (no blocks reserved for a host root).
    run(["mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", "--", partial], "making the filesystem");
    const f = ext4Facts(partial);
    const room = f.freeBlocks * f.blockSize;
    if (used.bytes > room || used.inodes > f.freeInodes) {
      throw new DiskError(`the filesystem is too small for its contents: ${t.data} holds ${human(used.bytes)} in ${used.inodes} files; an ext4 of ${human(size)} offers ${human(room)} and ${f.freeInodes} inodes`);
    }
    checkInterrupted();
    say(`copying ${t.data} into the image`);
    await withMounted(partial, mnt, async (fsTop) => {
      // A snapshot's disk holds upper/ and work/ (overlayfs wants both on one filesystem, neither inside the other).
      const inside = t.layered ? path.join(fsTop, "upper") : fsTop;
      if (t.layered) fs.mkdirSync(path.join(fsTop, "work"), { mode: 0o700 });
      const r = await runStreaming(["cp", "-a", "--sparse=always", "-T", "--", t.data, inside]);
      checkInterrupted();
      if (r.code !== 0) {
        const tail = r.tail.slice(-3).join(" / ");
        if (/No space left|Disk quota/.test(tail)) throw new DiskError(`the filesystem is too small for its contents: ${human(size)} cannot hold ${t.data} (${human(used.bytes)}, ${used.inodes} files): ${tail}`);
        throw new DiskError(`copy failed: ${tail}`);
      }
      say("verifying the copy");
      const diff = compareTrees(t.data, inside, t.layered ? [] : ["lost+found"]);
      if (diff) throw new DiskError(`the copy differs from ${t.data}: ${diff}`);
      const top = fs.statSync(inside);
      if ((top.mode & 0o7777) !== (rootStat.mode & 0o7777) || top.uid !== rootStat.uid || top.gid !== rootStat.gid) throw new DiskError(`the copy's top directory differs from ${t.data} (mode or owner)`);
    });
    run(["e2fsck", "-f", "-n", partial], "checking the new image");
    checkInterrupted();
    // The switch: the image first (from now on it is the root), then the old
    // tree aside and an empty mount point in its place; the data is whole in
    // the image at every step.
    fs.renameSync(partial, t.image);
    done = true;
    const aside = path.join(path.dirname(t.data), `.${path.basename(t.data)}.pre-disk-${process.pid}`);
    fs.renameSync(t.data, aside);
    fs.mkdirSync(t.data, { mode: rootStat.mode & 0o7777 });
    fs.chownSync(t.data, rootStat.uid, rootStat.gid);
    say(`removing the old tree (the image ${t.image} holds it now)`);
    removeTree(aside);
  } finally {
    if (!done) fs.rmSync(partial, { force: true });
    if (lstatOrNull(mnt)) fs.rmdirSync(mnt);
  }
}

// ---------------------------------------------------------------- grow

export async function diskGrow(paths: Paths, name: string, sizeText: string, say: (line: string) => void): Promise<void> {
  const t = diskTarget(paths, name);
  const size = parseSize(sizeText);
  const hasImage = lstatOrNull(t.image) !== null;
  if (!hasImage && !t.layered && projectOf(t.root).id) {
    projectGrow(t, size, say);
  } else if (!hasImage) {
    throw new DiskError(`${name} has no disk (no image ${t.image}, no project quota on ${t.root}): containerctl disk create ${name}`);
  } else {
    await locked(t, `disk grow ${name}`, async () => {
      await notInUse(paths, t, `disk grow ${name}`);
      await guarded(async () => imageResize(t, size, say));
    });
  }
  if (t.limit !== size) say(`note: set Disk=${sizeText} in ${t.spec.file} (it says ${t.limit === null ? "nothing" : human(t.limit)})`);
}

function imageResize(t: DiskTarget, wanted: number, say: (line: string) => void): void {
  const cur = fs.statSync(t.image).size;
  const f = ext4Facts(t.image);
  const size = wanted - (wanted % f.blockSize);
  if (size === cur) {
    say(`${t.image} is already ${human(size)}`);
    return;
  }
  // Refusals first, reading only: a refused resize leaves the image byte for byte as it was.
  // resize2fs -P: the smallest this filesystem can become with its contents.
  const min = Number(/:\s*(\d+)\s*$/m.exec(run(["resize2fs", "-P", t.image], "measuring the contents"))?.[1]) * f.blockSize;
  if (!(size >= min)) throw new DiskError(`the filesystem would be too small for its contents: ${t.image} needs at least ${human(min)} (resize2fs -P); ${human(size)} is less; nothing was changed`);
  const free = freeBytes(path.dirname(t.image));
  const allocated = fs.statSync(t.image).blocks * 512;
  if (size > cur && free < size - allocated) throw new DiskError(`no space on the host: a ${human(size)} disk may need ${human(size - allocated)} more, ${path.dirname(t.image)} has ${human(free)} free; nothing was changed`);
  // e2fsck -p: only the repairs that are always safe; resize2fs wants a checked filesystem.
  run(["e2fsck", "-f", "-p", t.image], `checking ${t.image} (e2fsck -f ${t.image} to repair it by hand)`, (c) => c <= 1);
  if (size > cur) {
    say(`growing ${t.image} from ${human(cur)} to ${human(size)}`);
    fs.truncateSync(t.image, size);
    try {
      run(["resize2fs", t.image], "growing the filesystem");
    } catch (e) {
      // resize2fs changed nothing when it failed: give back the space.
      fs.truncateSync(t.image, cur);
      throw e;
    }
  } else {
    say(`shrinking ${t.image} from ${human(cur)} to ${human(size)}`);
    run(["resize2fs", t.image, `${size / 1024}K`], "shrinking the filesystem");
    fs.truncateSync(t.image, size);
  }
  run(["e2fsck", "-f", "-n", t.image], "checking the resized image");
}

// ---------------------------------------------------------------- check

/** `live`: a path inside the running container's root (/proc/INIT/root), or null when stopped. */
export function diskCheck(paths: Paths, name: string, live: string | null): CheckReport {
  const t = diskTarget(paths, name);
  const lines: string[] = [];
  let ok = true;
  const limit = t.limit === null ? "Disk= not set" : `Disk=${human(t.limit)}`;
  if (lstatOrNull(t.image)) {
    const st = fs.statSync(t.image);
    lines.push(`backing: image ${t.image} (${human(st.size)}, ${human(st.blocks * 512)} allocated on the host; ${limit}; DiskBacking=${t.backing})`);
    if (t.backing === "project") {
      lines.push("error: DiskBacking=project, but the image exists: start refuses");
      ok = false;
    }
    if (t.limit !== null && t.limit !== st.size) lines.push(`warning: Disk= is ${human(t.limit)} but the image is ${human(st.size)} (containerctl disk grow ${name} SIZE)`);
    if (live) {
      const s = fs.statfsSync(live);
      lines.push(`used: ${human((s.blocks - s.bfree) * s.bsize)} of ${human(s.blocks * s.bsize)} (${human(s.bavail * s.bsize)} free), inodes ${s.files - s.ffree} of ${s.files}`);
      lines.push("fsck: skipped (running)");
    } else {
      const f = ext4Facts(t.image);
      lines.push(`used: ${human((f.blocks - f.freeBlocks) * f.blockSize)} of ${human(f.blocks * f.blockSize)} (${human(f.freeBlocks * f.blockSize)} free), inodes ${f.inodes - f.freeInodes} of ${f.inodes}`);
      const r = spawnSync("e2fsck", ["-f", "-n", t.image], { encoding: "utf8" });
      if (r.status === 0) lines.push("fsck: clean (e2fsck -f -n)");
      else {
        ok = false;
        lines.push(`fsck: errors (e2fsck -f -n exit ${r.status}): ${`${r.stdout}`.trim().split("\n").slice(-3).join(" / ")}`);
      }
    }
    lines.push(`host: ${human(freeBytes(path.dirname(t.image)))} free on ${path.dirname(t.image)}`);
    return { lines, ok };
  }
  const p = t.layered ? null : projectOf(t.root);
  if (p?.id) return projectCheck(t, p, lines);
  lines.push(`backing: none (${limit}; DiskBacking=${t.backing}): no image ${t.image}, no project quota on ${t.root}`);
  if (t.backing !== "auto") {
    lines.push(`error: DiskBacking=${t.backing}, so start refuses (containerctl disk create ${name})`);
    ok = false;
  } else if (t.limit !== null) lines.push(`warning: Disk= is not enforced (containerctl disk create ${name})`);
  return { lines, ok };
}
