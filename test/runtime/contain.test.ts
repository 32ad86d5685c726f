// Containment where no systemd owns the cgroup (runtime/limits on this
// host's cgroup v1 controllers): the offending workload runs INSIDE a busybox
// guest (through `containerctl exec`, which joins the guest's cgroups), and
// the kernel stops it there while the guest's init, a second container and
// the host carry on. Memory= (a real anonymous allocation, OOM-killed),
// CPUQuota= (a burner gets about its quota), Swap= (where the host has swap).
// The fork storm at Tasks= is in limits.test.ts; the network rate in
// net-rate.test.ts; the same under a real systemd in test/systemd/limits.test.ts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestContainer, buildHelper, cgroupOf, execArgv, sleep } from "../lib/runtime-harness";

buildHelper();

const MiB = 1024 * 1024;
const read = (f: string): string => fs.readFileSync(f, "utf8").trim();
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** `containerctl exec NAME -- sh -c CMD`, synchronously. */
const inside = (c: TestContainer, cmd: string, timeout = 30000) => {
  const [node, ...args] = execArgv(c.name, cmd);
  return spawnSync(node, args, { encoding: "utf8", timeout });
};
/** A field of a cgroup-v1 key/value file (memory.oom_control, cpu.stat). */
const field = (file: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(read(file))?.[1] ?? NaN);

// A real anonymous allocation: 1 MiB at a time, every page touched, the running
// total printed after each. Static, so the busybox guest needs no libraries. Its
// cap keeps a broken limit from eating the host (the test then fails: it exits 0).
const HOG_C = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
	long cap = argc > 1 ? atol(argv[1]) : 512;
	for (long mib = 1; mib <= cap; mib++) {
		char *p = malloc(1 << 20);
		if (!p) return 2;
		memset(p, 1, 1 << 20);
		printf("%ld\\n", mib);
		fflush(stdout);
	}
	return 0;
}
`;
/** Compiles the hog into the guest's /bin/hog. */
function installHog(c: TestContainer): void {
  const src = path.join(c.dir, "hog.c");
  fs.writeFileSync(src, HOG_C);
  const r = spawnSync("cc", ["-static", "-O1", "-o", path.join(c.root, "bin", "hog"), src], { encoding: "utf8" });
  assert.is(r.status, 0, `cc -static: ${r.stderr}`);
}

/** A host process that must outlive every test here. */
function hostSentinel(): ChildProcess {
  return spawn("sleep", ["600"], { stdio: "ignore" });
}

/** Runs the hog inside `c` and checks it was OOM-killed there, after about `limitMiB`. */
function hogKilled(c: TestContainer, limitMiB: number, minMiB: number): number {
  const r = inside(c, "exec /bin/hog 1024");
  const reached = Number(r.stdout.trim().split("\n").pop() ?? 0);
  assert.is(r.status, 137, `the hog ends by SIGKILL (exit ${r.status}, reached ${reached} MiB; ${r.stderr})`);
  assert.ok(reached >= minMiB && reached <= limitMiB, `the hog reached ${reached} MiB (expected ${minMiB}..${limitMiB})`);
  return reached;
}

test("Memory=: a memory hog is OOM-killed inside its container only; its init, a second container and the host live on", async () => {
  const a = new TestContainer("memhog");
  const b = new TestContainer("memidle");
  const sentinel = hostSentinel();
  try {
    installHog(a);
    a.start({ stopTimeout: "2", extra: ["limit_memory\t67108864"] });
    b.start({ stopTimeout: "2", extra: ["limit_memory\t67108864"] });
    await a.waitOutput(/init up/);
    await b.waitOutput(/init up/);
    const initA = (await a.pids()).init;
    const initB = (await b.pids()).init;
    const memA = cgroupOf(initA, "memory");
    const memB = cgroupOf(initB, "memory");
    assert.ok(memA && memB, "this host has the memory controller (v1)");
    assert.is(read(`${memA}/memory.limit_in_bytes`), String(64 * MiB));
    assert.is(read(`${memA}/memory.memsw.limit_in_bytes`), String(64 * MiB), "no Swap=: no swap beyond Memory=");

    const hog = hogKilled(a, 64, 32);
    // The kernel says who hit the limit: A's cgroup, and nobody else. (memory.failcnt stays 0
    // on this kernel's cgroup v1, so the OOM counter, the peak usage and the kernel log say it.)
    assert.ok(field(`${memA}/memory.oom_control`, "oom_kill") >= 1, `A's OOM killer killed: ${read(`${memA}/memory.oom_control`)}`);
    assert.is(field(`${memA}/memory.oom_control`, "under_oom"), 0, "A is not left stuck in OOM");
    assert.is(read(`${memA}/memory.max_usage_in_bytes`), String(64 * MiB), "A's usage went up to its limit, not beyond");
    const log = spawnSync("dmesg", [], { encoding: "utf8" }).stdout ?? "";
    const kill = log.split("\n").filter((l) => l.includes(`oom-kill:constraint=CONSTRAINT_MEMCG`) && l.includes(`/${a.name},task=`));
    assert.ok(kill.length >= 1 && kill.every((l) => /task=hog,/.test(l)), `the kernel's OOM report names A's memory cgroup and the hog (${hog} MiB): ${kill.join(" | ")}`);
    assert.is(field(`${memB}/memory.oom_control`, "oom_kill"), 0, "nothing was OOM-killed in B");
    assert.ok(Number(read(`${memB}/memory.max_usage_in_bytes`)) < 32 * MiB, "B stayed far below its limit");
    assert.not.ok(log.includes(`/${b.name},task=`), "the kernel's log names no OOM kill in B");

    // A's guest lives on (same init, still answering, still limited); so do B and the host.
    assert.is((await a.pids()).init, initA, "A's init is the same process");
    assert.is(inside(a, "echo alive").stdout, "alive\n");
    assert.is(a.exit, null, "A's helper still runs");
    assert.is(inside(b, "echo alive").stdout, "alive\n");
    assert.ok(alive(initB), "B's init lives");
    assert.ok(alive(sentinel.pid!), "the host's process lives");
    assert.is(spawnSync("true").status, 0, "the host still forks");

    await a.stop();
    await b.stop();
  } finally {
    sentinel.kill("SIGKILL");
    a.destroy();
    b.destroy();
  }
});

