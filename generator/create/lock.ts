// A cross-process lock: a directory holding its owner's pid. A lock whose
// owner is dead is taken over. Used by create's download cache and by the
// test harness's image cache; the callers decide how to wait.

import * as fs from "node:fs";
import * as path from "node:path";

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One attempt: null when the lock is now ours, else the pid holding it (NaN while it is being written). */
export function tryLock(dir: string): number | null {
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "pid"), String(process.pid));
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(dir, "pid"), "utf8"));
    } catch {
      /* being created or removed */
    }
    if (!Number.isInteger(owner) || pidAlive(owner)) return owner;
    fs.rmSync(dir, { recursive: true, force: true }); // a dead owner's: take it over
  }
}
