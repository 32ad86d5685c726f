// Container networks (runtime/net), on the real kernel, inside network
// namespaces this test makes (the "host" the containers attach to; nothing
// touches the machine's own network): a bridged veth and a routed veth,
// addresses, MAC, gateway, reachability both ways and between the two,
// the rate shaping on the host side; macvlan on a host interface, reached
// from a test "LAN" namespace; and nothing left after stop; two bridged
// interfaces on two bridges (ExtraInterface=, runtime/net-extra), cleaned up
// after a stop and after kill -9 of the helper; a routed and a macvlan further
// interface; a missing bridge.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { RUNTIME_DIR, TestContainer, buildHelper, guestInit } from "../lib/runtime-harness";
import { Netns, initOf, inside, link, planLines as net, stopped } from "../lib/netns";

buildHelper();
let host: Netns;
const inNs = (...cmd: string[]) => host.exec(...cmd);
const IFA = `vc-a${process.pid % 100000}`;
const IFB = `vc-b${process.pid % 100000}`;
const IFR = `vr-a${process.pid % 100000}`; // a's ifb (NetworkRate= out of the container)
const IFC = `vc-c${process.pid % 100000}`;
const IFC1 = `vc1-c${process.pid % 100000}`;

test.before(() => {
  host = new Netns("host");
  for (const c of [
    ["ip", "link", "add", "br0", "type", "bridge"], ["ip", "addr", "add", "10.99.0.1/24", "dev", "br0"],
    ["ip", "link", "set", "br0", "up"], ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
    ["ip", "link", "add", "br1", "type", "bridge"], ["ip", "addr", "add", "10.98.0.1/24", "dev", "br1"], ["ip", "link", "set", "br1", "up"],
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
      ["net_address", "10.99.0.10/24"], ["net_gateway", "10.99.0.1"], ["net_rate_in", "8000000bit"], ["net_rate_out", "8000000bit", IFR]]) }, {}, undefined, host.prefix);
    b.start({ netType: "veth", stopTimeout: "2", extra: net([["net_host_ifname", IFB], ["net_address", "10.99.1.20/32"]]) }, {}, undefined, host.prefix);
    await a.waitOutput(/init up/, 8000);
    await b.waitOutput(/init up/, 8000);

    const addrA = inside(a, "ip -o addr show dev eth0; ip -o link show dev eth0; ip route");
    assert.match(addrA.stdout, /inet 10\.99\.0\.10\/24 brd 10\.99\.0\.255/, "with its broadcast address, as networkd expects");
    assert.match(addrA.stdout, /link\/ether 02:00:00:99:00:0a/);
    assert.match(addrA.stdout, /default via 10\.99\.0\.1 dev eth0/);
    assert.match(inNs("ip", "-o", "link", "show", "dev", IFA).stdout, /master br0/);
    assert.match(inNs("tc", "qdisc", "show", "dev", IFA).stdout, /tbf .*rate 8Mbit/);
    // Out of the container: the host side's ingress redirected to a's ifb, shaped there
    // (test/runtime/net-rate.test.ts measures it).
    assert.match(inNs("tc", "filter", "show", "dev", IFA, "parent", "ffff:").stdout, new RegExp(`mirred \\(Egress Redirect to device ${IFR}\\)`));
    assert.match(inNs("tc", "qdisc", "show", "dev", IFR).stdout, /tbf .*rate 8Mbit/);

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
    assert.not.ok(links.includes(IFA) || links.includes(IFB) || links.includes(IFR), `host-side interfaces and the ifb gone: ${links}`);
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
    assert.is(fs.readlinkSync(`/proc/${initOf(shared)}/ns/net`), hostNs, "the same network namespace as the host");
    assert.match(inside(shared, "ip -o link").stdout, /\bbr0\b/, "the host's bridge is visible inside");
    assert.is.not(fs.readlinkSync(`/proc/${initOf(none)}/ns/net`), hostNs);
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

