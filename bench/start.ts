// bench/start: start, stop and memory of containerctl's start path against
// the bare unshare + pivot_root floor, LXC and systemd-nspawn, in the same
// run, interleaved pair by pair (see ../shared/docs/peers.md). Not a test:
// it prints medians and ratios. Root only.
//
//   sh bench/start [--runs N] [--many N] [--only floor,lxc,...] [--cpus LIST]
//
// The "full" pair (containerctl-full, lxc-full): every limit (Memory, Swap,
// CPUQuota, CPUWeight, AllowedCPUs, Tasks, IOWeight, NetworkRate) and a veth
// on a bridge, both started in a network namespace the bench makes (with the
// bridge) and deletes; containerctl takes its path without systemd, which
// applies the limits itself, as LXC does. --cpus is their AllowedCPUs= (default 1).
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
import { RUNTIME_DIR as RUNTIME, buildHelper } from "../test/lib/runtime-harness";
import { makeLucidGuest } from "../test/lib/shim-guests";

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

interface Slot { name: string; dir: string; root: string; fifo: string; index: number }

interface Peer {
  id: string;
  label: string;
  /** The peer's own program: a peer whose program is not installed is left out, with a line saying so. */
  program?: string;
  /** LXC: a config is written per slot, and lxc-stop -k is the last resort. */
  lxc?: boolean;
  /** Every limit and a bridged veth, in the bench's network namespace. */
  full?: boolean;
  /** Once, with the first container up: what is missing of the limits and the shaping ("" when nothing). */
  check?(s: Slot, p: ChildProcess): string;
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

// The full pair runs in a network namespace of the bench's, which holds the
// bridge. LXC finds a bridge through /sys/class/net, which shows the network
// namespace of whoever mounted sysfs: so both start in a mount namespace made
// once by `ip netns exec` (a sysfs of that network namespace) with the host's
// cgroup hierarchies mounted again in it, held by a `sleep` (the "holder").
// LXC's command socket is abstract, so it lives in that network namespace too.
const NETNS = `ccbench${process.pid}`;
let holder: ChildProcess | null = null;
const inNetns = (full: boolean | undefined): string[] =>
  (full ? ["nsenter", `--net=/run/netns/${NETNS}`, `--mount=/proc/${holder!.pid}/ns/mnt`] : []);

/** The network namespace with its bridge, and the holder of its mount namespace. */
async function makeNetns(): Promise<void> {
  sh(["ip", "netns", "add", NETNS]);
  for (const c of [["link", "set", "lo", "up"], ["link", "add", "br0", "type", "bridge"], ["addr", "add", "10.97.0.1/16", "dev", "br0"], ["link", "set", "br0", "up"]]) {
    sh(["ip", "-n", NETNS, ...c]);
  }
  const cgroups = fs.readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" "))
    .filter((f) => (f[2] === "cgroup" || f[2] === "cgroup2") && f[1].startsWith("/sys/fs/cgroup/"))
    .flatMap((f) => [f[2], f[1], f[3]]);
  const script = 'mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup && while [ $# -gt 0 ]; do mkdir -p "$2" && mount -t "$1" -o "$3" cgroup "$2" || exit 1; shift 3; done; echo ready; exec sleep 86400';
  holder = track(spawn("ip", ["netns", "exec", NETNS, "sh", "-c", script, "sh", ...cgroups], { stdio: ["ignore", "pipe", "inherit"], env: { PATH: SYS_PATH } }));
  const ready = await new Promise<boolean>((res) => {
    holder!.stdout!.once("data", () => res(true));
    holder!.once("exit", () => res(false));
  });
  if (!ready) throw new Error("cannot make the mount namespace for the full pair (ip netns exec, cgroup mounts)");
}
function run(argv: string[], opts: Parameters<typeof spawn>[2] = { stdio: "ignore", env: { PATH: SYS_PATH } }): ChildProcess {
  return spawn(argv[0], argv.slice(1), opts);
}

