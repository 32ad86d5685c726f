// The managed host bridge (runtime/bridge through `containerctl network`), on
// the real kernel, inside network namespaces this test makes: a "host"
// namespace with a veth "uplink" to an "outside" namespace that has no route
// back to the bridge's subnet, so only NAT lets a container reach it. The
// state and config directories are temporary (CONTAINERCTL_RUN_DIR,
// CONTAINERCTL_CONFIG_DIR); nothing touches the machine's own network.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { CLI, TestContainer, buildHelper, sleep } from "../lib/runtime-harness";
import { Netns, inside, link, planLines, stopped } from "../lib/netns";

buildHelper();
const tag = process.pid % 100000;
const BR = `ccb${tag}`;
const UPLINK = `up${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-bridge-"));
const env = { CONTAINERCTL_CONFIG_DIR: path.join(dir, "etc"), CONTAINERCTL_RUN_DIR: path.join(dir, "run") };
const stateDir = path.join(env.CONTAINERCTL_RUN_DIR, "network");
fs.mkdirSync(env.CONTAINERCTL_CONFIG_DIR);
const haveDnsmasq = spawnSync("sh", ["-c", "command -v dnsmasq"]).status === 0;
let host: Netns;
let outside: Netns;
let httpd: ChildProcess | undefined;

const network = (...args: string[]) => host.run([process.execPath, CLI, "network", ...args], env);
const writeConf = (text: string): void => fs.writeFileSync(path.join(env.CONTAINERCTL_CONFIG_DIR, "network.conf"), text);
const dnsmasqPid = (): number | null => {
  try {
    return Number(fs.readFileSync(path.join(stateDir, "dnsmasq.pid"), "utf8"));
  } catch {
    return null;
  }
};

test.before(() => {
  host = new Netns("bhost");
  outside = new Netns("bout");
  // The outside knows only the uplink's subnet: an answer to 10.0.3.x could not find its way back.
  link(host, UPLINK, "198.51.100.1/24", outside, "eth0", "198.51.100.2/24");
  host.ok("ip", "route", "add", "default", "via", "198.51.100.2");
  // A web server outside that tells each client its source address (busybox httpd + a CGI).
  fs.mkdirSync(path.join(dir, "www/cgi-bin"), { recursive: true });
  fs.writeFileSync(path.join(dir, "www/cgi-bin/ip"), "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nfrom %s\\n' \"$REMOTE_ADDR\"\n", { mode: 0o755 });
  httpd = spawn("ip", ["netns", "exec", outside.name, busyboxBinary(), "httpd", "-f", "-p", "198.51.100.2:80", "-h", path.join(dir, "www")], { stdio: "ignore" });
});

test.after(() => {
  network("down");
  httpd?.kill("SIGKILL");
  host.del();
  outside.del();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("bad network.conf: file:line: [Bridge] Key: message, and nothing made", () => {
  writeConf("[Bridge]\nName=lan0\nAddress=10.0.3.0/24\n");
  let r = network("up");
  assert.is(r.status, 1);
  assert.match(r.stderr, new RegExp(`${env.CONTAINERCTL_CONFIG_DIR}/network.conf:3: \\[Bridge\\] Address: '10.0.3.0/24' is the network's or its broadcast address`));
  writeConf("[Bridge]\nNAT=maybe\n");
  r = network("up");
  assert.is(r.status, 1);
  assert.match(r.stderr, /network\.conf:2: \[Bridge\] NAT: 'maybe' is not a boolean/);
  writeConf("[Bridge]\nName=lan0\nDHCPRange=10.0.3.1,10.0.3.20\n");
  assert.match(network("up").stderr, /network\.conf:3: \[Bridge\] DHCPRange: 10\.0\.3\.1-10\.0\.3\.20 must lie inside 10\.0\.3\.0\/24 and leave out the bridge's 10\.0\.3\.1/);
  writeConf("[Bridge]\nName=-help\n");
  assert.match(network("up").stderr, /network\.conf:2: \[Bridge\] Name: '-help' is not an interface name/);
  writeConf("[Bridge]\nUplink=eth0\\\"; flush ruleset\n");
  assert.match(network("up").stderr, /network\.conf:2: \[Bridge\] Uplink: .* is not an interface name/);
  writeConf("[Bridge]\nColour=blue\n");
  assert.match(network("up").stderr, /network\.conf:2: \[Bridge\] Colour: unknown key/);
  assert.not.match(host.ok("ip", "-o", "link"), /lan0/);
  assert.not.ok(fs.existsSync(stateDir));
  assert.is(network("status").status, 3);
});

