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
  keys: ["memory", "memoryLow", "swap"],
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
    let mem: number | null = null;
    let raised: string | null = null; // Memory= raised to VMGUARPAGES' guarantee
    if (vswap) {
      mem = phys.limit as number;
      cx.report("PHYSPAGES", "mapped", [cx.set("memory", bytes(mem))], "VSwap: the limit half is the RAM limit");
      if (swap) {
        const r = cx.set("swap", swap.limit === "unlimited" ? "infinity" : bytes(swap.limit));
        cx.report("SWAPPAGES", "mapped", [r], "the limit half is the swap limit");
      }
      if (privvm) {
        const finite = privvm.limit !== "unlimited";
        cx.report("PRIVVMPAGES", "dropped", [], "VSwap: PHYSPAGES and SWAPPAGES set the memory limit; PRIVVMPAGES only limited overcommit (no spec key)", finite);
      }
    } else {
      if (phys) cx.report("PHYSPAGES", "dropped", [], "limit unlimited: before VSwap PHYSPAGES only counted resident memory", false);
      if (swap) cx.report("SWAPPAGES", "dropped", [], "no RAM limit (PHYSPAGES) to put a swap limit on top of", swap.limit !== "unlimited");
      if (privvm && privvm.limit !== "unlimited") {
        // Pre-VSwap: PRIVVMPAGES limits allocated (not resident) private memory,
        // so as a RAM limit it is at least as generous as what the guest had.
        // A guarantee above it was honoured: then VMGUARPAGES' barrier is the limit.
        const g = vmguar?.barrier;
        mem = g !== undefined && g !== "unlimited" && g > privvm.limit ? g : privvm.limit;
        const r = cx.set("memory", bytes(mem));
        if (mem !== privvm.limit) raised = r;
        cx.report("PRIVVMPAGES", "approximated", raised ? [] : [r],
          `pre-VSwap: its limit half (allocated private memory, ${bytes(privvm.limit)}) becomes the RAM limit; real use is usually lower`);
      } else if (privvm) cx.report("PRIVVMPAGES", "mapped", [], "unlimited: no memory limit");
    }
    if (!vmguar) return;
    // The barrier is the guarantee (ctid.conf(5)); its limit half is not used by OpenVZ.
    const guar = vmguar.barrier;
    if (guar === "unlimited" || guar === 0) return cx.report("VMGUARPAGES", "mapped", [], "no guarantee");
    const result: string[] = [];
    let note = "its barrier, the memory OpenVZ guaranteed the container could allocate, is protected from reclaim instead";
    if (raised) {
      result.push(raised);
      note += "; it is above PRIVVMPAGES' limit, so Memory= is raised to it";
    }
    const capped = mem !== null && guar > mem;
    if (capped) note += `; capped at Memory= (${bytes(mem!)}): a guarantee cannot exceed the limit`;
    result.push(cx.set("memoryLow", bytes(capped ? mem! : guar)));
    // Worth a look only when the guarantee moved or was cut: Memory= raised, or MemoryLow= capped.
    cx.report("VMGUARPAGES", "approximated", result, note, raised !== null || capped);
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
  keys: ["disk", "diskInodes"],
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
      const { barrier, limit } = cx.parse(di, (v) => parseBarrierLimit(v, "count"));
      if (!quotaOn) cx.report("DISKINODES", "dropped", [], "DISK_QUOTA=no: OpenVZ did not enforce it", false);
      else if (limit === "unlimited") cx.report("DISKINODES", "mapped", [], "unlimited: no limit");
      else if (!cx.has("disk")) cx.report("DISKINODES", "dropped", [], "DiskInodes= needs Disk= (DISKSPACE is unlimited here)");
      else {
        const r = cx.set("diskInodes", String(limit));
        const soft = barrier === limit ? "" : `; the soft limit ${barrier} has no equivalent`;
        cx.report("DISKINODES", "approximated", [r], `the hard limit; not enforced yet: no Disk= backing applies an inode limit${soft}`);
      }
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

/**
 * OpenVZ's I/O limits name no device: they held for all of the container's
 * I/O, which went to the disk of its private area. Here a limit is per disk
 * and per direction, so each becomes a read and a write limit on the disk
 * holding RootDirectory (the path is written; systemd and runtime/limits
 * find the disk under it).
 */
function perDisk(cx: RuleContext, param: string, keys: ["ioRead" | "ioReadIops", "ioWrite" | "ioWriteIops"], value: string, what: string): void {
  const root = rootDir(cx);
  if (/\s/.test(root)) return cx.report(param, "dropped", [], "the root directory's path has white space, which a per-device limit cannot name");
  const p = cx.get(param);
  const r = keys.map((k) => cx.set(k, `${root} ${value}`, p));
  cx.report(param, "approximated", r, `OpenVZ limited all of the container's ${what} together; here reads and writes are limited separately, on the disk holding RootDirectory`);
}

export const io: Rule = {
  params: ["IOPRIO", "IOLIMIT", "IOPSLIMIT"],
  keys: ["ioWeight", "ioRead", "ioWrite", "ioReadIops", "ioWriteIops"],
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
      else perDisk(cx, "IOLIMIT", ["ioRead", "ioWrite"], String(b), "I/O");
    }
    const iops = cx.get("IOPSLIMIT");
    if (iops) {
      const n = cx.parse(iops, (v) => parseUint(v));
      if (n === 0) cx.report("IOPSLIMIT", "mapped", [], "0: no limit");
      else perDisk(cx, "IOPSLIMIT", ["ioReadIops", "ioWriteIops"], String(n), "I/O operations");
    }
  },
};