function lxcPeer(full: boolean): Peer {
  const pre = (): string[] => inNetns(full); // when used: the holder comes later
  const initPid = (s: Slot): number => Number(sh([...pre(), "lxc-info", "-P", lxcDir, "-n", s.name, "-pH"]).trim());
  return {
    id: full ? "lxc-full" : "lxc", label: full ? "LXC 5.0, every limit + bridged veth" : "LXC 5.0 (lxc-start -d)", lxc: true, full, program: "lxc-start",
    start: (s) => run([...pre(), "lxc-start", "-P", lxcDir, "-n", s.name, "-d"]),
    stop: async (s) => {
      await exited(run([...pre(), "lxc-stop", "-P", lxcDir, "-n", s.name]));
    },
    resident: (s) => {
      const stat = fs.readFileSync(`/proc/${initPid(s)}/stat`, "utf8");
      const monitor = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return hostTree(monitor);
    },
    check: full ? (s) => checkFull(initPid(s), fullNet(s, true)) : undefined,
  };
}
const lxc = lxcPeer(false);

const nspawn: Peer = {
  id: "nspawn", label: "systemd-nspawn 252 (no boot)", program: "systemd-nspawn",
  start: (s) => spawn("systemd-nspawn", ["--quiet", "--register=no", "--keep-unit", `--machine=${s.name}`, `--directory=${s.root}`,
    "--private-network", "--kill-signal=SIGTERM", "--console=pipe", "--resolv-conf=off", "--timezone=off", "--link-journal=no", "/sbin/init"],
  { stdio: "ignore", env: { PATH: SYS_PATH } }),
  stop: async (_s, p) => {
    p.kill("SIGTERM");
    await exited(p);
  },
  resident: (_s, p) => hostTree(p.pid!),
};

/**
 * variant "full": every limit and a bridged veth (the full pair); "lucid": a Lucid-shaped guest
 * (test/lib/shim-guests.ts) with Guest=auto: detection and the init shim on the start path.
 */
function containerctl(devicesCgroup: boolean, variant: "plain" | "full" | "lucid" = "plain"): Peer {
  const full = variant === "full";
  const pre = (): string[] => inNetns(full); // when used: the holder comes later
  // NOTIFY_SOCKET marks the systemd path: the unit's DevicePolicy does the
  // device policy there, so start makes no devices cgroup of its own.
  const env = (s: Slot): NodeJS.ProcessEnv => ({
    PATH: SYS_PATH, CONTAINERCTL_PLAN: path.join(s.dir, "plan"),
    ...(devicesCgroup ? {} : { NOTIFY_SOCKET: "@containerctl-bench-nobody" }),
  });
  return {
    id: full ? "containerctl-full" : variant === "lucid" ? "containerctl-lucid" : devicesCgroup ? "containerctl-run" : "containerctl",
    label: full ? "containerctl, every limit + bridged veth" : variant === "lucid" ? "containerctl, systemd path, Lucid (init shim)"
      : devicesCgroup ? "containerctl, no systemd (makes own cgroups)" : "containerctl, systemd path (runtime/start)",
    full,
    start: (s) => run([...pre(), path.join(RUNTIME, "start"), s.name], { stdio: "ignore", env: env(s) }),
    stop: async (s, p) => {
      const t0 = now();
      p.kill("SIGTERM");
      await exited(p);
      helperGone.get(s.name)?.push(now() - t0) ?? helperGone.set(s.name, [now() - t0]);
      await exited(run([...pre(), path.join(RUNTIME, "cleanup"), s.name]));
    },
    // (nsenter execs the start script: p is the helper; its child is the guest's init)
    resident: (_s, p) => hostTree(p.pid!),
    check: full ? (s, p) => checkFull(Number(fs.readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim()), fullNet(s, false)) : undefined,
  };
}

