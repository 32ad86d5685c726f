// The properties every generator run must keep, whatever the input
// (test/generator/hostile.test.ts and fuzz.test.ts):
//  - nothing crashes: bad input becomes SpecErrors, never an exception;
//  - every problem is one line of one of the three error shapes, free of
//    control characters;
//  - every unit file parses back (helpers/unit-file.ts) to exactly the
//    directives the spec asked for, as a multiset of Section.Key, and the
//    free-form values come back unchanged after systemd's unescaping;
//  - every runtime plan is well-formed and carries the values unchanged.

import { buildSpec, type ContainerSpec, type SpecFile } from "../../generator/spec/load";
import { formatSpecError, type SpecError } from "../../generator/spec/errors";
import { KEYS, KEY_IDS, type KeyDef } from "../../generator/spec/keys";
import { diskDevices, renderSystemd } from "../../generator/render/systemd";
import type { Tree } from "../../generator/tree";
import { ValueError } from "../../generator/spec/values";
import { directiveKeys, parsePlan, parseUnit, splitWords, unescapeSpecifiers } from "./unit-file";

export interface Outcome { specs: ContainerSpec[]; errors: SpecError[]; warnings: SpecError[]; tree: Tree; violations: string[] }

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** One problem line must be file:line: [Section] Key: message, file:line: message or file: message. */
export function errorViolations(errors: readonly SpecError[], files: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const line = formatSpecError(e);
    if (CONTROL.test(line)) out.push(`error line has a control character: ${JSON.stringify(line).slice(0, 200)}`);
    if (!files.includes(e.file)) out.push(`error names an unknown file: ${JSON.stringify(line).slice(0, 200)}`);
    const rest = line.slice(e.file.length);
    const ok = /^:[1-9][0-9]*: \[[A-Z][A-Za-z]*\] [A-Za-z][A-Za-z0-9]*: \S/.test(rest) ||
      /^:[1-9][0-9]*: [^[\s]/.test(rest) || /^: [^[\s]/.test(rest);
    if (!ok) out.push(`error line has no known shape: ${JSON.stringify(line).slice(0, 200)}`);
    if (e.message.length > 2000) out.push(`error message of ${e.message.length} characters`);
  }
  return out;
}

/** The directives the drop-in of `spec` should hold, from the key table (not from the renderer). */
export function expectedDirectives(spec: ContainerSpec, chained: boolean): string[] {
  const out = ["Unit.SourcePath", "Unit.RequiresMountsFor", "Service.Environment"];
  if (chained) out.push("Unit.After");
  for (const id of KEY_IDS) {
    const def = KEYS[id] as KeyDef<any>;
    if (typeof def.systemd === "string") continue;
    const v = spec.values[id] as unknown;
    if (v === undefined) continue;
    for (const x of def.list ? (v as unknown[]) : [v]) if (def.systemd.value(x) !== null) out.push(`${def.systemd.section}.${def.systemd.directive}`);
  }
  // Disk= with an image: the loop devices the runtime's mount needs (docs/disk.md).
  for (const d of diskDevices(spec)) out.push(`${d.section}.${d.key}`);
  return out.sort();
}

function unquoteEnv(v: string): string | null {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(v);
  return m ? unescapeSpecifiers(m[1].replace(/\\(.)/g, "$1")) : null;
}

/** Check one rendered tree against the specs it came from. */
export function treeViolations(specs: readonly ContainerSpec[], tree: Tree, outputDir: string): string[] {
  const out: string[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const [rel, e] of tree) {
    if ("symlink" in e) {
      if (!/^(containers|multi-user)\.target\.wants\/[^/]+$/.test(rel)) out.push(`unexpected symlink ${rel}`);
      continue;
    }
    const c = e.content;
    if (CONTROL.test(c.replace(/[\n\t]/g, ""))) out.push(`${rel}: control character in output`);
    let m: RegExpExecArray | null;
    if ((m = /^container@([^/]+)\.service\.d\/10-containerctl\.conf$/.exec(rel))) {
      const spec = byName.get(m[1]);
      if (!spec) {
        out.push(`${rel}: no such accepted spec`);
        continue;
      }
      const u = parseUnit(c);
      out.push(...u.problems.map((p) => `${rel}: ${p}`));
      const got = directiveKeys(u);
      const after = u.entries.some((x) => x.key === "After");
      const want = expectedDirectives(spec, after);
      if (got.join(",") !== want.join(",")) out.push(`${rel}: directives ${got.join(" ")} but the spec asks for ${want.join(" ")}`);
      for (const x of u.entries) {
        const v = spec.values;
        const fail = (what: string): void => void out.push(`${rel}: ${x.key}= ${what}: ${JSON.stringify(x.value).slice(0, 200)}`);
        switch (x.key) {
          case "Description":
            if (unescapeSpecifiers(x.value) !== v.description) fail("does not round-trip");
            break;
          case "SourcePath":
            if (unescapeSpecifiers(x.value) !== spec.file) fail("is not the spec file");
            break;
          case "RequiresMountsFor":
            if (JSON.stringify(splitWords(x.value)) !== JSON.stringify([v.root])) fail("is not the root directory");
            break;
          case "Environment":
            if (unquoteEnv(x.value) !== `CONTAINERCTL_PLAN=${outputDir}/containerctl/${spec.name}.plan`) fail("is not the plan path");
            break;
          case "DeviceAllow": {
            const w = splitWords(x.value);
            const disk = diskDevices(spec).some((d) => JSON.stringify((d.value as { words: string[] }).words) === JSON.stringify(w));
            if (!w || !(disk || v.devices.some((d) => d.device === w[0] && d.access === w[1])) || w.length !== 2) fail("does not round-trip");
            break;
          }
          case "IOReadBandwidthMax":
          case "IOWriteBandwidthMax":
          case "IOReadIOPSMax":
          case "IOWriteIOPSMax": {
            const w = splitWords(x.value);
            const list = {
              IOReadBandwidthMax: v.ioRead.map((d) => [d.device, d.bytes]), IOWriteBandwidthMax: v.ioWrite.map((d) => [d.device, d.bytes]),
              IOReadIOPSMax: v.ioReadIops.map((d) => [d.device, d.iops]), IOWriteIOPSMax: v.ioWriteIops.map((d) => [d.device, d.iops]),
            }[x.key];
            if (!w || w.length !== 2 || !list.some(([dev, n]) => dev === w[0] && String(n) === w[1])) fail("does not round-trip");
            break;
          }
          case "After": {
            const a = /^container(-delay)?@([^/\s]+)\.service$/.exec(x.value);
            if (!a || !specs.some((s) => s.name === a[2] && s.values.autostart) || !spec.values.autostart) fail("is not an autostarted container");
            break;
          }
          default:
            // Values of the other directives come from closed types (numbers, enums, signals).
            if (!/^[A-Za-z0-9+.,%-]+$/.test(x.value)) fail("is not a plain token");
        }
      }
    } else if ((m = /^containerctl\/([^/]+)\.plan$/.exec(rel))) {
      const spec = byName.get(m[1]);
      if (!spec) {
        out.push(`${rel}: no such accepted spec`);
        continue;
      }
      const p = parsePlan(c);
      out.push(...p.problems.map((x) => `${rel}: ${x}`));
      const field = (k: string): string[][] => p.lines.filter((l) => l.key === k).map((l) => l.fields);
      const same = (k: string, want: string[][]): void => {
        if (JSON.stringify(field(k)) !== JSON.stringify(want)) out.push(`${rel}: plan '${k}' lines ${JSON.stringify(field(k)).slice(0, 200)} != ${JSON.stringify(want).slice(0, 200)}`);
      };
      const v = spec.values;
      same("root", [[v.root!]]);
      same("init", [[v.init!]]);
      same("source", [[spec.file]]);
      same("hostname", [[v.hostname!]]);
      same("arg", (v.initArguments ?? []).filter((a) => a !== "").map((a) => [a]));
      same("env", v.environment.map((e) => [`${e.name}=${e.value}`]));
      same("bind", v.binds.map((b) => [b.source, b.target, b.readOnly ? "ro" : "rw"]));
      same("device", v.devices.map((d) => [d.device, d.access]));
    } else if ((m = /^container-delay@([^/]+)\.service\.d\/10-containerctl\.conf$/.exec(rel))) {
      const u = parseUnit(c);
      out.push(...u.problems.map((p) => `${rel}: ${p}`));
      if (directiveKeys(u).join(",") !== "Service.Environment") out.push(`${rel}: directives ${directiveKeys(u).join(" ")}`);
      if (!/^"CONTAINERCTL_DELAY=[0-9.e-]+"$/.test(u.entries[0]?.value ?? "")) out.push(`${rel}: bad delay ${u.entries[0]?.value}`);
    } else out.push(`unexpected output file ${rel}`);
  }
  return out;
}

/**
 * Load specs from in-memory files as check and the generator do (buildSpec),
 * render every accepted one, and check all properties. `containers` maps a
 * container name to its files (main file first is not required: merge order
 * is the array order, as readSpecFiles gives it).
 */
export function runInMemory(containers: ReadonlyArray<{ name: string; main: string; files: SpecFile[] }>, outputDir = "/run/systemd/generator"): Outcome {
  const violations: string[] = [];
  const specs: ContainerSpec[] = [];
  const errors: SpecError[] = [];
  const warnings: SpecError[] = [];
  for (const c of containers) {
    let r;
    try {
      r = buildSpec(c.name, c.main, c.files);
    } catch (e) {
      violations.push(`${c.name}: buildSpec threw ${e instanceof ValueError ? "ValueError" : ""} ${(e as Error).stack}`);
      continue;
    }
    const paths = c.files.map((f) => f.path);
    violations.push(...errorViolations(r.errors, paths), ...errorViolations(r.warnings, paths));
    if (r.spec && r.errors.length) violations.push(`${c.name}: a spec with errors was accepted`);
    if (!r.spec && !r.errors.length) violations.push(`${c.name}: rejected without an error`);
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    if (r.spec) specs.push(r.spec);
  }
  let tree: Tree = new Map();
  try {
    const r = renderSystemd(specs, outputDir);
    tree = r.tree;
    for (const f of r.failed) violations.push(`${f.spec.name}: accepted by validation but not renderable: ${f.error}`);
    const rendered = specs.filter((s) => !r.failed.some((f) => f.spec === s));
    violations.push(...treeViolations(rendered, tree, outputDir));
  } catch (e) {
    violations.push(`renderSystemd threw ${(e as Error).stack}`);
  }
  return { specs, errors, warnings, tree, violations };
}

/** Fails with the count and the first 20 violations (a full list can be megabytes). */
export function assertNone(violations: readonly string[], context = ""): void {
  if (violations.length === 0) return;
  const shown = violations.slice(0, 20).map((v) => (v.length > 400 ? `${v.slice(0, 400)}...` : v));
  throw new Error(`${violations.length} violation(s)${context ? ` in ${context}` : ""}:\n${shown.join("\n")}`);
}
