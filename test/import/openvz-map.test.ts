// The mapping rules, one behaviour a test, through mapContainer (pure) or
// planImport on a temporary vz tree where files matter.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { mergeContainer, parseVzConfig } from "../../generator/import/openvz-config";
import { planImport } from "../../generator/import/openvz-import";
import { mapContainer, renderSpec, validateRendered, type MapContext, type MapResult } from "../../generator/import/openvz-map";
import { dropUnclaimed, guestOf, RULES } from "../../generator/import/openvz-rules";
import { readIni } from "../../generator/spec/ini-reader";
import { buildSpec } from "../../generator/spec/load";
import { tempDir, writeFiles } from "./helpers";

function map(conf: string, ctx: Partial<MapContext> = {}, global = ""): MapResult & { spec: string } {
  const cfg = mergeContainer("101", parseVzConfig("vz.conf", global), parseVzConfig("101.conf", conf));
  const full: MapContext = {
    ctid: "101", name: "ct101", inPlace: false, hostResolv: { file: "/etc/resolv.conf", text: "nameserver 192.0.2.1\n" },
    hostParams: new Map(), ...ctx,
  };
  const r = mapContainer(cfg, full, RULES, dropUnclaimed);
  return { ...r, spec: r.errors.length ? "" : renderSpec("101", "101.conf", r.values) };
}
const lines = (spec: string, key: string): string[] => spec.split("\n").filter((l) => l.startsWith(`${key}=`));
const entry = (r: MapResult, param: string) => {
  const e = r.entries.find((x) => x.param === param);
  assert.ok(e, `no report entry for ${param}`);
  return e!;
};

test("BOOTORDER: the generator's order (Order ascending, then name) is OpenVZ's (BOOTORDER descending, unset last)", () => {
  const cts = [
    { name: "a", bootorder: 5 }, { name: "b", bootorder: null }, { name: "c", bootorder: 100 },
    { name: "d", bootorder: 1 }, { name: "e", bootorder: 2000000 }, { name: "f", bootorder: 20 },
  ];
  const ours = cts.map((c) => {
    const r = map(c.bootorder === null ? "" : `BOOTORDER=${c.bootorder}`);
    const spec = buildSpec(c.name, "x.container", [{ path: "x.container", text: r.spec }]).spec!;
    return { name: c.name, order: spec.values.order as number };
  }).sort((x, y) => x.order - y.order || x.name.localeCompare(y.name)).map((c) => c.name);
  const openvz = [...cts].sort((x, y) => (y.bootorder ?? -1) - (x.bootorder ?? -1)).map((c) => c.name);
  assert.equal(ours, openvz);
  assert.is(entry(map("BOOTORDER=2000000"), "BOOTORDER").status, "approximated");
});

test("CPULIMIT and CPUS: the quota is the smaller, as vzctl", () => {
  assert.equal(lines(map("CPULIMIT=150").spec, "CPUQuota"), ["CPUQuota=150%"]);
  assert.equal(lines(map("CPULIMIT=300\nCPUS=2").spec, "CPUQuota"), ["CPUQuota=200%"]);
  assert.equal(lines(map("CPULIMIT=50\nCPUS=2").spec, "CPUQuota"), ["CPUQuota=50%"]);
  assert.equal(lines(map("CPUS=4").spec, "CPUQuota"), ["CPUQuota=400%"]);
  assert.equal(lines(map("CPULIMIT=0").spec, "CPUQuota"), []);
  assert.equal(lines(map("CPUUNITS=1000").spec, "CPUWeight"), ["CPUWeight=100"]);
  assert.is(entry(map("CPUUNITS=8"), "CPUUNITS").status, "approximated");
  assert.equal(lines(map("CPUUNITS=500000").spec, "CPUWeight"), ["CPUWeight=10000"]);
  assert.equal(lines(map('CPUMASK="0-2,7"').spec, "AllowedCPUs"), ["AllowedCPUs=0-2,7"]);
  assert.equal(lines(map("CPUMASK=all").spec, "AllowedCPUs"), []);
});

