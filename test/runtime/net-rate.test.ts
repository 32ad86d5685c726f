// NetworkRate= contains a bulk transfer in both directions (runtime/net's tc
// shaping), on the real kernel inside a network namespace this test makes (a
// bridge there is the "host"; nothing touches the machine's own network).
// A bounded transfer with busybox nc between the test host and a container
// with the rate gets about that rate, into the container and out of it; the
// same transfer with a container without it is much faster. The kernels here
// lack the tc police action, so outgoing traffic is shaped by a tbf on eth0
// inside (runtime/net says so on stderr); the test checks whichever it got.
import { spawn, spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { TestContainer, buildHelper, guestInit, nsenterArgv, sleep } from "../lib/runtime-harness";

buildHelper();
const NS = `ccr${process.pid}`;
const inNsArgv = (...cmd: string[]): string[] => ["ip", "netns", "exec", NS, ...cmd];
const inNs = (...cmd: string[]) => spawnSync("ip", inNsArgv(...cmd).slice(1), { encoding: "utf8", timeout: 15000 });
const BB = busyboxBinary();
const RATE = 16_000_000; // bit/s: 2 MB/s
const BYTES = 4 * 1024 * 1024; // about 2 s at the rate

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
 * listens, `sender` (argv) sends BYTES; returns the goodput in bit/s, timed from
 * the sender's start to the receiver's count. The listener's stdin stays open
 * (busybox nc ends at EOF on stdin), so it ends when the sender closes.
 */
async function transfer(receiver: string[], listening: () => boolean, sender: string[]): Promise<number> {
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
    assert.is(Number(out.trim()), BYTES, `every byte arrived (${err}; ${serr})`);
    return (BYTES * 8) / (done - t0);
  } finally {
    r.kill("SIGKILL");
  }
}

const PORT = 5001;
const run = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 10000 });
const listening = (argv: string[]) => () => (run(argv).stdout ?? "").includes(`:${PORT} `);
// Inside the guest its busybox applets; on the test host busybox by path (no nc there).
const send = (nc: string, to: string) => `head -c ${BYTES} /dev/zero | ${nc} ${to} ${PORT}`;
const receive = (nc: string) => `${nc} -l -p ${PORT} | wc -c`;

/** Goodput host → container and container → host, in bit/s. */
async function bothWays(c: TestContainer, addr: string): Promise<{ into: number; out: number }> {
  const into = await transfer(insideArgv(c, receive("nc")), listening(insideArgv(c, "netstat -ltn")), inNsArgv("sh", "-c", send(`${BB} nc`, addr)));
  const out = await transfer(inNsArgv("sh", "-c", receive(`${BB} nc`)), listening(inNsArgv(BB, "netstat", "-ltn")), insideArgv(c, send("nc", "10.98.0.1")));
  return { into, out };
}

test("NetworkRate=16Mbit: a bulk transfer gets about that rate into and out of the container; without it, much more", async () => {
  const ifA = `vc-r${process.pid % 100000}`;
  const ifB = `vc-s${process.pid % 100000}`;
  const a = new TestContainer("rate");
  const b = new TestContainer("norate");
  const netPlan = (ifname: string, addr: string, rate?: string) => [
    ["net_host_ifname", ifname], ["net_bridge", "br0"], ["net_address", `${addr}/24`], ...(rate ? [["net_rate", rate]] : []),
  ].map((l) => l.join("\t"));
  try {
    a.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifA, "10.98.0.10", `${RATE}bit`) }, {}, undefined, inNsArgv());
    b.start({ netType: "veth", stopTimeout: "2", extra: netPlan(ifB, "10.98.0.11") }, {}, undefined, inNsArgv());
    await a.waitOutput(/init up/, 8000);
    await b.waitOutput(/init up/, 8000);
    assert.match(inNs("tc", "qdisc", "show", "dev", ifA).stdout, /tbf .*rate 16Mbit/, "into A: a tbf on the host side");
    const policed = /police/.test(inNs("tc", "filter", "show", "dev", ifA, "parent", "ffff:").stdout);
    // (the host's tc in A's network namespace: busybox's cannot show a tbf's options)
    const eth0 = run(["nsenter", `--net=/proc/${guestInit(a.name)}/ns/net`, "tc", "qdisc", "show", "dev", "eth0"]).stdout;
    assert.ok(policed || /tbf .*rate 16Mbit/.test(eth0), `out of A: policed on the host side, else a tbf on eth0 (${eth0})`);
    if (!policed) assert.match(a.stderr, /no tc police action/, "and the runtime says which");

    const limited = await bothWays(a, "10.98.0.10");
    const free = await bothWays(b, "10.98.0.11");
    const mbit = (x: number): string => `${(x / 1e6).toFixed(1)} Mbit/s`;
    const note = `with NetworkRate=16Mbit: in ${mbit(limited.into)}, out ${mbit(limited.out)}; without: in ${mbit(free.into)}, out ${mbit(free.out)}`;
    console.log(`${BYTES} bytes each way, ${note}`);
    // tbf counts whole frames and TCP pays headers: the goodput stays a little under the rate;
    // its 64 kB burst adds at most ~3% over 2 s. The lower bound allows for busy shared cores.
    for (const [dir, r] of [["in", limited.into], ["out", limited.out]] as const) {
      assert.ok(r <= RATE * 1.1, `${dir}: over the rate: ${note}`);
      assert.ok(r >= RATE * 0.5, `${dir}: far under the rate: ${note}`);
    }
    assert.ok(free.into > RATE * 5 && free.out > RATE * 5, `without the limit the same transfers are much faster: ${note}`);
    await a.stop();
    await b.stop();
    assert.not.match(inNs("ip", "-o", "link").stdout, new RegExp(`${ifA}|${ifB}`), "host-side devices (and their qdiscs) are gone");
  } finally {
    a.destroy();
    b.destroy();
  }
});

test.run();
