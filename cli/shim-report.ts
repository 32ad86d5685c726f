// `containerctl check NAME`: the guest's kind and what the init shim will do
// for it (docs/shim.md). The runtime's own sh (runtime/shim) answers: it
// detects the guest from its files and writes its replacements into a scratch
// directory here, exactly as stage does on the container's tmpfs at start, so
// check and start cannot disagree. The guest's files are only read.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ContainerSpec } from "../generator/spec/load";

export interface ShimReport {
  /** The guest's kind: the spec's Guest=, or the detected one for auto. */
  guest: string;
  detected: boolean;
  stopSignal: string;
  /** What the shim does, one line each. */
  actions: string[];
  /** What it cannot neutralise. */
  warnings: string[];
}

function shim(runtimeDir: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync("sh", [path.join(runtimeDir, "shim"), ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`runtime/shim ${args[0]} failed: ${r.stderr.trim()}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string): string[] => s.split("\n").filter(Boolean);

export function shimReport(spec: ContainerSpec, runtimeDir: string): ShimReport {
  const v = spec.values;
  const notes: string[] = [];
  let root = v.root!;
  if (v.rootLower.length > 0) {
    // An overlay root exists only while the container runs: look at its topmost lower layer.
    root = v.rootLower[0];
    notes.push(`an overlay root: the guest is inspected in its top lower layer '${root}' (changes in its upper layer are not seen)`);
  }
  if (!fs.existsSync(root)) {
    return { guest: v.guest!, detected: false, stopSignal: "", actions: [], warnings: [...notes, `root directory '${root}' does not exist: nothing to inspect`] };
  }
  const detected = v.guest === "auto";
  const guest = detected ? shim(runtimeDir, ["detect", root, v.init!]).stdout.trim() : v.guest!;
  const stopSignal = guest === "systemd" ? "SIGRTMIN+3" : "SIGPWR";
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-check-"));
  try {
    const r = shim(runtimeDir, ["prepare", root, guest, String(v.ttys), v.netType!, out]);
    return { guest, detected, stopSignal, actions: lines(r.stdout), warnings: [...notes, ...lines(r.stderr).map((w) => w.replace(/^warning: /, ""))] };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

export function formatShimReport(name: string, r: ShimReport): string {
  const head = r.stopSignal ? `${name}: guest ${r.guest}${r.detected ? " (detected from its files)" : ""}, stop signal ${r.stopSignal}` : `${name}: guest ${r.guest}`;
  const what = r.actions.length ? r.actions.map((a) => `${name}: shim: ${a}`) : r.stopSignal ? [`${name}: shim: nothing to do for this guest`] : [];
  return [head, ...what].join("\n") + "\n";
}
