// `import openvz --copy`: the private area copied to the spec's RootDirectory
// with cp -a (owners, modes, timestamps, hard links, xattrs — ACLs are xattrs —,
// device nodes, sockets, fifos) and --sparse=always, into DEST.partial, then
// verified against the source (file list, types, modes, owners, sizes,
// mtimes, device numbers, link targets, the hard-link structure, and a
// SHA-256 of every regular file) before it is renamed into place. A failed or
// interrupted copy leaves only DEST.partial, which the next run removes and
// redoes. The source is only read. Progress (generator/create/progress.ts):
// a bar on a terminal, plain lines otherwise; `cp -v` names each entry it has
// copied, counted against the source's entries.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Reporter } from "../create/progress";

export class CopyError extends Error {}

interface Entry { rel: string; desc: string }

function hashFile(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** Every entry below root, in a stable order, described by what the copy must keep; `seen` is told each one. */
export function describeTree(root: string, seen?: (rel: string) => void): Entry[] {
  const out: Entry[] = [];
  const inodes = new Map<string, string>(); // dev:ino -> first path, for hard links
  const walk = (rel: string): void => {
    const abs = rel ? path.join(root, rel) : root;
    const st = fs.lstatSync(abs, { bigint: true });
    const kind = st.isFile() ? "f" : st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : st.isFIFO() ? "p" : st.isSocket() ? "s" : "?";
    let desc = `${kind} ${(st.mode & 0o7777n).toString(8)} ${st.uid}:${st.gid}`;
    if (kind !== "l") desc += ` mtime=${st.mtimeMs / 1000n}`;
    if (kind === "f") {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? inodes.get(key) : undefined;
      if (first !== undefined) desc += ` link=${first}`;
      else {
        if (st.nlink > 1n) inodes.set(key, rel);
        desc += ` size=${st.size} sha256=${hashFile(abs)}`;
      }
    }
    if (kind === "l") desc += ` -> ${fs.readlinkSync(abs)}`;
    if (kind === "c" || kind === "b") desc += ` rdev=${st.rdev}`;
    if (rel) {
      out.push({ rel, desc });
      seen?.(rel);
    }
    if (kind === "d") for (const e of fs.readdirSync(abs).sort()) walk(rel ? path.join(rel, e) : e);
  };
  walk("");
  return out;
}

/**
 * The first difference between two trees, or null. `extraInCopy`: entries the copy may have on
 * its own (an ext4 root's lost+found); `seen`: called for each entry read (progress).
 */
export function compareTrees(src: string, dst: string, extraInCopy: readonly string[] = [], seen?: (rel: string) => void): string | null {
  const a = describeTree(src, seen);
  const b = describeTree(dst, seen).filter((e) => !extraInCopy.includes(e.rel) || a.some((s) => s.rel === e.rel));
  const bm = new Map(b.map((e) => [e.rel, e.desc]));
  for (const e of a) {
    const d = bm.get(e.rel);
    if (d === undefined) return `${e.rel}: missing in the copy`;
    if (d !== e.desc) return `${e.rel}: source ${e.desc}, copy ${d}`;
    bm.delete(e.rel);
  }
  for (const rel of bm.keys()) return `${rel}: only in the copy`;
  return null;
}

/** Entries below root (what cp -v will name, and what the verification walks), without reading files. */
function countEntries(root: string): number {
  let n = 0;
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      n++;
      if (e.isDirectory()) walk(path.join(dir, e.name));
    }
  };
  walk(root);
  return n;
}

/** cp -a, reporting each entry it names (`'SRC/x' -> 'DEST/x'`) as copied. */
function copyTree(src: string, dest: string, rep: Reporter, total: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // setpriv --pdeathsig: a cp whose caller was killed (kill -9) stops too, so a next run can clean up after it.
    const cp = spawn("setpriv", ["--pdeathsig", "KILL", "--", "cp", "-a", "-v", "--sparse=always", "-T", "--", src, dest], { stdio: ["ignore", "pipe", "pipe"] });
    let done = 0;
    let rest = "";
    let err = "";
    cp.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const l of lines) {
        const m = /^'(.*)' -> '/.exec(l);
        const rel = m ? path.relative(src, m[1]) : "";
        if (rel === "") continue; // the top directory itself
        done++;
        rep.event({ phase: "copy", item: rel }, done, Math.max(total, done));
      }
    });
    cp.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    cp.on("error", (e) => reject(new CopyError(`cannot run cp: ${e.message}`)));
    cp.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new CopyError(`cp failed: ${err.trim().split("\n").slice(-3).join(" / ")}`));
    });
  });
}

/** Copy src to dest (which must not exist) and verify it, reporting progress to `rep`. */
export async function copyVerified(src: string, dest: string, rep: Reporter): Promise<void> {
  if (fs.existsSync(dest)) throw new CopyError(`${dest} already exists: remove it, or import with --in-place`);
  const partial = `${dest}.partial`;
  fs.rmSync(partial, { recursive: true, force: true }); // an interrupted earlier copy: redo it whole
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  try {
    rep.step(`copying ${src} to ${dest}`);
    const total = countEntries(src);
    await copyTree(src, partial, rep, total);
    rep.step(`verifying the copy of ${src}`);
    let checked = 0;
    const diff = compareTrees(src, partial, [], (rel) => rep.event({ phase: "verify", item: rel }, ++checked, Math.max(2 * total, checked)));
    rep.end();
    if (diff) throw new CopyError(`the copy differs from the source: ${diff}`);
    fs.renameSync(partial, dest);
  } catch (e) {
    rep.end();
    fs.rmSync(partial, { recursive: true, force: true });
    throw e instanceof CopyError ? e : new CopyError((e as Error).message);
  }
}
