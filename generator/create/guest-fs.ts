// Applies GuestSteps to a guest root filesystem without ever leaving it: no
// path component inside the guest is followed when it is a symlink (a guest,
// cloned or imported, may hold links to host files), and every file is written
// to a temporary name in its directory and renamed over the old one, which
// replaces a symlink instead of writing through it. The guest is not running
// while this runs (create and clone hold it), so checks cannot race its processes.

import * as fs from "node:fs";
import * as path from "node:path";
import type { GuestStep } from "./guest-files";

export class GuestFsError extends Error {}

/** The host path of guest path `p`, every directory on the way checked (and created when `create`). */
function parentInside(root: string, p: string, create: boolean): { dir: string; base: string } {
  const parts = p.split("/").filter(Boolean);
  if (parts.length === 0 || parts.some((x) => x === ".." || x === ".")) throw new GuestFsError(`bad guest path '${p}'`);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (st === null) {
      if (!create) throw new GuestFsError(`${guestPath(root, dir)}: no such directory in the guest`);
      fs.mkdirSync(dir, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw new GuestFsError(`${guestPath(root, dir)} is a symlink in the guest; not following it`);
    if (!st.isDirectory()) throw new GuestFsError(`${guestPath(root, dir)} is not a directory in the guest`);
  }
  return { dir, base: parts[parts.length - 1] };
}

const guestPath = (root: string, host: string): string => "/" + path.relative(root, host);

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Write `data` to `dir/base` by rename; owner and mode as given. */
function replaceFile(dir: string, base: string, data: string | Buffer, mode: number, uid = 0, gid = 0): void {
  const tmp = path.join(dir, `.${base}.containerctl-${process.pid}`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    if (typeof data === "string") fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fchownSync(fd, uid, gid);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(dir, base));
}

export function applySteps(root: string, steps: readonly GuestStep[]): void {
  for (const s of steps) applyStep(root, s);
}

function applyStep(root: string, s: GuestStep): void {
  switch (s.op) {
    case "dir": {
      const { dir, base } = parentInside(root, s.path, true);
      const p = path.join(dir, base);
      const st = lstatOrNull(p);
      if (st === null) {
        fs.mkdirSync(p);
        fs.chmodSync(p, s.mode); // mkdir's mode is masked by the umask
      } else if (!st.isDirectory()) throw new GuestFsError(`${s.path} exists in the guest and is not a directory`);
      return;
    }
    case "file": {
      const { dir, base } = parentInside(root, s.path, true);
      replaceFile(dir, base, s.content, s.mode);
      return;
    }
    case "copy": {
      const { dir, base } = parentInside(root, s.path, true);
      replaceFile(dir, base, fs.readFileSync(s.from), s.mode);
      return;
    }
    case "symlink": {
      const { dir, base } = parentInside(root, s.path, true);
      const p = path.join(dir, base);
      const st = lstatOrNull(p);
      if (st?.isSymbolicLink() && fs.readlinkSync(p) === s.target) return;
      if (st?.isDirectory()) throw new GuestFsError(`${s.path} is a directory in the guest`);
      const tmp = path.join(dir, `.${base}.containerctl-${process.pid}`);
      fs.symlinkSync(s.target, tmp);
      fs.renameSync(tmp, p);
      return;
    }
    case "root-password": {
      const { dir, base } = parentInside(root, "/etc/shadow", false);
      const p = path.join(dir, base);
      const st = lstatOrNull(p);
      if (!st?.isFile()) throw new GuestFsError("/etc/shadow is missing or not a regular file in the guest");
      const lines = fs.readFileSync(p, "utf8").split("\n");
      const i = lines.findIndex((l) => l.startsWith("root:"));
      if (i < 0) throw new GuestFsError("the guest's /etc/shadow has no root entry");
      const f = lines[i].split(":");
      // Locked: "!" before whatever is there (passwd -l), or "!" alone when there is no hash.
      f[1] = s.hash ?? (f[1].startsWith("!") ? f[1] : f[1] === "" || f[1] === "*" ? "!" : `!${f[1]}`);
      lines[i] = f.join(":");
      replaceFile(dir, base, lines.join("\n"), st.mode & 0o7777, st.uid, st.gid);
      return;
    }
    case "empty": {
      const { dir, base } = parentInside(root, s.path, false);
      const st = lstatOrNull(path.join(dir, base));
      if (st === null) return;
      if (!st.isFile()) throw new GuestFsError(`${s.path} is not a regular file in the guest`);
      replaceFile(dir, base, "", st.mode & 0o7777, st.uid, st.gid);
      return;
    }
    case "remove-debs": {
      let dir: string;
      try {
        const r = parentInside(root, s.path, false);
        dir = path.join(r.dir, r.base);
      } catch (e) {
        if (e instanceof GuestFsError) return; // nothing downloaded there
        throw e;
      }
      const st = lstatOrNull(dir);
      if (!st?.isDirectory()) return;
      for (const f of fs.readdirSync(dir)) {
        if (f.endsWith(".deb") && lstatOrNull(path.join(dir, f))?.isFile()) fs.unlinkSync(path.join(dir, f));
      }
      return;
    }
  }
}

/** Read a guest file without following symlinks anywhere on its path; null when absent. */
export function readGuestFile(root: string, p: string): string | null {
  try {
    const { dir, base } = parentInside(root, p, false);
    const st = lstatOrNull(path.join(dir, base));
    return st?.isFile() ? fs.readFileSync(path.join(dir, base), "utf8") : null;
  } catch (e) {
    if (e instanceof GuestFsError) return null;
    throw e;
  }
}