/** runtime/cleanup as ExecStopPost= runs it, in the test's "host" namespace (where the host sides are). */
function cleanupInNs(c: TestContainer): void {
  const r = spawnSync(host.prefix[0], [...host.prefix.slice(1), "env", `CONTAINERCTL_PLAN=${c.planFile}`, `${RUNTIME_DIR}/cleanup`, c.name], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
}
const hostSides = () => inNs("ip", "-o", "link").stdout.split("\n").filter((l) => l.includes(IFC) || l.includes(IFC1));

test("two bridged interfaces on two bridges: addresses, MACs, routes, reachability; host sides gone after stop and after kill -9", async () => {
  const c = new TestContainer("nic2");
  const plan = {
    netType: "veth", stopTimeout: "2",
    extra: net([["net_host_ifname", IFC], ["net_mac", "02:00:00:98:00:0a"], ["net_bridge", "br0"], ["net_address", "10.99.0.30/24"],
      ["net_gateway", "10.99.0.1"], ["net_host_mac", "02:00:00:98:00:fd"],
      ["net_extra", "eth1", IFC1, "02:00:00:98:00:0b", "bridge", "br1"], ["net_extra_host_mac", "eth1", "02:00:00:98:00:fe"],
      ["net_extra_address", "eth1", "10.98.0.30/24"], ["net_extra_address", "eth1", "fd98::30/64"], ["net_extra_route", "eth1", "10.97.0.0/16", "10.98.0.1"]]),
  };
  try {
    for (const end of ["stop", "kill -9 of the helper"]) {
      c.start(plan, {}, undefined, host.prefix);
      await c.waitOutput(/init up/, 8000);
      const shown = inside(c, "ip -o addr show; ip -o link show; ip route").stdout;
      assert.match(shown, /eth0 +inet 10\.99\.0\.30\/24/);
      assert.match(shown, /eth1 +inet 10\.98\.0\.30\/24/);
      assert.match(shown, /eth1 +inet6 fd98::30\/64/);
      assert.match(shown, /eth0.*link\/ether 02:00:00:98:00:0a/);
      assert.match(shown, /eth1.*link\/ether 02:00:00:98:00:0b/);
      assert.match(shown, /default via 10\.99\.0\.1 dev eth0/);
      assert.match(shown, /10\.97\.0\.0\/16 via 10\.98\.0\.1 dev eth1/);
      const host0 = inNs("ip", "-o", "link", "show", "dev", IFC).stdout;
      assert.match(host0, /master br0/);
      assert.match(host0, /link\/ether 02:00:00:98:00:fd/, "HostMACAddress= on eth0's host side");
      const host1 = inNs("ip", "-o", "link", "show", "dev", IFC1).stdout;
      assert.match(host1, /master br1/);
      assert.match(host1, /link\/ether 02:00:00:98:00:fe/, "host-mac on the host side");
      // Reachable on both, each through its own bridge.
      assert.is(inNs(busyboxBinary(), "ping", "-c1", "-W2", "10.99.0.30").status, 0, "host -> eth0 on br0");
      assert.is(inNs(busyboxBinary(), "ping", "-c1", "-W2", "10.98.0.30").status, 0, "host -> eth1 on br1");
      assert.is(inside(c, "ping -c1 -W2 10.98.0.1").code, 0, "eth1 -> br1");
      assert.match(inNs("ip", "neigh", "show", "10.98.0.30").stdout, /02:00:00:98:00:0b/, "br1 saw eth1's MAC");

      if (end === "stop") {
        await stopped(c);
      } else {
        const init = guestInit(c.name);
        const helper = Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${init}/status`, "utf8"))![1]);
        process.kill(helper, "SIGKILL");
        await c.waitExit();
      }
      cleanupInNs(c);
      assert.equal(hostSides(), [], `host sides gone after ${end}`);
    }
    // The kernel removes a dead namespace's veths by itself, only later; cleanup deletes
    // what is still there at once (here: stand-ins for both host sides, as a crash mid-start can leave).
    for (const n of [IFC, IFC1]) assert.is(inNs("ip", "link", "add", n, "type", "bridge").status, 0);
    cleanupInNs(c);
    assert.equal(hostSides(), [], "cleanup deletes every host side the plan names");
  } finally {
    c.destroy();
  }
});

test("a routed and a macvlan further interface: host route, proxy ARP, MAC, reachability; gone after stop", async () => {
  const c = new TestContainer("nic3");
  const IFD = `vc-d${process.pid % 100000}`, IFD1 = `vc1-d${process.pid % 100000}`, IFD2 = `vc2-d${process.pid % 100000}`;
  // The macvlan's host interface: one end of a veth pair in the test's "host"; the host talks through the other end.
  for (const cmd of [["ip", "link", "add", "mvl0", "type", "veth", "peer", "name", "mvl1"], ["ip", "addr", "add", "10.95.0.1/24", "dev", "mvl1"],
    ["ip", "link", "set", "mvl0", "up"], ["ip", "link", "set", "mvl1", "up"]]) assert.is(inNs(...cmd).status, 0, cmd.join(" "));
  try {
    c.start({
      netType: "veth", stopTimeout: "2",
      extra: net([["net_host_ifname", IFD], ["net_bridge", "br1"], ["net_address", "10.98.0.40/24"],
        ["net_extra", "eth1", IFD1, "02:00:00:96:00:0b", "routed"], ["net_extra_address", "eth1", "10.96.0.40/32"], ["net_extra_route", "eth1", "10.99.0.0/24"],
        ["net_extra", "lan", IFD2, "02:00:00:95:00:0c", "macvlan", "mvl0"], ["net_extra_address", "lan", "10.95.0.40/24"]]),
    }, {}, undefined, host.prefix);
    await c.waitOutput(/init up/, 8000);
    const shown = inside(c, "ip -o addr show; ip -o link show; ip route").stdout;
    assert.match(shown, /eth1.*link\/ether 02:00:00:96:00:0b/);
    assert.match(shown, /lan.*link\/ether 02:00:00:95:00:0c/);
    assert.match(shown, /10\.99\.0\.0\/24 dev eth1/);
    assert.match(inNs("ip", "route", "show", "10.96.0.40").stdout, new RegExp(`10\\.96\\.0\\.40 dev ${IFD1}`), "a host route to the routed address");
    assert.is(inside(c, "ping -c1 -W2 10.99.0.1").code, 0, "routed eth1 -> host (proxy ARP, host route back)");
    assert.is(inNs(busyboxBinary(), "ping", "-c1", "-W2", "10.95.0.40").status, 0, "host -> macvlan, through its host interface");
    assert.not.match(inNs("ip", "-o", "link").stdout, new RegExp(IFD2), "the macvlan was moved in, not left on the host");
    await stopped(c);
    cleanupInNs(c);
    const links = inNs("ip", "-o", "link").stdout;
    assert.not.ok(links.includes(IFD) || links.includes(IFD1), `host sides gone: ${links}`);
    assert.not.match(inNs("ip", "route").stdout, /10\.96\.0\.40/, "the host route is gone");
  } finally {
    c.destroy();
    inNs("ip", "link", "del", "mvl0");
  }
});

test("a further interface's bridge missing on the host: the start fails naming it, nothing is left", async () => {
  const c = new TestContainer("nicbad");
  const IFE = `vc-e${process.pid % 100000}`, IFE1 = `vc1-e${process.pid % 100000}`;
  try {
    c.start({ netType: "veth", extra: net([["net_host_ifname", IFE], ["net_bridge", "br0"], ["net_extra", "eth1", IFE1, "02:00:00:94:00:0b", "bridge", "nobr9"]]) },
      {}, undefined, host.prefix);
    assert.is.not((await c.waitExit()).code, 0);
    assert.match(c.stderr, /cannot add vc1-\S+ to bridge 'nobr9' \(does it exist\?\)/);
    assert.not.match(c.stdout, /init up/);
    cleanupInNs(c);
    const links = inNs("ip", "-o", "link").stdout;
    assert.not.ok(links.includes(IFE) || links.includes(IFE1), `host sides gone: ${links}`);
  } finally {
    c.destroy();
  }
});

test.run();