test("CPUQuota=50%: two burners inside get about half a CPU; a second container and the host still run", async () => {
  const a = new TestContainer("cpuq");
  const b = new TestContainer("cpufree");
  const burners: ChildProcess[] = [];
  try {
    // CPUWeight=10000 (cpu.shares 102400): against B, its sibling, A always gets its fill, so
    // B's loop does not eat into A's quota.
    a.start({ stopTimeout: "2", extra: ["limit_cpu_quota\t50", "limit_cpu_weight\t10000"] });
    b.start({ stopTimeout: "2" });
    await a.waitOutput(/init up/);
    await b.waitOutput(/init up/);
    const initA = (await a.pids()).init;
    const initB = (await b.pids()).init;
    const cpuA = cgroupOf(initA, "cpu");
    const acctA = cgroupOf(initA, "cpuacct");
    const acctB = cgroupOf(initB, "cpuacct");
    assert.ok(cpuA && acctA && acctB, "this host has the cpu and cpuacct controllers (v1)");
    assert.is(read(`${cpuA}/cpu.cfs_quota_us`), "50000");
    assert.is(read(`${cpuA}/cpu.shares`), "102400");

    // Two busy loops in A (two cores here: unlimited, they could take both), one in B beside them.
    const loop = "timeout 20 sh -c 'while :; do :; done'";
    for (const [c, cmd] of [[a, `${loop} & ${loop} & wait`], [b, loop]] as const) {
      const [node, ...args] = execArgv(c.name, cmd);
      burners.push(spawn(node, args, { stdio: "ignore" }));
    }
    // Measured once both burn (node's start and the exec take a while on a busy machine).
    const usage = (d: string): number => Number(read(`${d}/cpuacct.usage`)); // ns
    const [a0, b0] = [usage(acctA), usage(acctB)];
    for (let i = 0; usage(acctA) - a0 < 2e8 || usage(acctB) - b0 < 2e7; i++) {
      assert.ok(i < 300, "the burners did not start within 15 s");
      await sleep(50);
    }
    const throttled0 = field(`${cpuA}/cpu.stat`, "nr_throttled");
    const [ua0, ub0, t0] = [usage(acctA), usage(acctB), process.hrtime.bigint()];
    await sleep(4000);
    const [ua1, ub1, t1] = [usage(acctA), usage(acctB), process.hrtime.bigint()];
    const wall = Number(t1 - t0);
    const shareA = (ua1 - ua0) / wall;
    const shareB = (ub1 - ub0) / wall;
    const note = `A (quota 50%, 2 loops) got ${(shareA * 100).toFixed(0)}% of a CPU, B (no quota, 1 loop) ${(shareB * 100).toFixed(0)}%, over ${(wall / 1e9).toFixed(1)} s`;
    console.log(`CPUQuota=50%: ${note}`);
    // The upper bound is the quota's doing. The lower one only says A was not held far below
    // it: both cores are shared with other work on these machines, and A's group competes
    // with everything else on the host (its weight counts among its siblings only).
    assert.ok(shareA <= 0.6, `over the quota: ${note}`);
    assert.ok(shareA >= 0.2, `far under the quota: ${note}`);
    assert.ok(field(`${cpuA}/cpu.stat`, "nr_throttled") > throttled0, `A's cgroup was throttled: ${read(`${cpuA}/cpu.stat`)}`);
    // B and the host are not held back by A's quota.
    assert.ok(shareB > 0.02, `B still gets CPU: ${note}`);
    assert.is(inside(b, "echo alive", 10000).stdout, "alive\n", "B answers while the burners run");
    assert.is(spawnSync("true").status, 0, "the host still runs programs");

    await a.stop();
    await b.stop();
  } finally {
    for (const p of burners) p.kill("SIGKILL");
    a.destroy();
    b.destroy();
  }
});

