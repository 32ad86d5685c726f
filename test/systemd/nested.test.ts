// A Debian 12 guest with systemd inside, started by `systemctl start
// container@deb` under the harness's systemd with the real runtime (nested:
// systemd → containerctl runtime → systemd). The guest's systemd reaches
// running/degraded with no failed units, sees container=containerctl, its
// boot is in the unit's journal, and `systemctl stop` halts it through its
// own signal (SIGRTMIN+3). The guest's root is an overlay of the harness's
// cached image. Root only; needs the runtime.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, unitJournalLine, unitProcs, waitFor } from "../lib/harness-guests";

const UNIT = "container@deb.service";

if (!skippedWithoutRuntime("a Debian systemd guest under systemd")) {
  let h: SystemdHarness;
  let guestInit = 0;

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create({ debianGuests: ["deb"] });
    h.boot();
    h.writeFile("/etc/containerctl/deb.container", "[Container]\nRootDirectory=/var/lib/containerctl/deb/rootfs\nGuest=systemd\nStopTimeout=30s\n[Resources]\nMemory=256M\nTasks=256\n");
    h.sh("systemctl daemon-reload");
  });
  test.after(() => h?.destroy());

  /** The guest's PID 1 as the harness sees it: the process of the unit whose NSpid ends in 1. */
  const findGuestInit = (): number => {
    for (const p of unitProcs(h, UNIT).concat(h.run(`cat /sys/fs/cgroup/pids/machine.slice/${UNIT}/*/cgroup.procs /sys/fs/cgroup/machine.slice/${UNIT}/*/cgroup.procs 2>/dev/null`).stdout.split("\n").filter(Boolean))) {
      const ns = /^NSpid:\s+(.*)$/m.exec(h.run(["cat", `/proc/${p}/status`]).stdout)?.[1].split(/\s+/) ?? [];
      if (ns.length === 2 && ns[1] === "1") return Number(ns[0]);
    }
    return 0;
  };
  const inGuest = (cmd: string) => h.run(["nsenter", "-t", String(guestInit), "-a", "/bin/sh", "-c", cmd], { timeoutMs: 20_000 });

  test("systemctl start boots the Debian guest's systemd to running or degraded with no failed units", () => {
    const r = h.run(`systemctl start ${UNIT}`, { timeoutMs: 120_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run(`journalctl -u ${UNIT} --no-pager -n 40`).stdout}`);
    assert.ok(waitFor(() => (guestInit = findGuestInit()) > 0), "no process with pid 1 in its own namespace in the unit");
    let state = "";
    waitFor(() => ["running", "degraded"].includes((state = inGuest("systemctl is-system-running").stdout.trim())), 60_000, 250);
    assert.ok(state === "running" || state === "degraded", `guest systemd: ${state}\n${inGuest("systemctl list-jobs --no-pager; systemctl --failed --no-pager").stdout}`);
    assert.is(inGuest("systemctl list-units --failed --plain --no-legend --no-pager").stdout.trim(), "");
    assert.is(inGuest("cat /proc/1/comm").stdout.trim(), "systemd");
    assert.match(inGuest("tr '\\0' '\\n' < /proc/1/environ").stdout, /^container=containerctl$/m);
  });

  test("the guest's boot messages are in journalctl -u container@deb, and its limits on the unit's cgroup", () => {
    assert.ok(unitJournalLine(h, UNIT, /Reached target .*multi-user\.target/), "guest console output missing from the unit's journal");
    const l = h.cgroupLimits(`machine.slice/${UNIT}`);
    assert.is(l.memoryMax, String(256 * 1024 * 1024));
    assert.is(l.pidsMax, "256");
  });

  test("systemctl stop halts the guest through its own signal within StopTimeout=", () => {
    const t0 = Date.now();
    h.sh(`systemctl stop ${UNIT}`, 60_000);
    const ms = Date.now() - t0;
    assert.ok(ms < 30_000, `stop took ${ms} ms`);
    assert.ok(unitJournalLine(h, UNIT, /Reached target .*shutdown\.target/), "the guest did not shut down (no shutdown.target in its console output)");
    const s = h.show(UNIT, ["ActiveState", "Result"]);
    assert.equal(s, { ActiveState: "inactive", Result: "success" });
    assert.equal(unitProcs(h, UNIT), []);
  });

  test.run();
}
