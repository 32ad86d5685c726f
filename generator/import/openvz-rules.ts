// The OpenVZ → spec rules, one per concern (ctid.conf(5), vzctl(8); facts in
// ../shared/docs/openvz.md). Each rule reports every parameter it reads that is
// set. Keys are set through RuleContext.set, i.e. through the key table's
// value types. Parameters no rule reads are dropped by `dropUnclaimed` with
// the reason from DROPPED, or as unknown.

import { CAPABILITIES } from "../spec/values";
import { DEFAULT_DROPPED_CAPABILITIES } from "../render/derive";
import { HOST_ONLY, type VzParam } from "./openvz-config";
import { MapValueError, type Rule, type RuleContext } from "./openvz-map";
import { parseAmount, parseBarrierLimit, parseOnOffList, parseUint, parseYesNo, showBytes, type Amount } from "./openvz-values";
import { networkRules } from "./openvz-rules-net";

const bytes = (a: number): string => showBytes(a);

const boot: Rule = {
  params: ["ONBOOT", "DISABLED", "BOOTORDER"],
  keys: ["autostart", "order"],
  map(cx) {
    const onboot = cx.get("ONBOOT");
    const disabled = cx.get("DISABLED");
    const isDisabled = disabled ? cx.parse(disabled, parseYesNo) : false;
    if (disabled) {
      if (isDisabled) cx.report("DISABLED", "approximated", [], "Autostart=no; a manual start is no longer refused (no spec key for that; missing key: Disabled)");
      else cx.report("DISABLED", "mapped", [], "no: nothing to carry over");
    }
    if (!onboot) {
      const r = cx.set("autostart", "no");
      cx.report("ONBOOT", "approximated", [r], "unset: OpenVZ started it at boot only if it was running when the host went down; containerctl cannot know that. Set Autostart=yes if it should start at boot");
    } else {
      const yes = cx.parse(onboot, parseYesNo);
      const r = cx.set("autostart", yes && !isDisabled ? "yes" : "no");
      cx.report("ONBOOT", "mapped", [r], yes && isDisabled ? "DISABLED=yes wins: OpenVZ would not start it" : "");
    }
    const bo = cx.get("BOOTORDER");
    if (bo) {
      // OpenVZ starts higher BOOTORDER first and unset last; Order= starts lower
      // first with 0 for unset: negating keeps both orders.
      const n = cx.parse(bo, (v) => parseUint(v));
      const order = Math.min(n, 1000000);
      const r = cx.set("order", String(-order), bo);
      if (n > 1000000) cx.report("BOOTORDER", "approximated", [r], `Order= stops at -1000000; containers with BOOTORDER above 1000000 now tie`);
      else cx.report("BOOTORDER", "mapped", [r], "negated: OpenVZ starts higher BOOTORDER first, containerctl starts lower Order first");
    }
  },
};

const cpu: Rule = {
  params: ["CPUUNITS", "CPULIMIT", "CPUS", "CPUMASK"],
  keys: ["cpuWeight", "cpuQuota", "allowedCPUs"],
  map(cx) {
    const units = cx.get("CPUUNITS");
    if (units) {
      // CPUUNITS 8..500000, default 1000; CPUWeight 1..10000, default 100.
      const u = cx.parse(units, (v) => parseUint(v));
      const w = Math.min(10000, Math.max(1, Math.round(u / 10)));
      const r = cx.set("cpuWeight", String(w));
      if (u === w * 10) cx.report("CPUUNITS", "mapped", [r], "divided by 10 (OpenVZ's default 1000 is CPUWeight's default 100)");
      else cx.report("CPUUNITS", "approximated", [r], `divided by 10 and rounded into 1..10000 (${u} has no exact equivalent)`);
    }
    const lim = cx.get("CPULIMIT");
    const cpus = cx.get("CPUS");
    let limit: number | null = null;
    if (lim) {
      const m = /^([0-9]{1,7})%?$/.exec(lim.value.trim());
      if (!m) {
        if (/^[0-9]+m$/i.test(lim.value.trim())) {
          cx.report("CPULIMIT", "dropped", [], "a limit in MHz depends on the old host's CPU clock; set CPUQuota= by hand (100% = one CPU)");
        } else throw new MapValueError(`'${lim.value}' is not a percentage of one CPU`, "CPULIMIT");
      } else if (Number(m[1]) > 0) limit = Number(m[1]);
    }
    const n = cpus ? cx.parse(cpus, (v) => parseUint(v, 100000)) : 0;
    const capByCpus = n > 0 ? n * 100 : null;
    const quota = limit !== null && capByCpus !== null ? Math.min(limit, capByCpus) : limit ?? capByCpus;
    const r = quota !== null ? [cx.set("cpuQuota", `${quota}%`)] : [];
    if (lim && !cx.claimed.has("CPULIMIT")) {
      if (limit === null) cx.report("CPULIMIT", "mapped", [], "0: no limit");
      else cx.report("CPULIMIT", "mapped", r, capByCpus !== null && capByCpus < limit ? `CPUS=${n} caps it lower (vzctl uses the smaller)` : "percent of one CPU, as CPUQuota=");
    }
    if (cpus) {
      if (n === 0) cx.report("CPUS", "mapped", [], "0: all CPUs");
      else cx.report("CPUS", "approximated", r, `kept as a cap of ${n} × 100%${limit !== null ? ", the smaller of it and CPULIMIT (as vzctl)" : ""}; the guest now sees every host CPU (no spec key limits the visible count)`);
    }
    const mask = cx.get("CPUMASK");
    if (mask) {
      if (mask.value.trim() === "all") cx.report("CPUMASK", "mapped", [], "all: no cpuset restriction");
      else cx.report("CPUMASK", "mapped", [cx.set("allowedCPUs", mask.value, mask)], "");
    }
  },
};

