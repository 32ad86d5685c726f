// OpenVZ parameters → spec keys, for one container. Pure: the caller reads the
// files (openvz-config.ts) and the host's resolv.conf and checks the private
// area; this module returns the spec as text plus a report that accounts for
// every parameter: mapped (to which Key=value), approximated (how) or dropped
// (why). Values reach the spec only through the key table's own value types
// (parse, then format), and the rendered text goes through buildSpec, the
// validator of hand-written specs, before anyone may write it.
//
// The rules live in openvz-rules.ts; each names the OpenVZ parameters it reads
// and the keys it may set, and test/import/openvz-table.test.ts checks them
// against the key table's `openvz` column in both directions.

import { buildSpec, type SpecFile } from "../spec/load";
import { formatSpecError } from "../spec/errors";
import { KEYS, KEY_IDS, SECTIONS, type KeyDef, type KeyId } from "../spec/keys";
import { ValueError } from "../spec/values";
import type { VzContainerConfig, VzParam } from "./openvz-config";
import { VzValueError } from "./openvz-values";

export type Status = "mapped" | "approximated" | "dropped";

export interface ReportEntry {
  param: string;
  /** The value read (unquoted, $VEID substituted); null when the parameter is unset. */
  value: string | null;
  origin: { file: string; line: number } | null;
  status: Status;
  /** Spec assignments this parameter produced, `Key=value`. */
  result: string[];
  /** How it was approximated, why it was dropped, or what to know. */
  note: string;
  /** True when a person should read this line: behaviour changes or is lost. */
  attention: boolean;
}

export interface MapContext {
  ctid: string;
  name: string;
  inPlace: boolean;
  /** With --copy: the RootDirectory VE_PRIVATE is copied to (verified before the spec is written). */
  copyTo?: string;
  /** The host's resolv.conf, for NAMESERVER/SEARCHDOMAIN=inherit. */
  hostResolv: { file: string; text: string } | { file: string; error: string };
  /** vz.conf's host-only parameters (TRAFFIC_SHAPING decides whether RATE applied). */
  hostParams: ReadonlyMap<string, VzParam>;
  /** Result of checking VE_PRIVATE on disk (only when inPlace). */
  privateArea?: { ok: true } | { ok: false; message: string };
}

export interface MapError { file: string; line: number; param?: string; message: string }

export interface MapResult {
  values: Map<KeyId, unknown[]>;
  entries: ReportEntry[];
  errors: MapError[];
}

