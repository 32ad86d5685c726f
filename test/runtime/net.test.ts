// Container networks (runtime/net), on the real kernel, inside network
// namespaces this test makes (the "host" the containers attach to; nothing
// touches the machine's own network): a bridged veth and a routed veth,
// addresses, MAC, gateway, reachability both ways and between the two,
// the rate shaping on the host side; macvlan on a host interface, reached
// from a test "LAN" namespace; and nothing left after stop.
import { spawnSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { TestContainer, buildHelper } from "../lib/runtime-harness";
import { Netns, initOf, inside, link, planLines as net, stopped } from "../lib/netns";

buildHelper();
let host: Netns;
const inNs = (...cmd: string[]) => host.exec(...cmd);
const IFA = `vc-a${process.pid % 100000}`;
const IFB = `vc-b${process.pid % 100000}`;

test.before(() => {
  host = new Netns("host");
  for (const c of [
    ["ip", "link", "add", "br0", "type", "bridge"], ["ip", "addr", "add", "10.99.0.1/24", "dev", "br0"],
    ["ip", "link", "set", "br0", "up"], ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
  ]) host.ok(...c);
});

test.after(() => {
  host.del();
});

test("bridged and routed veths: addresses, MAC, routes, reachability, shaping; gone after stop", async () => {
  const a = new TestContainer("neta");
  const b = new TestContainer("netb");
  try {
    a.start({ netType: "veth", stopTimeout: "2", extra: net([["net_host_ifname", IFA], ["net_mac", "02:00:00:99:00:0a"], ["net_bridge", "br0"],
      ["net_address", "10.99.0.10/24"], ["net_gateway", "10.99.0.1"], ["net_rate", "8000000bit"]]) }, {}, undefined, host.prefix);
    b.start({ netType: "veth", stopTimeout: "2", extra: net([["net_host_ifname", IFB], ["net_address", "10.99.1.20/32"]]) }, {}, undefined, host.prefix);
    await a.waitOutput(/init up/, 8000);
    await b.waitOutput(/init up/, 8000);

    const addrA = inside(a, "ip -o addr show dev eth0; ip -o link show dev eth0; ip route");
    assert.match(addrA.stdout, /inet 10\.99\.0\.10\/24 brd 10\.99\.0\.255/, "with its broadcast address, as networkd expects");
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

test("Type=host shares the host's network namespace (check warns about it: test/golden/host-network-warning); Type=none has only lo", async () => {
  const shared = new TestContainer("nethost");
  const none = new TestContainer("netnone");
  try {
    shared.start({ netType: "host", stopTimeout: "2" }, {}, undefined, host.prefix);
    none.start({ netType: "none", stopTimeout: "2" }, {}, undefined, host.prefix);
    await shared.waitOutput(/init up/, 8000);
    await none.waitOutput(/init up/, 8000);
    const hostNs = host.ok("readlink", "/proc/self/ns/net").trim();
    assert.is(readlinkSync(`/proc/${initOf(shared)}/ns/net`), hostNs, "the same network namespace as the host");
    assert.match(inside(shared, "ip -o link").stdout, /\bbr0\b/, "the host's bridge is visible inside");
    assert.is.not(readlinkSync(`/proc/${initOf(none)}/ns/net`), hostNs);
    assert.equal(inside(none, "ip -o link").stdout.trim().split("\n").map((l) => l.split(":")[1].trim()), ["lo"]);
    await stopped(shared);
    await stopped(none);
    host.ok("ip", "link", "show", "dev", "br0"); // the host's network is untouched after a host-network container stops
  } finally {
    shared.destroy();
    none.destroy();
  }
});

test("macvlan on a host interface: addresses, MAC, reachable from the LAN and from a sibling; gone after stop", async () => {
  // The parent is a veth whose other end is a "LAN" namespace (a machine on the same wire).
  const lan = new Netns("lan");
  const parent = `mvp${process.pid % 100000}`;
  const IFM = `vc-m${process.pid % 100000}`;
  const IFN = `vc-n${process.pid % 100000}`;
  const a = new TestContainer("mva");
  const b = new TestContainer("mvb");
  try {
    link(host, parent, "10.98.0.1/24", lan, "eth0", "10.98.0.2/24");
    a.start({ netType: "macvlan", stopTimeout: "2", extra: net([["net_host_ifname", IFM], ["net_link", parent], ["net_mac", "02:00:00:98:00:0a"],
      ["net_address", "10.98.0.10/24"], ["net_address", "fd98::10/64"], ["net_gateway", "10.98.0.2"]]) }, {}, undefined, host.prefix);
    b.start({ netType: "macvlan", stopTimeout: "2", extra: net([["net_host_ifname", IFN], ["net_link", parent], ["net_address", "10.98.0.11/24"]]) }, {}, undefined, host.prefix);
    await a.waitOutput(/init up/, 8000);
    await b.waitOutput(/init up/, 8000);

    // The host's iproute2 in the container's network namespace: busybox's ip has no -d.
    const seen = inside(a, "ip -o addr show dev eth0; ip route").stdout + spawnSync("nsenter", ["-t", String(initOf(a)), "-n", "ip", "-o", "-d", "link", "show", "dev", "eth0"], { encoding: "utf8" }).stdout;
    assert.match(seen, /inet 10\.98\.0\.10\/24/);
    assert.match(seen, /inet6 fd98::10\/64/);
    assert.match(seen, /link\/ether 02:00:00:98:00:0a/, seen);
    assert.match(seen, /macvlan mode bridge/);
    assert.match(seen, /default via 10\.98\.0\.2 dev eth0/);
    assert.not.ok(inNs("ip", "-o", "link").stdout.includes(IFM), "the macvlan moved into the container: nothing of it on the host");

    const ping = (ns: Netns, ip: string) => ns.exec(busyboxBinary(), "ping", "-c1", "-W2", ip).status;
    assert.is(ping(lan, "10.98.0.10"), 0, "LAN -> container");
    assert.is(ping(lan, "10.98.0.11"), 0, "LAN -> second container");
    assert.is(inside(a, "ping -c1 -W2 10.98.0.11").code, 0, "container -> sibling on the same parent (bridge mode)");
    assert.is(inside(a, "ping -c1 -W2 10.98.0.2").code, 0, "container -> its gateway on the LAN");
    assert.match(lan.exec("ip", "neigh", "show", "10.98.0.10").stdout, /02:00:00:98:00:0a/, "the LAN sees the spec's MAC");

    await stopped(a);
    await stopped(b);
    const links = inNs("ip", "-o", "link").stdout;
    assert.not.ok(links.includes(IFM) || links.includes(IFN), `no macvlan left on the host: ${links}`);
    assert.match(links, new RegExp(`${parent}@`), "the parent interface is untouched");
    assert.is(lan.exec(busyboxBinary(), "ping", "-c1", "-W1", "10.98.0.10").status, 1, "the address is gone with the container");
  } finally {
    a.destroy();
    b.destroy();
    lan.del();
  }
});

test.run();
