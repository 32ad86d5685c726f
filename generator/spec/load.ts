// From spec files to a typed ContainerSpec: read (ini-reader), merge
// defaults.conf < NAME.container < NAME.container.d/*.conf (lexical order),
// parse each value with its key's type, apply defaults, then validate
// cross-key rules. buildSpec is pure; loadSpec is the thin reading edge.

import * as fs from "node:fs";
import * as path from "node:path";
import { readIni } from "./ini-reader";
import type { SpecError } from "./errors";
import { KEYS, KEY_BY_NAME, KEY_IDS, SECTIONS, type KeyId, type KeyValue, type KeyDef } from "./keys";
import { checkName } from "./names";
import { ValueError } from "./values";
import { validateSpec } from "./validate";

export interface Origin { file: string; line: number }

export type SpecValues = { [K in KeyId]: KeyValue<K> };

export interface ContainerSpec {
  name: string;
  /** The main spec file. */
  file: string;
  /** Every file read, in merge order. */
  sources: string[];
  values: SpecValues;
  /** Where each key was last set; absent for defaults. */
  origins: Partial<Record<KeyId, Origin>>;
  /** For a repeatable key, where each of its values was set (same order as the list). */
  itemOrigins?: Partial<Record<KeyId, Origin[]>>;
}

export interface SpecFile { path: string; text: string }

export interface LoadResult {
  spec: ContainerSpec | null;
  errors: SpecError[]; // fatal: spec is null when any
  warnings: SpecError[];
}

export const SPEC_SUFFIX = ".container";

