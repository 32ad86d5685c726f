// Writing one file so that readers see either the old content or the new,
// never half of either: write a temporary file beside it, fsync, then link it
// into place (fails with EEXIST when the target appeared meanwhile, so nothing
// is overwritten by a race) or, when overwriting is intended, rename it over.

import * as fs from "node:fs";
import * as path from "node:path";

export function writeFileAtomic(file: string, text: string, opts: { overwrite: boolean; mode?: number }): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  const fd = fs.openSync(tmp, "wx", opts.mode ?? 0o644);
  try {
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (opts.overwrite) fs.renameSync(tmp, file);
    else linkOrRename(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** link() refuses to replace; where the filesystem has no hard links, check then rename. */
function linkOrRename(tmp: string, file: string): void {
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
    if (fs.existsSync(file)) throw Object.assign(new Error(`${file} exists`), { code: "EEXIST" });
    fs.renameSync(tmp, file);
  }
}