test("memory: VSwap takes PHYSPAGES/SWAPPAGES; pre-VSwap approximates from PRIVVMPAGES/VMGUARPAGES and says so", () => {
  const v = map('PHYSPAGES="0:262144"\nSWAPPAGES="0:128M"\nPRIVVMPAGES="65536:69632"');
  assert.equal(lines(v.spec, "Memory"), ["Memory=1G"]);
  assert.equal(lines(v.spec, "Swap"), ["Swap=128M"]);
  assert.is(entry(v, "PHYSPAGES").status, "mapped");
  assert.is(entry(v, "PRIVVMPAGES").status, "dropped");
  const old = map('PHYSPAGES="0:unlimited"\nPRIVVMPAGES="65536:69632"\nVMGUARPAGES="33792:unlimited"');
  assert.equal(lines(old.spec, "Memory"), ["Memory=272M"]);
  assert.is(entry(old, "PRIVVMPAGES").status, "approximated");
  assert.match(entry(old, "PRIVVMPAGES").note, /pre-VSwap/);
  assert.ok(entry(old, "PRIVVMPAGES").attention);
  const raised = map('PRIVVMPAGES="100:200"\nVMGUARPAGES="300:unlimited"');
  assert.equal(lines(raised.spec, "Memory"), ["Memory=1200K"]);
  assert.is(entry(raised, "VMGUARPAGES").status, "approximated");
  assert.equal(entry(raised, "PRIVVMPAGES").result, [], "the raised Memory= is VMGUARPAGES' line");
  assert.equal(lines(map("PRIVVMPAGES=unlimited").spec, "Memory"), []);
});

test("VMGUARPAGES: its barrier becomes MemoryLow=, never above Memory=", () => {
  assert.equal(lines(map('PRIVVMPAGES="65536:69632"\nVMGUARPAGES="33792:unlimited"').spec, "MemoryLow"), ["MemoryLow=132M"]);
  assert.equal(lines(map('PRIVVMPAGES="100:200"\nVMGUARPAGES="300:unlimited"').spec, "MemoryLow"), ["MemoryLow=1200K"]);
  const capped = map('PHYSPAGES="0:1000"\nVMGUARPAGES="2000:unlimited"');
  assert.equal(lines(capped.spec, "MemoryLow"), ["MemoryLow=4000K"]);
  assert.match(entry(capped, "VMGUARPAGES").note, /capped at Memory=/);
  assert.equal(lines(map('VMGUARPAGES="1G"').spec, "MemoryLow"), ["MemoryLow=1G"]);
  assert.equal(lines(map('VMGUARPAGES="unlimited"').spec, "MemoryLow"), []);
  assert.is(entry(map('VMGUARPAGES="0:unlimited"'), "VMGUARPAGES").status, "mapped");
});

test("ONBOOT: yes, no, unset (documented approximation); DISABLED=yes keeps it from autostarting", () => {
  assert.equal(lines(map("ONBOOT=yes").spec, "Autostart"), ["Autostart=yes"]);
  assert.equal(lines(map("ONBOOT=no").spec, "Autostart"), ["Autostart=no"]);
  const unset = map("");
  assert.equal(lines(unset.spec, "Autostart"), ["Autostart=no"]);
  assert.is(entry(unset, "ONBOOT").status, "approximated");
  const dis = map("ONBOOT=yes\nDISABLED=yes");
  assert.equal(lines(dis.spec, "Autostart"), ["Autostart=no"]);
  assert.equal(lines(dis.spec, "Disabled"), ["Disabled=yes"]);
  assert.is(entry(dis, "DISABLED").status, "mapped");
  assert.equal(lines(map("DISABLED=no").spec, "Disabled"), []);
});

test("disk: 1 KiB blocks, hard limit; DISK_QUOTA=no means nothing was enforced", () => {
  assert.equal(lines(map('DISKSPACE="1048576:1153024"').spec, "Disk"), ["Disk=1126M"]);
  assert.equal(lines(map('DISKSPACE="10G:10G"').spec, "Disk"), ["Disk=10G"]);
  assert.equal(lines(map('DISKSPACE="10G"', {}, "DISK_QUOTA=no").spec, "Disk"), []);
  const inodes = map('DISKSPACE="10G"\nDISKINODES=200000:220000');
  assert.equal(lines(inodes.spec, "DiskInodes"), ["DiskInodes=220000"]);
  assert.is(entry(inodes, "DISKINODES").status, "approximated");
  assert.match(entry(inodes, "DISKINODES").note, /not enforced yet/);
  assert.is(entry(map("DISKINODES=200000:220000"), "DISKINODES").status, "dropped", "no Disk= to hang it on");
  assert.equal(lines(map('DISKSPACE="10G"\nDISKINODES=200000', {}, "DISK_QUOTA=no").spec, "DiskInodes"), []);
});

