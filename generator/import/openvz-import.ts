// `containerctl import openvz`, as data: read the vz tree, choose names, map
// each container, render and validate its spec, and decide what writing would
// do. planImport only reads (the vz tree, the host's resolv.conf, the config
// directory); applyImport is the thin writer. Nothing here ever writes under
// the vz tree or the private areas (DESIGN.md principle 3).

import * as fs from "node:fs";
import * as path from "node:path";
import { specPath, type SpecFile } from "../spec/load";
import { CTID_RE, HOST_ONLY, mergeContainer, parseVzConfig, type VzContainerConfig, type VzFile } from "./openvz-config";
import { formatMapError, importedFrom, mapContainer, renderSpec, validateRendered, type MapContext, type ReportEntry } from "./openvz-map";
import { preferredName, resolveNames, type NameChoice } from "./openvz-names";
import { dropUnclaimed, RULES } from "./openvz-rules";
import { writeFileAtomic } from "./write";
import { copyVerified } from "./copy";
import { containerPaths, defaultPaths } from "../create/paths";
import { makeReporter, type Reporter } from "../create/progress";

export interface ImportOptions {
  /** The OpenVZ configuration directory (vz.conf, conf/); default /etc/vz. */
  vzRoot: string;
  /** Where specs go (the CLI's --config-dir). */
  configDir: string;
  /** CTIDs or NAME= aliases, or every container. */
  select: readonly string[] | "all";
  /** RootDirectory = VE_PRIVATE, used as it is. */
  inPlace: boolean;
  /** Copy VE_PRIVATE to the spec's RootDirectory (verified) before writing the spec. */
  copy?: boolean;
  /** With copy: the directory that gets NAME/rootfs (default: create's, /var/lib/containerctl or $CONTAINERCTL_LIB_DIR). */
  libDir?: string;
  /** Replace a spec imported earlier whose content differs. */
  force: boolean;
}

/** What happens (or happened) to a container's spec file. */
export type Action = "create" | "overwrite" | "unchanged" | "exists" | "failed";

export interface ContainerImport {
  ctid: string;
  name: string | null;
  confFile: string;
  specFile: string | null;
  specText: string | null;
  action: Action;
  /** How the name was chosen, and collisions. */
  nameNotes: string[];
  entries: ReportEntry[];
  /** `file:line: PARAM: message`; the spec is not written when any. */
  errors: string[];
  attention: boolean;
  /** With --copy: VE_PRIVATE and the RootDirectory it is copied to. */
  copy?: { from: string; to: string };
}

export interface ImportPlan {
  vzRoot: string;
  configDir: string;
  /** vz.conf's host-wide parameters and scripts: not imported, listed once. */
  host: ReportEntry[];
  containers: ContainerImport[];
  /** Problems that stop the whole import (unreadable vz tree, bad selection). */
  errors: string[];
}

const SCRIPTS = ["mount", "umount", "start", "stop", "premount", "postumount"];

