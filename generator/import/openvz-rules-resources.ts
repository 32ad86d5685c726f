// Resource rules of the OpenVZ import: CPU (CPUUNITS, CPULIMIT, CPUS, CPUMASK),
// memory (VSwap's PHYSPAGES/SWAPPAGES, or an approximation from the pre-VSwap
// PRIVVMPAGES/VMGUARPAGES), tasks (NUMPROC), disk (DISKSPACE and its quota
// companions) and I/O (IOPRIO, IOLIMIT, IOPSLIMIT). Units per ctid.conf(5).

import { defaultRoot, MapValueError, type Rule, type RuleContext } from "./openvz-map";
import { parseAmount, parseBarrierLimit, parseUint, parseYesNo, showBytes } from "./openvz-values";

const bytes = (a: number): string => showBytes(a);

export const cpu: Rule = {
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

export const memory: Rule = {
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

export const tasks: Rule = {
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

export const disk: Rule = {
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
  if (cx.ctx.copyTo !== undefined) return cx.ctx.copyTo;
  return cx.ctx.inPlace && p ? p.value : defaultRoot(cx.ctx.name);
}

export const io: Rule = {
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
