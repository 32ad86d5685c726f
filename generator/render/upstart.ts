// Spec → upstart jobs for upstart hosts (init(5) of upstart 0.6.5, the
// version Ubuntu 10.04 boots with; later versions load the same jobs).
// Pure: returns files as a Tree, relative to the job directory (/etc/init):
//
//   container.conf            the instance job: start|stop|status container NAME=web
//   containers.conf           autostart in Order/Delay at runlevel [2345], stop all at [016]
//   containerctl-network.conf the managed bridge (runtime/bridge up/down), started by
//                             container.conf before a container on that bridge
//   containerctl/NAME.plan    each container's runtime plan (render/plan.ts)
//
// The jobs come from upstart/*.hbs, compiled with noEscape + strict; every
// value reaches a template already escaped by ../escape (shellQuote inside
// script blocks). Names are validated by spec/names.ts, but are quoted as if
// hostile anyway. On an upstart host nothing regenerates at boot, so the plans
// live beside the jobs (upstart reads only *.conf files there): the job embeds
// their absolute directory. docs/upstart.md describes the whole path.

import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";
import { EscapeError, shellQuote } from "../escape";
import { generateWith, type GenerateResult } from "../generate";
import { NETWORK_JOB } from "../network-conf";
import type { ContainerSpec } from "../spec/load";
import { addFile, type Tree } from "../tree";
import { seconds } from "./derive";
import { renderPlan } from "./plan";
import { autostartOrder, type RenderFailure } from "./systemd";

export { UPSTART_JOB_DIR } from "../upstart-check";
export const INSTANCE_JOB = "container.conf";
export const AUTOSTART_JOB = "containers.conf";
export const PLAN_SUBDIR = "containerctl";
export const RUNTIME_DIR = "/usr/lib/containerctl/runtime";
/** Runtime state of running containers (runtime/cleanup removes NAME/plan and NAME/ there). */
export const STATE_DIR = "/run/containerctl";
/** Upstart's SIGTERM → SIGKILL wait, after pre-stop's own StopTimeout wait. */
export const KILL_TIMEOUT = 10;
/** pre-stop waits StopTimeout plus this for the runtime's own kill and exit. */
export const STOP_GRACE = 5;
/** Restart= does not restart a container that ended sooner than this after its start. */
export const MIN_UPTIME = 10;
const DEFAULT_STOP_TIMEOUT = 60;

export const planFile = (name: string): string => `${PLAN_SUBDIR}/${name}.plan`;

const TEMPLATE_DIR = path.resolve(__dirname, "../../../upstart");

let compiled: { container: HandlebarsTemplateDelegate; containers: HandlebarsTemplateDelegate; network: HandlebarsTemplateDelegate } | null = null;

function templates(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  const hb = Handlebars.create();
  const read = (f: string): string => fs.readFileSync(path.join(TEMPLATE_DIR, f), "utf8");
  hb.registerPartial("prelude", read("partials/prelude.hbs"));
  const opts = { noEscape: true, strict: true };
  compiled = {
    container: hb.compile(read("container.conf.hbs"), opts),
    containers: hb.compile(read("containers.conf.hbs"), opts),
    network: hb.compile(read(`${NETWORK_JOB}.conf.hbs`), opts),
  };
  return compiled;
}

/** `a | b | c`: a case pattern matching exactly these names. */
const casePattern = (names: readonly string[]): string => names.map(shellQuote).join(" | ");

/** Where the instance job finds the runtime and keeps state; tests point them elsewhere. */
export interface HostPaths {
  runtimeDir: string;
  stateDir: string;
}
export const HOST_PATHS: HostPaths = { runtimeDir: RUNTIME_DIR, stateDir: STATE_DIR };

export function renderInstanceJob(specs: readonly ContainerSpec[], jobDir: string, paths: HostPaths = HOST_PATHS, managedBridge: string | null = null): string {
  const byPolicy = (p: string): string[] => specs.filter((s) => s.values.restart === p).map((s) => s.name);
  const restartCases = ["always", "on-failure"]
    .map((policy) => ({ policy, names: byPolicy(policy) }))
    .filter((c) => c.names.length > 0)
    .map((c) => ({ policy: c.policy, pattern: casePattern(c.names) }));
  const onManagedBridge = managedBridge === null ? [] : specs.filter((s) => s.values.bridge === managedBridge).map((s) => s.name);
  return templates().container({
    stateDir: shellQuote(paths.stateDir),
    planDir: shellQuote(path.posix.join(jobDir, PLAN_SUBDIR)),
    runtimeStart: shellQuote(`${paths.runtimeDir}/start`),
    runtimeCleanup: shellQuote(`${paths.runtimeDir}/cleanup`),
    killTimeout: String(KILL_TIMEOUT),
    defaultStopTimeout: String(DEFAULT_STOP_TIMEOUT),
    minUptime: String(MIN_UPTIME),
    stopGrace: String(STOP_GRACE),
    restartCases,
    managedBridgeCases: onManagedBridge.length ? casePattern(onManagedBridge) : null,
    networkJob: NETWORK_JOB,
  });
}

