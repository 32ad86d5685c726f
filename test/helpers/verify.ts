// `systemd-analyze verify` for generated units, offline, in a temporary root.
//
// Why a root: verify fails when an ExecStart= executable is missing, and
// /usr/lib/containerctl/runtime/* exist only where containerctl is installed.
// So the root gets what a real install puts there (`containerctl
// install-system --root`), the host's own systemd units (sysinit.target,
// machine.slice, ... which DefaultDependencies= and Slice= need), and copies
// of host programs units run (/usr/bin/sleep). Only an executable under
// /usr/lib/containerctl that install-system did not install (the runtime is
// another part, still being written) gets a placeholder, and the test reports
// that it did. Nothing else is faked, and every line verify prints counts.
//
// `--root=` for verify was run here on systemd 252 (Debian 12); systemd-analyze's
// option check in later sources (257 for Debian 13 and after) still accepts
// --root= for verify (read in its source, not run here). Verify reads units
// from the root's unit search path (not from
// /run/systemd/generator: verify uses private generator directories), so the
// generated tree is placed in the root's /run/systemd/system, where drop-ins
// and .wants/ links have the same meaning. Executables are looked up inside
// the root as well. Its exit status is 0 even for unknown keys and bad values,
// so callers must treat any output as a failure.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLI, type Snapshot, tempDir, writeSnapshot } from "./generator";

export const HOST_UNIT_DIR = "/usr/lib/systemd/system";

export interface VerifyRoot { root: string; placeholders: string[] }

export function systemdAnalyzeAvailable(): boolean {
  return spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" }).status === 0;
}

function execPaths(unitText: string): string[] {
  const out: string[] = [];
  for (const m of unitText.matchAll(/^Exec[A-Za-z]*=[-@:+!]*(\/\S+)/gm)) out.push(m[1]);
  return out;
}

export function makeVerifyRoot(): VerifyRoot {
  const root = tempDir("containerctl-verify-");
  const r = spawnSync(process.execPath, [CLI, "install-system", "--root", root], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`install-system --root failed: ${r.stderr}`);
  const unitDir = path.join(root, HOST_UNIT_DIR);
  // The host's units, without replacing what containerctl installed.
  for (const f of fs.readdirSync(HOST_UNIT_DIR)) {
    const dest = path.join(unitDir, f);
    if (!fs.existsSync(dest)) fs.cpSync(path.join(HOST_UNIT_DIR, f), dest, { recursive: true, verbatimSymlinks: true });
  }
  const placeholders: string[] = [];
  for (const u of fs.readdirSync(path.join(root, HOST_UNIT_DIR)).filter((f) => f.startsWith("container"))) {
    for (const exe of execPaths(fs.readFileSync(path.join(unitDir, u), "utf8"))) {
      const dest = path.join(root, exe);
      if (fs.existsSync(dest)) continue;
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (exe.startsWith("/usr/lib/containerctl/")) {
        fs.writeFileSync(dest, "#!/bin/sh\n# placeholder for verify: not installed by install-system\nexit 1\n", { mode: 0o755 });
        placeholders.push(exe);
      } else if (fs.existsSync(exe)) {
        fs.copyFileSync(exe, dest);
        fs.chmodSync(dest, 0o755);
      }
    }
  }
  return { root, placeholders };
}

export const GENERATED_IN_ROOT = "/run/systemd/system";

/** Replace the generated tree in the root by `tree`. */
export function placeGenerated(v: VerifyRoot, tree: Snapshot): void {
  writeSnapshot(path.join(v.root, GENERATED_IN_ROOT), tree);
}

/** The units to verify for a generated tree: every container and delay instance with a drop-in, and containers.target. */
export function unitsOf(tree: Snapshot): string[] {
  const units = new Set<string>(["containers.target"]);
  for (const rel of tree.keys()) {
    const m = /^(container(?:-delay)?@[^/]+\.service)\.d\//.exec(rel) ?? /\.wants\/(container(?:-delay)?@[^/]+\.service)$/.exec(rel);
    if (m) units.add(m[1]);
  }
  return [...units].sort();
}

export interface VerifyResult { status: number; output: string }

export function verify(v: VerifyRoot, units: string[], env: Record<string, string> = {}): VerifyResult {
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${v.root}`, ...units], {
    encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "cat", ...env }, maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/**
 * What systemd itself parsed for one unit: the unit dump verify prints at
 * debug log level, as "Key: value" lines. Lets a test compare values after
 * systemd's own unquoting and specifier expansion.
 */
export function parsedProperties(v: VerifyRoot, unit: string): { props: [string, string][]; output: string } {
  const r = verify(v, [unit], { SYSTEMD_LOG_LEVEL: "debug" });
  const lines = r.output.split("\n");
  const start = lines.findIndex((l) => l === `\t-> Unit ${unit}:`);
  const props: [string, string][] = [];
  if (start < 0) return { props, output: r.output };
  for (const l of lines.slice(start + 1)) {
    if (/^\t-> /.test(l) || !l.startsWith("\t\t")) break;
    const m = /^\t\t([A-Za-z][A-Za-z0-9 ]*): ([^\n]*)$/.exec(l); // [^\n]: "." stops at U+2028
    if (m) props.push([m[1], m[2]]);
  }
  return { props, output: r.output };
}
