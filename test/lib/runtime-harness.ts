// Runs containers through runtime/start the way container@.service does (a
// plan file in CONTAINERCTL_PLAN, runtime/start NAME as the main process,
// runtime/cleanup NAME afterwards) and looks at them from inside and outside.
//
//   const c = new TestContainer("basic", { init: DEFAULT_INIT });
//   c.start({ ttys: 2 });
//   await c.waitOutput(/init up/);
//   c.sh("hostname");                 // nsenter into every namespace, full caps
//   await c.stop();                   // SIGTERM to the helper, as systemd does
//   c.destroy();                      // kills what is left, cleanup, rm -rf
//
// Needs root and a cc (the helper is built by runtime/build.sh on first use).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { makeBusyboxGuest, type GuestOptions } from "./busybox-guest";

export const PROJECT_DIR = path.resolve(__dirname, "../../..");
export const RUNTIME_DIR = path.join(PROJECT_DIR, "runtime");
export const CLI = path.join(PROJECT_DIR, "dist", "cli", "containerctl.js");

export function buildHelper(): void {
  const r = spawnSync("sh", [path.join(RUNTIME_DIR, "build.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`runtime/build.sh failed: ${r.stderr}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface PlanOptions {
  hostname?: string;
  guest?: string;
  stopSignal?: string;
  stopTimeout?: string;
  init?: string;
  args?: string[];
  env?: string[];
  ttys?: number;
  capDrop?: string[];
  devices?: [string, string][];
  binds?: [string, string, "ro" | "rw"][];
  netType?: string;
  /** Raw extra lines (already tab-separated). */
  extra?: string[];
}

/** The LXC drop list plus what the generator adds (generator/render/derive.ts). */
export const DEFAULT_CAP_DROP = ["sys_module", "sys_rawio", "sys_time", "mac_admin", "mac_override", "sys_pacct", "syslog", "bpf", "perfmon"];

/** A plan in the format of generator/render/plan.ts, written by hand so tests control every field. */
export function planText(name: string, root: string, o: PlanOptions = {}): string {
  const l: string[][] = [
    ["version", "1"], ["name", name], ["source", `/etc/containerctl/${name}.container`], ["root", root],
    ["hostname", o.hostname ?? name], ["guest", o.guest ?? "auto"], ["stop_signal", o.stopSignal ?? "auto"],
    ["stop_timeout", o.stopTimeout ?? "10"], ["init", o.init ?? "/sbin/init"],
  ];
  for (const a of o.args ?? []) l.push(a === "" ? ["arg_empty"] : ["arg", a]);
  for (const e of o.env ?? []) l.push(["env", e]);
  l.push(["ttys", String(o.ttys ?? 4)]);
  for (const c of o.capDrop ?? DEFAULT_CAP_DROP) l.push(["cap_drop", c]);
  for (const [d, a] of o.devices ?? []) l.push(["device", d, a]);
  for (const [s, d, m] of o.binds ?? []) l.push(["bind", s, d, m]);
  l.push(["net_type", o.netType ?? "none"]);
  return [...l.map((x) => x.join("\t")), ...(o.extra ?? [])].join("\n") + "\n";
}

let counter = 0;

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export class TestContainer {
  readonly name: string;
  readonly dir: string;
  readonly root: string;
  readonly planFile: string;
  proc: ChildProcess | null = null;
  stdout = "";
  stderr = "";
  exited: Promise<Exit> | null = null;
  exit: Exit | null = null;

  constructor(prefix: string, guest: GuestOptions = {}) {
    this.name = `t-${prefix}-${process.pid}-${++counter}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-rt-"));
    this.root = makeBusyboxGuest(this.dir, guest);
    this.planFile = path.join(this.dir, "plan");
  }

  writePlan(o: PlanOptions = {}): void {
    fs.writeFileSync(this.planFile, planText(this.name, this.root, o));
  }

  /** runtime/start NAME, as ExecStart= runs it. */
  start(o: PlanOptions = {}, env: Record<string, string> = {}, argv0 = path.join(RUNTIME_DIR, "start"), pre: string[] = []): void {
    if (!fs.existsSync(this.planFile) || Object.keys(o).length > 0) this.writePlan(o);
    this.stdout = "";
    this.stderr = "";
    this.exit = null;
    const p = spawn(pre.length ? pre[0] : argv0, [...pre.slice(1), ...(pre.length ? [argv0] : []), this.name], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CONTAINERCTL_PLAN: this.planFile, ...env },
    });
    this.proc = p;
    p.stdout!.on("data", (d) => (this.stdout += d.toString()));
    p.stderr!.on("data", (d) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      p.on("exit", (code, signal) => {
        // Let the pipes drain before reporting.
        setTimeout(() => {
          this.exit = { code, signal };
          resolve(this.exit);
        }, 20);
      });
    });
  }

  /** Resolves when stdout (the console) matches; rejects on timeout or exit. */
  async waitOutput(re: RegExp, ms = 5000): Promise<RegExpMatchArray> {
    const until = Date.now() + ms;
    for (;;) {
      const m = this.stdout.match(re);
      if (m) return m;
      if (this.exit) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${re}; stdout: ${this.stdout}; stderr: ${this.stderr}`);
      if (Date.now() > until) throw new Error(`timeout waiting for ${re}; stdout: ${this.stdout}; stderr: ${this.stderr}`);
      await sleep(10);
    }
  }

  async waitExit(ms = 10000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    const r = await Promise.race([this.exited!, t]);
    clearTimeout(timer); // a pending timer would keep the test process alive
    if (!r) throw new Error(`${this.name} did not exit within ${ms} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`);
    return r;
  }

  /** Host pids of the helper and the guest init, from the helper's control socket. */
  pids(): Promise<{ helper: number; init: number }> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ path: `\0containerctl/${this.name}` });
      let buf = "";
      s.on("connect", () => s.write("pid\n"));
      s.on("data", (d) => (buf += d.toString()));
      s.on("error", reject);
      s.on("close", () => {
        const m = /^(\d+) (\d+)\n$/.exec(buf);
        if (m) resolve({ helper: Number(m[1]), init: Number(m[2]) });
        else reject(new Error(`bad pid answer ${JSON.stringify(buf)}`));
      });
    });
  }

  /** Every namespace, the guest's root and cwd, full privileges: for looking, not for confinement tests. */
  async sh(cmd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { init } = await this.pids();
    const [nsenter, ...args] = nsenterArgv(init, cmd);
    const r = spawnSync(nsenter, args, {
      encoding: "utf8", timeout: 10000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** What systemd does on `systemctl stop` with KillMode=mixed: a signal to the main process. */
  async stop(signal: NodeJS.Signals = "SIGTERM", ms = 15000): Promise<Exit> {
    this.proc?.kill(signal);
    return this.waitExit(ms);
  }

  cleanup(): ReturnType<typeof spawnSync> {
    return spawnSync(path.join(RUNTIME_DIR, "cleanup"), [this.name], { encoding: "utf8" });
  }

  /** Idempotent: SIGKILL whatever of ours still runs, run cleanup, remove the directory. */
  destroy(): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
    for (const pid of processesOf(this.name)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    this.cleanup();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Host pids of every process that belongs to container `name` (helper, stage, guest). */
export function processesOf(name: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    let env: string;
    try {
      env = fs.readFileSync(`/proc/${p}/environ`, "latin1");
    } catch {
      continue;
    }
    const vars = env.split("\0");
    if (vars.includes(`CONTAINERCTL_NAME=${name}`) || vars.includes(`container_name=${name}`)) out.push(Number(p));
  }
  return out;
}

/** Namespace links (e.g. "mnt:[4026532]") of a process. */
export function namespacesOf(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/ns`).map((n) => fs.readlinkSync(`/proc/${pid}/ns/${n}`)).filter((l) => !l.startsWith("user:") && !l.startsWith("time"));
}

/**
 * Who still holds any of `namespaces` ("type:[inode]"): processes (pid →
 * the namespaces), and nsfs bind mounts in the host's mount table. Inode
 * numbers are reused as soon as a namespace is freed, and other tests create
 * namespaces on this machine all the time, so a holder counts only when it is
 * a process of container `name` (its environment says so) or a mount.
 */
export function namespaceHolders(name: string, namespaces: readonly string[]): string[] {
  const wanted = new Set(namespaces);
  const out: string[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const held = fs.readdirSync(`/proc/${p}/ns`).map((n) => fs.readlinkSync(`/proc/${p}/ns/${n}`)).filter((l) => wanted.has(l));
      if (held.length === 0) continue;
      const env = fs.readFileSync(`/proc/${p}/environ`, "latin1").split("\0");
      if (env.includes(`CONTAINERCTL_NAME=${name}`) || env.includes(`container_name=${name}`)) out.push(`pid ${p}: ${held.join(" ")}`);
    } catch {
      /* exited meanwhile */
    }
  }
  for (const l of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = l.split(" ");
    const sep = f.indexOf("-");
    if (sep > 0 && f[sep + 1] === "nsfs" && wanted.has(f[3])) out.push(`nsfs mount ${f[4]}: ${f[3]}`);
  }
  return out;
}

export interface HostSnapshot {
  mounts: string[];
  unixSockets: string[];
  run: string[];
  netns: string;
  cgroups: string[];
}

/**
 * What a container could leave on the host, restricted to what can be ours:
 * other engineers' tests start containers on this machine at the same time,
 * so only names carrying this test process's pid count (TestContainer and the
 * CLI tests put it in every name), plus host mounts under the test
 * directories and devpts mounts in the host's mount namespace.
 */
export function hostSnapshot(): HostSnapshot {
  const tmp = os.tmpdir();
  const ours = (s: string): boolean => s.includes(String(process.pid));
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((l) => {
    const f = l.split(" ");
    const sep = f.indexOf("-");
    return `${f[4]} ${f[sep + 1]} ${f[sep + 2]}`;
  }).filter((m) => m.includes(`${tmp}/containerctl-rt-`) || / devpts /.test(m)).sort();
  const unixSockets = fs.readFileSync("/proc/net/unix", "utf8").split("\n").map((l) => l.split(/\s+/)[7] ?? "")
    .filter((p) => p.startsWith("@containerctl/") && ours(p)).sort();
  const run = fs.existsSync("/run/containerctl") ? fs.readdirSync("/run/containerctl").filter(ours).sort() : [];
  const ip = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  const netns = (ip.stdout ?? "").split("\n").filter(ours).join("\n");
  const cgroups: string[] = [];
  const walk = (d: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (ours(e.name)) cgroups.push(p);
      if (depth > 0 && e.name.includes("containerctl")) walk(p, depth - 1);
    }
  };
  for (const c of fs.existsSync("/sys/fs/cgroup") ? fs.readdirSync("/sys/fs/cgroup") : []) walk(path.join("/sys/fs/cgroup", c), 2);
  return { mounts, unixSockets, run, netns, cgroups: cgroups.sort() };
}

/** The host's view of a process's capability bounding set, as capability numbers missing from it. */
export function missingCaps(capBndHex: string): number[] {
  const mask = BigInt(`0x${capBndHex}`);
  const out: number[] = [];
  for (let i = 0; i <= 40; i++) if (((mask >> BigInt(i)) & 1n) === 0n) out.push(i);
  return out;
}

export const CAP_NUMBERS: Record<string, number> = {
  chown: 0, setpcap: 8, net_admin: 12, sys_module: 16, sys_rawio: 17, sys_chroot: 18, sys_pacct: 20, sys_admin: 21,
  sys_time: 25, mknod: 27, mac_override: 32, mac_admin: 33, syslog: 34, perfmon: 38, bpf: 39,
};

/**
 * MAJOR:MINOR of the whole disk a path's filesystem is on (what an IO limit on
 * that path throttles, test/runtime/limits.test.ts), or null for a filesystem
 * without a block device (tmpfs, overlayfs).
 */
export function diskOf(p: string): string | null {
  const d = fs.statSync(p).dev;
  const major = (d >> 8) & 0xfff;
  if (major === 0) return null;
  const mm = `${major}:${(d & 0xff) | ((d >> 12) & 0xfff00)}`;
  return fs.existsSync(`/sys/dev/block/${mm}/partition`) ? fs.readFileSync(`/sys/dev/block/${mm}/../dev`, "utf8").trim() : mm;
}

/** The container's cgroup directory in the cgroup-v1 hierarchy that carries `ctrl`, from /proc/PID/cgroup; null when none does. */
export function cgroupOf(pid: number, ctrl: string): string | null {
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n")) {
    const [, ctrls, p] = line.split(":");
    if (ctrls.split(",").includes(ctrl)) return `/sys/fs/cgroup/${ctrls}${p}`;
  }
  return null;
}

/**
 * The guest init's host pid, found from the host's /proc (NSpid ends in 1).
 * Works where pids() cannot: the control socket is abstract, so it belongs to
 * the network namespace the helper runs in, which a test may have made.
 */
export function guestInit(name: string): number {
  for (const pid of processesOf(name)) {
    try {
      if (/^NSpid:\s+\d+\s+1$/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"))) return pid;
    } catch {
      /* gone */
    }
  }
  throw new Error(`no guest init for ${name}`);
}

/** argv for /bin/sh -c CMD in every namespace of process `pid`, with the guest's root and cwd, full privileges (for looking). */
export function nsenterArgv(pid: number, cmd: string): string[] {
  return ["nsenter", "-t", String(pid), "-a", `--root=/proc/${pid}/root`, `--wd=/proc/${pid}/root`, "/bin/sh", "-c", cmd];
}

/**
 * argv for `containerctl exec NAME -- /bin/sh -c CMD`: unlike TestContainer.sh()
 * it joins the guest's cgroups, so what it runs is limited like the guest.
 * `pre` runs it elsewhere (e.g. `ip netns exec NS`, where the helper's socket is).
 */
export function execArgv(name: string, cmd: string, pre: string[] = []): string[] {
  return [...pre, process.execPath, CLI, "exec", name, "--", "/bin/sh", "-c", cmd];
}
