// Values derived from a spec that several renderers need (plan, units, upstart
// jobs, status): computed in one place so they always agree.

import type { ContainerSpec } from "../spec/load";
import type { Capability } from "../spec/values";

/** LXC's default drop list plus what a container has no business with. */
export const DEFAULT_DROPPED_CAPABILITIES: readonly Capability[] = [
  "sys_module", "sys_rawio", "sys_time", "mac_admin", "mac_override", "sys_pacct", "syslog", "bpf", "perfmon",
];

export function droppedCapabilities(spec: ContainerSpec): Capability[] {
  const keep = new Set(spec.values.keepCapabilities.flat());
  const out = DEFAULT_DROPPED_CAPABILITIES.filter((c) => !keep.has(c));
  for (const c of spec.values.dropCapabilities.flat()) if (!out.includes(c)) out.push(c);
  return out;
}

/** 32-bit FNV-1a: small, stable across Node versions and platforms. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Host-side interface name: `vc-NAME` when it fits IFNAMSIZ (15 characters),
 * else `vc-` + the first 6 characters + `-` + 5 hex digits of a hash of the
 * whole name, so long names sharing a prefix still differ. ExtraInterface=
 * number N (1..9) gets `vcN-` instead of `vc-` (5 characters kept when hashed):
 * a container name never makes a `vcN-` name, so the two kinds never collide.
 */
export function hostInterfaceName(name: string, extra = 0): string {
  return shortIfname(extra === 0 ? "vc-" : `vc${extra}-`, name);
}

/**
 * The ifb device NetworkRate= shapes the container's outgoing traffic on, in
 * the host's namespace: `vr-` and the name as for hostInterfaceName, so it is
 * as unique as the container's `vc-` name and never equals one.
 */
export const ifbName = (name: string): string => shortIfname("vr-", name);

function shortIfname(prefix: string, name: string): string {
  const plain = prefix + name;
  if (plain.length <= 15) return plain;
  return `${prefix}${name.slice(0, 15 - prefix.length - 6)}-${(fnv1a(name) & 0xfffff).toString(16).padStart(5, "0")}`;
}

/** At most this many ExtraInterface= (their host sides are vc1- .. vc9-). */
export const MAX_EXTRA_INTERFACES = 9;

export interface HostInterface {
  name: string;
  /** The ExtraInterface= value's position (0-based), or null for [Network]'s eth0. */
  extra: number | null;
}

/** Every host-side interface name a container makes, eth0's first. */
export function hostInterfaces(spec: ContainerSpec): HostInterface[] {
  const v = spec.values;
  if (v.netType !== "veth" && v.netType !== "macvlan") return [];
  return [
    { name: hostInterfaceName(spec.name), extra: null },
    ...v.extraInterfaces.map((_, i) => ({ name: hostInterfaceName(spec.name, i + 1), extra: i })),
  ];
}

/**
 * The MAC of a further interface when mac= is not given: derived from the
 * container and the guest interface's name (not its position), so it stays
 * the same when other interfaces are added or removed. A '/' cannot be in a
 * container name, so it never equals another container's eth0 MAC input.
 */
export const derivedExtraMac = (name: string, ifname: string): string => derivedMac(`${name}/${ifname}`);

/** A stable, locally administered unicast MAC derived from the name. */
export function derivedMac(name: string): string {
  const a = fnv1a(name);
  const b = fnv1a(`${name}\u0000mac`);
  const bytes = [0x02, (a >>> 24) & 0xff, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff, b & 0xff];
  return bytes.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** The overlay root's writable layers, defaulted beside the container's rootfs. */
export const overlayUpper = (spec: ContainerSpec): string => spec.values.rootUpper ?? `/var/lib/containerctl/${spec.name}/upper`;
export const overlayWork = (spec: ContainerSpec): string => spec.values.rootWork ?? `/var/lib/containerctl/${spec.name}/work`;

export function stopSignal(spec: ContainerSpec): "SIGRTMIN+3" | "SIGPWR" | "auto" {
  const g = spec.values.guest;
  return g === "auto" || g === undefined ? "auto" : g === "systemd" ? "SIGRTMIN+3" : "SIGPWR";
}

export function seconds(us: number | "infinity" | undefined): string {
  if (us === undefined) return "0";
  return us === "infinity" ? "infinity" : String(us / 1e6);
}
