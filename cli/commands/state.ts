// containerctl list | status | start | stop | restart | enable | disable:
// live state and control through the init system over D-Bus. dbus-next is
// loaded only inside these actions, never by the other commands.

import type { Command } from "commander";
import { loadAll } from "../../generator/generate";
import type { ContainerState } from "../state/systemd";

const DEFAULT_TIMEOUT_MS = 5000;

function specs(configDir: string): { names: string[]; autostart: Set<string> } {
  const l = loadAll(configDir);
  const broken = l.errors.map((e) => e.file.replace(/\.container(\.d\/.*)?$/, "").replace(/^.*\//, ""));
  const names = [...new Set([...l.specs.map((s) => s.name), ...broken])].filter(Boolean).sort();
  return { names, autostart: new Set(l.specs.filter((s) => s.values.autostart).map((s) => s.name)) };
}

function size(n: number | null): string {
  if (n === null) return "-";
  const u = ["B", "K", "M", "G", "T"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) [v, i] = [v / 1024, i + 1];
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)}${u[i]}`;
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((x, c) => (c === r.length - 1 ? x : x.padEnd(w[c]))).join("  ")).join("\n") + "\n";
}

function human(states: ContainerState[]): string {
  const rows = [["NAME", "STATE", "PID", "SINCE", "MEMORY", "CPU", "TASKS", "ADDRESSES", "AUTOSTART"]];
  for (const s of states) {
    rows.push([
      s.name + (s.needsReload ? " (reload needed)" : ""), `${s.active}/${s.sub}`, s.mainPid ? String(s.mainPid) : "-",
      s.since ? s.since.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-",
      s.memoryCurrent === null ? "-" : `${size(s.memoryCurrent)}/${s.memoryMax === null ? "max" : size(s.memoryMax)}`,
      s.cpuNs === null ? "-" : `${(s.cpuNs / 1e9).toFixed(1)}s`, s.tasks === null ? "-" : String(s.tasks),
      s.addresses.join(",") || "-", s.autostart ? "yes" : "no",
    ]);
  }
  return table(rows);
}

type Bus = import("../state/bus").Bus;
type Init = "systemd" | "upstart";

/** Connect to the system bus and find which init system owns it: systemd, else upstart. */
async function withInit<T>(timeoutMs: number, fn: (bus: Bus, init: Init) => Promise<T>): Promise<T> {
  const { connect, NoBusError } = await import("../state/bus");
  const { UPSTART_DEST } = await import("../state/upstart");
  const bus = await connect(undefined, timeoutMs);
  try {
    const has = async (name: string): Promise<boolean> =>
      ((await bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", [name])) as [boolean])[0];
    const init: Init | null = (await has("org.freedesktop.systemd1")) ? "systemd" : (await has(UPSTART_DEST)) ? "upstart" : null;
    if (!init) throw new NoBusError("neither systemd nor upstart is on the system bus");
    return await fn(bus, init);
  } finally {
    bus.close();
  }
}

function timeoutOpt(c: Command): Command {
  return c.option("--timeout <ms>", "bound on every D-Bus call, in milliseconds", String(DEFAULT_TIMEOUT_MS));
}

export function register(program: Command): void {
  const configDir = (): string => program.opts().configDir;

  const show = async (names: string[], opts: { json?: boolean; timeout: string }): Promise<void> => {
    const { NoBusError } = await import("../state/bus");
    const known = specs(configDir());
    let states: ContainerState[];
    try {
      const { containerStates } = await import("../state/systemd");
      const { containerStatesUpstart } = await import("../state/upstart");
      states = await withInit(Number(opts.timeout), (bus, init) =>
        (init === "systemd" ? containerStates : containerStatesUpstart)(bus, known.names, known.autostart));
    } catch (e) {
      if (!(e instanceof NoBusError)) throw e;
      process.stderr.write(`containerctl: ${e.message}; showing containers run in the foreground (containerctl run), others unknown\n`);
      states = await foregroundStates(known.names, known.autostart);
      if (states.some((s) => s.active === "unknown")) process.exitCode = 3; // as `systemctl status` for "unknown"
    }
    if (names.length) {
      const missing = names.filter((n) => !states.some((s) => s.name === n));
      for (const n of missing) process.stderr.write(`containerctl: no container '${n}' (no spec in ${configDir()} and no loaded unit)\n`);
      states = states.filter((s) => names.includes(s.name));
      if (missing.length) process.exitCode = 4;
    }
    process.stdout.write(opts.json ? JSON.stringify(states, null, 2) + "\n" : human(states));
  };

  timeoutOpt(program.command("list").description("list every container with its live state (from systemd or upstart over D-Bus)"))
    .option("--json", "machine-readable output")
    .action((opts) => show([], opts));
  timeoutOpt(program.command("status").description("live state of the named containers: state, PID, since, memory, CPU, tasks, addresses"))
    .argument("<names...>", "container names")
    .option("--json", "machine-readable output")
    .action((names: string[], opts) => show(names, opts));

  for (const action of ["start", "stop", "restart"] as const) {
    program
      .command(action)
      .description(`${action} containers through the init system (systemd or upstart, over D-Bus) and wait for the result${action === "stop" ? "; without one, stop a container started by containerctl run" : ""}`)
      .argument("<names...>", "container names")
      .option("--timeout <ms>", "how long to wait for each job, in milliseconds", "120000")
      .action(async (names: string[], opts: { timeout: string }) => {
        const { runJob } = await import("../state/systemd");
        const { runJobUpstart } = await import("../state/upstart");
        const { NoBusError } = await import("../state/bus");
        await withInit(Number(opts.timeout), async (bus, init) => {
          for (const n of names) {
            const result = init === "systemd" ? await runJob(bus, action, n, Number(opts.timeout)) : await runJobUpstart(bus, action, n);
            if (result === "done") continue;
            process.exitCode = 1;
            process.stderr.write(`containerctl: ${action} ${n}: ${result}\n${await journalTail(n)}`);
          }
        }).catch(async (e) => {
          if (!(e instanceof NoBusError)) throw e;
          // No init system: containers run in the foreground under `containerctl run`.
          if (action !== "stop") throw new Error(`${e.message}; without an init system run a container in the foreground with: containerctl run NAME`);
          const { stopViaHelper } = await import("./runtime");
          for (const n of names) await stopViaHelper(n, Number(opts.timeout) / 1000);
        });
      });
  }
  for (const [cmd, enable] of [["enable", true], ["disable", false]] as const) {
    program
      .command(cmd)
      .description(`${cmd} boot-time start of containers with systemctl's ${cmd} (Autostart= in the spec does the same)`)
      .argument("<names...>", "container names")
      .action(async (names: string[]) => {
        const { setEnabled } = await import("../state/systemd");
        await withInit(DEFAULT_TIMEOUT_MS, async (bus, init) => {
          if (init !== "systemd") throw new Error(`${cmd} needs systemd; on upstart hosts set Autostart= in the spec and run containerctl generate --upstart`);
          for (const n of names) await setEnabled(bus, n, enable);
        });
      });
  }
}

