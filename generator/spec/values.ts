// Value types of the spec: one parser per type, never one per key (STYLE.md,
// after nspawn-gperf). A parser takes the raw text after `Key=` and returns a
// normalised value or throws ValueError with a message for the user.

import { assertPrintable, EscapeError } from "../escape";

export class ValueError extends Error {}

export interface ValueType<T> {
  /** Shown in docs, e.g. "size" or "yes|no". */
  readonly syntax: string;
  parse(raw: string): T;
  /** Canonical text, used for docs, --dry-run reports and the importers. */
  format(value: T): string;
}

function printable(raw: string): string {
  try {
    return assertPrintable(raw);
  } catch (e) {
    throw new ValueError((e as EscapeError).message);
  }
}

/** A value as error messages show it: printable (else the control character is the error), at most 64 characters. */
function shown(raw: string): string {
  printable(raw);
  return raw.length > 64 ? `${raw.slice(0, 61)}...` : raw;
}

export const text: ValueType<string> = {
  syntax: "text",
  parse(raw) {
    if (raw === "") throw new ValueError("empty value");
    if (raw.length > 4096) throw new ValueError("value longer than 4096 characters");
    if (raw.endsWith("\\")) throw new ValueError("value ends with a backslash");
    return printable(raw);
  },
  format: (v) => v,
};

export function path(opts: { allowSpaces?: boolean } = {}): ValueType<string> {
  return {
    syntax: "absolute path",
    parse(raw) {
      printable(raw);
      if (!raw.startsWith("/")) throw new ValueError(`path '${shown(raw)}' is not absolute`);
      // The kernel's (and systemd's) limits: PATH_MAX 4096 bytes with the NUL, NAME_MAX 255 a component.
      if (Buffer.byteLength(raw) > 4095) throw new ValueError("path longer than 4095 bytes");
      if (!opts.allowSpaces && /\s/.test(raw)) throw new ValueError(`path '${shown(raw)}' contains white space`);
      const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
      if (parts.includes("..")) throw new ValueError(`path '${shown(raw)}' contains '..'`);
      if (parts.some((p) => Buffer.byteLength(p) > 255)) throw new ValueError(`path '${shown(raw)}' has a component longer than 255 bytes`);
      return "/" + parts.join("/");
    },
    format: (v) => v,
  };
}

/** A directory that can be an overlayfs layer: absolute, and none of the option separators , : \\ or white space. */
export const layerPath: ValueType<string> = {
  syntax: "absolute path (no , : \\ or spaces)",
  parse(raw) {
    const p = path().parse(raw);
    if (/[,:\\]/.test(p)) throw new ValueError(`'${p}' cannot be an overlay layer (no ',', ':' or '\\')`);
    return p;
  },
  format: (v) => v,
};

export function enumOf<const T extends string>(...choices: T[]): ValueType<T> {
  return {
    syntax: choices.join("|"),
    parse(raw) {
      const v = raw.toLowerCase();
      if (!(choices as string[]).includes(v)) throw new ValueError(`'${shown(raw)}' is not one of ${choices.join(", ")}`);
      return v as T;
    },
    format: (v) => v,
  };
}

const TRUE = ["yes", "true", "on", "1", "y", "t"];
const FALSE = ["no", "false", "off", "0", "n", "f"];
export const bool: ValueType<boolean> = {
  syntax: "yes|no",
  parse(raw) {
    const v = raw.toLowerCase();
    if (TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    throw new ValueError(`'${shown(raw)}' is not a boolean (yes/no, true/false, on/off, 1/0)`);
  },
  format: (v) => (v ? "yes" : "no"),
};

export function integer(min: number, max: number): ValueType<number> {
  return {
    syntax: `integer ${min}..${max}`,
    parse(raw) {
      if (!/^-?[0-9]{1,15}$/.test(raw)) throw new ValueError(`'${shown(raw)}' is not a whole number`);
      const n = Number(raw);
      if (n < min || n > max) throw new ValueError(`${raw} is out of range ${min}..${max}`);
      return n;
    },
    format: (v) => String(v),
  };
}

/** A count or `infinity` (TasksMax= style). */
export function countOrInfinity(min: number, max: number): ValueType<number | "infinity"> {
  const int = integer(min, max);
  return {
    syntax: `integer ${min}..${max} or infinity`,
    parse: (raw) => (raw.toLowerCase() === "infinity" ? "infinity" : int.parse(raw)),
    format: (v) => String(v),
  };
}

const SIZE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
/** Bytes, with K/M/G/T suffixes (base 1024, as systemd), or infinity. */
export const size: ValueType<number | "infinity"> = {
  syntax: "size[K|M|G|T] or infinity",
  parse(raw) {
    if (raw.toLowerCase() === "infinity") return "infinity";
    const m = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(raw);
    if (!m) throw new ValueError(`'${shown(raw)}' is not a size (e.g. 512M, 2G)`);
    const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2].toUpperCase()]);
    if (!Number.isSafeInteger(bytes)) throw new ValueError(`size '${shown(raw)}' is too large`);
    return bytes;
  },
  format: (v) => (v === "infinity" ? v : formatSize(v)),
};

