// Shared by the upstart tests: the golden cases under test/golden-upstart/,
// each <case>/spec/ (a config directory) beside expected/ (the exact tree
// `containerctl generate --upstart /etc/init` writes) and, when some spec is
// refused, expected.err (the problems, one a line).

import * as fs from "node:fs";
import * as path from "node:path";
import { formatSpecError } from "../../generator/spec/errors";
import { generateUpstart, UPSTART_JOB_DIR } from "../../generator/render/upstart";
import type { Tree } from "../../generator/tree";

export const ROOT = path.join(__dirname, "../../..");
export const GOLDEN = path.join(ROOT, "test/golden-upstart");
/** Specs are shown as if they were read from the real config directory. */
export const SHOWN_CONFIG_DIR = "/etc/containerctl";

export function goldenCases(): string[] {
  return fs.readdirSync(GOLDEN).filter((c) => fs.statSync(path.join(GOLDEN, c)).isDirectory()).sort();
}

export interface Rendered {
  files: Map<string, string>;
  errors: string;
}

/** Render one case; the spec directory's real path is replaced by /etc/containerctl. */
export function renderCase(name: string): Rendered {
  const specDir = path.join(GOLDEN, name, "spec");
  const r = generateUpstart(specDir, UPSTART_JOB_DIR);
  const shown = (s: string): string => s.split(specDir).join(SHOWN_CONFIG_DIR);
  return { files: treeFiles(r.tree, shown), errors: r.errors.concat(r.warnings).map((e) => shown(formatSpecError(e)) + "\n").join("") };
}

export function treeFiles(tree: Tree, map: (s: string) => string = (s) => s): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rel, e] of tree) {
    if (!("content" in e)) throw new Error(`symlink '${rel}' in upstart output`);
    out.set(rel, map(e.content));
  }
  return out;
}

export function readExpected(name: string): Rendered {
  const dir = path.join(GOLDEN, name, "expected");
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const f of fs.readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (fs.statSync(p).isDirectory()) walk(p);
      else files.set(path.relative(dir, p), fs.readFileSync(p, "utf8"));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  const errFile = path.join(GOLDEN, name, "expected.err");
  return { files, errors: fs.existsSync(errFile) ? fs.readFileSync(errFile, "utf8") : "" };
}

export function writeExpected(name: string, r: Rendered): void {
  const dir = path.join(GOLDEN, name, "expected");
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, content] of r.files) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  const errFile = path.join(GOLDEN, name, "expected.err");
  if (r.errors) fs.writeFileSync(errFile, r.errors);
  else fs.rmSync(errFile, { force: true });
}

/** Every generated job file of every case (not the plans), for the checks that run over all of them. */
export function allGeneratedJobs(): { label: string; text: string }[] {
  const out: { label: string; text: string }[] = [];
  for (const c of goldenCases()) {
    for (const [rel, text] of renderCase(c).files) if (rel.endsWith(".conf")) out.push({ label: `${c}/${rel}`, text });
  }
  return out;
}