const swapTotalKb = Number(/^SwapTotal:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
// Making swap would change the whole host; the memsw value Swap= writes is checked in limits.test.ts.
const noSwap = swapTotalKb === 0 ? "this host has no swap"
  : !fs.existsSync("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes") ? "no swap accounting (memory.memsw.*) in this kernel" : null;
if (noSwap) {
  test.skip(`Swap=: a hog may use Memory= + Swap=, then is OOM-killed (skipped: ${noSwap})`, () => {});
} else {
  test("Swap=: a hog may use Memory= + Swap=, then is OOM-killed inside its container", async () => {
    const a = new TestContainer("swaphog");
    try {
      installHog(a);
      a.start({ stopTimeout: "2", extra: ["limit_memory\t33554432", "limit_swap\t33554432"] });
      await a.waitOutput(/init up/);
      const mem = cgroupOf((await a.pids()).init, "memory");
      assert.ok(mem, "this host has the memory controller (v1)");
      assert.is(read(`${mem}/memory.memsw.limit_in_bytes`), String(64 * MiB));
      // Past 32 MiB of memory (the rest swapped out), at most 64 MiB in all.
      hogKilled(a, 64, 40);
      assert.ok(field(`${mem}/memory.oom_control`, "oom_kill") >= 1, "the OOM killer killed in the container's cgroup");
      assert.is(read(`${mem}/memory.memsw.max_usage_in_bytes`), String(64 * MiB), "memory + swap went up to Memory= + Swap=");
      assert.is(inside(a, "echo alive").stdout, "alive\n");
      await a.stop();
    } finally {
      a.destroy();
    }
  });
}

test.run();