export function formatSize(bytes: number): string {
  for (const [suffix, mult] of [["T", 1024 ** 4], ["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${suffix}`;
  }
  return String(bytes);
}

// systemd.time(7) time spans. Stored as microseconds.
const TIME_UNITS: [string[], number][] = [
  [["us", "usec", "µs"], 1],
  [["ms", "msec"], 1e3],
  [["s", "sec", "second", "seconds"], 1e6],
  [["m", "min", "minute", "minutes"], 60e6],
  [["h", "hr", "hour", "hours"], 3600e6],
  [["d", "day", "days"], 86400e6],
  [["w", "week", "weeks"], 604800e6],
];
const TIME_UNIT = new Map(TIME_UNITS.flatMap(([names, mult]) => names.map((n) => [n, mult] as const)));

export const duration: ValueType<number | "infinity"> = {
  syntax: "time span (e.g. 90, 5s, 1min 30s) or infinity",
  parse(raw) {
    if (raw.toLowerCase() === "infinity") return "infinity";
    const s = raw.trim();
    if (/^[0-9]+(\.[0-9]+)?$/.test(s)) return Math.round(Number(s) * 1e6);
    const re = /\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zµ]+)/gy;
    let total = 0;
    let m: RegExpExecArray | null;
    let pos = 0;
    while ((m = re.exec(s)) !== null) {
      const mult = TIME_UNIT.get(m[2]);
      if (mult === undefined) throw new ValueError(`'${shown(raw)}': unknown time unit '${shown(m[2])}'`);
      total += Number(m[1]) * mult;
      pos = re.lastIndex;
    }
    if (pos !== s.length || s === "") throw new ValueError(`'${shown(raw)}' is not a time span (e.g. 90, 5s, 1min 30s)`);
    total = Math.round(total);
    if (!Number.isSafeInteger(total)) throw new ValueError(`time span '${shown(raw)}' is too large`);
    return total;
  },
  format: (v) => (v === "infinity" ? v : formatDuration(v)),
};

/** A time span that is not 0: systemd reads TimeoutStopSec=0 as "no timeout", the runtime as "kill at once". */
export const nonZeroDuration: ValueType<number | "infinity"> = {
  syntax: "time span (e.g. 90, 5s, 1min 30s), not 0, or infinity",
  parse(raw) {
    const v = duration.parse(raw);
    if (v === 0) throw new ValueError("0 is ambiguous here (systemd reads it as infinity); give a time span or infinity");
    return v;
  },
  format: duration.format,
};

export const finiteDuration: ValueType<number> = {
  syntax: "time span (e.g. 5s, 1min 30s)",
  parse(raw) {
    const v = duration.parse(raw);
    if (v === "infinity") throw new ValueError("infinity is not allowed here");
    return v;
  },
  format: formatDuration,
};

export function formatDuration(us: number): string {
  if (us % 1e6 === 0) return `${us / 1e6}s`;
  if (us % 1e3 === 0) return `${us / 1e3}ms`;
  return `${us}us`;
}

export const percent: ValueType<number> = {
  syntax: "percentage (100% = one CPU)",
  parse(raw) {
    const m = /^([0-9]+)%$/.exec(raw);
    if (!m) throw new ValueError(`'${shown(raw)}' is not a percentage (e.g. 150%)`);
    const n = Number(m[1]);
    if (n < 1 || n > 100000) throw new ValueError(`${raw} is out of range 1%..100000%`);
    return n;
  },
  format: (v) => `${v}%`,
};

