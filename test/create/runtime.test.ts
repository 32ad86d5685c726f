// Created guests boot under containerctl's own runtime (`containerctl run`, the
// foreground start): the busybox guest and a Debian bookworm guest reach a
// login prompt on the console, the Debian guest's systemd is running with
// eth0 configured from the spec; a copy and a snapshot clone both start and
// their writes do not reach the base. Skipped when the runtime is not there.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { busyboxBinary } from "../lib/busybox-guest";
import { Netns, link } from "../lib/netns";
import { CLI, listing, skipReason, tempHost, waitFor, type TempHost } from "./env";

const CACHE = process.env.CONTAINERCTL_TEST_CACHE ? path.join(process.env.CONTAINERCTL_TEST_CACHE, "create") : "/var/cache/containerctl-test/create";
const RUNTIME = path.join(__dirname, "../../../runtime");
let skip = skipReason();
let h: TempHost = tempHost(CACHE);
if (!skip && !/^\s+run \[options\] <name>/m.test(h.cli(["--help"]).stdout)) skip = "no `containerctl run` (runtime not built yet)";
if (!skip && !fs.existsSync(path.join(RUNTIME, "helper"))) skip = "runtime/helper is not built (runtime/build.sh)";
const it = skip ? test.skip : test;
if (skip) console.log(`runtime tests for created guests skipped: ${skip}`);
h.cleanup();