// ---- the full pair: the same limits and network for both ----
const FULL = {
  memory: 128 * 1024 * 1024, swap: 64 * 1024 * 1024, cpuQuota: 150, cpuWeight: 200, cpus: arg("cpus", "1"), tasks: 512, ioWeight: 200, rate: 20_000_000,
};
const FULL_LABEL = `Memory=128M Swap=64M CPUQuota=150% CPUWeight=200 AllowedCPUs=${FULL.cpus} Tasks=512 IOWeight=200 NetworkRate=20M, veth on a bridge`;
const tbf = `tbf rate ${FULL.rate}bit burst 64kb latency 200ms`; // what runtime/net-host adds
/** The host-side veth and ifb, the address and MAC of slot i of a full peer (LXC's in 10.97.1.x, ours in 10.97.0.x). */
function fullNet(s: Slot, lxcPeer: boolean): { hostIf: string; ifb: string; address: string; mac: string } {
  const n = s.index + 10;
  return {
    hostIf: `${lxcPeer ? "bl" : "bc"}-${s.index}`, ifb: `${lxcPeer ? "bL" : "bC"}-${s.index}`, address: `10.97.${lxcPeer ? 1 : 0}.${n}/16`,
    mac: `02:cc:00:00:0${lxcPeer ? 1 : 0}:${n.toString(16).padStart(2, "0")}`,
  };
}
/** What of the limits and the shaping is not in place for a guest whose init is `init` ("" when all is). */
function checkFull(init: number, net: { hostIf: string; ifb: string }): string {
  const missing: string[] = [];
  const cg = new Map(fs.readFileSync(`/proc/${init}/cgroup`, "utf8").trim().split("\n").map((l) => {
    const [, ctrls, p] = l.split(":");
    return [ctrls, `/sys/fs/cgroup/${ctrls}${p}`] as const;
  }));
  const want = (ctrl: string, file: string, value: string): void => {
    let got = "(none)";
    try {
      got = fs.readFileSync(`${cg.get(ctrl)}/${file}`, "utf8").trim();
    } catch {
      /* missing */
    }
    if (got !== value) missing.push(`${ctrl}/${file}=${got}, not ${value}`);
  };
  want("memory", "memory.limit_in_bytes", String(FULL.memory));
  want("memory", "memory.memsw.limit_in_bytes", String(FULL.memory + FULL.swap));
  want("cpu", "cpu.cfs_quota_us", String(FULL.cpuQuota * 1000));
  want("cpu", "cpu.shares", String((FULL.cpuWeight * 1024) / 100));
  want("cpuset", "cpuset.cpus", FULL.cpus);
  want("pids", "pids.max", String(FULL.tasks));
  want("blkio", "blkio.bfq.weight", "109");
  // The shaping, both ways on the host side (the bench's namespace): a tbf on the veth, one on the ifb.
  const hostTc = (dev: string): string => spawnSync("nsenter", [`--net=/run/netns/${NETNS}`, "tc", "qdisc", "show", "dev", dev], { encoding: "utf8" }).stdout;
  for (const dev of [net.hostIf, net.ifb]) if (!/tbf .*rate 20Mbit/.test(hostTc(dev))) missing.push(`${dev} not shaped: ${hostTc(dev).trim()}`);
  const link = spawnSync("nsenter", [`--net=/proc/${init}/ns/net`, "ip", "-o", "-4", "addr", "show", "dev", "eth0"], { encoding: "utf8" }).stdout;
  if (!/inet 10\.97\./.test(link)) missing.push(`eth0 has no address: ${link.trim()}`);
  return missing.join("; ");
}

function lxcKill(full: boolean | undefined, name: string): void {
  const argv = [...inNetns(full), "lxc-stop", "-k", "-P", lxcDir, "-n", name];
  spawnSync(argv[0], argv.slice(1), { stdio: "ignore" });
}

const failures = new Map<string, number>();

/** containerctl: stop request → helper gone (the rest of its stop time is runtime/cleanup). */
const helperGone = new Map<string, number[]>();

