// Shared by the import tests: temporary OpenVZ hosts, the compiled CLI as a
// child process (as a user runs it), and a hash of a whole tree.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The project root (tests run from dist/test/import). */
export const ROOT = path.resolve(__dirname, "../../..");
/** ../shared/testdata/openvz, beside the checkout (never written to). */
export const SHARED = path.resolve(ROOT, "../shared/testdata/openvz");
const CLI = path.join(ROOT, "dist/cli/containerctl.js");

export function tempDir(prefix = "ctl-import-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write files (relative path → content) under dir, creating directories. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

/** Copy a shared sample (relative to SHARED) to dest, writable. */
export function copyShared(rel: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(path.join(SHARED, rel), dest, { recursive: true });
  chmodWritable(dest);
}

function chmodWritable(p: string): void {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.mode | 0o200);
  if (st.isDirectory()) for (const f of fs.readdirSync(p)) chmodWritable(path.join(p, f));
}

export interface CliResult { status: number; stdout: string; stderr: string }

export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Every entry under dir: path, type, mode, size, mtime and content hash (and
 * link targets), so any write, chmod, touch, create or delete changes it.
 */
export function hashTree(dir: string): string {
  const h = createHash("sha256");
  const walk = (p: string, rel: string): void => {
    const st = fs.lstatSync(p);
    h.update(`${rel}\0${st.mode}\0${st.size}\0${st.mtimeMs}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) h.update(fs.readlinkSync(p));
    else if (st.isFile()) h.update(fs.readFileSync(p));
    else if (st.isDirectory()) for (const f of fs.readdirSync(p).sort()) walk(path.join(p, f), `${rel}/${f}`);
    h.update("\n");
  };
  walk(dir, ".");
  return h.digest("hex");
}

/** Every file under dir, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const f of fs.readdirSync(p).sort()) {
      const q = path.join(p, f);
      const r = rel ? `${rel}/${f}` : f;
      if (fs.statSync(q).isDirectory()) walk(q, r);
      else out.push(r);
    }
  };
  walk(dir, "");
  return out;
}
