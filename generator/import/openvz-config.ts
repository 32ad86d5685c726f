// Reading OpenVZ configuration: /etc/vz/vz.conf and /etc/vz/conf/CTID.conf,
// by the rules of vzctl's own parser (vzctl 3.0.24 and 4.x, src/lib/config.c
// parse_line() and vz.conf(5), ctid.conf(5)); see ../shared/docs/openvz.md.
//
//   - one `KEY=value` a line; leading/trailing white space ignored; a line
//     whose first non-blank character is `#` is a comment; blank lines skipped
//   - keys are case-sensitive; the last assignment of a key wins
//   - the value may be wrapped in double quotes; `\` escapes the next character
//   - vz.conf gives defaults; CTID.conf overrides them per container
//   - `$VEID` and `${VEID}` are substituted in VE_ROOT and VE_PRIVATE, and a
//     trailing `/` is stripped
//
// Why not the `ini` package (DESIGN.md measured its limits; checked here too,
// test/import/openvz-config.test.ts compares both on the shared samples): it is
// faithful for the plain `KEY="value"` lines those samples are made of, but
//   - it keeps no line numbers, and every message here is `file:line: PARAM: …`
//   - an unquoted `;` or `#` ends the value (NETIF separates devices with `;`,
//     vzctl keeps `#` inside a value)
//   - `true`/`false`/`null` become JS values; quoted values go through
//     JSON.parse, so `\n` inside quotes becomes a real newline (vzctl: `n`)
//   - a `[...]` line opens a section (vzctl: an ignored line), `__proto__` is
//     silently dropped, and an unterminated quote is kept as part of the value.
// So the reader below is ~60 lines of vzctl's rules, and `ini` is only the
// oracle for the subset where both must agree.

export interface VzParam {
  key: string;
  /** The value after unquoting and unescaping (and $VEID substitution). */
  value: string;
  /** The text after `=` as written, for reports. */
  raw: string;
  file: string;
  line: number;
  /** Earlier assignments this one replaces (same file, or vz.conf's default): `name.conf:line`. */
  replaces?: string[];
}

export interface VzProblem {
  file: string;
  line: number; // 0: the file as a whole
  key?: string;
  message: string;
}

export interface VzFile {
  file: string;
  /** Last assignment of each key, in order of first appearance. */
  params: Map<string, VzParam>;
  /** Lines vzctl would ignore or misread; the key's value is unusable when `key` is set. */
  problems: VzProblem[];
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const basename = (f: string): string => f.slice(f.lastIndexOf("/") + 1);

export function parseVzConfig(file: string, text: string): VzFile {
  const params = new Map<string, VzParam>();
  const problems: VzProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = eq < 0 ? "" : line.slice(0, eq);
    if (eq < 0 || !KEY_RE.test(key)) {
      // vzctl skips such lines; say so, since the user may have meant something.
      const shown = key.trim();
      const message = eq < 0
        ? "not KEY=value; vzctl ignores this line"
        : KEY_RE.test(shown) ? `white space around '='; vzctl ignores this line` : "bad parameter name; vzctl ignores this line";
      problems.push({ file, line: lineNo, message });
      continue;
    }
    const raw = line.slice(eq + 1);
    const prev = params.get(key);
    if (prev) params.delete(key); // keep order of the effective (last) assignment
    const replaces = prev ? [...(prev.replaces ?? []), `${basename(file)}:${prev.line}`] : undefined;
    const value = unquote(raw);
    if (typeof value !== "string") {
      problems.push({ file, line: lineNo, key, message: value.error });
      params.set(key, { key, value: "", raw, file, line: lineNo, replaces });
      continue;
    }
    params.set(key, { key, value, raw, file, line: lineNo, replaces });
  }
  return { file, params, problems };
}

/**
 * vzctl's value rules, made strict where vzctl would silently keep garbage: a
 * value opened with `"` must close with `"` at the end of the line (a quoted
 * value spanning lines is a shell-ism vzctl reads as two broken lines).
 */
export function unquote(raw: string): string | { error: string } {
  const s = raw.trim();
  if (s.startsWith('"')) {
    if (s.length < 2 || !s.endsWith('"') || s.endsWith('\\"') && !s.endsWith('\\\\"')) {
      return { error: "unterminated quote (a value must open and close its quotes on one line)" };
    }
    return unescape(s.slice(1, -1));
  }
  if (s.startsWith("'")) {
    // Not vzctl syntax, but the files are also sourced by shell scripts; take
    // the shell's meaning: literal text, no escapes.
    if (s.length < 2 || !s.endsWith("'") || s.slice(1, -1).includes("'")) return { error: "unterminated quote" };
    return s.slice(1, -1);
  }
  return unescape(s);
}