export function formatMapError(e: MapError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}` : e.file;
  return `${where}: ${e.param !== undefined ? `${e.param}: ` : ""}${e.message}`;
}

/** Thrown inside a rule for a value it cannot use; becomes a per-container error. */
export class MapValueError extends Error {
  constructor(message: string, readonly param?: string) {
    super(message);
  }
}

/** What a rule sees. */
export class RuleContext {
  readonly values = new Map<KeyId, unknown[]>();
  readonly entries: ReportEntry[] = [];
  readonly errors: MapError[] = [];
  readonly claimed = new Set<string>();

  constructor(readonly config: VzContainerConfig, readonly ctx: MapContext, private allowed: readonly KeyId[] = []) {}

  withKeys(keys: readonly KeyId[]): this {
    this.allowed = keys;
    return this;
  }

  get(param: string): VzParam | undefined {
    return this.config.params.get(param);
  }

  /**
   * Set a key from spec syntax, through its value type. Returns the `Key=value`
   * line for the report. A value the type refuses throws MapValueError.
   */
  set(id: KeyId, specText: string, from?: VzParam): string {
    if (!this.allowed.includes(id)) throw new Error(`rule sets ${id}, which it does not declare`);
    const def: KeyDef<any> = KEYS[id];
    let v: unknown;
    try {
      v = def.type.parse(specText);
    } catch (e) {
      if (e instanceof ValueError) throw new MapValueError(`as ${def.name}=: ${e.message}`, from?.key);
      throw e;
    }
    const prev = this.values.get(id) ?? [];
    this.values.set(id, def.list ? [...prev, v] : [v]);
    return `${def.name}=${def.type.format(v)}`;
  }

  /** Parse a parameter's value; a refusal names the parameter. */
  parse<T>(p: VzParam, fn: (value: string) => T): T {
    try {
      return fn(p.value);
    } catch (e) {
      if (e instanceof VzValueError || e instanceof MapValueError) throw new MapValueError(e.message, p.key);
      throw e;
    }
  }

  has(id: KeyId): boolean {
    return this.values.has(id);
  }

  /** Account for a parameter (set or, with value null, unset). */
  report(param: string, status: Status, result: string[], note: string, attention = status !== "mapped"): void {
    this.claimed.add(param);
    const p = this.get(param);
    // Earlier assignments are accounted for here: the last one wins, as in vzctl.
    const replaced = p?.replaces?.length ? `replaces ${p.replaces.join(", ")}` : "";
    this.entries.push({
      param, value: p ? p.value : null, origin: p ? { file: p.file, line: p.line } : null,
      status, result, note: [note, replaced].filter(Boolean).join("; "), attention,
    });
  }

  error(param: string, message: string): void {
    this.claimed.add(param);
    const p = this.get(param);
    this.errors.push({ file: p?.file ?? this.config.confFile, line: p?.line ?? 0, param, message });
  }
}

export interface Rule {
  /** OpenVZ parameters this rule accounts for (it must report each one that is set). */
  params: readonly string[];
  /** Keys it may set. */
  keys: readonly KeyId[];
  map(cx: RuleContext): void;
}

/** RootDirectory= when the spec does not set it: the key table's default. */
export function defaultRoot(name: string): string {
  const d: KeyDef<any>["default"] = KEYS.root.default;
  return typeof d === "function" ? d(name) : d ?? "";
}

/** Run the rules, then account for every parameter no rule claimed. */
export function mapContainer(
  config: VzContainerConfig, ctx: MapContext, rules: readonly Rule[],
  unclaimed: (cx: RuleContext, p: VzParam) => void,
): MapResult {
  const cx = new RuleContext(config, ctx);
  for (const pr of config.problems) {
    if (pr.key !== undefined) {
      cx.errors.push({ file: pr.file, line: pr.line, param: pr.key, message: pr.message });
      cx.claimed.add(pr.key);
    }
  }
  const broken = new Set(cx.claimed);
  for (const rule of rules) {
    if (rule.params.some((p) => broken.has(p))) continue; // already an error; do not guess around it
    cx.withKeys(rule.keys);
    try {
      rule.map(cx);
    } catch (e) {
      if (!(e instanceof MapValueError || e instanceof VzValueError)) throw e;
      // Else the rule's first set parameter is where the user has to look.
      const p = (e instanceof MapValueError ? e.param : undefined) ?? rule.params.find((x) => cx.get(x)) ?? rule.params[0];
      cx.error(p, e.message);
      for (const x of rule.params) cx.claimed.add(x);
    }
  }
  for (const p of config.params.values()) if (!cx.claimed.has(p.key)) unclaimed(cx, p);
  // Lines vzctl ignores: not a parameter, but the user may have meant one.
  for (const pr of config.problems) {
    if (pr.key === undefined) {
      cx.entries.push({ param: "(line)", value: null, origin: { file: pr.file, line: pr.line }, status: "dropped", result: [], note: pr.message, attention: true });
    }
  }
  const errors = [...cx.errors].sort((x, y) => (x.file === y.file ? 0 : x.file === config.confFile ? 1 : -1) || x.line - y.line);
  return { values: cx.values, entries: sortEntries(cx.entries, config), errors };
}

/** File order: vz.conf defaults first, then the container's file, by line; unset parameters last. */
function sortEntries(entries: ReportEntry[], config: VzContainerConfig): ReportEntry[] {
  const rank = (e: ReportEntry): number =>
    e.origin === null ? 3e9 : (e.origin.file === config.confFile ? 1e9 : 0) + e.origin.line;
  return entries.map((e, i) => [e, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([e]) => e);
}

// ---- rendering and validation ----

export const IMPORT_MARKER = "# containerctl import openvz: CTID ";

/** Spec text in key-table order, each value through its type's `format`. */
export function renderSpec(ctid: string, source: string, values: ReadonlyMap<KeyId, unknown[]>): string {
  const out = [
    `${IMPORT_MARKER}${ctid} from ${visible(source)}`,
    `# What became of each OpenVZ parameter: containerctl import openvz --dry-run ${ctid}`,
  ];
  for (const section of SECTIONS) {
    const lines: string[] = [];
    for (const id of KEY_IDS) {
      const def: KeyDef<any> = KEYS[id];
      if (def.section !== section) continue;
      for (const v of values.get(id) ?? []) lines.push(`${def.name}=${def.type.format(v)}`);
    }
    if (lines.length) out.push("", `[${section}]`, ...lines);
  }
  return out.join("\n") + "\n";
}

/** Which CTID an existing spec was imported from, if it was. */
export function importedFrom(specText: string): string | null {
  const first = specText.split("\n", 1)[0];
  const m = /^# containerctl import openvz: CTID ([0-9]+) from /.exec(first);
  return m ? m[1] : null;
}

function visible(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Validate rendered text exactly as a hand-written spec, and check that it
 * reads back to the values that were meant: a value that smuggled in a line
 * of its own would show up as a key nobody set.
 */
export function validateRendered(
  name: string, file: string, text: string, values: ReadonlyMap<KeyId, unknown[]>, defaults?: SpecFile,
): string[] {
  // As the generator will load it: the config directory's defaults.conf first.
  if (defaults) {
    const merged = buildSpec(name, file, [defaults, { path: file, text }]);
    if (!merged.spec) return merged.errors.map(formatSpecError);
  }
  const r = buildSpec(name, file, [{ path: file, text }]);
  if (!r.spec) return r.errors.map(formatSpecError);
  const problems: string[] = [];
  const setKeys = Object.keys(r.spec.origins) as KeyId[];
  for (const id of setKeys) if (!values.has(id)) problems.push(`${file}: ${KEYS[id].name}: set by the rendered text but by no parameter`);
  for (const [id, vs] of values) {
    const def: KeyDef<any> = KEYS[id];
    const back = r.spec.values[id];
    const want = vs.map((v) => def.type.format(v)).join("\n");
    const got = (def.list ? (back as unknown[]) : [back]).map((v) => def.type.format(v)).join("\n");
    if (want !== got) problems.push(`${file}: ${def.name}: reads back as '${visible(got)}', not '${visible(want)}'`);
  }
  return problems;
}
