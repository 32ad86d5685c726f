// Limits where no systemd owns the cgroup (runtime/limits, called by start):
// on this host's cgroup v1 controllers for real — the values land in the
// container's cgroups and a fork storm stops at the tasks limit — and the v2
// writer against a stand-in directory. The stand-in, said plainly: the
// unified hierarchy here offers no controllers, so cgroup v2 cannot be
// exercised for real on this machine; the test checks the files it writes.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CLI, RUNTIME_DIR, TestContainer, buildHelper, cgroupOf, diskOf, processesOf } from "../lib/runtime-harness";

buildHelper();

const LIMITS = [
  "limit_memory\t67108864", "limit_swap\t33554432", "limit_cpu_quota\t50", "limit_cpu_weight\t200",
  "limit_tasks\t24", "limit_io_weight\t100",
];

const read = (f: string): string => fs.readFileSync(f, "utf8").trim();

test("v1: the plan's limits are in the container's cgroups, and a fork storm stops at Tasks=", async () => {
  const c = new TestContainer("limits");
  try {
    c.start({ stopTimeout: "2", extra: LIMITS });
    await c.waitOutput(/init up/);
    const { init } = await c.pids();
    const mem = cgroupOf(init, "memory");
    const cpu = cgroupOf(init, "cpu");
    assert.ok(mem && cpu, "this host has the memory and cpu controllers (v1)");
    assert.is(read(`${mem}/memory.limit_in_bytes`), "67108864");
    if (fs.existsSync(`${mem}/memory.memsw.limit_in_bytes`)) assert.is(read(`${mem}/memory.memsw.limit_in_bytes`), String(67108864 + 33554432));
    assert.is(read(`${cpu}/cpu.cfs_quota_us`), "50000");
    assert.is(read(`${cpu}/cpu.cfs_period_us`), "100000");
    assert.is(read(`${cpu}/cpu.shares`), "2048");
    const blkio = cgroupOf(init, "blkio");
    if (blkio) {
      // CFQ's blkio.weight before Linux 5.0, BFQ's blkio.bfq.weight since (IOWeight=100 -> 500 or 100).
      const cfq = fs.existsSync(`${blkio}/blkio.weight`);
      assert.is(read(`${blkio}/${cfq ? "blkio.weight" : "blkio.bfq.weight"}`), cfq ? "500" : "100");
    }
    const pids = cgroupOf(init, "pids");
    assert.ok(pids, "this host has the pids controller");
    assert.is(read(`${pids}/pids.max`), "24");
    // 40 sleepers from inside (through `containerctl exec`, which joins the guest's cgroups):
    // the tasks limit refuses the extra forks, the host is untouched.
    const inside = (cmd: string) => spawnSync(process.execPath, [CLI, "exec", c.name, "--", "/bin/sh", "-c", cmd], { encoding: "utf8", timeout: 20000 });
    // (busybox ash gives up on the first failed fork: the storm runs in a subshell.)
    inside("(i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null; exit 0");
    // Counted from the host: inside, not even `ps` can fork any more.
    const procs = read(`${pids}/cgroup.procs`).split("\n").filter(Boolean);
    const sleepers = procs.filter((pid) => {
      try {
        return read(`/proc/${pid}/comm`) === "sleep";
      } catch {
        return false;
      }
    }).length;
    assert.ok(sleepers > 0 && sleepers < 24, `${sleepers} of 40 sleepers run (limit 24 tasks in all)`);
    assert.ok(Number(read(`${pids}/pids.current`)) <= 24);
    assert.is(spawnSync("true").status, 0, "the host still forks");
    await c.stop();
  } finally {
    c.destroy();
  }
});

function fakeCgroup(files: string[], v2: boolean): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "cc-fakecg-"));
  for (const f of [...files, ...(v2 ? ["cgroup.controllers"] : [])]) fs.writeFileSync(path.join(d, f), "");
  return d;
}
const limits = (dir: string, plan: string, env: Record<string, string> = {}) =>
  spawnSync("sh", [path.join(RUNTIME_DIR, "limits"), ...(dir ? [dir] : [])], { input: plan, encoding: "utf8", env: { ...process.env, ...env } });