test("NUMPROC, IOPRIO, IOLIMIT, IOPSLIMIT", () => {
  assert.equal(lines(map('NUMPROC="240:240"').spec, "Tasks"), ["Tasks=240"]);
  assert.equal(lines(map("NUMPROC=unlimited").spec, "Tasks"), []);
  assert.equal(lines(map("IOPRIO=4").spec, "IOWeight"), ["IOWeight=100"]);
  assert.equal(lines(map("IOPRIO=0").spec, "IOWeight"), ["IOWeight=20"]);
  assert.ok(map("IOPRIO=8").errors.length === 1);
  assert.equal(lines(map("IOLIMIT=1048576").spec, "IOWriteBandwidth"), ["IOWriteBandwidth=/var/lib/containerctl/ct101/rootfs 1M"]);
  const iops = map("IOPSLIMIT=100");
  assert.equal(lines(iops.spec, "IOReadIOPS"), ["IOReadIOPS=/var/lib/containerctl/ct101/rootfs 100"]);
  assert.equal(lines(iops.spec, "IOWriteIOPS"), ["IOWriteIOPS=/var/lib/containerctl/ct101/rootfs 100"]);
  assert.is(entry(iops, "IOPSLIMIT").status, "approximated");
  assert.equal(lines(map("IOPSLIMIT=0").spec, "IOReadIOPS"), []);
  assert.equal(lines(map("IOPSLIMIT=100", { copyTo: "/srv/ct/rootfs" }).spec, "IOReadIOPS"), ["IOReadIOPS=/srv/ct/rootfs 100"], "with --copy: the disk of the copy");
});

test("NAMESERVER/SEARCHDOMAIN, with inherit from the host's resolv.conf", () => {
  const r = map('NAMESERVER="192.0.2.1 2001:db8::1"\nSEARCHDOMAIN="a.example b.example"');
  assert.equal(lines(r.spec, "DNS"), ["DNS=192.0.2.1", "DNS=2001:db8::1"]);
  assert.equal(lines(r.spec, "Domains"), ["Domains=a.example", "Domains=b.example"]);
  const hostResolv = { file: "/h/resolv.conf", text: "# x\nnameserver 127.0.0.53\nnameserver 198.51.100.1\nsearch lan.example\n" };
  const inh = map("NAMESERVER=inherit\nSEARCHDOMAIN=inherit", { hostResolv });
  assert.equal(lines(inh.spec, "DNS"), ["DNS=198.51.100.1"]);
  assert.equal(lines(inh.spec, "Domains"), ["Domains=lan.example"]);
  assert.match(entry(inh, "NAMESERVER").note, /127\.0\.0\.53/);
  const missing = map("NAMESERVER=inherit", { hostResolv: { file: "/h/resolv.conf", error: "ENOENT" } });
  assert.is(entry(missing, "NAMESERVER").status, "dropped");
  assert.equal(missing.errors, []);
});

test("IP_ADDRESS becomes a routed veth with the same addresses; NETIF a bridged veth with the same MAC", () => {
  const r = map('IP_ADDRESS="192.0.2.11 192.0.2.12 2001:db8::5"');
  assert.equal(lines(r.spec, "Type"), ["Type=veth"]);
  assert.equal(lines(r.spec, "Bridge"), []);
  assert.equal(lines(r.spec, "Address"), ["Address=192.0.2.11/32", "Address=192.0.2.12/32", "Address=2001:db8::5/128"]);
  const b = map('NETIF="ifname=eth0,mac=00:18:51:AA:BB:01,host_ifname=veth101.0,host_mac=00:18:51:AA:BB:02,bridge=vmbr0"');
  assert.equal(lines(b.spec, "Bridge"), ["Bridge=vmbr0"]);
  assert.equal(lines(b.spec, "MACAddress"), ["MACAddress=00:18:51:aa:bb:01"]);
  assert.equal(lines(b.spec, "HostMACAddress"), ["HostMACAddress=00:18:51:aa:bb:02"]);
  assert.is(entry(b, "NETIF").note, "device 1: approximated: eth0, bridged veth on vmbr0 with the same MACs; not kept: host_ifname veth101.0 (host sides are named after the container)");
  assert.equal(lines(map('NETIF="ifname=eth0,bridge=vmbr0"').spec, "ExtraInterface"), []);
  assert.equal(entry(map('NETIF="ifname=eth0,bridge=vmbr0"'), "NETIF").status, "mapped");
});