const memory: Rule = {
  params: ["PHYSPAGES", "SWAPPAGES", "PRIVVMPAGES", "VMGUARPAGES"],
  keys: ["memory", "swap"],
  map(cx) {
    const get = (p: string) => {
      const x = cx.get(p);
      return x ? cx.parse(x, (v) => parseBarrierLimit(v, "pages")) : undefined;
    };
    const phys = get("PHYSPAGES");
    const swap = get("SWAPPAGES");
    const privvm = get("PRIVVMPAGES");
    const vmguar = get("VMGUARPAGES");
    // VSwap (vzctl 3.0.30+ with a 042stab kernel) is on when PHYSPAGES has a limit.
    const vswap = phys !== undefined && phys.limit !== "unlimited" && phys.limit > 0;
    if (vswap) {
      cx.report("PHYSPAGES", "mapped", [cx.set("memory", bytes(phys.limit as number))], "VSwap: the limit half is the RAM limit");
      if (swap) {
        const r = cx.set("swap", swap.limit === "unlimited" ? "infinity" : bytes(swap.limit));
        cx.report("SWAPPAGES", "mapped", [r], "the limit half is the swap limit");
      }
      if (privvm) {
        const finite = privvm.limit !== "unlimited";
        cx.report("PRIVVMPAGES", "dropped", [], "VSwap: PHYSPAGES and SWAPPAGES set the memory limit; PRIVVMPAGES only limited overcommit (no spec key)", finite);
      }
      if (vmguar) cx.report("VMGUARPAGES", "dropped", [], "a guarantee, not a limit; no spec key for it (missing key: a MemoryLow= guarantee)", false);
      return;
    }
    if (phys) cx.report("PHYSPAGES", "dropped", [], "limit unlimited: before VSwap PHYSPAGES only counted resident memory", false);
    if (swap) cx.report("SWAPPAGES", "dropped", [], "no RAM limit (PHYSPAGES) to put a swap limit on top of", swap.limit !== "unlimited");
    if (privvm && privvm.limit !== "unlimited") {
      // Pre-VSwap: PRIVVMPAGES limits allocated (not resident) private memory,
      // so as a RAM limit it is at least as generous as what the guest had.
      let mem = privvm.limit;
      const guar = vmguar && vmguar.barrier !== "unlimited" && vmguar.barrier > mem ? vmguar.barrier : null;
      if (guar !== null) mem = guar;
      const r = cx.set("memory", bytes(mem));
      cx.report("PRIVVMPAGES", "approximated", guar === null ? [r] : [],
        `pre-VSwap: its limit half (allocated private memory, ${bytes(privvm.limit)}) becomes the RAM limit; real use is usually lower`);
      if (vmguar) {
        if (guar !== null) cx.report("VMGUARPAGES", "approximated", [r], "its guarantee is above PRIVVMPAGES' limit, so Memory= is raised to it");
        else cx.report("VMGUARPAGES", "dropped", [], "a guarantee, not a limit, and below Memory=; no spec key for it (missing key: a MemoryLow= guarantee)", false);
      }
    } else {
      if (privvm) cx.report("PRIVVMPAGES", "mapped", [], "unlimited: no memory limit");
      if (vmguar) cx.report("VMGUARPAGES", "dropped", [], "a guarantee, not a limit; no spec key for it (missing key: a MemoryLow= guarantee)", false);
    }
  },
};