test("v2 (stand-in directory): memory.max, memory.swap.max, cpu.max, cpu.weight, cpuset, pids.max, io", () => {
  const d = fakeCgroup(["memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "cpuset.cpus", "pids.max", "io.weight", "io.max"], true);
  try {
    const r = limits(d, [...LIMITS, "limit_cpuset\t0-1", "limit_io_read\t/dev/null\t1048576"].join("\n") + "\n");
    assert.is(r.status, 0, r.stderr);
    const got = (f: string) => read(path.join(d, f));
    assert.is(got("memory.max"), "67108864");
    assert.is(got("memory.swap.max"), "33554432");
    assert.is(got("cpu.max"), "50000 100000");
    assert.is(got("cpu.weight"), "200");
    assert.is(got("cpuset.cpus"), "0-1");
    assert.is(got("pids.max"), "24");
    assert.is(got("io.weight"), "default 100");
    assert.is(got("io.max"), "1:3 rbps=1048576");
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test("MemoryLow= and IOPS limits (stand-in directories): memory.low and io.max riops/wiops (v2), soft limit and throttle iops files (v1)", () => {
  const v2 = fakeCgroup(["memory.low", "io.max"], true);
  const v1 = fakeCgroup(["memory.soft_limit_in_bytes", "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device", "blkio.throttle.read_bps_device"], false);
  try {
    const plan = (extra: string) => `limit_memory_low\t16777216\nlimit_io_read_iops\t/dev/null\t300\n${extra}`;
    let r = limits(v2, plan("limit_io_write_iops\t/dev/zero\t200\n"));
    assert.is(r.status, 0, r.stderr);
    assert.is(read(path.join(v2, "memory.low")), "16777216");
    assert.is(read(path.join(v2, "io.max")), "1:5 wiops=200", "the last line written (each write is one device's setting)");
    r = limits(v1, plan(""), { CONTAINERCTL_CGROUP_V1: "memory,blkio" });
    assert.is(r.status, 0, r.stderr);
    assert.is(read(path.join(v1, "memory.soft_limit_in_bytes")), "16777216");
    assert.is(read(path.join(v1, "blkio.throttle.read_iops_device")), "1:3 300");
    // A path that is not a device: the whole disk its filesystem is on, as systemd resolves it.
    const disk = diskOf(v1);
    r = limits(v1, `limit_io_read\t${v1}\t1048576\n`, { CONTAINERCTL_CGROUP_V1: "blkio" });
    assert.is(r.status, 0, r.stderr);
    if (disk === null) assert.match(r.stderr, /on no block device: IO limit ignored/);
    else assert.is(read(path.join(v1, "blkio.throttle.read_bps_device")), `${disk} 1048576`);
    // A filesystem without a block device (the tmpfs of /dev/shm): skipped with a note, as systemd does.
    r = limits(v1, "limit_io_write_iops\t/dev/shm\t5\n", { CONTAINERCTL_CGROUP_V1: "blkio" });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, /\/dev\/shm is on no block device: IO limit ignored/);
    assert.is(read(path.join(v1, "blkio.throttle.write_iops_device")), "");
    assert.is.not(limits(v1, "limit_io_write_iops\t/nonexistent\t5\n", { CONTAINERCTL_CGROUP_V1: "blkio" }).status, 0, "a path that does not exist is an error");
  } finally {
    fs.rmSync(v2, { recursive: true, force: true });
    fs.rmSync(v1, { recursive: true, force: true });
  }
});

test("infinity becomes max (v2) and -1 (v1); a file the kernel does not offer is skipped, with a warning for a soft limit", () => {

  const v2 = fakeCgroup(["memory.max", "pids.max"], true);
  const v1 = fakeCgroup(["memory.limit_in_bytes", "pids.max"], false); // no memsw: no swap accounting
  try {
    const plan = "limit_memory\tinfinity\nlimit_tasks\tinfinity\nlimit_swap\t1048576\n";
    const r2 = limits(v2, plan);
    assert.is(r2.status, 0, r2.stderr);
    assert.is(read(path.join(v2, "memory.max")), "max");
    assert.is(read(path.join(v2, "pids.max")), "max");
    assert.match(r2.stderr, /warning: not applied, no cgroup here offers it: Swap=/);
    const r1 = limits(v1, plan, { CONTAINERCTL_CGROUP_V1: "memory,pids" });
    assert.is(r1.status, 0, r1.stderr);
    assert.is(read(path.join(v1, "memory.limit_in_bytes")), "-1");
    assert.is(read(path.join(v1, "pids.max")), "max");
    assert.not.ok(fs.existsSync(path.join(v1, "memory.memsw.limit_in_bytes")), "no file made up");
    assert.match(r1.stderr, /Swap=/);
  } finally {
    fs.rmSync(v2, { recursive: true, force: true });
    fs.rmSync(v1, { recursive: true, force: true });
  }
});

test("a hard limit that no cgroup can carry is refused, not silently dropped", () => {
  const v2 = fakeCgroup(["memory.max"], true); // the cpu and pids controllers not enabled here
  try {
    const r = limits(v2, "limit_memory\t1048576\nlimit_cpu_quota\t50\nlimit_tasks\t10\nlimit_cpu_weight\t50\n");
    assert.is(r.status, 1);
    assert.match(r.stderr, /cannot apply CPUQuota= Tasks=: no writable cgroup here offers the controller; refusing/);
    assert.match(r.stderr, /warning: .*CPUWeight=/);
    const none = limits("", "limit_memory\t1048576\n");
    assert.is(none.status, 1, "no cgroup at all");
    assert.match(none.stderr, /cannot apply Memory=/);
  } finally {
    fs.rmSync(v2, { recursive: true, force: true });
  }
});

test("start refuses a container whose Memory= cannot be applied (no cgroup hierarchy visible), and leaves nothing", async () => {
  const c = new TestContainer("nocg");
  try {
    // The cgroup hierarchies unmounted in a mount namespace of the start's own: no writable
    // cgroup, as where /sys/fs/cgroup is not mounted (`ip netns exec` makes such a view).
    const hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'for d in /sys/fs/cgroup/*; do umount -l "$d"; done; exec "$@"', "sh"];
    c.start({ extra: ["limit_memory\t67108864"] }, {}, undefined, hide);
    const exit = await c.waitExit();
    assert.is.not(exit.code, 0);
    assert.match(c.stderr, /cannot apply Memory=: no writable cgroup here/);
    assert.not.match(c.stdout, /init up/, "the guest never ran");
    assert.equal(processesOf(c.name), []);
  } finally {
    c.destroy();
  }
});

test("v1 IOWeight=: blkio.weight (CFQ) where the kernel has it, else BFQ's blkio.bfq.weight on its own scale", () => {
  const cfq = fakeCgroup(["blkio.weight"], false);
  const bfq = fakeCgroup(["blkio.bfq.weight"], false);
  try {
    for (const [w, cfqWant, bfqWant] of [["1", "10", "1"], ["100", "500", "100"], ["1000", "1000", "181"], ["10000", "1000", "1000"]]) {
      for (const [d, want] of [[cfq, cfqWant], [bfq, bfqWant]]) {
        const r = limits(d, `limit_io_weight\t${w}\n`, { CONTAINERCTL_CGROUP_V1: "blkio" });
        assert.is(r.status, 0, r.stderr);
        assert.is(read(path.join(d, d === cfq ? "blkio.weight" : "blkio.bfq.weight")), want, `IOWeight=${w}`);
      }
    }
    assert.not.ok(fs.existsSync(path.join(bfq, "blkio.weight")), "no CFQ file made up");
  } finally {
    fs.rmSync(cfq, { recursive: true, force: true });
    fs.rmSync(bfq, { recursive: true, force: true });
  }
});

test.run();
