// The import report: a table for people (one block per container, `!` marks a
// line to review) and JSON for scripts. Values from the source files are shown
// with control characters made visible; they are never trusted as text.

import type { ReportEntry } from "./openvz-map";
import type { ContainerImport, ImportPlan } from "./openvz-import";

const ACTION_TEXT: Record<ContainerImport["action"], [dry: string, done: string]> = {
  create: ["would write", "written"],
  overwrite: ["would overwrite (--force)", "overwritten (--force)"],
  unchanged: ["unchanged", "unchanged"],
  exists: ["exists with other content: not overwritten without --force", "exists with other content: not overwritten without --force"],
  failed: ["NOT IMPORTED", "NOT IMPORTED"],
};

/** Control characters made visible; never truncated unless `max` is given. */
function visible(v: string): string {
  return v.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function shown(v: string | null, max = 28): string {
  if (v === null) return "(unset)";
  const q = visible(v);
  return q.length > max ? `${q.slice(0, max - 3)}...` : q;
}

function where(e: ReportEntry, rel: (f: string) => string): string {
  return e.origin === null ? "" : e.origin.line > 0 ? `${rel(e.origin.file)}:${e.origin.line}` : rel(e.origin.file);
}

function table(entries: readonly ReportEntry[], rel: (f: string) => string): string[] {
  const rows = entries.map((e) => [
    e.attention ? "!" : " ", e.param, shown(e.value), e.status, e.result.join(" ") || "-", where(e, rel),
  ]);
  const head = [" ", "PARAMETER", "VALUE", "STATUS", "RESULT", "SOURCE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}`.trimEnd();
  const out = [line(head)];
  entries.forEach((e, i) => {
    out.push(line(rows[i]));
    if (e.note) out.push(`${" ".repeat(6)}${visible(e.note)}`);
  });
  return out;
}

export function formatHuman(plan: ImportPlan, opts: { dryRun: boolean; showSpecs?: boolean }): string {
  // Sources are shown relative to the vz directory named in the first line.
  const rel = (f: string): string => (f.startsWith(plan.vzRoot + "/") ? f.slice(plan.vzRoot.length + 1) : f);
  const out: string[] = [];
  out.push(`OpenVZ configuration: ${visible(plan.vzRoot)}${opts.dryRun ? " (dry run: nothing is written)" : ""}`);
  for (const e of plan.errors) out.push(`error: ${visible(e)}`);
  if (plan.host.length) {
    out.push("", "Host (vz.conf settings that are not about one container; not imported):", ...table(plan.host, rel));
  }
  for (const c of plan.containers) {
    const act = ACTION_TEXT[c.action][opts.dryRun ? 0 : 1];
    out.push("", `CT ${c.ctid} → ${c.name ?? "?"}: ${c.specFile ? `${visible(c.specFile)} ` : ""}${act}`);
    for (const n of c.nameNotes) out.push(`  name: ${visible(n)}`);
    for (const e of c.errors) out.push(`  error: ${visible(e)}`);
    if (c.entries.length) out.push(...table(c.entries, rel));
    if (opts.showSpecs && c.specText) out.push("", ...c.specText.replace(/\n$/, "").split("\n").map((l) => `    ${l}`));
  }
  const count = (...a: ContainerImport["action"][]) => plan.containers.filter((c) => a.includes(c.action)).length;
  const review = plan.containers.filter((c) => c.action !== "failed" && c.attention).length;
  out.push("", `${plan.containers.length} container(s): ${count("create", "overwrite")} ${opts.dryRun ? "to write" : "written"}, ${count("unchanged")} unchanged, `
    + `${count("exists")} not overwritten, ${count("failed")} failed; ${review} with lines marked ! to review`);
  return out.join("\n") + "\n";
}

export function toJson(plan: ImportPlan, opts: { dryRun: boolean; exitStatus: number }): string {
  return JSON.stringify({
    version: 1,
    dryRun: opts.dryRun,
    exitStatus: opts.exitStatus,
    vzRoot: plan.vzRoot,
    configDir: plan.configDir,
    errors: plan.errors,
    host: plan.host,
    containers: plan.containers,
  }, null, 2) + "\n";
}
