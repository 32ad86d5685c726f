// NetworkRateIn=/NetworkRateOut= (NetworkRate= sets both) contain a bulk transfer
// in each direction (runtime/net-host's tc shaping), on the real kernel inside a
// network namespace this test makes (a bridge there is the "host"; nothing
// touches the machine's own network). A bounded transfer with busybox nc between
// the test host and a container gets about its direction's rate, into the
// container and out of it; the same transfer with a container without a rate is
// much faster. The shaping is all on the host side: a tbf on the host-side veth
// (in) and one on the container's ifb device, the host side's ingress redirected
// there (out); eth0 inside has none, so the guest, which holds CAP_NET_ADMIN in
// its namespace, removing every qdisc it has does not lift the limit. A kernel
// without ifb, u32 or mirred gets the outgoing tbf on eth0 inside (said on
// stderr): the kernels here have them, and the test asserts the host side.
// After a stop, and after kill -9 of the helper and cleanup (ExecStopPost=),
// neither the host-side veth nor the ifb is left. A stale ifb is replaced; the
// fallback for a kernel without ifb runs against a stand-in (an `ip` on
// CONTAINERCTL_PATH that refuses the ifb type), as no such kernel is here.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { RUNTIME_DIR, TestContainer, buildHelper, guestInit, nsenterArgv, processesOf, sleep } from "../lib/runtime-harness";

buildHelper();
const NS = `ccr${process.pid}`;
const inNsArgv = (...cmd: string[]): string[] => ["ip", "netns", "exec", NS, ...cmd];
const inNs = (...cmd: string[]) => spawnSync("ip", inNsArgv(...cmd).slice(1), { encoding: "utf8", timeout: 15000 });
const BB = busyboxBinary();
const RATE_IN = 16_000_000; // bit/s: 2 MB/s
const RATE_OUT = 8_000_000; // bit/s: 1 MB/s; a different rate shows each direction has its own
const BYTES_IN = 4 * 1024 * 1024; // about 2 s at its rate
const BYTES_OUT = 2 * 1024 * 1024; // about 2 s at its rate