const tasks: Rule = {
  params: ["NUMPROC"],
  keys: ["tasks"],
  map(cx) {
    const p = cx.get("NUMPROC");
    if (!p) return;
    const { limit } = cx.parse(p, (v) => parseBarrierLimit(v, "count"));
    if (limit === "unlimited") return cx.report("NUMPROC", "mapped", [], "unlimited: no limit");
    if (limit > 4194304) return cx.report("NUMPROC", "approximated", [cx.set("tasks", "infinity")], "above the kernel's maximum of 4194304 tasks");
    cx.report("NUMPROC", "mapped", [cx.set("tasks", String(limit))], "the limit half; processes and threads");
  },
};

const disk: Rule = {
  params: ["DISK_QUOTA", "DISKSPACE", "DISKINODES", "QUOTATIME", "QUOTAUGIDLIMIT"],
  keys: ["disk"],
  map(cx) {
    const dq = cx.get("DISK_QUOTA");
    const quotaOn = dq ? cx.parse(dq, parseYesNo) : true;
    if (dq) cx.report("DISK_QUOTA", "mapped", [], quotaOn ? "yes: DISKSPACE was enforced" : "no: OpenVZ enforced no disk limits for this container");
    const ds = cx.get("DISKSPACE");
    if (ds) {
      const { barrier, limit } = cx.parse(ds, (v) => parseBarrierLimit(v, "kblocks"));
      if (!quotaOn) cx.report("DISKSPACE", "dropped", [], "DISK_QUOTA=no: OpenVZ did not enforce it", false);
      else if (limit === "unlimited") cx.report("DISKSPACE", "mapped", [], "unlimited: no limit");
      else {
        const r = cx.set("disk", bytes(limit));
        if (barrier === limit) cx.report("DISKSPACE", "mapped", [r], "1 KiB blocks");
        else cx.report("DISKSPACE", "approximated", [r], `the hard limit (1 KiB blocks); the soft limit ${showBytes(barrier)} has no equivalent`);
      }
    }
    const di = cx.get("DISKINODES");
    if (di) {
      const { limit } = cx.parse(di, (v) => parseBarrierLimit(v, "count"));
      cx.report("DISKINODES", "dropped", [], "no spec key limits inodes (missing key: DiskInodes)", quotaOn && limit !== "unlimited");
    }
    const qt = cx.get("QUOTATIME");
    if (qt) {
      const n = cx.parse(qt, (v) => parseUint(v));
      cx.report("QUOTATIME", "dropped", [], "grace period over the soft limit; Disk= is a hard limit", n !== 0 && quotaOn);
    }
    const ug = cx.get("QUOTAUGIDLIMIT");
    if (ug) {
      const n = cx.parse(ug, (v) => parseUint(v));
      if (n === 0) cx.report("QUOTAUGIDLIMIT", "mapped", [], "0: no user/group quota inside the container");
      else cx.report("QUOTAUGIDLIMIT", "dropped", [], "user/group quotas inside the container are not provided (missing key: QuotaUGIDLimit)");
    }
  },
};

function rootDir(cx: RuleContext): string {
  const p = cx.get("VE_PRIVATE");
  return cx.ctx.inPlace && p ? p.value : `/var/lib/containerctl/${cx.ctx.name}/rootfs`;
}

