// The key table: every spec key, declared once (DESIGN.md principle 2).
// Reading, validation, docs/spec.md, the systemd and upstart renderers and the
// OpenVZ/LXC importers all read this table. `key()` requires every column, so
// a row missing one does not compile; test/generator/keys.test.ts fails when a
// key has no golden case or no entry in the docs.

import type { UnitSectionName, UnitValue } from "../render/unit";
import * as t from "./values";

export const SECTIONS = ["Container", "Resources", "Network", "Mount", "Security", "Boot"] as const;
export type Section = (typeof SECTIONS)[number];

/**
 * How a key reaches a running container under systemd:
 *  - a directive: one unit setting per value in the container's drop-in
 *    (`value` returns null when the key needs no setting for that value)
 *  - "plan":  a line of the runtime plan, applied by runtime/ at start
 *  - "links": wants/ordering links the generator writes (autostart)
 */
export type SystemdHandling<T> =
  | { section: UnitSectionName; directive: string; value: (v: T) => UnitValue | null }
  | "plan"
  | "links";

/** How an upstart host honours a key: in the job file, by the runtime, or not at all. */
export type UpstartHandling = "job" | "runtime" | "unsupported";

export interface KeyDef<T, L extends boolean = boolean> {
  section: Section;
  name: string;
  type: t.ValueType<T>;
  /** Repeatable: each assignment adds a value; an empty assignment clears the list. */
  list: L;
  /** Default in spec syntax (a function of the container name), or null: unset. */
  default: string | ((name: string) => string) | null;
  doc: string;
  systemd: SystemdHandling<T>;
  upstart: UpstartHandling;
  /** OpenVZ parameters this key corresponds to (openvz.md); [] when none. */
  openvz: readonly string[];
  /** LXC configuration keys this key corresponds to; [] when none. */
  lxc: readonly string[];
}

function key<T, const L extends boolean>(def: KeyDef<T, L>): KeyDef<T, L> {
  return def;
}

/** systemd's TimeoutStopSec= = StopTimeout= + this (see stopTimeout). */
export const STOP_GRACE_US = 5_000_000;

const service = <T>(directive: string, value: (v: T) => UnitValue | null): SystemdHandling<T> => ({ section: "Service", directive, value });