test("an interface of that name that containerctl did not make is refused, and left alone", () => {
  writeConf(`[Bridge]\nName=${BR}\n`);
  host.ok("ip", "link", "add", BR, "type", "bridge");
  const r = network("up");
  assert.is(r.status, 1);
  assert.match(r.stderr, /exists and containerctl did not make it/);
  assert.ok(host.exec("ip", "link", "show", "dev", BR).status === 0, "the foreign bridge is still there");
  assert.not.ok(fs.existsSync(path.join(stateDir, "state")));
  host.ok("ip", "link", "del", BR);
});

test("up: bridge, NAT out of the uplink, DHCP; a static and a DHCP container reach the outside as the uplink; down leaves nothing", async () => {
  writeConf(`# the managed bridge of this test\n[Bridge]\nName=${BR}\nAddress=10.0.3.1/24\nUplink=${UPLINK}\nDHCPRange=10.0.3.100,10.0.3.150\n`);
  assert.is(host.ok("cat", "/proc/sys/net/ipv4/ip_forward").trim(), "0");
  let r = network("up");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`${BR} up: 10\\.0\\.3\\.1/24, NAT for 10\\.0\\.3\\.0/24 \\(nftables\\) out of ${UPLINK}`));
  assert.is(network("up").status, 0, "up again is a no-op");
  assert.match(host.ok("ip", "-o", "addr", "show", "dev", BR), /inet 10\.0\.3\.1\/24/);
  assert.is(host.ok("cat", "/proc/sys/net/ipv4/ip_forward").trim(), "1");
  assert.match(host.ok("nft", "list", "table", "ip", "containerctl"), new RegExp(`ip saddr 10\\.0\\.3\\.0/24 ip daddr != 10\\.0\\.3\\.0/24 oifname "${UPLINK}" masquerade`));

  const a = new TestContainer("bra");
  const b = new TestContainer("brb");
  try {
    a.start({ netType: "veth", stopTimeout: "2", extra: planLines([["net_host_ifname", `vc-ba${tag}`], ["net_bridge", BR],
      ["net_address", "10.0.3.10/24"], ["net_gateway", "10.0.3.1"]]) }, {}, undefined, host.prefix);
    await a.waitOutput(/init up/, 8000);
    assert.is(inside(a, "ping -c1 -W2 198.51.100.2").code, 0, "container -> outside, through NAT");
    const seen = inside(a, "wget -q -O- http://198.51.100.2/cgi-bin/ip");
    assert.match(seen.stdout, /^from 198\.51\.100\.1$/m, `the outside sees the uplink's address, not 10.0.3.10: ${seen.stdout}`);
    assert.is(outside.exec(busyboxBinary(), "ping", "-c1", "-W1", "10.0.3.10").status, 1, "the outside cannot reach in (no route)");
    assert.match(network("status").stdout, new RegExp(`up: ${BR}[^]*ports: vc-ba${tag}`));

    if (!haveDnsmasq) console.log("dnsmasq is not installed: the DHCP part is skipped (test/apt-packages.txt lists dnsmasq-base)");
    else {
      b.start({ netType: "veth", stopTimeout: "2", extra: planLines([["net_host_ifname", `vc-bb${tag}`], ["net_bridge", BR], ["net_mac", "02:00:00:03:00:0b"]]) }, {}, undefined, host.prefix);
      await b.waitOutput(/init up/, 8000);
      // busybox udhcpc with a script that configures eth0 from the lease as ifupdown's would.
      const script = "/tmp/udhcpc.sh";
      inside(b, `printf '%s\\n' '#!/bin/sh' '[ "$1" = bound ] || exit 0' 'ip addr add "$ip/$mask" dev "$interface"' 'ip route add default via "$router"' > ${script}; chmod +x ${script}`);
      const lease = inside(b, `udhcpc -i eth0 -n -q -t 5 -T 2 -s ${script}`, 30000);
      assert.match(lease.stdout, /lease of 10\.0\.3\.1([0-4]\d|50) obtained/, lease.stdout);
      assert.match(inside(b, "ip -o addr show dev eth0").stdout, /inet 10\.0\.3\.1([0-4]\d|50)\//);
      assert.match(inside(b, "ip route").stdout, /default via 10\.0\.3\.1/);
      assert.match(inside(b, "wget -q -O- http://198.51.100.2/cgi-bin/ip").stdout, /^from 198\.51\.100\.1$/m);
      assert.match(fs.readFileSync(path.join(stateDir, "dnsmasq.leases"), "utf8"), /02:00:00:03:00:0b 10\.0\.3\.1/);
      assert.match(network("status").stdout, /dhcp: dnsmasq \(pid \d+\), 1 lease\(s\)/);
    }
    await stopped(a);
    if (b.proc) await stopped(b);
  } finally {
    a.destroy();
    b.destroy();
  }

  const pid = dnsmasqPid();
  assert.is(pid !== null, haveDnsmasq, "up started dnsmasq exactly when it is installed");
  r = network("down");
  assert.is(r.status, 0, r.stderr);
  assert.is(host.ok("ip", "-o", "link").split("\n").filter(Boolean).map((l) => l.split(":")[1].trim().replace(/@.*/, "")).sort().join(" "), ["lo", UPLINK].sort().join(" "), "only lo and the uplink are left");
  assert.is(host.exec("nft", "list", "table", "ip", "containerctl").status, 1, "no NAT table");
  assert.is(host.ok("nft", "list", "ruleset").trim(), "", "no rules at all");
  assert.is(host.ok("cat", "/proc/sys/net/ipv4/ip_forward").trim(), "0", "forwarding back as it was");
  if (pid) {
    // Gone, or a zombie its parent has not reaped yet.
    const alive = (): boolean => {
      try {
        return !/^State:\s+[ZX]/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await sleep(20);
    assert.not.ok(alive(), "dnsmasq is gone");
  }
  assert.not.ok(fs.existsSync(env.CONTAINERCTL_RUN_DIR), "no state left");
  assert.is(network("status").status, 3);
  assert.is(network("down").status, 0, "down again is a no-op");
});

const haveIptables = spawnSync("sh", ["-c", "command -v iptables"]).status === 0;
(haveIptables ? test : test.skip)("Firewall=iptables: one MASQUERADE rule, the container reaches the outside as the uplink; down removes the rule", async () => {
  writeConf(`[Bridge]\nName=${BR}\nUplink=${UPLINK}\nFirewall=iptables\nDHCP=no\n`);
  const r = network("up");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /NAT for 10\.0\.3\.0\/24 \(iptables\)/);
  const rule = `-A POSTROUTING -s 10.0.3.0/24 ! -d 10.0.3.0/24 -o ${UPLINK} -m comment --comment "containerctl ${BR}" -j MASQUERADE`;
  assert.ok(host.ok("iptables", "-w", "-t", "nat", "-S", "POSTROUTING").includes(rule), host.ok("iptables", "-t", "nat", "-S"));
  const c = new TestContainer("bri");
  try {
    c.start({ netType: "veth", stopTimeout: "2", extra: planLines([["net_host_ifname", `vc-bi${tag}`], ["net_bridge", BR],
      ["net_address", "10.0.3.11/24"], ["net_gateway", "10.0.3.1"]]) }, {}, undefined, host.prefix);
    await c.waitOutput(/init up/, 8000);
    assert.match(inside(c, "wget -q -O- http://198.51.100.2/cgi-bin/ip").stdout, /^from 198\.51\.100\.1$/m);
    await stopped(c);
  } finally {
    c.destroy();
  }
  assert.is(network("down").status, 0);
  assert.not.match(host.ok("iptables", "-w", "-t", "nat", "-S"), /containerctl/, "the rule is gone");
  assert.not.match(host.ok("ip", "-o", "link"), new RegExp(BR));
});

test("NAT=no and DHCP=no: the bridge and its address only", () => {
  writeConf(`[Bridge]\nName=${BR}\nAddress=192.168.77.254/24\nNAT=no\nDHCP=no\n`);
  const r = network("up");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /192\.168\.77\.254\/24, no NAT, no DHCP \(DHCP=no\)/);
  assert.not.match(host.ok("nft", "list", "ruleset"), /masquerade|containerctl/);
  assert.is(dnsmasqPid(), null);
  assert.is(network("down").status, 0);
  assert.not.match(host.ok("ip", "-o", "link"), new RegExp(BR));
});

test.run();