test("NETIF with two devices: both mapped, the second an ExtraInterface= with its name, MACs and bridge", () => {
  const two = map('NETIF="ifname=eth0,mac=00:18:51:AA:BB:01,bridge=vmbr0;ifname=eth1,mac=00:18:51:AA:BB:03,host_mac=00:18:51:AA:BB:04,bridge=vmbr1"');
  assert.equal(lines(two.spec, "Bridge"), ["Bridge=vmbr0"], "the first device is [Network]'s interface");
  assert.equal(lines(two.spec, "ExtraInterface"), ["ExtraInterface=eth1 bridge=vmbr1 mac=00:18:51:aa:bb:03 host-mac=00:18:51:aa:bb:04"]);
  assert.equal(two.errors, []);
  assert.is(entry(two, "NETIF").status, "mapped");
  assert.is(entry(two, "NETIF").note, "device 1: mapped: eth0, bridged veth on vmbr0 with the same MAC. device 2: mapped: eth1, bridged veth on vmbr1 with the same MACs");
  assert.equal(validateRendered("ct101", "/c/ct101.container", two.spec, two.values), [], "the spec validates and reads back");
  // The device named eth0 is eth0 wherever it stands; one without a bridge is routed (approximated).
  const swapped = map('NETIF="ifname=eth1,mac=00:18:51:AA:BB:03;ifname=eth0,bridge=vmbr0"');
  assert.equal(lines(swapped.spec, "Bridge"), ["Bridge=vmbr0"]);
  assert.equal(lines(swapped.spec, "ExtraInterface"), ["ExtraInterface=eth1 routed mac=00:18:51:aa:bb:03"]);
  assert.is(entry(swapped, "NETIF").status, "approximated");
  assert.match(entry(swapped, "NETIF").note, /^device 1: approximated: eth1, a veth with no bridge in OpenVZ: routed here with the same MAC\. device 2: mapped: eth0/);
  // A field value with white space would be a word of its own: an error, never an injected field.
  assert.equal(map('NETIF="ifname=eth0;ifname=eth1,mac=00:18:51:AA:BB:03 address=10.0.0.1"').errors.map((e) => e.param), ["NETIF"]);
  const eleven = map(`NETIF="${Array.from({ length: 11 }, (_, i) => `ifname=eth${i},bridge=br${i}`).join(";")}"`);
  assert.is(lines(eleven.spec, "ExtraInterface").length, 9);
  assert.match(entry(eleven, "NETIF").note, /device 11 \(eth10\): dropped: a spec has at most 10 interfaces/);
  assert.equal(lines(map("").spec, "Type"), [], "no network parameters: the default, loopback only");
});

test("CAPABILITY, DEVICES, DEVNODES, FEATURES", () => {
  const r = map('CAPABILITY="sys_time:on net_admin:off setveid:on"\nDEVICES="c:10:200:rw b:8:1:r"\nDEVNODES="fuse:rw"\nFEATURES="ppp:on"');
  assert.equal(lines(r.spec, "KeepCapability"), ["KeepCapability=sys_time"]);
  assert.equal(lines(r.spec, "DropCapability"), ["DropCapability=net_admin"]);
  assert.is(entry(r, "CAPABILITY").status, "approximated");
  assert.equal(lines(r.spec, "DeviceAllow"), ["DeviceAllow=/dev/char/10:200 rw", "DeviceAllow=/dev/block/8:1 r", "DeviceAllow=/dev/fuse rw", "DeviceAllow=/dev/ppp rw"]);
});

