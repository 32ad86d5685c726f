// Container networks (runtime/net), on the real kernel, inside a network
// namespace this test makes (the "host" the containers attach to; nothing
// touches the machine's own network): a bridged veth and a routed veth,
// addresses, MAC, gateway, reachability both ways and between the two,
// the rate shaping on the host side, and nothing left after stop.
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { TestContainer, buildHelper, guestInit, nsenterArgv, processesOf, sleep } from "../lib/runtime-harness";

buildHelper();
const NS = `cct${process.pid}`;
const inNs = (...cmd: string[]) => spawnSync("ip", ["netns", "exec", NS, ...cmd], { encoding: "utf8", timeout: 15000 });
const IFA = `vc-a${process.pid % 100000}`;
const IFB = `vc-b${process.pid % 100000}`;

test.before(() => {
  assert.is(spawnSync("ip", ["netns", "add", NS]).status, 0);
  for (const c of [
    ["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "br0", "type", "bridge"], ["ip", "addr", "add", "10.99.0.1/24", "dev", "br0"],
    ["ip", "link", "set", "br0", "up"], ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
  ]) assert.is(inNs(...c).status, 0, c.join(" "));
});

test.after(() => {
  spawnSync("ip", ["netns", "del", NS]);
});

const net = (lines: string[][]) => lines.map((l) => l.join("\t"));

// The helper's control socket is abstract, so it belongs to the network
// namespace the helper runs in (the test's "host" here): commands inside the
// containers go through nsenter on the guest init found from the host's /proc.
function inside(c: TestContainer, cmd: string): { code: number | null; stdout: string } {
  const [nsenter, ...args] = nsenterArgv(guestInit(c.name), cmd);
  const r = spawnSync(nsenter, args, { encoding: "utf8", timeout: 10000 });
  return { code: r.status, stdout: r.stdout + r.stderr };
}
/** Stop as systemd would (SIGTERM to the main process) and wait for it to end. */
async function stopped(c: TestContainer): Promise<void> {
  c.proc?.kill("SIGTERM");
  await c.waitExit(15000);
  for (let i = 0; i < 100 && processesOf(c.name).length > 0; i++) await sleep(20);
}

test("bridged and routed veths: addresses, MAC, routes, reachability, shaping; gone after stop", async () => {
  const a = new TestContainer("neta");
  const b = new TestContainer("netb");
  try {
    a.start({ netType: "veth", stopTimeout: "2", extra: net([["net_host_ifname", IFA], ["net_mac", "02:00:00:99:00:0a"], ["net_bridge", "br0"],
      ["net_address", "10.99.0.10/24"], ["net_gateway", "10.99.0.1"], ["net_rate", "8000000bit"]]) }, {}, undefined, ["ip", "netns", "exec", NS]);
    b.start({ netType: "veth", stopTimeout: "2", extra: net([["net_host_ifname", IFB], ["net_address", "10.99.1.20/32"]]) }, {}, undefined, ["ip", "netns", "exec", NS]);
    await a.waitOutput(/init up/, 8000);
    await b.waitOutput(/init up/, 8000);

    const addrA = inside(a, "ip -o addr show dev eth0; ip -o link show dev eth0; ip route");
    assert.match(addrA.stdout, /inet 10\.99\.0\.10\/24/);
    assert.match(addrA.stdout, /link\/ether 02:00:00:99:00:0a/);
    assert.match(addrA.stdout, /default via 10\.99\.0\.1 dev eth0/);
    assert.match(inNs("ip", "-o", "link", "show", "dev", IFA).stdout, /master br0/);
    assert.match(inNs("tc", "qdisc", "show", "dev", IFA).stdout, /tbf .*rate 8Mbit/);
    // Out of the container: policed on the host side where the kernel can (u32 + police), else a tbf on eth0.
    const policed = /police/.test(inNs("tc", "filter", "show", "dev", IFA, "parent", "ffff:").stdout);
    if (!policed) assert.match((inside(a, "tc qdisc show dev eth0")).stdout + a.stderr, /tbf|no tc police action/);

    const routeB = inside(b, "ip -o addr show dev eth0; ip route");
    assert.match(routeB.stdout, /inet 10\.99\.1\.20\/32/);
    assert.match(routeB.stdout, /default dev eth0/);
    assert.match(inNs("ip", "route", "show", "10.99.1.20").stdout, new RegExp(`10\\.99\\.1\\.20 dev ${IFB}`));

    // The test "host" reaches both, a reaches its gateway, and a and b reach each other through the host.
    // (busybox's ping on the host side: iputils is not installed everywhere)
    assert.is(inNs(busyboxBinary(), "ping", "-c1", "-W2", "10.99.0.10").status, 0, "host -> bridged");
    assert.is(inNs(busyboxBinary(), "ping", "-c1", "-W2", "10.99.1.20").status, 0, "host -> routed");
    assert.is(inside(a, "ping -c1 -W2 10.99.0.1").code, 0, "bridged -> gateway");
    assert.is((inside(a, "ping -c1 -W2 10.99.1.20")).code, 0, "bridged -> routed, through the host");
    assert.is((inside(b, "ping -c1 -W2 10.99.0.10")).code, 0, "routed -> bridged, through the host (proxy ARP)");

    await stopped(a);
    await stopped(b);
    const links = inNs("ip", "-o", "link").stdout;
    assert.not.ok(links.includes(IFA) || links.includes(IFB), `host-side interfaces gone: ${links}`);
    assert.not.match(inNs("ip", "route").stdout, /10\.99\.1\.20/, "the routed container's host route is gone");
  } finally {
    a.destroy();
    b.destroy();
  }
});

test.run();
