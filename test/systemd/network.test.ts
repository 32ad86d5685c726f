// Container networks under a real systemd (the LXC harness,
// test/lib/systemd-harness.ts, whose network namespace has only a loopback
// of its own): `systemctl start container@NAME` for a bridged and a routed
// veth, reached from the harness's namespace; the host sides gone after
// `systemctl stop` and after kill -9 of the runtime's helper (ExecStopPost=
// cleanup); and a container on the managed bridge pulling in
// containerctl-network.service, which makes the bridge and its NAT and
// removes them again on stop. NetworkRate= under systemd: its shaping on the
// host side (the veth and the container's ifb), gone after kill -9 of the helper.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { hostInterfaceName, ifbName } from "../../generator/render/derive";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, makeBusyboxGuest, unitProcs, waitFor } from "../lib/harness-guests";

const TOKEN = `n${process.pid}`;
if (!skippedWithoutRuntime("container networks under systemd")) {
  let h: SystemdHarness;
  const spec = (name: string, network: string): string =>
    `[Container]\nRootDirectory=/var/lib/containerctl/${name}/rootfs\nGuest=sysvinit\nStopTimeout=5s\n[Network]\nType=veth\n${network}`;

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
    // The harness's own bridge, as an administrator would have one.
    h.sh("ip link add br0 type bridge && ip addr add 10.97.0.1/24 dev br0 && ip link set br0 up && echo 1 > /proc/sys/net/ipv4/ip_forward");
    for (const n of ["vb", "vr", "vm", "vq"]) makeBusyboxGuest(h, n, TOKEN);
    h.writeFile("/etc/containerctl/vb.container", spec("vb", "Bridge=br0\nAddress=10.97.0.10/24\nGateway=10.97.0.1\n"));
    h.writeFile("/etc/containerctl/vr.container", spec("vr", "Address=10.97.1.20/32\n"));
    h.writeFile("/etc/containerctl/vm.container", spec("vm", "Bridge=ccbr0\nAddress=10.0.3.10/24\nGateway=10.0.3.1\n"));
    h.writeFile("/etc/containerctl/vq.container", spec("vq", "Bridge=br0\nAddress=10.97.0.30/24\n").replace("[Network]", "[Resources]\nNetworkRate=16mbit\nNetworkRateOut=8mbit\n[Network]"));
    h.sh("systemctl daemon-reload");
  });
  test.after(() => h?.destroy());

  const busybox = "/var/lib/containerctl/vb/rootfs/bin/busybox";
  const ping = (ip: string): number | null => h.run([busybox, "ping", "-c1", "-W2", ip]).code;
  const links = (): string => h.run("ip -o link").stdout;
  const start = (name: string): void => {
    const r = h.run(`systemctl start container@${name}.service`, { timeoutMs: 60_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run(`journalctl -u container@${name} --no-pager -n 30`).stdout}`);
  };
  const inactive = (name: string): boolean => /^(inactive|failed)$/.test(h.show(`container@${name}.service`, ["ActiveState"]).ActiveState);

  test("bridged and routed veths under systemctl start: addresses, host sides, reachable from the harness's namespace", () => {
    start("vb");
    start("vr");
    const vb = hostInterfaceName("vb"), vr = hostInterfaceName("vr");
    assert.ok(waitFor(() => ping("10.97.0.10") === 0, 10_000), `harness -> bridged container\n${links()}`);
    assert.is(ping("10.97.1.20"), 0, "harness -> routed container (host route)");
    assert.match(h.run(`ip -o link show dev ${vb}`).stdout, /master br0/);
    assert.match(h.run("ip route show 10.97.1.20").stdout, new RegExp(`10\\.97\\.1\\.20 dev ${vr}`));
    assert.is(h.run(`cat /proc/sys/net/ipv4/conf/${vr}/proxy_arp`).stdout.trim(), "1");
  });

  test("systemctl stop: the host side is gone", () => {
    h.sh("systemctl stop container@vb.service");
    assert.not.ok(links().includes(hostInterfaceName("vb")), links());
    assert.is.not(ping("10.97.0.10"), 0);
  });

  test("kill -9 of the helper: ExecStopPost= cleanup leaves no interface or route, and it starts again", () => {
    const pid = h.show("container@vr.service", ["MainPID"]).MainPID;
    assert.ok(Number(pid) > 0);
    h.sh(`kill -9 ${pid}`);
    assert.ok(waitFor(() => inactive("vr"), 20_000), "the unit ended");
    assert.not.ok(links().includes(hostInterfaceName("vr")), links());
    assert.is(h.run("ip route show 10.97.1.20").stdout.trim(), "", "no host route left");
    assert.equal(unitProcs(h, "container@vr.service"), []);
    h.run("systemctl reset-failed container@vr.service");
    start("vr");
    assert.ok(waitFor(() => ping("10.97.1.20") === 0, 10_000), "a restart right after finds nothing in its way");
    h.sh("systemctl stop container@vr.service");
    assert.not.ok(links().includes(hostInterfaceName("vr")));
  });

  test("NetworkRate= under systemd: both directions shaped on the host side; kill -9 of the helper leaves no ifb", () => {
    start("vq");
    const vq = hostInterfaceName("vq"), ifb = ifbName("vq");
    assert.match(h.run(`tc qdisc show dev ${vq}`).stdout, /tbf .*rate 16Mbit/, "into the container: a tbf on the host side");
    assert.match(h.run(`tc filter show dev ${vq} parent ffff:`).stdout, new RegExp(`mirred \\(Egress Redirect to device ${ifb}\\)`), "out of it: redirected to its ifb");
    assert.match(h.run(`tc qdisc show dev ${ifb}`).stdout, /tbf .*rate 8Mbit/, "and shaped there");
    assert.not.match(h.run(`journalctl -u container@vq --no-pager`).stdout, /shaped on eth0 inside/);
    assert.ok(waitFor(() => ping("10.97.0.30") === 0, 10_000), "reachable through the shaping");
    const pid = h.show("container@vq.service", ["MainPID"]).MainPID;
    h.sh(`kill -9 ${pid}`);
    assert.ok(waitFor(() => inactive("vq"), 20_000), "the unit ended");
    assert.not.match(links(), new RegExp(`${vq}|${ifb}`), "ExecStopPost= cleanup deleted the host side and the ifb");
    h.run("systemctl reset-failed container@vq.service");
  });

  test("a container on the managed bridge pulls in containerctl-network.service; stopping that removes bridge and NAT", () => {
    assert.is(h.show("containerctl-network.service", ["ActiveState"]).ActiveState, "inactive");
    start("vm");
    assert.is(h.show("containerctl-network.service", ["ActiveState"]).ActiveState, "active");
    assert.match(h.run("ip -o addr show dev ccbr0").stdout, /inet 10\.0\.3\.1\/24/);
    assert.match(h.run("nft list table ip containerctl").stdout, /ip saddr 10\.0\.3\.0\/24 ip daddr != 10\.0\.3\.0\/24 masquerade/);
    assert.match(h.run(`ip -o link show dev ${hostInterfaceName("vm")}`).stdout, /master ccbr0/);
    assert.ok(waitFor(() => ping("10.0.3.10") === 0, 10_000), "harness -> container on the managed bridge");
    assert.match(h.run("containerctl network status").stdout, new RegExp(`up: ccbr0[^]*ports: ${hostInterfaceName("vm")}`));
    // Requires=: stopping the bridge stops the container on it first.
    h.sh("containerctl network down");
    assert.ok(inactive("vm"), "the container on the bridge was stopped with it");
    assert.is(h.show("containerctl-network.service", ["ActiveState"]).ActiveState, "inactive");
    assert.not.match(links(), /ccbr0|vc-vm/);
    assert.is(h.run("nft list ruleset").stdout.trim(), "", "no NAT rules left");
    assert.is(h.run("ls /run/containerctl/network 2>&1").code, 2, "no state left");
  });

  test.run();
}