const ALL: Peer[] = [floor, lxc, nspawn, containerctl(false), containerctl(true), containerctl(false, "lucid"), containerctl(true, "full"), lxcPeer(true)];
const only = arg("only", "");
const installed = (p: Peer): boolean => {
  const ok = !p.program || spawnSync("sh", ["-c", 'command -v "$1"', "sh", p.program], { stdio: "ignore", env: { PATH: SYS_PATH } }).status === 0;
  if (!ok) console.error(`bench/start: ${p.id}: ${p.program} is not installed; left out`);
  return ok;
};
const PEERS = (only ? ALL.filter((p) => only.split(",").includes(p.id)) : ALL).filter(installed);

// ---- slots: one root per peer and container ----
function makeSlot(peer: Peer, i: number): Slot {
  const slot = { index: i } as Slot;
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
  const net = peer.full ? fullNet(slot, peer.lxc === true) : null;
  const fullPlan = net ? [
    ["net_type", "veth"], ["net_host_ifname", net.hostIf], ["net_mac", net.mac], ["net_bridge", "br0"], ["net_address", net.address],
    ["net_gateway", "10.97.0.1"], ["net_rate_in", `${FULL.rate}bit`], ["net_rate_out", `${FULL.rate}bit`, net.ifb],
    ["limit_cpu_weight", String(FULL.cpuWeight)], ["limit_cpu_quota", String(FULL.cpuQuota)], ["limit_cpuset", FULL.cpus],
    ["limit_memory", String(FULL.memory)], ["limit_swap", String(FULL.swap)], ["limit_tasks", String(FULL.tasks)],
    ["limit_io_weight", String(FULL.ioWeight)],
  ] : [["net_type", "none"]];
  fs.writeFileSync(path.join(dir, "plan"), [
    ["version", "1"], ["name", name], ["root", root], ["hostname", name], ["guest", lucid ? "auto" : "sysvinit"], ["stop_signal", "SIGPWR"],
    ["stop_timeout", "10"], ["init", "/sbin/init"], ["ttys", "4"],
    ...["sys_module", "sys_rawio", "sys_time", "mac_admin", "mac_override", "sys_pacct", "syslog", "bpf", "perfmon"].map((c) => ["cap_drop", c]),
    ...fullPlan,
  ].map((l) => l.join("\t")).join("\n") + "\n");
  if (peer.lxc) {
    fs.mkdirSync(path.join(lxcDir, name), { recursive: true });
    // The same limits (as runtime/limits writes them on cgroup v1) and network; the rate both
    // ways as runtime/net-host does it: a tbf on the host side, its ingress redirected to an
    // ifb with a tbf (LXC's script.up, in one ip and one tc batch), the ifb deleted by script.down.
    const up = path.join(lxcDir, name, "rate-up");
    const down = path.join(lxcDir, name, "rate-down");
    const ifb = net?.ifb ?? "";
    fs.writeFileSync(up, [
      "#!/bin/sh", `printf 'link add name ${ifb} type ifb\nlink set dev ${ifb} up\n' | ip -batch - || exit 1`,
      `printf 'qdisc add dev %s root ${tbf}\nqdisc add dev %s handle ffff: ingress\n` +
        `filter add dev %s parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${ifb}\nqdisc add dev ${ifb} root ${tbf}\n' ` +
        '"$LXC_NET_PEER" "$LXC_NET_PEER" "$LXC_NET_PEER" | exec tc -batch -', "",
    ].join("\n"), { mode: 0o755 });
    fs.writeFileSync(down, `#!/bin/sh\nexec ip link del dev ${ifb}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(lxcDir, name, "config"), [
      `lxc.uts.name = ${name}`, `lxc.rootfs.path = dir:${root}`, "lxc.init.cmd = /sbin/init",
      "lxc.mount.auto = proc:mixed sys:ro", "lxc.autodev = 1", "lxc.tty.max = 0", "lxc.pty.max = 0", "lxc.console.path = none",
      "lxc.apparmor.profile = unconfined",
      ...(net ? [
        "lxc.net.0.type = veth", "lxc.net.0.link = br0", "lxc.net.0.flags = up", "lxc.net.0.name = eth0", `lxc.net.0.veth.pair = ${net.hostIf}`,
        `lxc.net.0.hwaddr = ${net.mac}`, `lxc.net.0.ipv4.address = ${net.address}`, "lxc.net.0.ipv4.gateway = 10.97.0.1",
        "lxc.hook.version = 1", `lxc.net.0.script.up = ${up}`, `lxc.net.0.script.down = ${down}`,
        `lxc.cgroup.memory.limit_in_bytes = ${FULL.memory}`, `lxc.cgroup.memory.memsw.limit_in_bytes = ${FULL.memory + FULL.swap}`,
        "lxc.cgroup.cpu.cfs_period_us = 100000", `lxc.cgroup.cpu.cfs_quota_us = ${FULL.cpuQuota * 1000}`,
        `lxc.cgroup.cpu.shares = ${(FULL.cpuWeight * 1024) / 100}`, `lxc.cgroup.cpuset.cpus = ${FULL.cpus}`, `lxc.cgroup.pids.max = ${FULL.tasks}`,
        "lxc.cgroup.blkio.bfq.weight = 109", // IOWeight=200 on BFQ's scale, as runtime/limits maps it
      ] : ["lxc.net.0.type = empty"]),
    ].join("\n") + "\n");
  }
  Object.assign(slot, { name, dir, root, fifo });
  return slot;
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
  buildHelper();
  if (PEERS.some((p) => p.full)) await makeNetns();
  const slots = new Map(PEERS.map((p) => [p.id, Array.from({ length: Math.max(MANY, 1) }, (_, i) => makeSlot(p, i))]));

  // ---- one at a time, interleaved ----
  const startT = new Map<string, number[]>(PEERS.map((p) => [p.id, []]));
  const pss = new Map<string, number>();
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
        if (peer.lxc) lxcKill(peer.full, s.name);
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      const t1 = now();
      fs.closeSync(fd);
      await new Promise((res) => setTimeout(res, 30)); // let it settle (and reap the start command)
      if (r === 0 && peer.check) {
        const missing = peer.check(s, p);
        if (missing) throw new Error(`${peer.id}: the limits or the network are not what the bench set: ${missing}`);
      }
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
      pss.set(peer.id, per.reduce((a, b) => a + b, 0) / per.length);
      const t1 = now();
      await Promise.all(ss.map((s, i) => peer.stop(s, procs[i])));
      const down = now() - t1;
      console.log(`${peer.label.padEnd(48)} ${fmt(up).padStart(10)} ${fmt(pss.get(peer.id)!).padStart(8)} ${fmt(down).padStart(15)}`);
    }
  }

  // ---- the full pair, side by side ----
  if (startT.has("containerctl-full") && startT.has("lxc-full")) {
    const [c, l] = [median(startT.get("containerctl-full")!), median(startT.get("lxc-full")!)];
    console.log(`\nevery limit + bridged veth (${FULL_LABEL}), containerctl without systemd vs LXC:`);
    console.log(`  start ${fmt(c)} ms vs ${fmt(l)} ms: ${(c / l).toFixed(2)}× LXC's`);
    if (pss.has("containerctl-full") && pss.has("lxc-full")) {
      const [pc, pl] = [pss.get("containerctl-full")!, pss.get("lxc-full")!];
      console.log(`  host PSS per container (${MANY} running) ${fmt(pc)} kB vs ${fmt(pl)} kB: ${(pc / pl).toFixed(2)}× LXC's`);
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
    // LXC's first, while the holder still holds the full pair's mount namespace.
    for (const peer of PEERS.filter((p) => p.lxc && (!p.full || holder))) {
      for (const name of fs.existsSync(lxcDir) ? fs.readdirSync(lxcDir) : []) lxcKill(peer.full, name);
    }
    for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", NETNS], { stdio: "ignore" });
    fs.rmSync(work, { recursive: true, force: true });
  });