const io: Rule = {
  params: ["IOPRIO", "IOLIMIT", "IOPSLIMIT"],
  keys: ["ioWeight", "ioRead", "ioWrite"],
  map(cx) {
    const prio = cx.get("IOPRIO");
    if (prio) {
      const n = cx.parse(prio, (v) => parseUint(v));
      if (n > 7) throw new MapValueError(`${n} is not an I/O priority 0..7`, "IOPRIO");
      // 0..7, default 4 → 20..160, default 100: linear, as the OpenVZ kernel
      // turns priorities into CFQ weights.
      const r = cx.set("ioWeight", String(20 * (n + 1)));
      cx.report("IOPRIO", n === 4 ? "mapped" : "approximated", [r], "priority 0..7 scaled to a weight, 4 (the default) = 100");
    }
    const lim = cx.get("IOLIMIT");
    if (lim) {
      const b = cx.parse(lim, (v) => parseAmount(v, "bytes"));
      if (b === "unlimited" || b === 0) cx.report("IOLIMIT", "mapped", [], "no limit");
      else {
        const root = rootDir(cx);
        if (/\s/.test(root)) cx.report("IOLIMIT", "dropped", [], "the root directory's path has white space, which a bandwidth rule cannot name");
        else {
          const r = [cx.set("ioRead", `${root} ${b}`, lim), cx.set("ioWrite", `${root} ${b}`, lim)];
          cx.report("IOLIMIT", "approximated", r, "OpenVZ limited all of the container's disk I/O together; here reads and writes of the device under RootDirectory are limited separately");
        }
      }
    }
    const iops = cx.get("IOPSLIMIT");
    if (iops) {
      const n = cx.parse(iops, (v) => parseUint(v));
      if (n === 0) cx.report("IOPSLIMIT", "mapped", [], "0: no limit");
      else cx.report("IOPSLIMIT", "dropped", [], "no spec key limits I/O operations per second (missing keys: IOReadIOPS, IOWriteIOPS)");
    }
  },
};

const identity: Rule = {
  params: ["NAME", "HOSTNAME", "DESCRIPTION", "OSTEMPLATE", "STOP_TIMEOUT"],
  keys: ["hostname", "description", "guest", "stopTimeout"],
  map(cx) {
    const name = cx.get("NAME");
    if (name) {
      if (name.value === cx.ctx.name) cx.report("NAME", "mapped", [], `the container name: ${cx.ctx.name}.container`);
      else cx.report("NAME", "approximated", [], `not usable as the name here; named '${cx.ctx.name}' instead (see the name line)`);
    }
    const host = cx.get("HOSTNAME");
    if (host) cx.report("HOSTNAME", "mapped", [cx.set("hostname", host.value, host)], "");
    const desc = cx.get("DESCRIPTION");
    if (desc) cx.report("DESCRIPTION", "mapped", [cx.set("description", desc.value.trim(), desc)], "");
    const os = cx.get("OSTEMPLATE");
    if (os) {
      const g = guestOf(os.value);
      const r = cx.set("guest", g.guest);
      cx.report("OSTEMPLATE", g.exact ? "mapped" : "approximated", [r], g.note);
    }
    const st = cx.get("STOP_TIMEOUT");
    const secs = st ? cx.parse(st, (v) => parseUint(v, 86400 * 365)) : 120;
    const r = cx.set("stopTimeout", `${secs}s`, st);
    cx.report("STOP_TIMEOUT", "mapped", [r], st ? "seconds" : "unset: OpenVZ's default of 120 seconds kept", false);
  },
};

/** OSTEMPLATE's distribution and version → the guest's init system. */
export function guestOf(template: string): { guest: string; exact: boolean; note: string } {
  const m = /^([a-z]+)-([0-9]+)(?:\.([0-9]+))?/.exec(template.toLowerCase());
  const auto = (why: string) => ({ guest: "auto", exact: false, note: `${why}; Guest=auto detects the init system at start` });
  if (!m) return auto("no distribution and version in the template name");
  const [, distro, majS, minS] = m;
  const ver = Number(majS) + Number(minS ?? 0) / 100;
  const pick = (guest: string, note = "") => ({ guest, exact: true, note: note || `${distro} ${majS}${minS ? `.${minS}` : ""} boots with ${guest === "lucid" ? "upstart 0.6 (the Lucid shim)" : guest}` });
  switch (distro) {
    case "ubuntu":
      if (ver === 10.04) return pick("lucid");
      if (ver >= 15.04) return pick("systemd");
      if (ver >= 10.1) return pick("upstart");
      return auto("Ubuntu before 10.04 has an upstart older than the supported ones");
    case "debian":
      return ver >= 8 ? pick("systemd") : pick("sysvinit");
    case "centos": case "rhel": case "scientific": case "sl":
      return ver >= 7 ? pick("systemd") : ver >= 6 ? pick("upstart") : pick("sysvinit");
    case "fedora":
      return ver >= 15 ? pick("systemd") : auto("Fedora before 15");
    default:
      return auto(`unknown distribution '${distro}'`);
  }
}