export function buildSpec(name: string, mainFile: string, files: readonly SpecFile[]): LoadResult {
  const errors: SpecError[] = [];
  const nameProblem = checkName(name);
  if (nameProblem) errors.push({ file: mainFile, line: 0, message: nameProblem });

  const raw = new Map<KeyId, unknown>();
  const origins: Partial<Record<KeyId, Origin>> = {};
  const itemOrigins: Partial<Record<KeyId, Origin[]>> = {};
  for (const f of files) {
    const { assignments, errors: readErrors } = readIni(f.path, f.text);
    errors.push(...readErrors);
    for (const a of assignments) {
      const id = KEY_BY_NAME.get(a.section)?.get(a.key);
      if (id === undefined) {
        errors.push(unknownKey(a.file, a.line, a.section, a.key));
        continue;
      }
      const def: KeyDef<any> = KEYS[id];
      if (def.list && a.value === "") {
        raw.set(id, []); // systemd semantics: an empty assignment resets a list
        origins[id] = a;
        itemOrigins[id] = [];
        continue;
      }
      if (a.value === "") {
        // ... and any other setting to its default, so a drop-in can undo defaults.conf.
        raw.delete(id);
        delete origins[id];
        continue;
      }
      let value: unknown;
      try {
        value = def.type.parse(a.value);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        // `Key=value  # note` is common in other formats; systemd's syntax has no trailing comments.
        const hint = /\s[#;]/.test(a.value) ? " ('#' and ';' start a comment only at the beginning of a line)" : "";
        errors.push({ file: a.file, line: a.line, section: a.section, key: a.key, message: e.message + hint });
        continue;
      }
      if (!def.list) raw.set(id, value);
      else if (raw.has(id)) (raw.get(id) as unknown[]).push(value);
      else raw.set(id, [value]);
      origins[id] = a; // an Assignment is an Origin: no copy per value
      if (def.list) (itemOrigins[id] ??= []).push(a);
    }
  }
  if (errors.length > 0) return { spec: null, errors, warnings: [] };

  // Start from the constant defaults (one fixed-shape object, copied), then
  // apply what the files set and the defaults derived from the name.
  const values = { ...constantDefaults() } as Record<KeyId, unknown>;
  for (const [id, v] of raw) values[id] = v;
  for (const id of NAME_DEFAULTS) {
    if (raw.has(id)) continue;
    const def: KeyDef<any> = KEYS[id];
    // A default derived from the name can be invalid for its key (container
    // `db_1` is not a valid Hostname=): that spec needs the key set, and only it is skipped.
    try {
      values[id] = def.type.parse((def.default as (name: string) => string)(name));
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      errors.push({ file: mainFile, line: 0, message: `${e.message}: the default ${def.name}= comes from the container name; set ${def.name}= in [${def.section}]` });
    }
  }
  if (errors.length > 0) return { spec: null, errors, warnings: [] };
  const spec: ContainerSpec = {
    name, file: mainFile, sources: files.map((f) => f.path), values: values as SpecValues, origins, itemOrigins,
  };
  const problems = validateSpec(spec);
  const fatal = problems.filter((p) => !p.warning).map(({ warning: _, ...e }) => e);
  const warnings = problems.filter((p) => p.warning).map(({ warning: _, ...e }) => e);
  return fatal.length > 0 ? { spec: null, errors: fatal, warnings } : { spec, errors: [], warnings };
}

const NAME_DEFAULTS = KEY_IDS.filter((id) => typeof KEYS[id].default === "function");
let DEFAULTS: Readonly<Record<KeyId, unknown>> | null = null;
/**
 * Every key's value when a spec does not set it, parsed once per process:
 * unset (undefined), an empty list (frozen: values are never mutated), or the
 * parsed constant default. Name-derived defaults are filled in per spec.
 */
function constantDefaults(): Readonly<Record<KeyId, unknown>> {
  if (DEFAULTS) return DEFAULTS;
  const d = {} as Record<KeyId, unknown>;
  for (const id of KEY_IDS) {
    const def: KeyDef<any> = KEYS[id];
    d[id] = def.list ? Object.freeze([]) : typeof def.default === "string" ? def.type.parse(def.default) : undefined;
  }
  return (DEFAULTS = d);
}

function unknownKey(file: string, line: number, section: string, key: string): SpecError {
  if (!(SECTIONS as readonly string[]).includes(section)) {
    const s = closest(section, SECTIONS);
    return { file, line, message: `unknown section [${section}]${s ? ` (did you mean [${s}]?)` : ""}` };
  }
  const elsewhere = KEY_IDS.find((id) => KEYS[id].name === key);
  if (elsewhere) return { file, line, section, key, message: `unknown key here; ${key}= belongs in [${KEYS[elsewhere].section}]` };
  const names = [...(KEY_BY_NAME.get(section)?.keys() ?? [])];
  const best = closest(key, names);
  return { file, line, section, key, message: `unknown key${best ? ` (did you mean '${best}'?)` : ""}` };
}

function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = levenshtein(w, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function levenshtein(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

// ---- reading edge ----

export function specPath(configDir: string, name: string): string {
  return path.join(configDir, name + SPEC_SUFFIX);
}

/**
 * What a config directory holds, read once: the generator loads every spec
 * from one listing instead of probing for defaults and drop-ins per container.
 */
export interface ConfigDir {
  dir: string;
  entries: ReadonlySet<string>;
  defaults: SpecFile | null;
  /** defaults.conf exists but cannot be read: every spec reports it (it would change them all). */
  defaultsError?: NodeJS.ErrnoException;
}

/** readFileSync, with the path on the error (EISDIR errors carry none). */
function readText(p: string): string {
  try {
    return fs.readFileSync(p, "utf8");
  } catch (e) {
    (e as NodeJS.ErrnoException).path ??= p;
    throw e;
  }
}

export function readConfigDir(dir: string): ConfigDir {
  let list: string[];
  try {
    list = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { dir, entries: new Set(), defaults: null };
    throw e;
  }
  const entries = new Set(list);
  const dp = path.join(dir, "defaults.conf");
  if (!entries.has("defaults.conf")) return { dir, entries, defaults: null };
  try {
    return { dir, entries, defaults: { path: dp, text: readText(dp) } };
  } catch (e) {
    return { dir, entries, defaults: null, defaultsError: e as NodeJS.ErrnoException };
  }
}

/** The files making up container `name`, in merge order. Missing optional files are skipped. */
export function readSpecFiles(cfg: ConfigDir, name: string, mainFile = specPath(cfg.dir, name)): SpecFile[] {
  const files: SpecFile[] = [];
  const main = readText(mainFile); // a missing main file is the caller's error
  if (cfg.defaultsError) throw cfg.defaultsError;
  if (cfg.defaults) files.push(cfg.defaults);
  files.push({ path: mainFile, text: main });
  const dropDir = mainFile + ".d";
  const inDir = path.dirname(mainFile) === cfg.dir;
  if (inDir && !cfg.entries.has(path.basename(dropDir))) return files;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dropDir).filter((f) => f.endsWith(".conf")).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" && (e as NodeJS.ErrnoException).code !== "ENOTDIR") throw e;
  }
  for (const f of entries) files.push({ path: path.join(dropDir, f), text: readText(path.join(dropDir, f)) });
  return files;
}

/** Names of every spec in configDir, sorted. */
export function listSpecNames(cfg: ConfigDir): string[] {
  return [...cfg.entries].filter((f) => f.endsWith(SPEC_SUFFIX) && f.length > SPEC_SUFFIX.length).map((f) => f.slice(0, -SPEC_SUFFIX.length)).sort();
}

/** Load one container: never throws for bad content; I/O problems become errors too. */
export function loadSpec(cfg: ConfigDir | string, name: string, mainFile?: string): LoadResult {
  const dir = typeof cfg === "string" ? readConfigDir(cfg) : cfg;
  mainFile ??= specPath(dir.dir, name);
  let files: SpecFile[];
  try {
    files = readSpecFiles(dir, name, mainFile);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const file = err.path ?? mainFile;
    const whose = file === mainFile ? "" : ` (read for container '${name}')`;
    return { spec: null, errors: [{ file, line: 0, message: `cannot read: ${err.code ?? err.message}${whose}` }], warnings: [] };
  }
  return buildSpec(name, mainFile, files);
}