/** A CPU list such as 0-3,6 (cpuset syntax). Normalised to sorted ranges. */
export const cpuList: ValueType<string> = {
  syntax: "CPU list (e.g. 0-3,6)",
  parse(raw) {
    const cpus = new Set<number>();
    for (const part of raw.split(/[,\s]+/).filter(Boolean)) {
      const m = /^([0-9]{1,4})(?:-([0-9]{1,4}))?$/.exec(part);
      if (!m) throw new ValueError(`'${shown(raw)}' is not a CPU list (e.g. 0-3,6)`);
      const lo = Number(m[1]);
      const hi = m[2] !== undefined ? Number(m[2]) : lo;
      if (hi < lo) throw new ValueError(`CPU range '${part}' is reversed`);
      for (let c = lo; c <= hi; c++) cpus.add(c);
    }
    if (cpus.size === 0) throw new ValueError("empty CPU list");
    const sorted = [...cpus].sort((a, b) => a - b);
    const ranges: string[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
      ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
      i = j + 1;
    }
    return ranges.join(",");
  },
  format: (v) => v,
};

const DEVICE_PATH = path();
/** `DEVICE VALUE`: a device (or a file on it) and its limit, split at the white space. */
function devicePair(raw: string, example: string): [device: string, value: string] {
  const m = /^(\S+)\s+(\S+)$/.exec(raw);
  if (!m) throw new ValueError(`'${shown(raw)}' is not ${example}`);
  return [DEVICE_PATH.parse(m[1]), m[2]];
}

export interface DeviceBandwidth { device: string; bytes: number }
/** `DEVICE RATE`, e.g. `/dev/sda 10M` (bytes per second). */
export const deviceBandwidth: ValueType<DeviceBandwidth> = {
  syntax: "device-path bytes-per-second",
  parse(raw) {
    const [device, rate] = devicePair(raw, "'DEVICE RATE' (e.g. /dev/sda 10M)");
    const bytes = size.parse(rate);
    if (bytes === "infinity" || bytes === 0) throw new ValueError(`rate '${rate}' must be a positive size`);
    return { device, bytes };
  },
  format: (v) => `${v.device} ${formatSize(v.bytes)}`,
};

export interface DeviceIops { device: string; iops: number }
/** `DEVICE COUNT`, e.g. `/dev/sda 1000` (operations per second). */
export const deviceIops: ValueType<DeviceIops> = {
  syntax: "device-path operations-per-second",
  parse(raw) {
    const [device, count] = devicePair(raw, "'DEVICE COUNT' (e.g. /dev/sda 1000)");
    if (!/^[0-9]{1,15}$/.test(count) || Number(count) === 0) throw new ValueError(`'${shown(count)}' is not a positive number of operations per second`);
    return { device, iops: Number(count) };
  },
  format: (v) => `${v.device} ${v.iops}`,
};

export interface DeviceRule { device: string; access: string }
/** `DEVICE [rwm]`: a device node the container may use. */
export const deviceRule: ValueType<DeviceRule> = {
  syntax: "device-path [r][w][m]",
  parse(raw) {
    const m = /^(\S+)(?:\s+([rwm]{1,3}))?$/.exec(raw);
    if (!m) throw new ValueError(`'${shown(raw)}' is not 'DEVICE [rwm]' (e.g. /dev/fuse rwm)`);
    const device = DEVICE_PATH.parse(m[1]);
    if (!device.startsWith("/dev/")) throw new ValueError(`'${device}' is not under /dev`);
    const access = m[2] ?? "rwm";
    if (new Set(access).size !== access.length) throw new ValueError(`access '${access}' repeats a letter`);
    return { device, access: ["r", "w", "m"].filter((c) => access.includes(c)).join("") };
  },
  format: (v) => `${v.device} ${v.access}`,
};

const RATE_UNITS: Record<string, number> = {
  bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12,
  bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12,
};
/** A network rate in tc(8) units; stored as bits per second. */
export const rate: ValueType<number> = {
  syntax: "rate (e.g. 20mbit, 1gbit, 500kbps)",
  parse(raw) {
    const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]+)$/i.exec(raw);
    const mult = m ? RATE_UNITS[m[2].toLowerCase()] : undefined;
    if (!m || mult === undefined) throw new ValueError(`'${shown(raw)}' is not a rate (e.g. 20mbit, 1gbit, 500kbps)`);
    const bits = Math.round(Number(m[1]) * mult);
    if (bits < 8000 || !Number.isSafeInteger(bits)) throw new ValueError(`rate '${shown(raw)}' is out of range (at least 8kbit)`);
    return bits;
  },
  format: (v) => `${v}bit`,
};

