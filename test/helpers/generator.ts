// Running the generator and the CLI as a user would (compiled entry points in
// child processes), and reading/writing file trees for the golden tests.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The project root: this file runs from dist/test/helpers/. */
export const PROJECT = path.resolve(__dirname, "../../..");
export const GENERATOR = path.join(PROJECT, "dist/generator/main.js");
export const CLI = path.join(PROJECT, "dist/cli/containerctl.js");
export const GOLDEN = path.join(PROJECT, "test/golden");

/**
 * Generated files name the config directory (SourcePath=, the plan's source)
 * and the output directory (CONTAINERCTL_PLAN=). Tests run in fresh temporary
 * directories (so parallel runs never collide) and replace those two paths
 * with the ones of a real host before comparing: expected files read exactly
 * as they would on a host.
 */
export const HOST_CONFIG_DIR = "/etc/containerctl";
export const HOST_OUTPUT_DIR = "/run/systemd/generator";

export interface RunResult { status: number; stdout: string; stderr: string }

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.SYSTEMD_SCOPE; // not at boot: log to stderr, not /dev/kmsg
  delete e.SYSTEMD_LOG_TARGET;
  return e;
}

function run(args: string[], extraEnv: Record<string, string>, input?: string): RunResult {
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env: env(extraEnv), input, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The generator as systemd calls it: three output directories, writing only into the first. */
export function runGenerator(configDir: string, normal: string, early = `${normal}.early`, late = `${normal}.late`): RunResult {
  for (const d of [normal, early, late]) fs.mkdirSync(d, { recursive: true });
  return run([GENERATOR, normal, early, late], { CONTAINERCTL_CONFIG_DIR: configDir });
}

export function runCli(args: string[], configDir?: string): RunResult {
  return run([CLI, ...(configDir ? ["-C", configDir] : []), ...args], {});
}

export function tempDir(prefix = "containerctl-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type Node = { content: string } | { symlink: string };
export type Snapshot = Map<string, Node>;

/** Every file and symlink under dir (relative paths, sorted). Anything else is an error. */
export function readTree(dir: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out.set(r, { symlink: fs.readlinkSync(p) });
      else if (st.isDirectory()) walk(r);
      else if (st.isFile()) out.set(r, { content: fs.readFileSync(p, "utf8") });
      else throw new Error(`unexpected file type at ${p}`);
    }
  };
  if (fs.existsSync(dir)) walk("");
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function writeSnapshot(dir: string, snap: Snapshot): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, n] of snap) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if ("symlink" in n) fs.symlinkSync(n.symlink, p);
    else fs.writeFileSync(p, n.content);
  }
}

/** Replace every occurrence of the `from` paths (longest first) in a text. */
export function replacePaths(text: string, map: ReadonlyArray<[string, string]>): string {
  let out = text;
  for (const [from, to] of [...map].sort((a, b) => b[0].length - a[0].length)) out = out.split(from).join(to);
  return out;
}

export function mapSnapshot(snap: Snapshot, f: (s: string) => string): Snapshot {
  return new Map([...snap].map(([rel, n]) => [f(rel), "symlink" in n ? { symlink: f(n.symlink) } : { content: f(n.content) }]));
}

/** The generator's stderr with its PID made stable. */
export function normaliseLog(stderr: string): string {
  return stderr.replace(/^containerctl-generator\[\d+\]: /gm, "containerctl-generator[PID]: ");
}

export function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === "1";

/** Golden cases: every directory under test/golden, sorted. */
export function goldenCases(): string[] {
  return fs.readdirSync(GOLDEN).filter((d) => fs.statSync(path.join(GOLDEN, d)).isDirectory()).sort();
}

export interface GoldenRun {
  tmp: string;
  configDir: string;
  outDir: string;
  gen: RunResult;
  /** The generated tree as it is on disk (temporary paths). */
  raw: Snapshot;
  /** The same with host paths (what expected/ holds). */
  tree: Snapshot;
  /** Generator stderr, PID and paths normalised (what expected.err holds). */
  log: string;
  /** `containerctl check` over the config directory, normalised (what expected.check holds). */
  check: string;
}

/** Copy a case's spec/ into a temp dir, run the generator and `containerctl check` on it. */
export function runGoldenCase(name: string): GoldenRun {
  const tmp = tempDir(`containerctl-golden-${name}-`);
  const configDir = path.join(tmp, "config");
  const outDir = path.join(tmp, "out");
  copyDir(path.join(GOLDEN, name, "spec"), configDir);
  const gen = runGenerator(configDir, outDir);
  const map: [string, string][] = [[configDir, HOST_CONFIG_DIR], [outDir, HOST_OUTPUT_DIR]];
  const fix = (s: string): string => replacePaths(s, map);
  const raw = readTree(outDir);
  const c = runCli(["check"], configDir);
  const check = fix(`${c.stdout}${c.stderr}exit status ${c.status}\n`);
  return { tmp, configDir, outDir, gen, raw, tree: mapSnapshot(raw, fix), log: fix(normaliseLog(gen.stderr)), check };
}

/** The three shapes of an error line (generator/spec/errors.ts). */
export const ERROR_LINE = {
  assignment: /^(\/[^:]*):([1-9][0-9]*): \[([A-Z][A-Za-z]*)\] ([A-Za-z][A-Za-z0-9]*): (\S.*)$/,
  line: /^(\/[^:]*):([1-9][0-9]*): ([^[\s].*)$/,
  file: /^(\/[^:]*): ([^[\s].*)$/,
};

/** Which shape a problem line has (after the generator's decorations are removed), or null. */
export function errorShape(line: string): keyof typeof ERROR_LINE | null {
  for (const k of ["assignment", "line", "file"] as const) if (ERROR_LINE[k].test(line)) return k;
  return null;
}