const root: Rule = {
  params: ["VE_PRIVATE", "VE_ROOT", "VE_LAYOUT"],
  keys: ["root"],
  map(cx) {
    const priv = cx.get("VE_PRIVATE");
    const layout = cx.get("VE_LAYOUT");
    if (layout) cx.report("VE_LAYOUT", "mapped", [], layout.value === "ploop" ? "ploop: an image, not a directory" : `${layout.value}: a plain directory`, layout.value === "ploop");
    const vr = cx.get("VE_ROOT");
    if (vr) cx.report("VE_ROOT", "dropped", [], "where OpenVZ mounted VE_PRIVATE while running; containerctl enters RootDirectory itself", false);
    if (!priv) {
      if (cx.ctx.inPlace) throw new MapValueError("VE_PRIVATE is not set: nothing to use in place");
      return;
    }
    // Validated with RootDirectory's own type in every mode: a hostile path is
    // an error even when it is only copied from later.
    const r = cx.set("root", priv.value, priv);
    if (!cx.ctx.inPlace) {
      cx.values.delete("root");
      cx.report("VE_PRIVATE", "dropped", [],
        `root filesystem not imported: the spec uses the default RootDirectory=/var/lib/containerctl/${cx.ctx.name}/rootfs; copy ${priv.value} there preserving owners, modes and device nodes, or re-run with --in-place`);
      return;
    }
    const pa = cx.ctx.privateArea;
    if (pa && !pa.ok) throw new MapValueError(pa.message);
    cx.report("VE_PRIVATE", "mapped", [r], "--in-place: the guest runs from the OpenVZ private area (the importer does not write to it; the running guest does)", true);
  },
};

const capability: Rule = {
  params: ["CAPABILITY"],
  keys: ["keepCapabilities", "dropCapabilities"],
  map(cx) {
    const p = cx.get("CAPABILITY");
    if (!p) return;
    const result: string[] = [];
    const lost: string[] = [];
    for (const { name, on } of cx.parse(p, parseOnOffList)) {
      if (!(CAPABILITIES as readonly string[]).includes(name)) {
        lost.push(`${name} (OpenVZ-only capability)`);
        continue;
      }
      result.push(cx.set(on ? "keepCapabilities" : "dropCapabilities", name));
    }
    const defaults = `the default drop list is ${DEFAULT_DROPPED_CAPABILITIES.join(" ")}`;
    if (lost.length) cx.report("CAPABILITY", "approximated", result, `no equivalent for ${lost.join(", ")}; ${defaults}`);
    else cx.report("CAPABILITY", "mapped", result, `on → KeepCapability, off → DropCapability; ${defaults}`);
  },
};

const devices: Rule = {
  params: ["DEVICES", "DEVNODES", "FEATURES"],
  keys: ["devices"],
  map(cx) {
    const dev = cx.get("DEVICES");
    if (dev) {
      const result: string[] = [];
      const lost: string[] = [];
      for (const w of dev.value.split(/\s+/).filter(Boolean)) {
        // b|c:major:minor|all:r|w|rw|none[q]
        const m = /^([bc]):([0-9]{1,4}):([0-9]{1,7}|all):(r|w|rw|none)(q?)$/.exec(w);
        if (!m) throw new MapValueError(`'${w}' is not b|c:major:minor:access`, "DEVICES");
        const [, kind, major, minor, access, q] = m;
        if (access === "none") continue;
        if (minor === "all") {
          lost.push(`${w} (every minor of major ${major}: name the devices one by one)`);
          continue;
        }
        if (q) lost.push(`the q (quota) flag of ${w}`);
        result.push(cx.set("devices", `/dev/${kind === "c" ? "char" : "block"}/${major}:${minor} ${access}`, dev));
      }
      if (lost.length) cx.report("DEVICES", "approximated", result, `not kept: ${lost.join("; ")}`);
      else cx.report("DEVICES", "mapped", result, "by number, as /dev/char|block/MAJOR:MINOR");
    }
    const nodes = cx.get("DEVNODES");
    if (nodes) {
      const result: string[] = [];
      for (const w of nodes.value.split(/\s+/).filter(Boolean)) {
        const m = /^([A-Za-z0-9_./-]+):(r|w|rw|none)(q?)$/.exec(w);
        if (!m) throw new MapValueError(`'${w}' is not device:access`, "DEVNODES");
        if (m[2] === "none") continue;
        result.push(cx.set("devices", `/dev/${m[1]} ${m[2]}`, nodes));
      }
      cx.report("DEVNODES", "mapped", result, "");
    }
    const feat = cx.get("FEATURES");
    if (feat) mapFeatures(cx, cx.parse(feat, parseOnOffList));
  },
};