test("OSTEMPLATE → Guest", () => {
  const g = (t: string) => guestOf(t).guest;
  assert.is(g("ubuntu-10.04-x86_64"), "lucid");
  assert.is(g("ubuntu-12.04-x86"), "upstart");
  assert.is(g("ubuntu-16.04-x86_64"), "systemd");
  assert.is(g("ubuntu-8.04-x86"), "auto");
  assert.is(g("debian-6.0-x86_64"), "sysvinit");
  assert.is(g("debian-9.0-x86_64"), "systemd");
  assert.is(g("centos-5"), "sysvinit");
  assert.is(g("centos-6-x86_64"), "upstart");
  assert.is(g("centos-7-x86_64"), "systemd");
  assert.is(g("gentoo-20100101"), "auto");
  assert.is(g("mystery"), "auto");
});

test("STOP_TIMEOUT, and OpenVZ's default of 120 s when unset", () => {
  assert.equal(lines(map("STOP_TIMEOUT=30").spec, "StopTimeout"), ["StopTimeout=30s"]);
  assert.equal(lines(map("").spec, "StopTimeout"), ["StopTimeout=120s"]);
});

test("every set parameter is accounted for exactly once, and every result is in the spec", () => {
  const conf = fs.readFileSync(path.resolve(__dirname, "../../../test/golden-import/value-syntax/vz/conf/301.conf"), "utf8");
  const r = map(conf);
  const cfg = mergeContainer("101", parseVzConfig("vz.conf", ""), parseVzConfig("101.conf", conf));
  const reported = r.entries.filter((e) => e.origin !== null && e.param !== "(line)").map((e) => e.param).sort();
  assert.equal(reported, [...cfg.params.keys()].sort());
  for (const e of r.entries) for (const line of e.result) assert.ok(r.spec.split("\n").includes(line), `'${line}' (${e.param}) not in the spec`);
});

// Hostile values: each gives a per-container error or a spec that reads back to
// exactly what was meant, never an extra directive.
const HOSTILE = [
  "a;Init=/bin/sh", "a#b", "x%n", "$(reboot)", "`id`", "a\\", "..", "/vz/../etc", "a b", "[Container]", "Init=/bin/sh",
  "a\rInit=/bin/sh", "a\u0085b", "a\u001bb", "a\u0000b", "\u2028Init=/x", "-", "", "'", '"', "a=b=c", "x".repeat(5000),
];
const PARAMS = ["HOSTNAME", "DESCRIPTION", "VE_PRIVATE", "NAMESERVER", "SEARCHDOMAIN", "IP_ADDRESS", "CPUMASK", "DEVNODES",
  "OSTEMPLATE", "NAME", "NETIF", "CAPABILITY", "DEVICES", "FEATURES", "RATE", "ONBOOT", "BOOTORDER", "CPUUNITS", "PHYSPAGES"];
test("hostile values never produce a spec with an injected directive", () => {
  let specs = 0;
  let errors = 0;
  for (const param of PARAMS) {
    for (const h of HOSTILE) {
      const value = param === "NETIF" ? `ifname=eth0,bridge=${h}` : h;
      const conf = `${param}="${value.replace(/[\\"]/g, "\\$&")}"\n`;
      const r = map(conf, { inPlace: param === "VE_PRIVATE", privateArea: { ok: true } }, "TRAFFIC_SHAPING=yes");
      if (r.errors.length) {
        errors++;
        for (const e of r.errors) assert.is(e.param, param, `${param}=${JSON.stringify(h)}: error names the parameter`);
        continue;
      }
      // The importer writes a spec only when it reads back to exactly these values.
      if (validateRendered("ct101", "/c/ct101.container", r.spec, r.values).length > 0) {
        errors++;
        continue;
      }
      specs++;
      const { assignments, errors: readErrors } = readIni("x", r.spec);
      assert.equal(readErrors, []);
      const produced = new Set(r.entries.flatMap((e) => e.result.map((l) => l.split("=")[0])));
      for (const a of assignments) assert.ok(produced.has(a.key), `${param}=${JSON.stringify(h)} produced ${a.key}=${a.value}`);
    }
  }
  assert.ok(errors > 100 && specs > 10, `${errors} errors, ${specs} specs`);
});