test.before.each(() => {
  h = tempHost(CACHE);
});
const running: ChildProcess[] = [];
test.after.each(async () => {
  for (const p of running.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill("SIGTERM");
      await waitFor(() => p.exitCode !== null || p.signalCode !== null, 60_000);
    }
  }
  // What the runtime leaves after a stop (its plan; a systemd guest's empty cgroups): ours, so removed.
  for (const n of names.splice(0)) {
    fs.rmSync(path.join("/run/containerctl", n), { recursive: true, force: true });
    for (const c of fs.readdirSync("/sys/fs/cgroup")) {
      const dir = path.join("/sys/fs/cgroup", c, "containerctl", n);
      if (fs.existsSync(dir)) spawnSync("find", [dir, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"]);
    }
  }
  h.cleanup();
});

const names: string[] = [];
// The runtime's state lives in the real /run/containerctl/NAME: names unique to this run.
const uniq = (n: string): string => {
  const name = `cc-test-${n}-${process.pid}`;
  names.push(name);
  return name;
};

interface Run { p: ChildProcess; out: () => string }
function run(name: string, netns: string[] = []): Run {
  const p = netns.length ? spawn(netns[0], [...netns.slice(1), process.execPath, CLI, "run", name], { env: h.env, stdio: ["ignore", "pipe", "pipe"] }) : h.spawnCli(["run", name]);
  running.push(p);
  let out = "";
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  return { p, out: () => out };
}

async function stop(r: Run): Promise<void> {
  r.p.kill("SIGTERM");
  assert.ok(await waitFor(() => r.p.exitCode !== null || r.p.signalCode !== null, 90_000), `stopped: ${r.out().slice(-500)}`);
}

const exec = (name: string, ...cmd: string[]): { code: number | null; stdout: string; stderr: string } => h.cli(["exec", name, "--", ...cmd], { timeoutMs: 30_000 });
/** exec through a network namespace's prefix (the helper's socket is abstract: per network namespace). */
function execNs(name: string, netns: string[], ...cmd: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(netns[0], [...netns.slice(1), process.execPath, CLI, "exec", name, "--", ...cmd], { env: h.env, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

it("the busybox guest boots to a login prompt on its console and stops on SIGTERM", async () => {
  const name = uniq("bb");
  assert.is(h.cli(["create", name, "--busybox"]).code, 0);
  const r = run(name);
  assert.ok(await waitFor(() => /login: /.test(r.out()), 30_000), r.out());
  assert.is(exec(name, "cat", "/etc/hostname").stdout, `${name}\n`);
  // A pivot_root'ed guest in its own namespaces still counts as running: destroy and clone refuse.
  const before = listing(h.root);
  let d = h.cli(["destroy", name, "--yes"]);
  assert.is(d.code, 1);
  assert.match(d.stderr, /is running/);
  d = h.cli(["clone", name, `${name}-copy`]);
  assert.is(d.code, 1);
  assert.match(d.stderr, /is running/);
  assert.equal(listing(h.root), before);
  await stop(r);
  d = h.cli(["destroy", name, "--yes"]);
  assert.is(d.code, 0, d.stderr);
});

it("copy and snapshot clones of a busybox guest start, and their writes do not reach the base", async () => {
  const base = uniq("base"), copy = uniq("copy"), snap = uniq("snap");
  assert.is(h.cli(["create", base, "--busybox"]).code, 0);
  assert.is(h.cli(["clone", base, copy]).code, 0);
  assert.is(h.cli(["clone", base, snap, "--snapshot"]).code, 0);
  const baseRoot = path.join(h.paths.libDir, base, "rootfs");
  const before = listing(baseRoot);
  // The runtime assembles the snapshot from the spec's RootLowerDirectory= in the
  // container's own mount namespace: the host never sees the overlay.
  const snapRoot = path.join(h.paths.libDir, snap, "rootfs");
  const spec = fs.readFileSync(path.join(h.paths.configDir, `${snap}.container`), "utf8");
  assert.match(spec, new RegExp(`^RootLowerDirectory=${fs.realpathSync(baseRoot)}$`, "m"));
  const hostMounts = (): string => fs.readFileSync("/proc/self/mountinfo", "utf8");
  const runs = [run(copy), run(snap)];
  for (const r of runs) assert.ok(await waitFor(() => /login: /.test(r.out()), 30_000), r.out());
  assert.not.ok(hostMounts().includes(` ${snapRoot} `), "no overlay on the host while it runs");
  for (const n of [copy, snap]) {
    assert.is(exec(n, "cat", "/etc/hostname").stdout, `${n}\n`);
    assert.is(exec(n, "sh", "-c", "echo written > /root/written && rm /etc/inittab.bak 2>/dev/null; echo changed >> /etc/profile").code, 0);
  }
  for (const r of runs) await stop(r);
  assert.not.ok(hostMounts().includes(snapRoot), "nothing of the snapshot stays mounted");
  assert.equal(fs.readdirSync(snapRoot), [], "the mount point stays empty on the host");
  assert.equal(listing(baseRoot), before, "the base is as it was");
  assert.ok(fs.existsSync(path.join(h.paths.libDir, snap, "upper/root/written")), "the snapshot's write is in its upper layer");
  assert.ok(fs.existsSync(path.join(h.paths.libDir, copy, "rootfs/root/written")));
});

it("a running snapshot cannot be cloned or destroyed (nor its base); stopped, its full copy and its snapshot start with what it wrote, and their writes reach neither it nor the base", async () => {
  const base = uniq("base"), snap = uniq("snap"), full = uniq("full"), snap2 = uniq("snap2");
  assert.is(h.cli(["create", base, "--busybox"]).code, 0);
  assert.is(h.cli(["clone", base, snap, "--snapshot"]).code, 0);
  const baseRoot = path.join(h.paths.libDir, base, "rootfs"), snapUpper = path.join(h.paths.libDir, snap, "upper");
  const baseBefore = listing(baseRoot);
  const r = run(snap);
  assert.ok(await waitFor(() => /login: /.test(r.out()), 30_000), r.out());
  assert.is(exec(snap, "sh", "-c", "echo from-snap > /root/snapfile && rm /etc/issue").code, 0);
  // Running: every way of copying or removing it (or what it stands on) is refused, and nothing changes.
  const before = listing(h.root);
  for (const [argv, msg] of [
    [["clone", snap, full], new RegExp(`${snap} is running \\(its runtime helper listens`)],
    [["clone", snap, snap2, "--snapshot"], new RegExp(`${snap} is running`)],
    [["destroy", snap, "--yes"], new RegExp(`${snap} is running`)],
    [["destroy", base, "--yes", "--force"], new RegExp(`${snap}, a snapshot of ${base}, is running`)],
  ] as [string[], RegExp][]) {
    const d = h.cli(argv);
    assert.is(d.code, 1, argv.join(" "));
    assert.match(d.stderr, msg);
  }
  assert.equal(listing(h.root), before);
  await stop(r);

  let c = h.cli(["clone", snap, full]);
  assert.is(c.code, 0, c.stderr);
  c = h.cli(["clone", snap, snap2, "--snapshot"]);
  assert.is(c.code, 0, c.stderr);
  const snapUpperBefore = listing(snapUpper);
  const runs = [run(full), run(snap2)];
  for (const x of runs) assert.ok(await waitFor(() => /login: /.test(x.out()), 30_000), x.out());
  for (const n of [full, snap2]) {
    assert.is(exec(n, "cat", "/root/snapfile").stdout, "from-snap\n", `${n} has what ${snap} wrote`);
    assert.is(exec(n, "test", "-e", "/etc/issue").code, 1, `${n} does not have what ${snap} deleted`);
    assert.is(exec(n, "cat", "/etc/hostname").stdout, `${n}\n`);
    assert.is(exec(n, "sh", "-c", "echo mine > /root/snapfile && echo new > /root/new-in-clone && rm /etc/inittab").code, 0);
  }
  for (const x of runs) await stop(x);
  assert.equal(listing(snapUpper), snapUpperBefore, "the snapshot's upper layer is as it was");
  assert.equal(listing(baseRoot), baseBefore, "the base is as it was");
  assert.is(fs.readFileSync(path.join(h.paths.libDir, full, "rootfs/root/snapfile"), "utf8"), "mine\n");
  assert.ok(fs.existsSync(path.join(h.paths.libDir, snap2, "upper/root/new-in-clone")));
});

it("a Debian bookworm guest created with --address and --bridge boots under the runtime: systemd running, eth0 as the spec says, reachable on the bridge, a console login prompt", async () => {
  const name = uniq("deb");
  // The container's "host" is a test namespace with the bridge; a second one on the bridge is a neighbour that pings it.
  const host = new Netns("debh");
  const lan = new Netns("debl");
  try {
    host.ok("ip", "link", "add", "br0", "type", "bridge");
    host.ok("ip", "link", "set", "br0", "up");
    host.ok("ip", "addr", "add", "10.0.3.1/24", "dev", "br0");
    link(host, `lan${process.pid % 100000}`, "", lan, "eth0", "10.0.3.99/24");
    host.ok("ip", "link", "set", `lan${process.pid % 100000}`, "master", "br0");
    const c = h.cli(["create", name, "--distro", "debian", "--release", "bookworm", "--address", "10.0.3.5/24", "--gateway", "10.0.3.1", "--bridge", "br0"], { timeoutMs: 30 * 60_000 });
    assert.is(c.code, 0, c.stderr);
    const r = run(name, host.prefix);
    assert.ok(await waitFor(() => /login: /.test(r.out()), 120_000), r.out().slice(-2000));
    // The helper's control socket is in the host namespace's abstract namespace: exec from there too.
    const ex = (...cmd: string[]) => execNs(name, host.prefix, ...cmd);
    let state = "";
    await waitFor(() => /^(running|degraded)$/m.test((state = ex("systemctl", "is-system-running").stdout)), 60_000);
    assert.match(state, /^(running|degraded)$/m, JSON.stringify([ex("systemctl", "is-system-running"), ex("systemctl", "--failed", "--no-pager").stdout]));
    assert.is(ex("systemctl", "is-active", "systemd-networkd").stdout.trim(), "active");
    // networkd took eth0 over from the runtime's setup and keeps the same address and route.
    let link_ = "";
    await waitFor(() => /\beth0\b.*\b(configured)\b/.test((link_ = ex("networkctl", "--no-pager", "list").stdout)), 30_000);
    assert.match(link_, /\beth0\b.*\bconfigured\b/, link_ + ex("journalctl", "-u", "systemd-networkd", "--no-pager", "-n", "30").stdout);
    assert.match(ex("ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout, /inet 10\.0\.3\.5\/24/);
    assert.match(ex("ip", "route", "show", "default").stdout, /^default via 10\.0\.3\.1 dev eth0/m);
    assert.is(lan.exec(busyboxBinary(), "ping", "-c1", "-W2", "10.0.3.5").status, 0, "a neighbour on the bridge reaches the guest");
    await stop(r);
    assert.not.ok(host.ok("ip", "-o", "link").includes("vc-"), "the host side is gone");
  } finally {
    host.del();
    lan.del();
  }
});

const haveDnsmasq = spawnSync("sh", ["-c", "command -v dnsmasq"]).status === 0;
(haveDnsmasq ? it : test.skip)("a Debian bookworm guest created with only --bridge on the managed bridge gets its address by DHCP from the bridge's dnsmasq", async () => {
  const name = uniq("dhcp");
  const host = new Netns("dhcph");
  const br = `ccd${process.pid % 100000}`;
  const network = (action: string) => spawnSync(host.prefix[0], [...host.prefix.slice(1), process.execPath, CLI, "network", action], { env: h.env, encoding: "utf8" });
  try {
    fs.mkdirSync(h.paths.configDir, { recursive: true });
    fs.writeFileSync(path.join(h.paths.configDir, "network.conf"), `[Bridge]\nName=${br}\nAddress=10.0.7.1/24\nNAT=no\n`);
    const up = network("up");
    assert.is(up.status, 0, up.stderr);
    const c = h.cli(["create", name, "--distro", "debian", "--release", "bookworm", "--bridge", br], { timeoutMs: 30 * 60_000 });
    assert.is(c.code, 0, c.stderr);
    const r = run(name, host.prefix);
    assert.ok(await waitFor(() => /login: /.test(r.out()), 120_000), r.out().slice(-2000));
    let addr = "";
    await waitFor(() => /inet 10\.0\.7\.\d+\/24/.test((addr = execNs(name, host.prefix, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout)), 60_000);
    assert.match(addr, /inet 10\.0\.7\.([2-9]|\d\d+)\/24 .*dynamic/, addr + execNs(name, host.prefix, "journalctl", "-u", "systemd-networkd", "--no-pager", "-n", "20").stdout);
    const ip = /inet (10\.0\.7\.\d+)/.exec(addr)![1];
    assert.match(fs.readFileSync(path.join(h.paths.runDir, "network/dnsmasq.leases"), "utf8"), new RegExp(` ${ip.replace(/\./g, "\\.")} `), "dnsmasq's lease for it");
    assert.is(host.exec(busyboxBinary(), "ping", "-c1", "-W2", ip).status, 0, "the host reaches it at its leased address");
    await stop(r);
  } finally {
    network("down");
    host.del();
  }
});

test.run();