function mapFeatures(cx: RuleContext, list: { name: string; on: boolean }[]): void {
  const result: string[] = [];
  const notes: string[] = [];
  let worst: "mapped" | "approximated" | "dropped" = "mapped";
  const lose = (s: string) => { notes.push(s); worst = "dropped"; };
  const approx = (s: string) => { notes.push(s); if (worst === "mapped") worst = "approximated"; };
  for (const { name, on } of list) {
    switch (name) {
      case "sysfs":
        if (on) notes.push("sysfs: always mounted"); else lose("sysfs:off cannot be honoured (always mounted)");
        break;
      case "ppp":
        if (on) { result.push(cx.set("devices", "/dev/ppp rw")); approx("ppp: DeviceAllow=/dev/ppp; load ppp_generic on the host"); }
        else notes.push("ppp:off is the default");
        break;
      case "bridge": case "ipip": case "ipgre": case "sit":
        if (on) approx(`${name}: works in the container's own network namespace once the host has the module loaded`);
        else notes.push(`${name}:off: not enforced (harmless in its own network namespace)`);
        break;
      case "nfs": case "nfsd":
        if (on) lose(`${name}: a container cannot mount/serve NFS without host help (missing key: a mount permission key)`);
        else notes.push(`${name}:off is the default`);
        break;
      default:
        lose(`${name}: unknown feature`);
    }
  }
  cx.report("FEATURES", worst, result, notes.join("; "));
}

export const RULES: readonly Rule[] = [boot, identity, root, cpu, memory, tasks, disk, io, ...networkRules, capability, devices];

// ---- parameters no rule reads ----

const UBC = "pre-VSwap beancounter; the mainline kernel has no per-container equivalent (the memory cgroup accounts it within Memory=)";
const UBC_COUNT = "pre-VSwap beancounter; the mainline kernel has no per-container limit for it";

/** Parameters known to have no place in a spec, with the reason. Attention: whether losing it changes behaviour. */
export const DROPPED: Readonly<Record<string, { why: string; attention: boolean }>> = {
  ...Object.fromEntries(["KMEMSIZE", "LOCKEDPAGES", "SHMPAGES", "OOMGUARPAGES", "TCPSNDBUF", "TCPRCVBUF", "OTHERSOCKBUF", "DGRAMRCVBUF", "DCACHESIZE"]
    .map((k) => [k, { why: UBC, attention: false }])),
  ...Object.fromEntries(["NUMTCPSOCK", "NUMOTHERSOCK", "NUMFILE", "NUMFLOCK", "NUMPTY", "NUMSIGINFO", "NUMIPTENT", "AVNUMPROC"]
    .map((k) => [k, { why: UBC_COUNT, attention: false }])),
  VERSION: { why: "format version of the config file", attention: false },
  ORIGIN_SAMPLE: { why: "which sample vzctl create copied", attention: false },
  CONFIG_CUSTOMIZED: { why: "vzctl bookkeeping", attention: false },
  IPTABLES: { why: "legacy netfilter module list: every network namespace has the full netfilter of the host kernel", attention: false },
  NETFILTER: { why: "netfilter mode: every network namespace has the full netfilter of the host kernel", attention: false },
  MEMINFO: { why: "OpenVZ showed a virtual /proc/meminfo; the guest now sees the host's (no spec key; missing key: a meminfo view)", attention: true },
  UUID: { why: "OpenVZ's identifier of the container", attention: false },
  HA_ENABLE: { why: "OpenVZ high-availability cluster setting", attention: true },
  HA_PRIO: { why: "OpenVZ high-availability cluster setting", attention: false },
  NOATIME: { why: "mount option of the private area; set it where the root filesystem is mounted", attention: true },
};

export function dropUnclaimed(cx: RuleContext, p: VzParam): void {
  const known = DROPPED[p.key];
  if (known) return cx.report(p.key, "dropped", [], known.why, known.attention);
  if (p.key in HOST_ONLY) return cx.report(p.key, "dropped", [], `a host setting (${HOST_ONLY[p.key]}), not a container's`, false);
  const like = [...Object.keys(DROPPED), ...RULES.flatMap((r) => r.params)].find((k) => k.toLowerCase() === p.key.toLowerCase());
  cx.report(p.key, "dropped", [], `unknown parameter; vzctl ignores it too${like ? ` (parameters are case-sensitive: did you mean ${like}?)` : ""}`, true);
}

export { MapValueError };
export type { Amount };