test.before(() => {
  assert.is(spawnSync("ip", ["netns", "add", NS]).status, 0);
  for (const c of [
    ["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "br0", "type", "bridge"], ["ip", "addr", "add", "10.98.0.1/24", "dev", "br0"],
    ["ip", "link", "set", "br0", "up"],
  ]) assert.is(inNs(...c).status, 0, c.join(" "));
});
test.after(() => {
  spawnSync("ip", ["netns", "del", NS]);
});

/** argv for sh -c CMD inside container c (nsenter: the helper's socket is in NS, not here). */
const insideArgv = (c: TestContainer, cmd: string): string[] => nsenterArgv(guestInit(c.name), cmd);

/**
 * One bounded transfer: `receiver` (argv of a busybox `nc -l` piped into `wc -c`)
 * listens, `sender` (argv) sends `bytes`; returns the goodput in bit/s, timed from
 * the sender's start to the receiver's count. The listener's stdin stays open
 * (busybox nc ends at EOF on stdin), so it ends when the sender closes.
 */
async function transfer(receiver: string[], listening: () => boolean, sender: string[], bytes: number): Promise<number> {
  const r = spawn(receiver[0], receiver.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let done = 0;
  r.stdout.on("data", (d) => {
    out += d.toString();
    done ||= Number(process.hrtime.bigint()) / 1e9;
  });
  r.stderr.on("data", (d) => (err += d.toString()));
  try {
    for (let i = 0; !listening(); i++) {
      assert.ok(i < 100, `the receiver does not listen: ${err}`);
      await sleep(50);
    }
    const t0 = Number(process.hrtime.bigint()) / 1e9;
    const s = spawn(sender[0], sender.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let serr = "";
    s.stderr.on("data", (d) => (serr += d.toString()));
    for (let i = 0; !done; i++) {
      assert.ok(i < 600, `the transfer did not end within 30 s (${out}; ${err}; ${serr})`);
      await sleep(50);
    }
    assert.is(Number(out.trim()), bytes, `every byte arrived (${err}; ${serr})`);
    return (bytes * 8) / (done - t0);
  } finally {
    r.kill("SIGKILL");
  }
}

const PORT = 5001;
const run = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 10000 });
const listening = (argv: string[]) => () => (run(argv).stdout ?? "").includes(`:${PORT} `);
// Inside the guest its busybox applets; on the test host busybox by path (no nc there).
const send = (nc: string, to: string, bytes: number) => `head -c ${bytes} /dev/zero | ${nc} ${to} ${PORT}`;
const receive = (nc: string) => `${nc} -l -p ${PORT} | wc -c`;

/** Goodput host → container and container → host, in bit/s. */
async function bothWays(c: TestContainer, addr: string): Promise<{ into: number; out: number }> {
  return { into: await into(c, addr), out: await outOf(c) };
}
const into = (c: TestContainer, addr: string): Promise<number> =>
  transfer(insideArgv(c, receive("nc")), listening(insideArgv(c, "netstat -ltn")), inNsArgv("sh", "-c", send(`${BB} nc`, addr, BYTES_IN)), BYTES_IN);
const outOf = (c: TestContainer): Promise<number> =>
  transfer(inNsArgv("sh", "-c", receive(`${BB} nc`)), listening(inNsArgv(BB, "netstat", "-ltn")), insideArgv(c, send("nc", "10.98.0.1", BYTES_OUT)), BYTES_OUT);

const mbit = (x: number): string => `${(x / 1e6).toFixed(1)} Mbit/s`;
/** tbf counts whole frames and TCP pays headers: the goodput stays a little under the rate;
 * its 64 kB burst adds at most ~3% over 2 s. The lower bound allows for busy shared cores. */
function aboutRate(dir: string, got: number, rate: number, note: string): void {
  assert.ok(got <= rate * 1.1, `${dir}: over the rate: ${note}`);
  assert.ok(got >= rate * 0.5, `${dir}: far under the rate: ${note}`);
}

const PID5 = process.pid % 100000;
const netPlan = (ifname: string, addr: string, ifb?: string) => [
  ["net_host_ifname", ifname], ["net_bridge", "br0"], ["net_address", `${addr}/24`],
  ...(ifb ? [["net_rate_in", `${RATE_IN}bit`], ["net_rate_out", `${RATE_OUT}bit`, ifb]] : []),
].map((l) => l.join("\t"));
const hostLinks = (): string => inNs("ip", "-o", "link").stdout;

test("NetworkRateIn=16Mbit NetworkRateOut=8Mbit: each direction gets about its rate, shaped on the host side; without, much more", async () => {
  const ifA = `vc-r${PID5}`;
  const ifbA = `vr-r${PID5}`;
  const ifB = `vc-s${PID5}`;
  const a = new TestContainer("rate");
  const b = new TestContainer("norate");
  try {
    a.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifA, "10.98.0.10", ifbA) }, {}, undefined, inNsArgv());
    b.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifB, "10.98.0.11") }, {}, undefined, inNsArgv());
    await a.waitOutput(/init up/, 8000);
    await b.waitOutput(/init up/, 8000);
    assert.not.match(a.stderr, /shaped on eth0 inside/, `this kernel has ifb, u32 and mirred: ${a.stderr}`);
    assert.match(inNs("tc", "qdisc", "show", "dev", ifA).stdout, /tbf .*rate 16Mbit/, "into A: a tbf on the host side");
    assert.match(inNs("tc", "filter", "show", "dev", ifA, "parent", "ffff:").stdout, new RegExp(`mirred \\(Egress Redirect to device ${ifbA}\\)`),
      "out of A: the host side's ingress redirected to A's ifb");
    assert.match(inNs("tc", "qdisc", "show", "dev", ifbA).stdout, /tbf .*rate 8Mbit/, "and shaped there");
    // (the host's tc in A's network namespace: busybox's cannot show a tbf's options)
    const eth0 = run(["nsenter", `--net=/proc/${guestInit(a.name)}/ns/net`, "tc", "qdisc", "show", "dev", "eth0"]).stdout;
    assert.not.match(eth0, /tbf|ingress/, `nothing of the shaping inside: ${eth0}`);

    const limited = await bothWays(a, "10.98.0.10");
    const free = await bothWays(b, "10.98.0.11");
    const note = `with NetworkRateIn=16Mbit NetworkRateOut=8Mbit: in ${mbit(limited.into)}, out ${mbit(limited.out)}; without: in ${mbit(free.into)}, out ${mbit(free.out)}`;
    console.log(`${BYTES_IN} bytes in, ${BYTES_OUT} out, ${note}`);
    aboutRate("in", limited.into, RATE_IN, note);
    aboutRate("out", limited.out, RATE_OUT, note);
    assert.ok(free.into > RATE_IN * 5 && free.out > RATE_IN * 5, `without the limit the same transfers are much faster: ${note}`);

    // The guest holds CAP_NET_ADMIN in its namespace: it removes every qdisc it can see.
    const caps = run(insideArgv(a, "grep CapEff /proc/1/status"));
    assert.ok((BigInt(`0x${caps.stdout.split(/\s+/)[1]}`) >> 12n) & 1n, `the guest has CAP_NET_ADMIN: ${caps.stdout}`);
    const del = run(insideArgv(a, "tc qdisc del dev eth0 root; tc qdisc del dev eth0 ingress; tc qdisc show dev eth0"));
    const again = { into: await into(a, "10.98.0.10"), out: await outOf(a) };
    const note2 = `after the guest's tc qdisc del (${del.stdout.trim()}): in ${mbit(again.into)}, out ${mbit(again.out)}`;
    console.log(note2);
    aboutRate("in", again.into, RATE_IN, note2);
    aboutRate("out", again.out, RATE_OUT, note2);

    await a.stop();
    await b.stop();
    assert.not.match(hostLinks(), new RegExp(`${ifA}|${ifbA}|${ifB}`), "host-side devices, their qdiscs and A's ifb are gone");
  } finally {
    a.destroy();
    b.destroy();
  }
});