/**
 * Without an init system, containers run under `containerctl run`; their
 * runtime helper answers on its socket. Those are running; the rest unknown.
 */
async function foregroundStates(names: string[], autostart: ReadonlySet<string>): Promise<ContainerState[]> {
  const fs = await import("node:fs");
  const { unitOf, addressesOf } = await import("../state/systemd");
  const { containerPids } = await import("./runtime");
  return Promise.all(names.map(async (name): Promise<ContainerState> => {
    const base: ContainerState = {
      name, unit: unitOf(name), description: "", load: "unknown", active: "unknown", sub: "unknown", mainPid: null, since: null,
      memoryCurrent: null, memoryMax: null, cpuNs: null, tasks: null, addresses: [], autostart: autostart.has(name),
      unitFileState: "", needsReload: false,
    };
    let init: number;
    try {
      ({ init } = await containerPids(name));
    } catch {
      return base; // not started by `run` (or not running at all): we cannot know more without an init system
    }
    let since: string | null = null;
    try {
      since = fs.statSync(`/proc/${init}`).mtime.toISOString(); // the process's start
    } catch {
      /* exited meanwhile */
    }
    return { ...base, load: "foreground", active: "active", sub: "running", mainPid: init, since, addresses: addressesOf(init), ...cgroupUsage(fs, init) };
  }));
}

/**
 * Memory, CPU and tasks of the cgroup the runtime made for the container
 * (its init's cgroup, seen from the host): cgroup v1 controllers where the
 * host binds them, else the unified hierarchy.
 */
function cgroupUsage(fs: typeof import("node:fs"), pid: number): Pick<ContainerState, "memoryCurrent" | "memoryMax" | "cpuNs" | "tasks"> {
  const read = (f: string): number | null => {
    try {
      const v = fs.readFileSync(f, "utf8").trim().split(/\s+/)[0];
      return v === "max" || !/^[0-9]+$/.test(v) || Number(v) >= 2 ** 62 ? null : Number(v);
    } catch {
      return null;
    }
  };
  const paths = new Map<string, string>();
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
      const [, ctrls, p] = line.split(":");
      if (p === undefined) continue;
      for (const c of ctrls === "" ? ["unified"] : ctrls.split(",")) paths.set(c, p);
    }
  } catch {
    return { memoryCurrent: null, memoryMax: null, cpuNs: null, tasks: null };
  }
  const v1 = (ctrl: string, file: string): number | null => (paths.has(ctrl) ? read(`/sys/fs/cgroup/${ctrl}${paths.get(ctrl)}/${file}`) : null);
  const v2 = (file: string): number | null => (paths.has("unified") ? read(`/sys/fs/cgroup/unified${paths.get("unified")}/${file}`) ?? read(`/sys/fs/cgroup${paths.get("unified")}/${file}`) : null);
  let usec: number | null = null;
  try {
    const stat = paths.has("unified") ? fs.readFileSync(`/sys/fs/cgroup${paths.get("unified")}/cpu.stat`, "utf8") : "";
    const m = /^usage_usec (\d+)$/m.exec(stat);
    usec = m ? Number(m[1]) : null;
  } catch {
    /* no cpu controller on the unified hierarchy */
  }
  return {
    memoryCurrent: v1("memory", "memory.usage_in_bytes") ?? v2("memory.current"),
    memoryMax: v1("memory", "memory.limit_in_bytes") ?? v2("memory.max"),
    cpuNs: v1("cpuacct", "cpuacct.usage") ?? (usec === null ? null : usec * 1000),
    tasks: v1("pids", "pids.current") ?? v2("pids.current"),
  };
}

/** The unit's last journal lines, the reason a job failed. */
async function journalTail(name: string): Promise<string> {
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync("journalctl", ["-u", `container@${name}.service`, "-n", "10", "-o", "cat", "--no-pager"], { encoding: "utf8", timeout: 5000 });
  return r.status === 0 && r.stdout ? r.stdout.replace(/^/gm, "  ") : "";
}
