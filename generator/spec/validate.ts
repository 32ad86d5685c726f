// Rules between keys, checked after every value has parsed. Each problem is
// reported at the line of the key that makes the combination wrong.

import type { SpecError } from "./errors";
import { KEYS, type KeyId } from "./keys";
import type { ContainerSpec } from "./load";
import { derivedExtraMac, derivedMac, MAX_EXTRA_INTERFACES, overlayUpper, overlayWork } from "../render/derive";

export type Problem = SpecError & { warning?: boolean };

export function validateSpec(spec: ContainerSpec): Problem[] {
  const v = spec.values;
  const out: Problem[] = [];
  const at = (id: KeyId, message: string, warning = false): void => {
    const o = spec.origins[id] ?? { file: spec.file, line: 0 };
    out.push({ file: o.file, line: o.line, section: KEYS[id].section, key: KEYS[id].name, message, ...(warning ? { warning } : {}) });
  };
  /** At the line of one value of a repeatable key. */
  const atItem = (id: KeyId, i: number, message: string): void => {
    const o = spec.itemOrigins?.[id]?.[i] ?? spec.origins[id] ?? { file: spec.file, line: 0 };
    out.push({ file: o.file, line: o.line, section: KEYS[id].section, key: KEYS[id].name, message });
  };
  const set = (id: KeyId): boolean => {
    const x = v[id];
    return Array.isArray(x) ? x.length > 0 : x !== undefined && spec.origins[id] !== undefined;
  };

  // Network: which keys make sense for which type.
  const type = v.netType;
  const netKeys: KeyId[] = ["bridge", "netInterface", "addresses", "gateways", "mac", "networkRate", "networkRateIn", "networkRateOut", "extraInterfaces", "hostMac"];
  if (type === "none" || type === "host") {
    for (const id of netKeys) if (set(id)) at(id, `conflicts with Type=${type} (no interface of its own)`);
  }
  if (type === "veth" && set("netInterface")) at("netInterface", "applies to Type=macvlan; a veth joins Bridge= or is routed");
  if (type === "macvlan") {
    if (set("bridge")) at("bridge", "conflicts with Type=macvlan (use Interface=)");
    if (set("hostMac")) at("hostMac", "applies to Type=veth (a macvlan has no host side)");
    for (const id of ["networkRate", "networkRateIn", "networkRateOut"] as const) {
      if (set(id)) at(id, "applies to Type=veth (a macvlan has no host side to shape on); ignored", true);
    }
    if (!set("netInterface")) at("netType", "Type=macvlan needs Interface= (the host interface to attach to)");
  }
  if (type === "host") at("netType", "the container shares the host's network: it can reconfigure host interfaces", true);
  for (const fam of [4, 6] as const) {
    const gws = v.gateways.filter((g) => g.family === fam);
    if (gws.length > 1) at("gateways", `more than one IPv${fam} gateway`);
    if (gws.length > 0 && !v.addresses.some((a) => a.family === fam) && type !== "none" && type !== "host") {
      at("gateways", `IPv${fam} gateway '${gws[0].address}' without an IPv${fam} Address=`);
    }
  }
  const seenAddr = new Set<string>();
  for (const a of v.addresses) {
    if (seenAddr.has(a.address)) at("addresses", `address '${a.address}' given twice`);
    seenAddr.add(a.address);
  }
  if (type === "veth" || type === "macvlan") validateExtraInterfaces(spec, seenAddr, atItem);

  // Overlay root: the upper and work directories belong to a lower layer.
  if (v.rootLower.length === 0) {
    for (const id of ["rootUpper", "rootWork"] as const) if (set(id)) at(id, "needs RootLowerDirectory= (the read-only layer it sits on)");
  } else if (overlayUpper(spec) === overlayWork(spec)) {
    at("rootWork", "must differ from RootUpperDirectory=");
  }

  // Resources.
  if (set("swap") && !set("memory")) at("swap", "Swap= needs Memory= (swap is limited on top of memory)");
  if (set("diskInodes")) {
    if (!set("disk")) at("diskInodes", "DiskInodes= needs Disk= (inodes are limited by the disk image that Disk= sizes)");
    else at("diskInodes", "not enforced yet: no Disk= backing applies an inode limit", true);
  }

  // Boot.
  if (v.disabled && v.autostart) at("disabled", "Disabled=yes: not started at boot although Autostart=yes", true);
  // Restart= does not retry the refused start: it exits 78, container@.service's
  // RestartPreventExitStatus=, and the upstart job restarts only after MIN uptime.

  // Mounts.
  const targets = new Set<string>();
  for (const b of v.binds) {
    if (targets.has(b.target)) at("binds", `two bind mounts onto '${b.target}'`);
    targets.add(b.target);
  }

  // Capabilities.
  const dropped = v.dropCapabilities.flat();
  for (const c of v.keepCapabilities.flat()) {
    if (dropped.includes(c)) at("keepCapabilities", `'${c}' is both kept and dropped`);
  }
  // In file order, as the reader's own errors are (stable: one line keeps its rules' order).
  const files = spec.sources;
  return out.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line);
}

/** ExtraInterface=: each problem at the line of the interface that makes it (seenAddr: eth0's addresses). */
function validateExtraInterfaces(spec: ContainerSpec, seenAddr: Set<string>, atItem: (id: KeyId, i: number, message: string) => void): void {
  const v = spec.values;
  const names = new Set<string>();
  const macs = new Map<string, string>([[v.mac ?? derivedMac(spec.name), "eth0"]]);
  if (v.hostMac !== undefined) macs.set(v.hostMac, "eth0's host side");
  const gateways = new Set<number>(v.gateways.map((g) => g.family));
  v.extraInterfaces.forEach((x, i) => {
    const bad = (message: string) => atItem("extraInterfaces", i, message);
    if (i === MAX_EXTRA_INTERFACES) bad(`more than ${MAX_EXTRA_INTERFACES} further interfaces (${MAX_EXTRA_INTERFACES + 1} in all)`);
    if (names.has(x.name)) bad(`interface name '${x.name}' given twice`);
    names.add(x.name);
    const mac = x.mac ?? derivedExtraMac(spec.name, x.name);
    const same = macs.get(mac);
    if (same !== undefined) bad(`MAC address '${mac}' is already used by ${same}`);
    macs.set(mac, x.name);
    if (x.hostMac !== undefined) {
      if (macs.has(x.hostMac)) bad(`host-mac '${x.hostMac}' is already used by ${macs.get(x.hostMac)}`);
      macs.set(x.hostMac, `${x.name}'s host side`);
    }
    for (const a of x.addresses) {
      if (seenAddr.has(a.address)) bad(`address '${a.address}' given twice`);
      seenAddr.add(a.address);
    }
    for (const g of x.gateways) {
      if (gateways.has(g.family)) bad(`more than one IPv${g.family} gateway (a default route; use route= for more)`);
      gateways.add(g.family);
    }
  });
}