/** RFC 1123 host name, at most 64 characters (the kernel's limit). */
export const hostname: ValueType<string> = {
  syntax: "host name",
  parse(raw) {
    const v = raw.toLowerCase();
    if (v.length > 64 || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(v)) {
      throw new ValueError(`'${shown(raw)}' is not a valid host name`);
    }
    return v;
  },
  format: (v) => v,
};

/** A network interface name (IFNAMSIZ - 1 = 15 characters). */
export const ifname: ValueType<string> = {
  syntax: "interface name",
  parse(raw) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(raw)) throw new ValueError(`'${shown(raw)}' is not a valid interface name (at most 15 of A-Z a-z 0-9 _ . -)`);
    return raw;
  },
  format: (v) => v,
};

export interface IpAddress { family: 4 | 6; address: string }
function parseIPv4(s: string): string | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  for (const p of parts) if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
  return s;
}
function parseIPv6(s: string): string | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return null;
  const dbl = s.split("::");
  if (dbl.length > 2) return null;
  const group = (g: string) => /^[0-9a-fA-F]{1,4}$/.test(g);
  const side = (x: string) => (x === "" ? [] : x.split(":"));
  const head = side(dbl[0]);
  const tail = dbl.length === 2 ? side(dbl[1]) : [];
  let groups = head.length + tail.length;
  const last = (tail.length ? tail : head).at(-1);
  if (last !== undefined && last.includes(".")) {
    if (!parseIPv4(last)) return null;
    groups += 1; // an embedded IPv4 takes two groups
    (tail.length ? tail : head).pop();
  }
  if (![...head, ...tail].every(group)) return null;
  if (dbl.length === 2 ? groups > 7 : groups !== 8) return null;
  return s.toLowerCase();
}

export const ipAddress: ValueType<IpAddress> = {
  syntax: "IPv4 or IPv6 address",
  parse(raw) {
    const v4 = parseIPv4(raw);
    if (v4) return { family: 4, address: v4 };
    const v6 = parseIPv6(raw);
    if (v6) return { family: 6, address: v6 };
    throw new ValueError(`'${shown(raw)}' is not an IP address`);
  },
  format: (v) => v.address,
};

export interface IpPrefix extends IpAddress { prefix: number }
/** ADDRESS[/PREFIX]; without a prefix, a host address (/32 or /128). */
export const ipPrefix: ValueType<IpPrefix> = {
  syntax: "address[/prefix]",
  parse(raw) {
    const [addr, len, extra] = raw.split("/");
    if (extra !== undefined) throw new ValueError(`'${shown(raw)}' is not ADDRESS/PREFIX`);
    const ip = ipAddress.parse(addr);
    const max = ip.family === 4 ? 32 : 128;
    if (len === undefined) return { ...ip, prefix: max };
    if (!/^[0-9]{1,3}$/.test(len) || Number(len) > max || Number(len) < 1) throw new ValueError(`prefix '/${shown(len)}' is out of range 1..${max}`);
    return { ...ip, prefix: Number(len) };
  },
  format: (v) => `${v.address}/${v.prefix}`,
};

export const macAddress: ValueType<string> = {
  syntax: "MAC address",
  parse(raw) {
    const v = raw.toLowerCase().replace(/-/g, ":");
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(v)) throw new ValueError(`'${shown(raw)}' is not a MAC address`);
    if (parseInt(v.slice(0, 2), 16) & 1) throw new ValueError(`'${shown(raw)}' is a multicast address`);
    if (v === "00:00:00:00:00:00") throw new ValueError("the all-zero MAC address is not usable");
    return v;
  },
  format: (v) => v,
};

export const domain: ValueType<string> = {
  syntax: "DNS domain",
  parse(raw) {
    const v = raw.toLowerCase().replace(/\.$/, "");
    if (v.length > 253 || !/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/.test(v)) {
      throw new ValueError(`'${shown(raw)}' is not a valid domain`);
    }
    return v;
  },
  format: (v) => v,
};

