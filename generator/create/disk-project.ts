// The project-quota backing of Disk= (docs/disk.md): RootDirectory and
// everything below it get one project id (chattr -p, and +P on directories so
// new files inherit it); the filesystem, ext4 or xfs mounted with prjquota,
// limits that project's blocks (setquota -P). runtime/disk sets the limit to
// Disk= at every start; `disk create` and `disk grow` set it at once too.
// Device nodes, fifos and symlinks cannot carry a project id (chattr skips
// them): they stay in project 0, which costs at most an inode and a block each.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { DiskError, human, run, type CheckReport, type DiskTarget } from "./disk-base";

export interface ProjectFacts {
  /** The root's project id (lsattr -p), 0 when none or unreadable. */
  id: number;
  mount: string;
  fstype: string;
  /** The filesystem is ext4 or xfs and mounted with project quotas. */
  prjquota: boolean;
}

export function projectOf(root: string): ProjectFacts {
  const r = spawnSync("lsattr", ["-pd", "--", root], { encoding: "utf8" });
  const id = r.status === 0 ? Number(/^\s*(\d+)\s/.exec(r.stdout)?.[1] ?? 0) : 0;
  const m = spawnSync("findmnt", ["-n", "-o", "TARGET,FSTYPE,OPTIONS", "-T", root], { encoding: "utf8" });
  const [mount = "", fstype = "", options = ""] = (m.stdout || "").trim().split(/\s+/);
  const opts = options.split(",");
  const prjquota = (fstype === "ext4" || fstype === "xfs") && opts.some((o) => ["prjquota", "pquota", "pqnoenforce"].includes(o));
  return { id, mount, fstype, prjquota };
}

/** Project ids with usage or limits on a filesystem (repquota -P -n). */
function projectsIn(mount: string): Map<number, { usedK: number; hardK: number }> {
  const r = spawnSync("repquota", ["-P", "-n", mount], { encoding: "utf8" });
  const out = new Map<number, { usedK: number; hardK: number }>();
  for (const line of (r.stdout || "").split("\n")) {
    const m = /^#(\d+)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) out.set(Number(m[1]), { usedK: Number(m[2]), hardK: Number(m[4]) });
  }
  return out;
}

function setLimit(id: number, mount: string, bytes: number): void {
  run(["setquota", "-P", String(id), "0", String(Math.ceil(bytes / 1024)), "0", "0", mount], `setting the project quota ${id} on ${mount}`);
}

function usable(t: DiskTarget, p: ProjectFacts): void {
  if (!p.prjquota) {
    throw new DiskError(`no project quotas for ${t.root}: its filesystem ${p.mount} (${p.fstype}) is not ext4 or xfs mounted with prjquota (ext4 also needs tune2fs -O quota,project; and a kernel with quota support); use --backing image`);
  }
}

export function projectCreate(t: DiskTarget, size: number, say: (line: string) => void): void {
  const p = projectOf(t.root);
  usable(t, p);
  let id = p.id;
  if (!id) {
    // A stable id from the name, moved on past ids already in use on this filesystem.
    const taken = projectsIn(p.mount);
    id = 0x10000 + (createHash("sha256").update(t.name).digest().readUInt32BE(0) % 0x3fff0000);
    while (taken.has(id)) id++;
  }
  say(`project quota ${id} on ${t.root} (${p.mount}, ${p.fstype}): ${human(size)}`);
  setProjectId(t.root, id);
  setLimit(id, p.mount, size);
}

/**
 * The project id on every regular file and directory below root (one
 * filesystem), and +P on the directories so what is made in them inherits it.
 * chattr cannot set it on symlinks, devices, fifos and sockets (and chattr -R
 * fails on them), so find picks the two kinds it can.
 */
export function setProjectId(root: string, id: number): void {
  run(["find", root, "-xdev", "-type", "f", "-exec", "chattr", "-p", String(id), "--", "{}", "+"], "setting the project id on files");
  run(["find", root, "-xdev", "-type", "d", "-exec", "chattr", "-p", String(id), "+P", "--", "{}", "+"], "setting the project id on directories");
}

export function projectGrow(t: DiskTarget, size: number, say: (line: string) => void): void {
  const p = projectOf(t.root);
  usable(t, p);
  const used = (projectsIn(p.mount).get(p.id)?.usedK ?? 0) * 1024;
  if (size < used) throw new DiskError(`the limit would be below the contents: project ${p.id} uses ${human(used)}; ${human(size)} is less; nothing was changed`);
  say(`project quota ${p.id} on ${p.mount}: ${human(size)}`);
  setLimit(p.id, p.mount, size);
}

export function projectCheck(t: DiskTarget, p: ProjectFacts, lines: string[]): CheckReport {
  const limit = t.limit === null ? "Disk= not set" : `Disk=${human(t.limit)}`;
  lines.push(`backing: project quota ${p.id} on ${t.root} (${p.mount}, ${p.fstype}; ${limit}; DiskBacking=${t.backing})`);
  if (!p.prjquota) {
    lines.push(`error: ${p.mount} is not mounted with prjquota: start refuses`);
    return { lines, ok: false };
  }
  const q = projectsIn(p.mount).get(p.id);
  if (!q) lines.push("used: nothing recorded yet");
  else lines.push(`used: ${human(q.usedK * 1024)} of ${q.hardK ? human(q.hardK * 1024) : "no limit"}`);
  if (q && t.limit !== null && q.hardK !== Math.ceil(t.limit / 1024)) lines.push("warning: the quota differs from Disk= until the next start");
  lines.push(`host: ${human(fs.statfsSync(p.mount).bavail * fs.statfsSync(p.mount).bsize)} free on ${p.mount}`);
  return { lines, ok: true };
}
