// The runtime plan: what runtime/start must do for one container, as data the
// POSIX-sh runtime reads line by line with `IFS=<tab> read -r` (no eval, no
// sourcing). One directive a line: KEY<TAB>FIELD[<TAB>FIELD...]. Fields never
// contain tabs, newlines or other control characters (escape.planField), and
// are never empty. Format reference: docs/plan.md.

import { planField } from "../escape";
import type { ContainerSpec } from "../spec/load";
import { derivedExtraMac, derivedMac, droppedCapabilities, hostInterfaceName, ifbName, overlayUpper, overlayWork, seconds, stopSignal } from "./derive";

export const PLAN_VERSION = "1";

export function renderPlan(spec: ContainerSpec): string {
  const v = spec.values;
  const lines: string[][] = [];
  const add = (key: string, ...fields: (string | number)[]): void => {
    lines.push([key, ...fields.map((f) => planField(String(f)))]);
  };
  add("version", PLAN_VERSION);
  add("name", spec.name);
  add("source", spec.file);
  // runtime/start refuses to start it, naming the file that says so.
  if (v.disabled) add("disabled", spec.origins.disabled?.file ?? spec.file);
  add("root", v.root!);
  if (v.rootLower.length > 0) {
    for (const l of v.rootLower) add("root_lower", l);
    add("root_upper", overlayUpper(spec));
    add("root_work", overlayWork(spec));
  }
  add("hostname", v.hostname!);
  add("guest", v.guest!);
  add("stop_signal", stopSignal(spec));
  add("stop_timeout", seconds(v.stopTimeout));
  add("init", v.init!);
  for (const a of v.initArguments ?? []) {
    if (a === "") lines.push(["arg_empty"]); // fields are never empty
    else add("arg", a);
  }
  for (const e of v.environment) add("env", `${e.name}=${e.value}`);
  add("ttys", v.ttys!);
  for (const c of droppedCapabilities(spec)) add("cap_drop", c);
  for (const d of v.devices) add("device", d.device, d.access);
  for (const b of v.binds) add("bind", b.source, b.target, b.readOnly ? "ro" : "rw");

  add("net_type", v.netType!);
  if (v.netType === "veth" || v.netType === "macvlan") {
    add("net_host_ifname", hostInterfaceName(spec.name));
    add("net_mac", v.mac ?? derivedMac(spec.name));
    // HostMACAddress=: set by runtime/net-extra (kept out of runtime/net's eth0 path).
    if (v.hostMac !== undefined) add("net_host_mac", v.hostMac);
    if (v.bridge) add("net_bridge", v.bridge);
    if (v.netInterface) add("net_link", v.netInterface);
    for (const a of v.addresses) add("net_address", `${a.address}/${a.prefix}`);
    for (const g of v.gateways) add("net_gateway", g.address);
    // NetworkRate=, or per direction: into the container a tbf on the host side; out of
    // it a tbf on the container's ifb device, which the host side's ingress redirects to.
    if (v.netType === "veth") {
      const rateIn = v.networkRateIn ?? v.networkRate;
      const rateOut = v.networkRateOut ?? v.networkRate;
      if (rateIn !== undefined) add("net_rate_in", `${rateIn}bit`);
      if (rateOut !== undefined) add("net_rate_out", `${rateOut}bit`, ifbName(spec.name));
    }
    // ExtraInterface=: runtime/net-extra. One net_extra line opens an interface; its
    // other lines follow it and name it again.
    v.extraInterfaces.forEach((x, i) => {
      const mac = x.mac ?? derivedExtraMac(spec.name, x.name);
      add("net_extra", x.name, hostInterfaceName(spec.name, i + 1), mac, x.mode, ...(x.link !== undefined ? [x.link] : []));
      if (x.hostMac !== undefined) add("net_extra_host_mac", x.name, x.hostMac);
      for (const a of x.addresses) add("net_extra_address", x.name, `${a.address}/${a.prefix}`);
      for (const g of x.gateways) add("net_extra_gateway", x.name, g.address);
      for (const r of x.routes) add("net_extra_route", x.name, `${r.dest.address}/${r.dest.prefix}`, ...(r.via ? [r.via.address] : []));
    });
  }
  for (const d of v.dns) add("net_dns", d.address);
  for (const d of v.domains) add("net_search", d);

  // Limits: applied by the runtime only where no systemd owns the cgroup.
  if (v.cpuWeight !== undefined) add("limit_cpu_weight", v.cpuWeight);
  if (v.cpuQuota !== undefined) add("limit_cpu_quota", v.cpuQuota);
  if (v.allowedCPUs !== undefined) add("limit_cpuset", v.allowedCPUs);
  if (v.memory !== undefined) add("limit_memory", v.memory);
  if (v.memoryLow !== undefined) add("limit_memory_low", v.memoryLow);
  if (v.swap !== undefined) add("limit_swap", v.swap);
  if (v.tasks !== undefined) add("limit_tasks", v.tasks);
  if (v.ioWeight !== undefined) add("limit_io_weight", v.ioWeight);
  for (const r of v.ioRead) add("limit_io_read", r.device, r.bytes);
  for (const w of v.ioWrite) add("limit_io_write", w.device, w.bytes);
  for (const r of v.ioReadIops) add("limit_io_read_iops", r.device, r.iops);
  for (const w of v.ioWriteIops) add("limit_io_write_iops", w.device, w.iops);
  // Disk=: runtime/disk (docs/disk.md).
  if (typeof v.disk === "number") add("disk", v.disk); // Disk=infinity: no limit
  if (v.diskBacking !== "auto") add("disk_backing", v.diskBacking!);
  // DiskInodes=: for the disk image backing, which does not apply it yet (docs/disk.md).
  if (v.diskInodes !== undefined) add("limit_disk_inodes", v.diskInodes);
  return lines.map((l) => l.join("\t")).join("\n") + "\n";
}