// --in-place: RootDirectory is VE_PRIVATE, checked on disk; ploop is refused whole.
function inPlaceHost(extra: Record<string, string>): string {
  const tmp = tempDir();
  writeFiles(tmp, {
    "etc/vz/vz.conf": `VE_PRIVATE=${tmp}/private/$VEID\n`,
    "etc/vz/conf/101.conf": "HOSTNAME=simfs\n",
    "private/101/etc/hostname": "simfs\n",
    "etc/vz/conf/102.conf": "HOSTNAME=ploop\nVE_LAYOUT=ploop\n",
    "private/102/root.hdd/DiskDescriptor.xml": "<x/>\n",
    "etc/vz/conf/103.conf": "HOSTNAME=image\n",
    "private/103/root.hdd/root.hds": "",
    "etc/vz/conf/104.conf": "HOSTNAME=missing\n",
    ...extra,
  });
  return tmp;
}

test("--in-place uses VE_PRIVATE; refuses ploop and a missing private area with a clear message", () => {
  const tmp = inPlaceHost({});
  try {
    const plan = planImport({ vzRoot: `${tmp}/etc/vz`, configDir: `${tmp}/cfg`, select: "all", inPlace: true, force: false });
    const by = (c: string) => plan.containers.find((x) => x.ctid === c)!;
    assert.equal(by("101").errors, []);
    assert.ok(by("101").specText!.includes(`\nRootDirectory=${tmp}/private/101\n`));
    for (const c of ["102", "103"]) {
      assert.is(by(c).action, "failed");
      assert.match(by(c).errors.join("\n"), /ploop.*convert the container to simfs/);
    }
    assert.match(by("104").errors.join("\n"), /VE_PRIVATE: private area .*private\/104 cannot be used: ENOENT/);
    const copy = planImport({ vzRoot: `${tmp}/etc/vz`, configDir: `${tmp}/cfg`, select: ["101"], inPlace: false, force: false });
    assert.not.ok(copy.containers[0].specText!.includes("RootDirectory="));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("containers are selected by CTID or NAME alias; CTID 0 and unknown names are errors", () => {
  const tmp = inPlaceHost({ "etc/vz/conf/105.conf": "NAME=alias\n", "etc/vz/conf/0.conf": "ONBOOT=no\n" });
  try {
    const p = (select: string[] | "all") => planImport({ vzRoot: `${tmp}/etc/vz`, configDir: `${tmp}/cfg`, select, inPlace: false, force: false });
    assert.equal(p("all").containers.map((c) => c.ctid), ["101", "102", "103", "104", "105"]);
    assert.equal(p(["alias", "0101"]).containers.map((c) => c.ctid), ["105", "101"]);
    assert.match(p(["0"]).errors[0], /CTID 0 is the OpenVZ host/);
    assert.match(p(["nope"]).errors[0], /neither a CTID nor the NAME/);
    assert.match(p(["999"]).containers[0].errors[0], /999\.conf: cannot read: ENOENT/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("specs are validated as the generator loads them (with defaults.conf); the config directory may not be in the vz tree", () => {
  const tmp = inPlaceHost({
    "etc/vz/conf/106.conf": "HOSTNAME=nomem\n",
    "etc/vz/conf/107.conf": "HOSTNAME=mem\nPHYSPAGES=0:1G\n",
    "cfg/defaults.conf": "[Resources]\nSwap=1G\n",
  });
  try {
    const plan = planImport({ vzRoot: `${tmp}/etc/vz`, configDir: `${tmp}/cfg`, select: ["106", "107"], inPlace: false, force: false });
    assert.is(plan.containers[0].action, "failed");
    assert.match(plan.containers[0].errors.join("\n"), /defaults\.conf:2: \[Resources\] Swap: Swap= needs Memory=/);
    assert.is(plan.containers[1].action, "create", "with Memory=, defaults.conf's Swap= is fine");
    const inside = planImport({ vzRoot: `${tmp}/etc/vz`, configDir: `${tmp}/etc/vz/specs`, select: "all", inPlace: false, force: false });
    assert.match(inside.errors[0], /inside the vz tree/);
    assert.equal(inside.containers, []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
