// Container state from systemd over the system bus (org.freedesktop.systemd1,
// see org.freedesktop.systemd1(5)): one ListUnitsByPatterns for every
// container@*.service, then the Unit and Service properties of the loaded
// ones, all pipelined on one connection. Containers with a spec but no loaded
// unit are inactive and cost no call.

import * as fs from "node:fs";
import { type Bus, plain } from "./bus";

const DEST = "org.freedesktop.systemd1";
const ROOT = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const PROPS = "org.freedesktop.DBus.Properties";

export interface ContainerState {
  name: string;
  unit: string;
  description: string;
  load: string; // loaded | not-found | ...
  active: string; // active | inactive | failed | activating | deactivating
  sub: string; // running | dead | exited | ...
  mainPid: number | null;
  since: string | null; // ISO time of the last state change
  memoryCurrent: number | null;
  memoryMax: number | null;
  cpuNs: number | null;
  tasks: number | null;
  addresses: string[];
  autostart: boolean;
  unitFileState: string; // enabled | disabled | static | ...
  needsReload: boolean;
}

export const unitOf = (name: string): string => `container@${name}.service`;
const nameOf = (unit: string): string => unit.replace(/^container@/, "").replace(/\.service$/, "");

function idle(name: string, autostart: boolean): ContainerState {
  return {
    name, unit: unitOf(name), description: "", load: "not-loaded", active: "inactive", sub: "dead", mainPid: null, since: null,
    memoryCurrent: null, memoryMax: null, cpuNs: null, tasks: null, addresses: [], autostart, unitFileState: "", needsReload: false,
  };
}

/**
 * State of the given containers (the specs' names) plus any other loaded
 * container@ unit. `autostart` says which specs have Autostart=yes.
 */
export async function containerStates(bus: Bus, specNames: string[], autostart: ReadonlySet<string>): Promise<ContainerState[]> {
  const [units] = (await bus.call(DEST, ROOT, MANAGER, "ListUnitsByPatterns", "asas", [[], ["container@*.service"]])) as [unknown[][]];
  const byName = new Map<string, ContainerState>();
  for (const n of specNames) byName.set(n, idle(n, autostart.has(n)));
  const loaded = units.map((u) => ({ unit: u[0] as string, description: u[1] as string, load: u[2] as string, active: u[3] as string, sub: u[4] as string, path: u[6] as string }));
  await Promise.all(loaded.map(async (u) => {
    const [unitProps, svcProps] = await Promise.all([
      bus.call(DEST, u.path, PROPS, "GetAll", "s", ["org.freedesktop.systemd1.Unit"]),
      bus.call(DEST, u.path, PROPS, "GetAll", "s", ["org.freedesktop.systemd1.Service"]),
    ]);
    const up = plain(unitProps[0]);
    const sp = plain(svcProps[0]);
    const name = nameOf(u.unit);
    const since = (up.StateChangeTimestamp as number | null) || null;
    const mainPid = (sp.MainPID as number) || null;
    byName.set(name, {
      name, unit: u.unit, description: u.description, load: u.load, active: u.active, sub: u.sub, mainPid,
      since: since ? new Date(since / 1000).toISOString() : null,
      memoryCurrent: (sp.MemoryCurrent as number | null) ?? null,
      memoryMax: (sp.MemoryMax as number | null) ?? null,
      cpuNs: (sp.CPUUsageNSec as number | null) ?? null,
      tasks: (sp.TasksCurrent as number | null) ?? null,
      addresses: mainPid ? addressesOf(mainPid) : [],
      autostart: autostart.has(name) || up.UnitFileState === "enabled",
      unitFileState: String(up.UnitFileState ?? ""),
      needsReload: Boolean(up.NeedDaemonReload),
    });
  }));
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The container's addresses, read from its network namespace through
 * /proc/PID/net (no process is entered): IPv4 from fib_trie's local host
 * entries, IPv6 from if_inet6; loopback left out.
 */
export function addressesOf(pid: number): string[] {
  const out: string[] = [];
  try {
    const trie = fs.readFileSync(`/proc/${pid}/net/fib_trie`, "utf8").split("\n");
    for (let i = 1; i < trie.length; i++) {
      const m = /\/32 host LOCAL/.test(trie[i]) && /\|--\s+(\S+)/.exec(trie[i - 1]);
      if (m && !m[1].startsWith("127.") && !out.includes(m[1])) out.push(m[1]);
    }
  } catch {
    /* gone, or no permission: no addresses */
  }
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/net/if_inet6`, "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6 || f[5] === "lo") continue;
      out.push(compressIPv6(f[0].match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16))));
    }
  } catch {
    /* no IPv6 */
  }
  return out;
}

/** RFC 5952 text form: the longest run of two or more zero groups becomes "::". */
export function compressIPv6(groups: string[]): string {
  let best = -1, bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

// ---- actions ----

const ACTIONS = { start: "StartUnit", stop: "StopUnit", restart: "RestartUnit" } as const;
export type Action = keyof typeof ACTIONS;

/** Queue a job and wait for its result ("done", "failed", "timeout", ...). */
export async function runJob(bus: Bus, action: Action, name: string, timeoutMs: number): Promise<string> {
  const results = new Map<string, string>();
  const waiters = new Map<string, (r: string) => void>();
  bus.onSignal((s) => {
    if (s.iface !== MANAGER || s.member !== "JobRemoved") return;
    const [, jobPath, , result] = s.body as [number, string, string, string];
    const w = waiters.get(jobPath);
    if (w) w(result);
    else results.set(jobPath, result);
  });
  await bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
    `type='signal',sender='${DEST}',interface='${MANAGER}',member='JobRemoved'`,
  ]);
  await bus.call(DEST, ROOT, MANAGER, "Subscribe");
  const [job] = (await bus.call(DEST, ROOT, MANAGER, ACTIONS[action], "ss", [unitOf(name), "replace"])) as [string];
  if (results.has(job)) return results.get(job)!;
  return new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve("timeout (still running: see systemctl status)"), timeoutMs);
    waiters.set(job, (r) => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

export async function setEnabled(bus: Bus, name: string, enable: boolean): Promise<void> {
  if (enable) await bus.call(DEST, ROOT, MANAGER, "EnableUnitFiles", "asbb", [[unitOf(name)], false, false]);
  else await bus.call(DEST, ROOT, MANAGER, "DisableUnitFiles", "asb", [[unitOf(name)], false]);
  await bus.call(DEST, ROOT, MANAGER, "Reload");
}
