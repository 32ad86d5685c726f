// Limits contain the guest: a busybox container started by the harness's
// systemd with Tasks=, Memory= and CPUQuota= runs a job from its own init
// (so inside the container's cgroup) that tries to exceed each; the kernel
// stops it, and the guest itself lives on; so does a second container beside
// it (same Memory=, idle), untouched. Root only; needs the runtime.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, makeBusyboxGuest, waitFor } from "../lib/harness-guests";

const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;
const UNIT = "container@lim.service";
const CG = `machine.slice/${UNIT}`;
const OTHER = "container@idle.service";

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

if (!skippedWithoutRuntime("limits contain a guest")) {
  let h: SystemdHarness;
  const file = (f: string): string => h.run(`cat /var/lib/containerctl/lim/rootfs${f} 2>/dev/null`).stdout.trim();
  let unified = false;
  /** A cgroup file of the unit: [controller, file] on a v1 (hybrid) host, file on the unified hierarchy. */
  const cg = (v1: [string, string], v2: string, unit = UNIT): string =>
    h.run(["cat", unified ? `/sys/fs/cgroup/machine.slice/${unit}/${v2}` : `/sys/fs/cgroup/${v1[0]}/machine.slice/${unit}/${v1[1]}`]).stdout;
  /** OOM kills in a unit's memory cgroup (v1: memory.oom_control, v2: memory.events). */
  const oomKills = (unit: string): number =>
    Number(/^oom_kill (\d+)/m.exec(cg(["memory", "memory.oom_control"], "memory.events", unit))?.[1] ?? NaN);

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
    makeBusyboxGuest(h, "lim", TOKEN, { job: JOB });
    h.writeFile("/etc/containerctl/lim.container", "[Container]\nRootDirectory=/var/lib/containerctl/lim/rootfs\nGuest=sysvinit\n[Resources]\nTasks=16\nMemory=32M\nCPUQuota=20%\n");
    makeBusyboxGuest(h, "idle", TOKEN);
    h.writeFile("/etc/containerctl/idle.container", "[Container]\nRootDirectory=/var/lib/containerctl/idle/rootfs\nGuest=sysvinit\n[Resources]\nMemory=32M\n");
    h.sh("systemctl daemon-reload");
    h.sh(`systemctl start ${OTHER}`);
    h.sh(`systemctl start ${UNIT}`);
    unified = h.run("test -e /sys/fs/cgroup/cgroup.controllers").code === 0;
  });
  test.after(() => h?.destroy());

  test("Memory= kills what outgrows it, not the guest", () => {
    assert.ok(waitFor(() => file("/mem.rc") !== "", 30_000), `memory phase did not end: ${file("/job.out")}`);
    assert.is.not(file("/mem.rc"), "0");
    // (memory.failcnt stays 0 on the cgroup v1 of Linux 6.x: the OOM counter tells)
    assert.ok(oomKills(UNIT) > 0, `no OOM kill in the container's cgroup (${cg(["memory", "memory.oom_control"], "memory.events")})`);
    assert.is(h.show(UNIT, ["ActiveState"]).ActiveState, "active");
    // The container beside it: still running, nothing killed in it.
    assert.is(h.show(OTHER, ["ActiveState"]).ActiveState, "active");
    assert.is(oomKills(OTHER), 0, "no OOM kill in the other container");
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