function readText(file: string): { text: string } | { error: string } {
  try {
    return { text: fs.readFileSync(file, "utf8") };
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

export function planImport(opts: ImportOptions): ImportPlan {
  const vzRoot = path.resolve(opts.vzRoot);
  const plan: ImportPlan = { vzRoot, configDir: opts.configDir, host: [], containers: [], errors: [] };
  const confDir = path.join(vzRoot, "conf");
  const configDir = path.resolve(opts.configDir);
  if (configDir === vzRoot || configDir.startsWith(vzRoot + path.sep)) {
    plan.errors.push(`the config directory ${configDir} is inside the vz tree ${vzRoot}: the importer never writes there`);
    return plan;
  }

  // vz.conf: global defaults. Missing is allowed (a copied tree may lack it).
  const vzConfFile = path.join(vzRoot, "vz.conf");
  const g = readText(vzConfFile);
  let global: VzFile | null = null;
  if ("text" in g) {
    global = parseVzConfig(vzConfFile, g.text);
    for (const p of global.params.values()) {
      if (p.key in HOST_ONLY) plan.host.push({ param: p.key, value: p.value, origin: { file: p.file, line: p.line }, status: "dropped", result: [], note: `host setting: ${HOST_ONLY[p.key]}`, attention: false });
    }
    for (const pr of global.problems) if (pr.key === undefined) plan.host.push({ param: "(line)", value: null, origin: { file: pr.file, line: pr.line }, status: "dropped", result: [], note: pr.message, attention: true });
  } else if (g.error === "ENOENT") {
    plan.host.push({ param: "vz.conf", value: null, origin: null, status: "dropped", result: [], note: `${vzConfFile} does not exist: no global defaults`, attention: true });
  } else {
    plan.errors.push(`${vzConfFile}: cannot read: ${g.error}`);
    return plan;
  }

  let confNames: string[];
  try {
    confNames = fs.readdirSync(confDir).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    plan.errors.push(code === "ENOENT"
      ? `${confDir} does not exist: no OpenVZ containers here (--vz-root DIR names a copied /etc/vz)`
      : `${confDir}: cannot read: ${code ?? (e as Error).message}`);
    return plan;
  }
  for (const s of ["mount", "umount"]) {
    if (confNames.includes(`vps.${s}`)) plan.host.push({ param: `vps.${s}`, value: null, origin: { file: path.join(confDir, `vps.${s}`), line: 0 }, status: "dropped", result: [], note: "global action script: containerctl does not run it; review what it did", attention: true });
  }
  const allCtids = confNames.map((f) => /^([0-9]+)\.conf$/.exec(f)?.[1]).filter((c): c is string => c !== undefined && c !== "0")
    .sort((a, b) => Number(a) - Number(b));

  // Read every selected container's files.
  const configs = new Map<string, VzContainerConfig>();
  const failed = new Map<string, ContainerImport>();
  const fail = (ctid: string, confFile: string, errors: string[]): void => {
    failed.set(ctid, { ctid, name: null, confFile, specFile: null, specText: null, action: "failed", nameNotes: [], entries: [], errors, attention: true });
  };
  const load = (ctid: string): VzContainerConfig | null => {
    const file = path.join(confDir, `${ctid}.conf`);
    const r = readText(file);
    if ("error" in r) {
      fail(ctid, file, [`${file}: cannot read: ${r.error}`]);
      return null;
    }
    return mergeContainer(ctid, global, parseVzConfig(file, r.text));
  };
  let wanted: string[];
  if (opts.select === "all") wanted = allCtids;
  else {
    wanted = [];
    let byName: Map<string, string> | null = null;
    for (const sel of opts.select) {
      if (sel === "0") plan.errors.push("CTID 0 is the OpenVZ host itself, not a container");
      else if (CTID_RE.test(sel)) wanted.push(String(Number(sel)));
      else {
        // A NAME= alias, as vzctl accepts.
        byName ??= new Map(allCtids.flatMap((c) => {
          const cfg = configs.get(c) ?? load(c);
          if (cfg) configs.set(c, cfg);
          const n = cfg?.params.get("NAME")?.value;
          return n ? [[n, c] as [string, string]] : [];
        }));
        const c = byName.get(sel);
        if (c) wanted.push(c);
        else plan.errors.push(`'${sel.replace(/[^\x20-\x7e]/g, "?")}' is neither a CTID nor the NAME of a container in ${confDir}`);
      }
    }
    wanted = [...new Set(wanted)];
  }
  for (const c of wanted) if (!configs.has(c) && !failed.has(c)) {
    const cfg = load(c);
    if (cfg) configs.set(c, cfg);
  }

  // Names, then collisions against each other and the config directory.
  const pref = new Map<string, NameChoice>();
  for (const c of wanted) {
    const cfg = configs.get(c);
    // A parameter whose line is broken does not name anything.
    const usable = (k: string) => (cfg!.problems.some((p) => p.key === k) ? undefined : cfg!.params.get(k)?.value);
    if (cfg) pref.set(c, preferredName(c, usable("NAME"), usable("HOSTNAME")));
  }
  const names = resolveNames(pref, (n) => {
    const r = readText(specPath(opts.configDir, n));
    if ("error" in r) return r.error === "ENOENT" ? null : "other";
    return importedFrom(r.text) ?? "other";
  });

  const defaultsFile = path.join(opts.configDir, "defaults.conf");
  const dr = readText(defaultsFile);
  const defaults = "text" in dr ? { path: defaultsFile, text: dr.text } : undefined;

  const hostResolv = readHostResolv(vzRoot);

  for (const ctid of wanted) {
    const f = failed.get(ctid);
    if (f) {
      plan.containers.push(f);
      continue;
    }
    const cfg = configs.get(ctid)!;
    plan.containers.push(importOne(cfg, names.get(ctid)!, { global, defaults, hostResolv, opts, confNames, vzRoot }));
  }
  return plan;
}

/**
 * The resolv.conf NAMESERVER/SEARCHDOMAIN=inherit copy: the one beside the vz
 * directory (/etc/resolv.conf for /etc/vz; the copied tree's own for a copy),
 * else, for a copied tree without one, this host's /etc/resolv.conf.
 */
function readHostResolv(vzRoot: string): MapContext["hostResolv"] {
  const beside = path.join(path.dirname(vzRoot), "resolv.conf");
  const r = readText(beside);
  if ("text" in r) return { file: beside, text: r.text };
  if (r.error === "ENOENT" && beside !== "/etc/resolv.conf") {
    const own = readText("/etc/resolv.conf");
    if ("text" in own) return { file: `/etc/resolv.conf (this host's; ${beside} does not exist)`, text: own.text };
  }
  return { file: beside, error: r.error };
}

interface Shared {
  global: VzFile | null;
  /** The config directory's defaults.conf, merged under every spec by the generator. */
  defaults?: SpecFile;
  hostResolv: MapContext["hostResolv"];
  opts: ImportOptions;
  confNames: string[];
  vzRoot: string;
}

function importOne(cfg: VzContainerConfig, choice: NameChoice, sh: Shared): ContainerImport {
  const base: ContainerImport = {
    ctid: cfg.ctid, name: choice.name || null, confFile: cfg.confFile, specFile: null, specText: null,
    action: "failed", nameNotes: choice.notes, entries: [], errors: [], attention: true,
  };
  if (!choice.name) {
    base.errors.push(`${cfg.confFile}: no free name: ${choice.notes.join("; ")}`);
    return base;
  }
  const ctx: MapContext = {
    ctid: cfg.ctid, name: choice.name, inPlace: sh.opts.inPlace, hostResolv: sh.hostResolv,
    hostParams: sh.global?.params ?? new Map(),
  };
  if (sh.opts.copy) ctx.copyTo = containerPaths({ ...defaultPaths(sh.opts.configDir), ...(sh.opts.libDir ? { libDir: path.resolve(sh.opts.libDir) } : {}) }, choice.name).rootfs;
  if (sh.opts.inPlace) ctx.privateArea = checkPrivateArea(cfg);
  const m = mapContainer(cfg, ctx, RULES, dropUnclaimed);
  for (const s of SCRIPTS) {
    if (sh.confNames.includes(`${cfg.ctid}.${s}`)) {
      m.entries.push({ param: `${cfg.ctid}.${s}`, value: null, origin: { file: path.join(path.dirname(cfg.confFile), `${cfg.ctid}.${s}`), line: 0 }, status: "dropped", result: [], note: "action script: containerctl does not run it; review what it did", attention: true });
    }
  }
  base.entries = m.entries;
  if (m.errors.length > 0) {
    base.errors = m.errors.map(formatMapError);
    return base;
  }
  const specFile = specPath(sh.opts.configDir, choice.name);
  const text = renderSpec(cfg.ctid, cfg.confFile, m.values);
  const problems = validateRendered(choice.name, specFile, text, m.values, sh.defaults);
  if (problems.length > 0) {
    base.errors = problems;
    return base;
  }
  if (sh.opts.copy) {
    const pa = checkPrivateArea(cfg);
    if (!pa.ok) {
      base.errors = [`${cfg.confFile}: VE_PRIVATE: ${pa.message}`];
      return base;
    }
    const from = cfg.params.get("VE_PRIVATE")!.value;
    const to = ctx.copyTo!;
    const within = (a: string, b: string): boolean => a === b || a.startsWith(b + path.sep);
    for (const [src, what] of [[from, "the private area"], [sh.vzRoot, "the vz tree"]] as const) {
      if (within(to, path.resolve(src)) || within(path.resolve(src), to)) {
        base.errors = [`${cfg.confFile}: --copy: ${to} is inside ${what} ${src} (or holds it): the importer never writes there`];
        return base;
      }
    }
    base.copy = { from, to };
  }
  base.specFile = specFile;
  base.specText = text;
  const existing = readText(specFile);
  if ("error" in existing) base.action = "create";
  else if (existing.text === text) base.action = "unchanged";
  else base.action = sh.opts.force ? "overwrite" : "exists";
  base.attention = base.action === "exists" || choice.notes.some((n) => n.startsWith("renamed") || n.startsWith("NAME:"))
    || m.entries.some((e) => e.attention);
  return base;
}

/** --in-place needs a plain directory (layout simfs); ploop is refused whole. */
function checkPrivateArea(cfg: VzContainerConfig): { ok: true } | { ok: false; message: string } {
  const priv = cfg.params.get("VE_PRIVATE")?.value;
  if (!priv) return { ok: false, message: "VE_PRIVATE is not set" };
  const ploop = "the ploop layout (an image, root.hdd) cannot be used in place or imported: convert the container to simfs with OpenVZ's tools first (or mount it with `vzctl mount` and copy VE_ROOT to a directory), then import again";
  if (cfg.params.get("VE_LAYOUT")?.value === "ploop") return { ok: false, message: `VE_LAYOUT=ploop: ${ploop}` };
  let st: fs.Stats;
  try {
    st = fs.statSync(priv);
  } catch (e) {
    return { ok: false, message: `private area ${priv} cannot be used: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (!st.isDirectory()) return { ok: false, message: `private area ${priv} is not a directory` };
  if (fs.existsSync(path.join(priv, "root.hdd"))) return { ok: false, message: `${priv} holds root.hdd: ${ploop}` };
  if (!fs.existsSync(path.join(priv, "etc")) && !fs.existsSync(path.join(priv, "sbin"))) {
    return { ok: false, message: `private area ${priv} has neither etc/ nor sbin/: not a root filesystem` };
  }
  return { ok: true };
}

/**
 * Write what the plan says (never with dryRun). Returns the plan with the
 * outcome of each write. `reporter` shows a copy's progress (default: a bar
 * on stderr when it is a terminal, plain lines otherwise).
 */
export async function applyImport(plan: ImportPlan, reporter: (name: string) => Reporter = (n) => makeReporter(n)): Promise<ImportPlan> {
  for (const c of plan.containers) {
    if (c.action !== "create" && c.action !== "overwrite") continue;
    try {
      // The root filesystem first: a spec is written only for a verified copy.
      if (c.copy) await copyVerified(c.copy.from, c.copy.to, reporter(c.name!));
    } catch (e) {
      c.errors.push(`${c.confFile}: --copy: ${(e as Error).message}`);
      c.action = "failed";
      c.attention = true;
      continue;
    }
    try {
      fs.mkdirSync(plan.configDir, { recursive: true, mode: 0o755 });
      writeFileAtomic(c.specFile!, c.specText!, { overwrite: c.action === "overwrite" });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      c.errors.push(`${c.specFile}: cannot write: ${err.code === "EEXIST" ? "it appeared while importing; run again" : err.code ?? err.message}`);
      c.action = "failed";
      c.attention = true;
    }
  }
  return plan;
}

/** 0: all done, nothing to review; 2: done, but some lines need a person; 1: something failed. */
export function exitStatus(plan: ImportPlan): number {
  if (plan.errors.length > 0 || plan.containers.some((c) => c.action === "failed")) return 1;
  if (plan.containers.length === 0) return 1;
  return plan.containers.some((c) => c.attention) || plan.host.some((e) => e.attention) ? 2 : 0;
}