/** The managed bridge's job (network-conf.ts): runtime/bridge up and down. */
export function renderNetworkJob(paths: HostPaths = HOST_PATHS): string {
  return templates().network({ runtimeBridge: shellQuote(`${paths.runtimeDir}/bridge`) });
}

export function renderAutostartJob(specs: readonly ContainerSpec[]): string {
  const chain = autostartOrder(specs);
  const start = chain.map((s, i) => ({
    name: shellQuote(s.name),
    // As under systemd: the delay separates a container from the next one; none after the last.
    delay: s.values.delay && i < chain.length - 1 ? shellQuote(seconds(s.values.delay)) : null,
  }));
  const stop = [...chain].reverse().map((s) => ({ name: shellQuote(s.name) }));
  return templates().containers({ start: start.length ? start : null, stop });
}

/**
 * Every file for these specs. A container whose values the escaping module
 * refuses is left out and reported, never the others (as renderSystemd).
 */
export function renderUpstart(all: readonly ContainerSpec[], jobDir: string, managedBridge: string | null = null): { tree: Tree; failed: RenderFailure[] } {
  const tree: Tree = new Map();
  const failed: RenderFailure[] = [];
  const ok: ContainerSpec[] = [];
  for (const s of all) {
    try {
      const plan = renderPlan(s);
      shellQuote(s.name); // the jobs quote the name; refuse here what they could not hold
      ok.push(s);
      addFile(tree, planFile(s.name), plan);
    } catch (e) {
      if (!(e instanceof EscapeError)) throw e;
      failed.push({ spec: s, error: e.message });
    }
  }
  addFile(tree, INSTANCE_JOB, renderInstanceJob(ok, jobDir, HOST_PATHS, managedBridge));
  addFile(tree, AUTOSTART_JOB, renderAutostartJob(ok));
  addFile(tree, `${NETWORK_JOB}.conf`, renderNetworkJob());
  return { tree, failed };
}

export type UpstartResult = GenerateResult;

/** `containerctl generate --upstart DIR`: load every spec, render the jobs for DIR. */
export function generateUpstart(configDir: string, jobDir: string): UpstartResult {
  return generateWith(configDir, (specs, managed) => renderUpstart(specs, jobDir, managed));
}

// ---- writing edge ----

/**
 * Write the jobs and plans into `jobDir` (upstart's own directory, which it
 * watches with inotify and nobody empties): each file is written beside its
 * destination under a name upstart ignores (not *.conf), then renamed over
 * it, so upstart never parses half a job. Plans of containers that no longer
 * have a valid spec are removed, so `start container NAME=old` fails with
 * "no plan" instead of starting stale settings. Plans are private (0600):
 * they hold the guest's Environment= values.
 */
export function writeUpstartTree(jobDir: string, tree: Tree): void {
  const planDir = path.join(jobDir, PLAN_SUBDIR);
  fs.mkdirSync(planDir, { recursive: true, mode: 0o755 });
  for (const rel of [...tree.keys()].sort()) {
    const e = tree.get(rel)!;
    if (!("content" in e)) throw new Error(`unexpected symlink '${rel}' in upstart output`);
    const dest = path.join(jobDir, rel);
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.containerctl-new`);
    fs.rmSync(tmp, { force: true }); // a leftover of an interrupted run keeps its mode otherwise
    fs.writeFileSync(tmp, e.content, { mode: rel.startsWith(`${PLAN_SUBDIR}/`) ? 0o600 : 0o644 });
    fs.renameSync(tmp, dest);
  }
  for (const f of fs.readdirSync(planDir)) {
    if (f.endsWith(".plan") && !tree.has(`${PLAN_SUBDIR}/${f}`)) fs.rmSync(path.join(planDir, f), { force: true });
  }
}