export interface BindMount { source: string; target: string; readOnly: boolean }
const HOST_PATH = path({ allowSpaces: true });
/** SOURCE[:TARGET[:ro|rw]]; TARGET defaults to SOURCE; read-write by default. */
export const bindMount: ValueType<BindMount> = {
  syntax: "source[:target[:ro|rw]]",
  parse(raw) {
    const parts = raw.split(":");
    if (parts.length > 3) throw new ValueError(`'${shown(raw)}' has too many ':' (paths with ':' are not supported)`);
    const source = HOST_PATH.parse(parts[0]);
    const target = parts[1] !== undefined && parts[1] !== "" ? HOST_PATH.parse(parts[1]) : source;
    const mode = parts[2] ?? "rw";
    if (mode !== "ro" && mode !== "rw") throw new ValueError(`mount option '${shown(mode)}' is not ro or rw`);
    if (target === "/") throw new ValueError("cannot bind over the container's root");
    return { source, target, readOnly: mode === "ro" };
  },
  format: (v) => `${v.source}:${v.target}:${v.readOnly ? "ro" : "rw"}`,
};

/** KEY=VALUE for the guest init's environment; the value is taken verbatim. */
export interface EnvVar { name: string; value: string }
export const envVar: ValueType<EnvVar> = {
  syntax: "NAME=value",
  parse(raw) {
    const eq = raw.indexOf("=");
    const name = eq < 0 ? raw : raw.slice(0, eq);
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ValueError(`'${shown(raw)}' is not NAME=value`);
    return { name, value: printable(raw.slice(eq + 1)) };
  },
  format: (v) => `${v.name}=${v.value}`,
};

