// bench/start: start, stop and memory of containerctl's start path against
// the bare unshare + pivot_root floor, LXC and systemd-nspawn, in the same
// run, interleaved pair by pair (see ../shared/docs/peers.md). Not a test:
// it prints medians and ratios. Root only.
//
//   sh bench/start [--runs N] [--many N] [--only floor,lxc,...]
//
// Start = command issued → the guest's /sbin/init runs its first line (it
// writes to a FIFO in its root that we hold open). Stop = stop request →
// the command/process gone (containerctl: helper exit + runtime/cleanup,
// what `systemctl stop` waits for). Memory = PSS of the host-side processes
// that stay per running container, with --many of them running.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { busyboxTemplate } from "../test/lib/busybox-guest";
import { makeLucidGuest } from "../test/lib/shim-guests";

const PROJECT = path.resolve(__dirname, "../..");
const RUNTIME = path.join(PROJECT, "runtime");
const SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const INIT = `#!/bin/sh
echo x >/ready
trap 'exit 0' PWR TERM INT 37
while :; do sleep 1 & wait; done
`;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const RUNS = Number(arg("runs", "15"));
const MANY = Number(arg("many", "50"));

function sh(cmd: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", env: env ?? { ...process.env, PATH: SYS_PATH } });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")}: ${r.status} ${r.stderr}`);
  return r.stdout;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Slot { name: string; dir: string; root: string; fifo: string }

interface Peer {
  id: string;
  label: string;
  /** Starts slot; returns the spawned process (if it stays). */
  start(s: Slot): ChildProcess;
  /** Asks it to stop and returns when it is gone. */
  stop(s: Slot, p: ChildProcess): Promise<void>;
  /** Host-side processes that stay while it runs. */
  resident(s: Slot, p: ChildProcess): number[];
}

const spawned: ChildProcess[] = [];
function track(p: ChildProcess): ChildProcess {
  spawned.push(p);
  return p;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", () => r()));
}

// ---- process tree helpers ----
const ownPidNs = fs.readlinkSync("/proc/self/ns/pid");
function children(): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!m.has(ppid)) m.set(ppid, []);
      m.get(ppid)!.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return m;
}
function inHostNs(pid: number): boolean {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`) === ownPidNs;
  } catch {
    return false;
  }
}
/** pid and its descendants that live in the host's pid namespace. */
function hostTree(pid: number, kids = children()): number[] {
  if (!inHostNs(pid)) return [];
  return [pid, ...(kids.get(pid) ?? []).flatMap((c) => hostTree(c, kids))];
}
function pssKb(pids: number[]): number {
  let total = 0;
  for (const p of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, "utf8"));
      total += m ? Number(m[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return total;
}

// ---- peers ----
const work = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-bench-"));
const lxcDir = path.join(work, "lxc");

const floor: Peer = {
  id: "floor", label: "bare unshare + sh pivot_root (floor)",
  start: (s) => spawn("unshare", ["--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "--kill-child", "--propagation", "private",
    "sh", "-c", 'mount --rbind "$1" "$1" && cd "$1" && pivot_root . . && umount -l . && exec /sbin/init', "sh", s.root],
  { stdio: "ignore", env: { PATH: SYS_PATH } }),
  // unshare --fork blocks SIGTERM and SIGINT while it waits; SIGKILL takes
  // --kill-child's path (the guest gets SIGKILL): the floor of a stop.
  stop: async (_s, p) => {
    p.kill("SIGKILL");
    await exited(p);
  },
  resident: (_s, p) => hostTree(p.pid!),
};

const lxc: Peer = {
  id: "lxc", label: "LXC 5.0 (lxc-start -d)",
  start: (s) => spawn("lxc-start", ["-P", lxcDir, "-n", s.name, "-d"], { stdio: "ignore", env: { PATH: SYS_PATH } }),
  stop: async (s) => {
    await exited(spawn("lxc-stop", ["-P", lxcDir, "-n", s.name], { stdio: "ignore", env: { PATH: SYS_PATH } }));
  },
  resident: (s) => {
    const init = Number(sh(["lxc-info", "-P", lxcDir, "-n", s.name, "-pH"]).trim());
    const stat = fs.readFileSync(`/proc/${init}/stat`, "utf8");
    const monitor = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return hostTree(monitor);
  },
};

const nspawn: Peer = {
  id: "nspawn", label: "systemd-nspawn 252 (no boot)",
  start: (s) => spawn("systemd-nspawn", ["--quiet", "--register=no", "--keep-unit", `--machine=${s.name}`, `--directory=${s.root}`,
    "--private-network", "--kill-signal=SIGTERM", "--console=pipe", "--resolv-conf=off", "--timezone=off", "--link-journal=no", "/sbin/init"],
  { stdio: "ignore", env: { PATH: SYS_PATH } }),
  stop: async (_s, p) => {
    p.kill("SIGTERM");
    await exited(p);
  },
  resident: (_s, p) => hostTree(p.pid!),
};

/** lucid: a Lucid-shaped guest (test/lib/shim-guests.ts) with Guest=auto: detection and the init shim on the start path. */
function containerctl(devicesCgroup: boolean, lucid = false): Peer {
  // NOTIFY_SOCKET marks the systemd path: the unit's DevicePolicy does the
  // device policy there, so start makes no devices cgroup of its own.
  const env = (s: Slot): NodeJS.ProcessEnv => ({
    PATH: SYS_PATH, CONTAINERCTL_PLAN: path.join(s.dir, "plan"),
    ...(devicesCgroup ? {} : { NOTIFY_SOCKET: "@containerctl-bench-nobody" }),
  });
  return {
    id: lucid ? "containerctl-lucid" : devicesCgroup ? "containerctl-run" : "containerctl",
    label: lucid ? "containerctl, systemd path, Lucid (init shim)" : devicesCgroup ? "containerctl, no systemd (makes own cgroups)" : "containerctl, systemd path (runtime/start)",
    start: (s) => spawn(path.join(RUNTIME, "start"), [s.name], { stdio: "ignore", env: env(s) }),
    stop: async (s, p) => {
      const t0 = now();
      p.kill("SIGTERM");
      await exited(p);
      helperGone.get(s.name)?.push(now() - t0) ?? helperGone.set(s.name, [now() - t0]);
      await exited(spawn(path.join(RUNTIME, "cleanup"), [s.name], { stdio: "ignore", env: { PATH: SYS_PATH } }));
    },
    resident: (_s, p) => hostTree(p.pid!),
  };
}

const failures = new Map<string, number>();

/** containerctl: stop request → helper gone (the rest of its stop time is runtime/cleanup). */
const helperGone = new Map<string, number[]>();

const ALL: Peer[] = [floor, lxc, nspawn, containerctl(false), containerctl(true), containerctl(false, true)];
const only = arg("only", "");
const PEERS = only ? ALL.filter((p) => only.split(",").includes(p.id)) : ALL;

// ---- slots: one root per peer and container ----
function makeSlot(peer: Peer, i: number): Slot {
  const name = `b${peer.id.replace(/[^a-z]/g, "")}${i}`;
  const dir = path.join(work, peer.id, String(i));
  const root = path.join(dir, "rootfs");
  fs.mkdirSync(dir, { recursive: true });
  sh(["cp", "-al", busyboxTemplate(), root]); // hard links: 50 roots cost no disk
  fs.rmSync(path.join(root, ".recipe"));
  const lucid = peer.id === "containerctl-lucid";
  fs.rmSync(path.join(root, "sbin", "init")); // a hard link to the template's: never write through it
  if (lucid) {
    makeLucidGuest(root); // writes new files only
    fs.rmSync(path.join(root, "sbin", "init"));
  }
  fs.writeFileSync(path.join(root, "sbin", "init"), INIT, { mode: 0o755 });
  fs.writeFileSync(path.join(root, "etc", "os-release"), "ID=busybox\nNAME=busybox\n"); // nspawn wants an OS tree:
  fs.mkdirSync(path.join(root, "usr"), { recursive: true }); // os-release and /usr
  // The floor mounts no /dev: its guest needs the nodes on disk (sh's `&` opens /dev/null).
  sh(["cp", "-a", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", path.join(root, "dev")]);
  const fifo = path.join(root, "ready");
  sh(["mkfifo", fifo]);
  fs.writeFileSync(path.join(dir, "plan"), [
    ["version", "1"], ["name", name], ["root", root], ["hostname", name], ["guest", lucid ? "auto" : "sysvinit"], ["stop_signal", "SIGPWR"],
    ["stop_timeout", "10"], ["init", "/sbin/init"], ["ttys", "4"],
    ...["sys_module", "sys_rawio", "sys_time", "mac_admin", "mac_override", "sys_pacct", "syslog", "bpf", "perfmon"].map((c) => ["cap_drop", c]),
    ["net_type", "none"],
  ].map((l) => l.join("\t")).join("\n") + "\n");
  if (peer === lxc) {
    fs.mkdirSync(path.join(lxcDir, name), { recursive: true });
    fs.writeFileSync(path.join(lxcDir, name, "config"), [
      `lxc.uts.name = ${name}`, `lxc.rootfs.path = dir:${root}`, "lxc.net.0.type = empty", "lxc.init.cmd = /sbin/init",
      "lxc.mount.auto = proc:mixed sys:ro", "lxc.autodev = 1", "lxc.tty.max = 0", "lxc.pty.max = 0", "lxc.console.path = none",
      "lxc.apparmor.profile = unconfined",
    ].join("\n") + "\n");
  }
  return { name, dir, root, fifo };
}

/** Opens the FIFO's read end first, so the guest's write never blocks; returns when its line arrived. */
function openReady(s: Slot): number {
  return fs.openSync(s.fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
}
function waitReady(fd: number, s: Slot, timeoutMs = 10000): void {
  const buf = Buffer.alloc(16);
  const until = now() + timeoutMs;
  for (;;) {
    try {
      if (fs.readSync(fd, buf) > 0) return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
    if (now() > until) throw new Error(`${s.name}: no first line from its init within ${timeoutMs} ms`);
    sleepMs(0.1);
  }
}

const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench/start needs root");
  sh(["sh", path.join(RUNTIME, "build.sh")]);
  const slots = new Map(PEERS.map((p) => [p.id, Array.from({ length: Math.max(MANY, 1) }, (_, i) => makeSlot(p, i))]));

  // ---- one at a time, interleaved ----
  const startT = new Map<string, number[]>(PEERS.map((p) => [p.id, []]));
  const stopT = new Map<string, number[]>(PEERS.map((p) => [p.id, []]));
  for (let r = 0; r < RUNS + 1; r++) {
    for (const peer of PEERS) {
      const s = slots.get(peer.id)![0];
      const fd = openReady(s);
      const t0 = now();
      const p = track(peer.start(s));
      try {
        waitReady(fd, s);
      } catch (e) {
        // A peer that did not come up this time: say so, clean up, go on.
        console.error(`bench/start: ${peer.id}: ${(e as Error).message}; sample dropped`);
        failures.set(peer.id, (failures.get(peer.id) ?? 0) + 1);
        fs.closeSync(fd);
        p.kill("SIGKILL");
        if (peer === lxc) spawnSync("lxc-stop", ["-k", "-P", lxcDir, "-n", s.name], { stdio: "ignore" });
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      const t1 = now();
      fs.closeSync(fd);
      await new Promise((res) => setTimeout(res, 30)); // let it settle (and reap the start command)
      const t2 = now();
      await peer.stop(s, p);
      const t3 = now();
      if (r > 0) { // the first round warms caches
        startT.get(peer.id)!.push(t1 - t0);
        stopT.get(peer.id)!.push(t3 - t2);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
  }
  const floorStart = median(startT.get("floor") ?? [NaN]);
  const floorStop = median(stopT.get("floor") ?? [NaN]);
  console.log(`\nstart: command → guest init's first line; stop: request → gone. Median of ${RUNS} runs each, interleaved.\n`);
  console.log(`${"peer".padEnd(48)} ${"start ms".padStart(9)} ${"×floor".padStart(7)} ${"stop ms".padStart(8)} ${"×floor".padStart(7)}`);
  for (const peer of PEERS) {
    const st = median(startT.get(peer.id)!), sp = median(stopT.get(peer.id)!);
    const core = helperGone.get(slots.get(peer.id)![0].name);
    const fails = failures.get(peer.id) ? `  [${failures.get(peer.id)} start(s) failed, dropped]` : "";
    const note = (core ? `  (helper gone after ${fmt(median(core.slice(1)))} ms; the rest is runtime/cleanup)` : "") + fails;
    console.log(`${peer.label.padEnd(48)} ${fmt(st).padStart(9)} ${(st / floorStart).toFixed(2).padStart(7)} ${fmt(sp).padStart(8)} ${(sp / floorStop).toFixed(2).padStart(7)}${note}`);
  }

  // ---- many at once: time until all are up, PSS while they run, time to stop all ----
  if (MANY > 0) {
    console.log(`\n${MANY} started at once (time until every init ran its first line), resident host PSS per container, ${MANY} stopped at once:\n`);
    console.log(`${"peer".padEnd(48)} ${"all up ms".padStart(10)} ${"PSS kB".padStart(8)} ${"all stopped ms".padStart(15)}`);
    for (const peer of PEERS) {
      const ss = slots.get(peer.id)!;
      const fds = ss.map(openReady);
      const t0 = now();
      const procs = ss.map((s) => track(peer.start(s)));
      ss.forEach((s, i) => waitReady(fds[i], s, 60000));
      const up = now() - t0;
      fds.forEach((fd) => fs.closeSync(fd));
      await new Promise((res) => setTimeout(res, 500)); // start commands exit, pages settle
      const per = ss.map((s, i) => pssKb(peer.resident(s, procs[i])));
      const t1 = now();
      await Promise.all(ss.map((s, i) => peer.stop(s, procs[i])));
      const down = now() - t1;
      console.log(`${peer.label.padEnd(48)} ${fmt(up).padStart(10)} ${fmt(per.reduce((a, b) => a + b, 0) / per.length).padStart(8)} ${fmt(down).padStart(15)}`);
    }
  }

  // ---- goals (issue 3) ----
  const cc = (id: string): number => median(startT.get(id) ?? [NaN]);
  if (startT.has("containerctl")) {
    const c = cc("containerctl");
    console.log(`\ngoals for containerctl (systemd path): start ≤ 1.5× floor: ${(c / floorStart).toFixed(2)}×; ` +
      `ahead of LXC: ${startT.has("lxc") ? (c < cc("lxc") ? "yes" : "no") : "-"}; ahead of nspawn: ${startT.has("nspawn") ? (c < cc("nspawn") ? "yes" : "no") : "-"}`);
  }
}

main()
  .catch((e) => {
    console.error(`bench/start: ${e.message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    spawnSync("sh", ["-c", `for d in "${lxcDir}"/*/; do [ -d "$d" ] && lxc-stop -k -P "${lxcDir}" -n "$(basename "$d")" >/dev/null 2>&1; done; true`]);
    fs.rmSync(work, { recursive: true, force: true });
  });