function unescape(s: string): string | { error: string } {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\\") out += s[i];
    else if (i + 1 < s.length) out += s[++i];
    else return { error: "value ends with a backslash" };
  }
  return out;
}

/** The keys in which vzctl substitutes the container ID. */
const VEID_KEYS = new Set(["VE_ROOT", "VE_PRIVATE"]);

export function substituteVeid(key: string, value: string, ctid: string): string {
  if (!VEID_KEYS.has(key)) return value;
  const v = value.replace(/\$\{VEID\}|\$VEID(?![A-Za-z0-9_])/g, ctid);
  return v.length > 1 ? v.replace(/\/+$/, "") : v;
}

/**
 * vz.conf parameters that configure the host or `vzctl create`, not a
 * running container; they are not container defaults and are reported once
 * for the host. Everything else in vz.conf is a default for every container.
 */
export const HOST_ONLY: Readonly<Record<string, string>> = {
  VIRTUOZZO: "enables OpenVZ on the host",
  LOCKDIR: "vzctl's lock directory",
  DUMPDIR: "checkpoint dump directory",
  VE0CPUUNITS: "CPU weight of the host itself",
  LOGGING: "vzctl's log", LOGFILE: "vzctl's log", LOG_LEVEL: "vzctl's log", VERBOSE: "vzctl's verbosity",
  VZFASTBOOT: "OpenVZ boot-time quota check",
  MODULES_DISABLED: "OpenVZ kernel modules",
  VE_ROUTE_SRC_DEV: "venet source address device (no venet here)",
  NEIGHBOUR_DEVS: "venet proxy-ARP devices (no venet here)",
  ERROR_ON_ARPFAIL: "venet ARP check (no venet here)",
  TEMPLATE: "OS template directory used by vzctl create",
  CONFIGFILE: "sample config used by vzctl create",
  DEF_OSTEMPLATE: "template used by vzctl create",
  VE_LAYOUT: "layout of newly created containers",
  VZWDOG: "OpenVZ watchdog module",
  IPV6: "OpenVZ IPv6 module switch",
  IP6TABLES: "OpenVZ ip6tables module list",
  VE_PARALLEL: "how many containers OpenVZ starts at once (containerctl: systemd's ordering; see Order=, Delay=)",
  VE_STOP_MODE: "OpenVZ init script's stop/suspend choice at host shutdown",
  TRAFFIC_SHAPING: "host switch for RATE/TOTALRATE (read when mapping RATE)",
  BANDWIDTH: "host traffic shaping devices", TOTALRATE: "host traffic shaping total rate",
  LOCAL_UID: "host-wide default for second-level quota", LOCAL_GID: "host-wide default for second-level quota",
  GOOD_PVT_DIR: "vzctl's private-area check",
  REMOVEMIGRATED: "vzmigrate option", USE_ATI: "vzmigrate option",
  SKIP_SYSCTL_SETUP: "OpenVZ init script sysctl setup",
  SKIP_ARPDETECT: "venet ARP detection (no venet here)",
};

// ---- one container's effective configuration ----

export interface VzContainerConfig {
  ctid: string;
  confFile: string;
  /** Effective parameters: vz.conf defaults overridden by CTID.conf, $VEID substituted. */
  params: Map<string, VzParam>;
  /** Problems in either file that touch this container. */
  problems: VzProblem[];
}

export function mergeContainer(ctid: string, global: VzFile | null, own: VzFile): VzContainerConfig {
  const params = new Map<string, VzParam>();
  const problems: VzProblem[] = [];
  if (global) {
    for (const p of global.params.values()) if (!(p.key in HOST_ONLY)) params.set(p.key, p);
    // A broken vz.conf line matters only when this container takes its value from there.
    for (const pr of global.problems) if (pr.key !== undefined && !(pr.key in HOST_ONLY) && !own.params.has(pr.key)) problems.push(pr);
  }
  for (const p of own.params.values()) {
    const def = params.get(p.key);
    params.delete(p.key);
    params.set(p.key, def ? { ...p, replaces: [...(def.replaces ?? []), `${basename(def.file)}:${def.line}`, ...(p.replaces ?? [])] } : p);
  }
  problems.push(...own.problems);
  for (const [k, p] of params) params.set(k, { ...p, value: substituteVeid(k, p.value, ctid) });
  return { ctid, confFile: own.file, params, problems };
}

export const CTID_RE = /^[0-9]{1,10}$/;