/** White-space separated words; "double" and 'single' quotes group, \ escapes. */
export const words: ValueType<string[]> = {
  syntax: "words (quotes group)",
  parse(raw) {
    printable(raw);
    const out: string[] = [];
    let cur: string | null = null;
    let quote: string | null = null;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (quote) {
        if (c === quote) quote = null;
        else if (c === "\\" && quote === '"' && i + 1 < raw.length) cur += raw[++i];
        else cur += c;
      } else if (c === '"' || c === "'") {
        quote = c;
        cur ??= "";
      } else if (c === "\\") {
        if (i + 1 >= raw.length) throw new ValueError("trailing backslash");
        cur = (cur ?? "") + raw[++i];
      } else if (/\s/.test(c)) {
        if (cur !== null) out.push(cur);
        cur = null;
      } else {
        cur = (cur ?? "") + c;
      }
    }
    if (quote) throw new ValueError(`unbalanced quote in '${shown(raw)}'`);
    if (cur !== null) out.push(cur);
    return out;
  },
  format: (v) => v.map((w) => (/^[^\s"'\\]+$/.test(w) ? w : `"${w.replace(/["\\]/g, "\\$&")}"`)).join(" "),
};

// capabilities(7), as of Linux 6.x.
export const CAPABILITIES = [
  "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
  "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
  "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
  "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
  "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
  "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Capability names, space separated, with or without CAP_, any case. */
export const capabilities: ValueType<Capability[]> = {
  syntax: "capability names (e.g. sys_time net_admin)",
  parse(raw) {
    const out: Capability[] = [];
    for (const w of raw.split(/[\s,]+/).filter(Boolean)) {
      const name = w.toLowerCase().replace(/^cap_/, "");
      if (!(CAPABILITIES as readonly string[]).includes(name)) throw new ValueError(`'${shown(w)}' is not a capability`);
      if (!out.includes(name as Capability)) out.push(name as Capability);
    }
    if (out.length === 0) throw new ValueError("no capability named");
    return out;
  },
  format: (v) => v.join(" "),
};

/** A route of a further interface: DEST/PREFIX, on-link or through a gateway. */
export interface Route { dest: IpPrefix; via?: IpAddress }

/**
 * A network interface beyond [Network]'s eth0 (ExtraInterface=, after
 * systemd-nspawn's VirtualEthernetExtra= and OpenVZ's NETIF devices):
 *   NAME bridge=BRIDGE|routed|macvlan=INTERFACE [mac=MAC] [host-mac=MAC]
 *        [address=ADDRESS[/PREFIX]]... [gateway=ADDRESS] [route=PREFIX[@GATEWAY]]...
 * Each field reuses its own type's parser (ifname, macAddress, ipPrefix, ipAddress).
 */
export interface ExtraInterface {
  name: string;
  mode: "bridge" | "routed" | "macvlan";
  /** The bridge (bridge) or the host interface (macvlan). */
  link?: string;
  mac?: string;
  hostMac?: string;
  addresses: IpPrefix[];
  gateways: IpAddress[];
  routes: Route[];
}

const EXTRA_FIELDS = ["bridge", "routed", "macvlan", "mac", "host-mac", "address", "gateway", "route"] as const;
export const extraInterface: ValueType<ExtraInterface> = {
  syntax: "NAME bridge=BRIDGE|routed|macvlan=INTERFACE [mac=MAC] [host-mac=MAC] [address=ADDRESS[/PREFIX]]... [gateway=ADDRESS] [route=PREFIX[@GATEWAY]]...",
  parse(raw) {
    printable(raw);
    const [first, ...fields] = raw.split(/\s+/).filter(Boolean);
    if (first === undefined) throw new ValueError("empty value");
    const name = ifname.parse(first);
    if (name === "eth0" || name === "lo") throw new ValueError(`'${name}' is taken (eth0 is [Network]'s interface); name it eth1, eth2, ...`);
    const v: ExtraInterface = { name, mode: "bridge", addresses: [], gateways: [], routes: [] };
    let mode: string | null = null;
    const seen = new Set<string>();
    for (const f of fields) {
      const eq = f.indexOf("=");
      const field = eq < 0 ? f : f.slice(0, eq);
      const value = eq < 0 ? "" : f.slice(eq + 1);
      if (!(EXTRA_FIELDS as readonly string[]).includes(field)) {
        throw new ValueError(`'${shown(f)}': unknown field (one of ${EXTRA_FIELDS.join(", ")})`);
      }
      if ((field === "routed") !== (eq < 0)) throw new ValueError(field === "routed" ? "'routed' takes no value" : `'${shown(f)}' is not ${field}=VALUE`);
      if (!["address", "route"].includes(field) && seen.has(field)) throw new ValueError(`${field}= given twice`);
      seen.add(field);
      if (field === "bridge" || field === "routed" || field === "macvlan") {
        if (mode !== null) throw new ValueError(`${mode} and ${field} both given: an interface is bridged, routed or a macvlan`);
        mode = field;
        v.mode = field === "macvlan" ? "macvlan" : field === "routed" ? "routed" : "bridge";
        if (field !== "routed") v.link = ifname.parse(value);
      } else if (field === "mac") v.mac = macAddress.parse(value);
      else if (field === "host-mac") v.hostMac = macAddress.parse(value);
      else if (field === "address") v.addresses.push(ipPrefix.parse(value));
      else if (field === "gateway") v.gateways.push(ipAddress.parse(value));
      else {
        const at = value.indexOf("@");
        const dest = ipPrefix.parse(at < 0 ? value : value.slice(0, at));
        const via = at < 0 ? undefined : ipAddress.parse(value.slice(at + 1));
        if (via && via.family !== dest.family) throw new ValueError(`route '${shown(value)}' mixes IPv4 and IPv6`);
        v.routes.push(via ? { dest, via } : { dest });
      }
    }
    if (mode === null) throw new ValueError(`no bridge= for ${name}: give bridge=BRIDGE, routed or macvlan=INTERFACE`);
    if (v.mode === "macvlan" && v.hostMac) throw new ValueError("host-mac= applies to a veth (a macvlan has no host side)");
    for (const g of v.gateways) {
      if (!v.addresses.some((a) => a.family === g.family)) throw new ValueError(`IPv${g.family} gateway '${g.address}' without an IPv${g.family} address= on ${name}`);
    }
    return v;
  },
  format(v) {
    const w = [v.name, v.mode === "routed" ? "routed" : `${v.mode}=${v.link}`];
    if (v.mac) w.push(`mac=${v.mac}`);
    if (v.hostMac) w.push(`host-mac=${v.hostMac}`);
    for (const a of v.addresses) w.push(`address=${ipPrefix.format(a)}`);
    for (const g of v.gateways) w.push(`gateway=${g.address}`);
    for (const r of v.routes) w.push(`route=${ipPrefix.format(r.dest)}${r.via ? `@${r.via.address}` : ""}`);
    return w.join(" ");
  },
};