test("kill -9 of the helper: the ifb (in the host's namespace) is left until cleanup, which removes it", async () => {
  const ifA = `vc-k${PID5}`;
  const ifbA = `vr-k${PID5}`;
  const a = new TestContainer("ratekill");
  try {
    a.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifA, "10.98.0.12", ifbA) }, {}, undefined, inNsArgv());
    await a.waitOutput(/init up/, 8000);
    assert.match(hostLinks(), new RegExp(`${ifbA}`), "the ifb is there while A runs");
    // The guest init's parent (its socket is in the namespace: no a.pids() from here).
    const helper = Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${guestInit(a.name)}/status`, "utf8"))![1]);
    assert.match(fs.readFileSync(`/proc/${helper}/comm`, "utf8"), /^helper/);
    process.kill(helper, "SIGKILL");
    await a.waitExit();
    for (let i = 0; processesOf(a.name).length > 0; i++) {
      assert.ok(i < 100, "the guest dies with its helper");
      await sleep(50);
    }
    assert.match(hostLinks(), new RegExp(`${ifbA}`), "nothing removed the ifb: it is not in the container's namespace");
    // What ExecStopPost= does, in the namespace the container's host side is in.
    const cl = spawnSync("ip", inNsArgv(`${RUNTIME_DIR}/cleanup`, a.name).slice(1), { encoding: "utf8", env: { ...process.env, CONTAINERCTL_PLAN: a.planFile } });
    assert.is(cl.status, 0, cl.stderr);
    assert.not.match(hostLinks(), new RegExp(`${ifA}|${ifbA}`), "cleanup removed the host-side veth and the ifb");
  } finally {
    a.destroy();
  }
});

test("a stale ifb (a stop whose cleanup never ran) is replaced; a kernel without ifb (stand-in) shapes eth0 inside and says so", async () => {
  const ifA = `vc-t${PID5}`;
  const ifbA = `vr-t${PID5}`;
  const a = new TestContainer("ratestale");
  // The stand-in: this kernel has ifb, so an `ip` first on PATH refuses to make one (its
  // batches included), as `ip` does on a kernel without it ("Unknown device type").
  const bin = fs.mkdtempSync(`${os.tmpdir()}/containerctl-noifb-`);
  const b = new TestContainer("ratenoifb");
  try {
    assert.is(inNs("ip", "link", "add", ifbA, "type", "ifb").status, 0);
    a.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifA, "10.98.0.13", ifbA) }, {}, undefined, inNsArgv());
    await a.waitOutput(/init up/, 8000);
    assert.match(inNs("tc", "qdisc", "show", "dev", ifbA).stdout, /tbf .*rate 8Mbit/, "the ifb made again and shaped");
    assert.not.match(a.stderr, /shaped on eth0 inside/);

    fs.writeFileSync(path.join(bin, "ip"), [
      "#!/bin/sh",
      'case " $* " in *" type ifb "*) echo "Error: Unknown device type." >&2; exit 2 ;; esac',
      'if [ "$1" = -batch ]; then in=$(cat); case $in in *" type ifb"*) echo "Error: Unknown device type." >&2; exit 1 ;; esac',
      '  printf "%s\\n" "$in" | exec /usr/sbin/ip "$@"; fi',
      'exec /usr/sbin/ip "$@"', "",
    ].join("\n"), { mode: 0o755 });
    const ifB = `vc-u${PID5}`;
    const ifbB = `vr-u${PID5}`;
    b.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifB, "10.98.0.14", ifbB) }, { CONTAINERCTL_PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` }, undefined, inNsArgv());
    await b.waitOutput(/init up/, 8000);
    assert.match(b.stderr, /no ifb device in this kernel: outgoing traffic shaped on eth0 inside the container/);
    const eth0 = run(["nsenter", `--net=/proc/${guestInit(b.name)}/ns/net`, "tc", "qdisc", "show", "dev", "eth0"]).stdout;
    assert.match(eth0, /tbf .*rate 8Mbit/, "out: a tbf on eth0 inside");
    assert.match(inNs("tc", "qdisc", "show", "dev", ifB).stdout, /tbf .*rate 16Mbit/, "in: still on the host side");
    assert.not.match(inNs("tc", "qdisc", "show", "dev", ifB).stdout, /ingress/, "no ingress redirect without an ifb");
    assert.not.match(hostLinks(), new RegExp(ifbB));
    await a.stop();
    await b.stop();
    assert.not.match(hostLinks(), new RegExp(`${ifA}|${ifbA}|${ifB}`));
  } finally {
    a.destroy();
    b.destroy();
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test.run();
