// Limits contain the guest: a busybox container started by the harness's
// systemd with Tasks=, Memory= and CPUQuota= runs a job from its own init
// (so inside the container's cgroup) that tries to exceed each; the kernel
// stops it, and the guest itself lives on. Root only; needs the runtime.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness, unavailableReason } from "../lib/systemd-harness";
import { buildRuntime, makeBusyboxGuest, runtimeMissing, waitFor } from "../lib/harness-guests";

const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;
const UNIT = "container@lim.service";
const CG = `machine.slice/${UNIT}`;

// Runs inside the guest, one phase after another; each phase leaves a file.
const JOB = `
# CPUQuota=20%: 3 s of busy loop get about 0.6 s of CPU.
echo start > /cpu.start
timeout 3 sh -c 'while :; do :; done'
times > /cpu.times
echo done > /cpu.done
# Memory=32M: a string doubling without end is killed by the cgroup's OOM killer.
# (ulimit -v only keeps a broken limit from eating the host; failcnt tells who stopped it.)
(ulimit -v 1048576; exec awk 'BEGIN { s = "x"; while (1) s = s s }')
echo $? > /mem.rc
# Tasks=16, last: 30 more processes cannot all be forked (ash gives up at the first failed fork).
echo start > /pids.start
i=0; while [ $i -lt 30 ]; do sleep 4 & i=$((i+1)); done
wait
`;

const skip = unavailableReason() ?? runtimeMissing();
if (skip) {
  test.skip(`limits contain a guest (${skip})`, () => {});
  test.run();
} else {
  let h: SystemdHarness;
  const file = (f: string): string => h.run(`cat /var/lib/containerctl/lim/rootfs${f} 2>/dev/null`).stdout.trim();
  let unified = false;
  /** A cgroup file of the unit: [controller, file] on a v1 (hybrid) host, file on the unified hierarchy. */
  const cg = (v1: [string, string], v2: string): string =>
    h.run(["cat", unified ? `/sys/fs/cgroup/${CG}/${v2}` : `/sys/fs/cgroup/${v1[0]}/${CG}/${v1[1]}`]).stdout;

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
    makeBusyboxGuest(h, "lim", TOKEN, { job: JOB });
    h.writeFile("/etc/containerctl/lim.container", "[Container]\nRootDirectory=/var/lib/containerctl/lim/rootfs\nGuest=sysvinit\n[Resources]\nTasks=16\nMemory=32M\nCPUQuota=20%\n");
    h.sh("systemctl daemon-reload");
    h.sh(`systemctl start ${UNIT}`);
    unified = h.run("test -e /sys/fs/cgroup/cgroup.controllers").code === 0;
  });
  test.after(() => h?.destroy());

  test("Memory= kills what outgrows it, not the guest", () => {
    assert.ok(waitFor(() => file("/mem.rc") !== "", 30_000), `memory phase did not end: ${file("/job.out")}`);
    assert.is.not(file("/mem.rc"), "0");
    const failcnt = unified ? (/^oom_kill (\d+)/m.exec(cg(["", ""], "memory.events"))?.[1] ?? "0") : cg(["memory", "memory.failcnt"], "").trim();
    assert.ok(Number(failcnt) > 0, `no memory limit hit (failcnt/oom_kill ${failcnt})`);
    assert.is(h.show(UNIT, ["ActiveState"]).ActiveState, "active");
  });

  test("CPUQuota= throttles a busy loop inside the guest", () => {
    assert.ok(waitFor(() => file("/cpu.done") === "done", 30_000), `cpu phase did not end: ${file("/job.out")}`);
    // ash's `times`: second line is the children's user and system time, e.g. "0m0.590s 0m0.000s".
    const [user, sys] = (file("/cpu.times").split("\n")[1] ?? "").split(/\s+/).map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    });
    const share = (user + sys) / 3;
    assert.ok(share > 0.01 && share < 0.3, `3 s of busy loop got ${(share * 100).toFixed(0)}% of a CPU with CPUQuota=20% (${file("/cpu.times")})`);
    const stat = cg(["cpu", "cpu.stat"], "cpu.stat");
    assert.ok(Number(/^nr_throttled (\d+)/m.exec(stat)?.[1] ?? 0) > 0, `not throttled: ${stat}`);
  });

  test("Tasks= stops a fork storm inside the guest", () => {
    assert.ok(waitFor(() => file("/job.rc") !== "", 20_000), `the job did not end: ${file("/job.out")}`);
    assert.match(file("/job.out"), /can't fork/, `every fork succeeded: ${file("/job.out")}`);
    assert.is(cg(["pids", "pids.max"], "pids.max").trim(), "16");
    assert.is(h.show(UNIT, ["ActiveState"]).ActiveState, "active");
  });

  test.run();
}