export const KEYS = {
  // [Container]
  root: key({
    section: "Container", name: "RootDirectory", type: t.path({ allowSpaces: true }), list: false,
    default: (name) => `/var/lib/containerctl/${name}/rootfs`,
    doc: "Root filesystem of the guest; entered with pivot_root.",
    systemd: "plan", upstart: "runtime", openvz: ["VE_PRIVATE", "VE_ROOT"], lxc: ["lxc.rootfs.path"],
  }),
  rootLower: key({
    section: "Container", name: "RootLowerDirectory", type: t.layerPath, list: true, default: null,
    doc: "Read-only lower layer(s) of an overlayfs root, topmost first (a snapshot: clone --snapshot); RootDirectory= is where it is assembled, inside the container's mount namespace only.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.rootfs.path"],
  }),
  rootUpper: key({
    section: "Container", name: "RootUpperDirectory", type: t.layerPath, list: false, default: null,
    doc: "Writable upper layer of the overlayfs root (default with RootLowerDirectory=: /var/lib/containerctl/NAME/upper).",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.rootfs.path"],
  }),
  rootWork: key({
    section: "Container", name: "RootWorkDirectory", type: t.layerPath, list: false, default: null,
    doc: "overlayfs work directory, on the same filesystem as the upper layer (default with RootLowerDirectory=: /var/lib/containerctl/NAME/work).",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: [],
  }),
  hostname: key({
    section: "Container", name: "Hostname", type: t.hostname, list: false, default: (name) => name,
    doc: "Host name set in the container's UTS namespace.",
    systemd: "plan", upstart: "runtime", openvz: ["HOSTNAME"], lxc: ["lxc.uts.name"],
  }),
  description: key({
    section: "Container", name: "Description", type: t.text, list: false, default: null,
    doc: "Free text shown by systemctl status and containerctl list.",
    systemd: { section: "Unit", directive: "Description", value: (v) => v },
    upstart: "job", openvz: ["DESCRIPTION"], lxc: [],
  }),
  guest: key({
    section: "Container", name: "Guest", type: t.enumOf("auto", "systemd", "upstart", "lucid", "sysvinit"), list: false,
    default: "auto",
    doc: "Init system of the guest; decides the stop signal and the init shim. auto reads the guest's files at start.",
    // auto: the runtime detects the guest and translates SIGTERM into its signal.
    systemd: service("KillSignal", (v) => (v === "auto" ? null : v === "systemd" ? "SIGRTMIN+3" : "SIGPWR")),
    upstart: "runtime", openvz: ["OSTEMPLATE"], lxc: ["lxc.signal.halt"],
  }),
  init: key({
    section: "Container", name: "Init", type: t.path(), list: false, default: "/sbin/init",
    doc: "Program run as PID 1 inside the container.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.init.cmd"],
  }),
  initArguments: key({
    section: "Container", name: "InitArguments", type: t.words, list: false, default: null,
    doc: "Arguments passed to Init; quotes group words.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.init.cmd"],
  }),
  environment: key({
    section: "Container", name: "Environment", type: t.envVar, list: true, default: null,
    doc: "NAME=value added to the guest init's environment (one per line).",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.environment"],
  }),
  ttys: key({
    section: "Container", name: "TTYs", type: t.integer(0, 12), list: false, default: "4",
    doc: "Number of /dev/ttyN ptys given to the guest besides /dev/console.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.tty.max"],
  }),
  stopTimeout: key({
    section: "Container", name: "StopTimeout", type: t.nonZeroDuration, list: false, default: "60s",
    doc: "How long the guest may take to shut down after its stop signal before the runtime kills it (systemd's TimeoutStopSec= is set 5 s longer, so the runtime acts first).",
    // The runtime kills the guest after StopTimeout itself; systemd's own timer
    // gets a grace period on top so the two never race (a clean stop, not a timeout).
    systemd: service("TimeoutStopSec", (v) => t.duration.format(v === "infinity" ? v : v + STOP_GRACE_US)),
    upstart: "job", openvz: ["STOP_TIMEOUT"], lxc: [],
  }),
  restart: key({
    section: "Container", name: "Restart", type: t.enumOf("no", "on-failure", "always"), list: false, default: "no",
    doc: "Restart the container when its init exits (systemd's Restart=). A guest reboot always restarts it.",
    systemd: service("Restart", (v) => v), upstart: "job", openvz: [], lxc: [],
  }),

  // [Resources]
  cpuWeight: key({
    section: "Resources", name: "CPUWeight", type: t.integer(1, 10000), list: false, default: null,
    doc: "Relative CPU share against other containers (default 100).",
    systemd: service("CPUWeight", (v) => String(v)), upstart: "runtime",
    openvz: ["CPUUNITS"], lxc: ["lxc.cgroup.cpu.shares", "lxc.cgroup2.cpu.weight"],
  }),
  cpuQuota: key({
    section: "Resources", name: "CPUQuota", type: t.percent, list: false, default: null,
    doc: "Hard CPU limit; 100% is one CPU.",
    systemd: service("CPUQuota", (v) => ({ literal: `${v}%` })), upstart: "runtime",
    openvz: ["CPULIMIT", "CPUS"], lxc: ["lxc.cgroup.cpu.cfs_quota_us", "lxc.cgroup2.cpu.max"],
  }),
  allowedCPUs: key({
    section: "Resources", name: "AllowedCPUs", type: t.cpuList, list: false, default: null,
    doc: "CPUs the container may run on (cpuset).",
    systemd: service("AllowedCPUs", (v) => v), upstart: "runtime",
    openvz: ["CPUMASK"], lxc: ["lxc.cgroup.cpuset.cpus", "lxc.cgroup2.cpuset.cpus"],
  }),
  memory: key({
    section: "Resources", name: "Memory", type: t.size, list: false, default: null,
    doc: "Memory limit; the container's own processes are OOM-killed above it.",
    systemd: service("MemoryMax", (v) => String(v)), upstart: "runtime",
    openvz: ["PHYSPAGES", "PRIVVMPAGES", "VMGUARPAGES"], lxc: ["lxc.cgroup.memory.limit_in_bytes", "lxc.cgroup2.memory.max"],
  }),
  memoryLow: key({
    section: "Resources", name: "MemoryLow", type: t.size, list: false, default: null,
    doc: "Memory guarantee: the container's memory below this is reclaimed only when nothing else can be (cgroup v2 memory.low; on cgroup v1 the soft limit).",
    systemd: service("MemoryLow", (v) => String(v)), upstart: "runtime",
    openvz: ["VMGUARPAGES"], lxc: ["lxc.cgroup.memory.soft_limit_in_bytes", "lxc.cgroup2.memory.low"],
  }),
  swap: key({
    section: "Resources", name: "Swap", type: t.size, list: false, default: null,
    doc: "Swap the container may use on top of Memory.",
    systemd: service("MemorySwapMax", (v) => String(v)), upstart: "runtime",
    openvz: ["SWAPPAGES"], lxc: ["lxc.cgroup.memory.memsw.limit_in_bytes", "lxc.cgroup2.memory.swap.max"],
  }),
  tasks: key({
    section: "Resources", name: "Tasks", type: t.countOrInfinity(1, 4194304), list: false, default: null,
    doc: "Maximum number of processes and threads.",
    systemd: service("TasksMax", (v) => String(v)), upstart: "runtime",
    openvz: ["NUMPROC"], lxc: ["lxc.cgroup.pids.max", "lxc.cgroup2.pids.max"],
  }),
  disk: key({
    section: "Resources", name: "Disk", type: t.size, list: false, default: null,
    doc: "Disk space the container may use (image or project quota; see docs/disk.md).",
    systemd: "plan", upstart: "runtime", openvz: ["DISKSPACE"], lxc: [],
  }),
  diskInodes: key({
    section: "Resources", name: "DiskInodes", type: t.countOrInfinity(1, Number.MAX_SAFE_INTEGER), list: false, default: null,
    doc: "Number of files and directories the container may create; needs Disk= and is applied by its image backing (not enforced yet: see docs/runtime.md).",
    systemd: "plan", upstart: "runtime", openvz: ["DISKINODES"], lxc: [],
  }),
  diskBacking: key({
    section: "Resources", name: "DiskBacking", type: t.enumOf("auto", "image", "project"), list: false, default: "auto",
    doc: "What enforces Disk=: image (a sparse ext4 image: RootDirectory.img, or a snapshot's RootUpperDirectory.img), project (a project quota on RootDirectory) or auto (whichever containerctl disk create set up). docs/disk.md.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: [],
  }),
  ioWeight: key({
    section: "Resources", name: "IOWeight", type: t.integer(1, 10000), list: false, default: null,
    doc: "Relative block IO share (default 100).",
    systemd: service("IOWeight", (v) => String(v)), upstart: "runtime",
    openvz: ["IOPRIO"], lxc: ["lxc.cgroup.blkio.weight", "lxc.cgroup2.io.weight"],
  }),
  ioRead: key({
    section: "Resources", name: "IOReadBandwidth", type: t.deviceBandwidth, list: true, default: null,
    doc: "Read limit for one block device, bytes per second (DEVICE RATE); a path that is not a device names the disk its filesystem is on.",
    systemd: service("IOReadBandwidthMax", (v) => ({ words: [v.device, String(v.bytes)] })), upstart: "runtime",
    openvz: ["IOLIMIT"], lxc: ["lxc.cgroup.blkio.throttle.read_bps_device", "lxc.cgroup2.io.max"],
  }),
  ioWrite: key({
    section: "Resources", name: "IOWriteBandwidth", type: t.deviceBandwidth, list: true, default: null,
    doc: "Write limit for one block device, bytes per second (DEVICE RATE); a path that is not a device names the disk its filesystem is on.",
    systemd: service("IOWriteBandwidthMax", (v) => ({ words: [v.device, String(v.bytes)] })), upstart: "runtime",
    openvz: ["IOLIMIT"], lxc: ["lxc.cgroup.blkio.throttle.write_bps_device", "lxc.cgroup2.io.max"],
  }),
  ioReadIops: key({
    section: "Resources", name: "IOReadIOPS", type: t.deviceIops, list: true, default: null,
    doc: "Read operations per second for one block device (DEVICE COUNT); a path that is not a device names the disk its filesystem is on.",
    systemd: service("IOReadIOPSMax", (v) => ({ words: [v.device, String(v.iops)] })), upstart: "runtime",
    openvz: ["IOPSLIMIT"], lxc: ["lxc.cgroup.blkio.throttle.read_iops_device", "lxc.cgroup2.io.max"],
  }),
  ioWriteIops: key({
    section: "Resources", name: "IOWriteIOPS", type: t.deviceIops, list: true, default: null,
    doc: "Write operations per second for one block device (DEVICE COUNT); a path that is not a device names the disk its filesystem is on.",
    systemd: service("IOWriteIOPSMax", (v) => ({ words: [v.device, String(v.iops)] })), upstart: "runtime",
    openvz: ["IOPSLIMIT"], lxc: ["lxc.cgroup.blkio.throttle.write_iops_device", "lxc.cgroup2.io.max"],
  }),
  networkRate: key({
    section: "Resources", name: "NetworkRate", type: t.rate, list: false, default: null,
    doc: "Rate (bits per second) of the container's eth0 in each direction (Type=veth), shaped on the host side where the guest cannot lift it: a tbf on the host-side interface for traffic into the container, a tbf on an ifb device (vr-NAME) its ingress is redirected to for traffic out of it. A kernel without ifb, u32 or mirred gets the outgoing tbf on eth0 inside instead, with a warning.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: [],
  }),
  networkRateIn: key({
    section: "Resources", name: "NetworkRateIn", type: t.rate, list: false, default: null,
    doc: "Rate of traffic into the container only (host to guest); overrides NetworkRate= for that direction.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: [],
  }),
  networkRateOut: key({
    section: "Resources", name: "NetworkRateOut", type: t.rate, list: false, default: null,
    doc: "Rate of traffic out of the container only (guest to host); overrides NetworkRate= for that direction.",
    systemd: "plan", upstart: "runtime", openvz: ["RATE"], lxc: [],
  }),

  // [Network]
  netType: key({
    section: "Network", name: "Type", type: t.enumOf("veth", "macvlan", "none", "host"), list: false, default: "none",
    doc: "veth (bridged with Bridge=, else routed), macvlan on Interface=, none (loopback only) or host (shares the host's network).",
    systemd: "plan", upstart: "runtime", openvz: ["IP_ADDRESS", "NETIF"], lxc: ["lxc.net.0.type"],
  }),
  bridge: key({
    section: "Network", name: "Bridge", type: t.ifname, list: false, default: null,
    doc: "Existing host bridge the veth's host side joins.",
    systemd: "plan", upstart: "runtime", openvz: ["NETIF"], lxc: ["lxc.net.0.link"],
  }),
  netInterface: key({
    section: "Network", name: "Interface", type: t.ifname, list: false, default: null,
    doc: "Host interface a macvlan device is created on.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.net.0.link"],
  }),
  addresses: key({
    section: "Network", name: "Address", type: t.ipPrefix, list: true, default: null,
    doc: "Static IPv4/IPv6 address with prefix for eth0 (repeatable); without a prefix, a host address.",
    systemd: "plan", upstart: "runtime", openvz: ["IP_ADDRESS"], lxc: ["lxc.net.0.ipv4.address", "lxc.net.0.ipv6.address"],
  }),
  gateways: key({
    section: "Network", name: "Gateway", type: t.ipAddress, list: true, default: null,
    doc: "Default gateway, at most one per address family.",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.net.0.ipv4.gateway", "lxc.net.0.ipv6.gateway"],
  }),
  dns: key({
    section: "Network", name: "DNS", type: t.ipAddress, list: true, default: null,
    doc: "Name servers written to the guest's resolv.conf view (repeatable).",
    systemd: "plan", upstart: "runtime", openvz: ["NAMESERVER"], lxc: [],
  }),
  domains: key({
    section: "Network", name: "Domains", type: t.domain, list: true, default: null,
    doc: "DNS search domains (repeatable).",
    systemd: "plan", upstart: "runtime", openvz: ["SEARCHDOMAIN"], lxc: [],
  }),
  mac: key({
    section: "Network", name: "MACAddress", type: t.macAddress, list: false, default: null,
    doc: "MAC address of eth0; default: a stable one derived from the container name.",
    systemd: "plan", upstart: "runtime", openvz: ["NETIF"], lxc: ["lxc.net.0.hwaddr"],
  }),
  hostMac: key({
    section: "Network", name: "HostMACAddress", type: t.macAddress, list: false, default: null,
    doc: "MAC address of the host side of eth0's veth (a bridge takes the lowest MAC of its ports unless it has its own); default: the kernel's choice.",
    systemd: "plan", upstart: "runtime", openvz: ["NETIF"], lxc: [],
  }),
  extraInterfaces: key({
    section: "Network", name: "ExtraInterface", type: t.extraInterface, list: true, default: null,
    doc: "A further interface beyond eth0 (repeatable, at most 9): its guest name, then bridge=BRIDGE (a veth on that bridge), routed (a routed veth) or macvlan=INTERFACE, and optionally mac= (default: stable, from the container and interface names), host-mac= (the veth's host side), address= (repeatable), gateway= and route=PREFIX[@GATEWAY] (repeatable). Its host side is vcN-NAME, N counting the interfaces from 1.",
    systemd: "plan", upstart: "runtime", openvz: ["NETIF"],
    lxc: ["lxc.net.N.type", "lxc.net.N.link", "lxc.net.N.name", "lxc.net.N.hwaddr", "lxc.net.N.ipv4.address", "lxc.net.N.ipv6.address"],
  }),

  // [Mount]
  binds: key({
    section: "Mount", name: "Bind", type: t.bindMount, list: true, default: null,
    doc: "Bind mount a host path into the container, read-write unless :ro (repeatable).",
    systemd: "plan", upstart: "runtime", openvz: [], lxc: ["lxc.mount.entry"],
  }),

  // [Security]
  dropCapabilities: key({
    section: "Security", name: "DropCapability", type: t.capabilities, list: true, default: null,
    doc: "Capabilities removed from the guest's bounding set on top of the default drop list.",
    systemd: "plan", upstart: "runtime", openvz: ["CAPABILITY"], lxc: ["lxc.cap.drop"],
  }),
  keepCapabilities: key({
    section: "Security", name: "KeepCapability", type: t.capabilities, list: true, default: null,
    doc: "Capabilities from the default drop list that the guest keeps.",
    systemd: "plan", upstart: "runtime", openvz: ["CAPABILITY"], lxc: ["lxc.cap.keep"],
  }),
  devices: key({
    section: "Security", name: "DeviceAllow", type: t.deviceRule, list: true, default: null,
    doc: "A host device node the guest may use, with access r, w, m (repeatable).",
    systemd: service("DeviceAllow", (v) => ({ words: [v.device, v.access] })), upstart: "runtime",
    openvz: ["DEVICES", "DEVNODES"], lxc: ["lxc.cgroup.devices.allow", "lxc.cgroup2.devices.allow"],
  }),

  // [Boot]
  autostart: key({
    section: "Boot", name: "Autostart", type: t.bool, list: false, default: "no",
    doc: "Start the container at boot (under containers.target).",
    systemd: "links", upstart: "job", openvz: ["ONBOOT"], lxc: ["lxc.start.auto"],
  }),
  order: key({
    section: "Boot", name: "Order", type: t.integer(-1000000, 1000000), list: false, default: "0",
    doc: "Autostart order: lower starts earlier; ties start by name.",
    systemd: "links", upstart: "job", openvz: ["BOOTORDER"], lxc: ["lxc.start.order"],
  }),
  disabled: key({
    section: "Boot", name: "Disabled", type: t.bool, list: false, default: "no",
    doc: "Never start the container: not at boot (whatever Autostart= says) and not by hand; the start fails with a message naming this key.",
    systemd: "plan", upstart: "runtime", openvz: ["DISABLED"], lxc: [],
  }),
  delay: key({
    section: "Boot", name: "Delay", type: t.finiteDuration, list: false, default: "0",
    doc: "At autostart, wait this long after this container has started before starting the next.",
    systemd: "links", upstart: "job", openvz: [], lxc: ["lxc.start.delay"],
  }),
} satisfies Record<string, KeyDef<any, boolean>>;

export type KeyId = keyof typeof KEYS;
type Def<K extends KeyId> = (typeof KEYS)[K];
type Elem<K extends KeyId> = Def<K> extends KeyDef<infer T, boolean> ? T : never;
/** The typed value of a key: a list for repeatable keys, else the value or undefined. */
export type KeyValue<K extends KeyId> = Def<K>["list"] extends true ? Elem<K>[] : Elem<K> | undefined;

export const KEY_IDS = Object.keys(KEYS) as KeyId[];

/** Section → key name → id, for the reader. */
export const KEY_BY_NAME: ReadonlyMap<string, ReadonlyMap<string, KeyId>> = (() => {
  const m = new Map<string, Map<string, KeyId>>();
  for (const id of KEY_IDS) {
    const d = KEYS[id];
    if (!m.has(d.section)) m.set(d.section, new Map());
    m.get(d.section)!.set(d.name, id);
  }
  return m;
})();
