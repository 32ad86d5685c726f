// `systemctl start/stop container@NAME` under a real systemd (the LXC harness,
// test/lib/systemd-harness.ts) with the real runtime and a busybox guest:
// the guest's init runs as PID 1 of its own pid namespace, its console output
// is in the unit's journal, the generated limits are on its cgroup, `stop`
// sends the guest's own signal and a guest that ignores it is killed after
// StopTimeout=. Root only; needs the runtime (runtime/start, runtime/helper
// built by runtime/build.sh) and busybox-static on the host.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, guestBoots, makeBusyboxGuest, unitJournalLine, unitProcs, waitFor } from "../lib/harness-guests";

const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;

if (!skippedWithoutRuntime("start/stop with a busybox guest")) {
  let h: SystemdHarness;

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
    makeBusyboxGuest(h, "bb", TOKEN);
    makeBusyboxGuest(h, "stubborn", TOKEN, { onStop: "ignore" });
    h.writeFile("/etc/containerctl/bb.container", "[Container]\nRootDirectory=/var/lib/containerctl/bb/rootfs\nGuest=sysvinit\nStopTimeout=20s\n[Resources]\nMemory=64M\nTasks=32\n");
    h.writeFile("/etc/containerctl/stubborn.container", "[Container]\nRootDirectory=/var/lib/containerctl/stubborn/rootfs\nGuest=sysvinit\nStopTimeout=3s\n");
    h.sh("systemctl daemon-reload");
  });
  test.after(() => h?.destroy());

  const unitJournal = (name: string, re: RegExp): string | null => unitJournalLine(h, `container@${name}.service`, re);
  const procsIn = (name: string): string[] => unitProcs(h, `container@${name}.service`);

  test("systemctl start boots the busybox guest: its init is PID 1 of its own pid namespace, with its name and container=containerctl", () => {
    const r = h.run("systemctl start container@bb.service", { timeoutMs: 60_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run("journalctl -u container@bb --no-pager -n 30").stdout}`);
    assert.is(h.show("container@bb.service", ["ActiveState"]).ActiveState, "active");
    assert.ok(waitFor(() => guestBoots(h, "bb").length > 0), "the guest's init did not run");
    assert.equal(guestBoots(h, "bb"), ["1 bb containerctl bb"]);
  });

  test("journalctl -u container@bb shows the guest's console output", () => {
    assert.ok(unitJournal("bb", new RegExp(`bb-guest-started ${TOKEN} boot=1 pid=1$`)), "guest output not in the unit's journal");
  });

  test("the generated limits are on the container's cgroup", () => {
    const l = h.cgroupLimits("machine.slice/container@bb.service");
    assert.is(l.memoryMax, String(64 * 1024 * 1024));
    assert.is(l.pidsMax, "32");
    assert.ok(procsIn("bb").length >= 2, "the guest's processes are not in the unit's cgroup");
  });

  test("systemctl stop sends the guest its own signal (SIGPWR for sysvinit) and the unit stops cleanly", () => {
    const t0 = Date.now();
    h.sh("systemctl stop container@bb.service");
    const ms = Date.now() - t0;
    assert.ok(ms < 15_000, `stop took ${ms} ms`);
    assert.ok(unitJournal("bb", new RegExp(`bb-guest-stopping-PWR ${TOKEN}`)), "the guest did not get SIGPWR");
    const s = h.show("container@bb.service", ["ActiveState", "Result"]);
    assert.is(s.ActiveState, "inactive");
    assert.is(s.Result, "success");
    assert.equal(procsIn("bb"), []);
  });

  test("a guest that ignores its stop signal is killed after StopTimeout=", () => {
    h.sh("systemctl start container@stubborn.service");
    assert.ok(unitJournal("stubborn", new RegExp(`bb-guest-started ${TOKEN}`)), "stubborn guest did not start");
    const t0 = Date.now();
    h.run("systemctl stop container@stubborn.service", { timeoutMs: 60_000 });
    const ms = Date.now() - t0;
    assert.ok(unitJournal("stubborn", new RegExp(`bb-guest-ignoring-PWR ${TOKEN}`)), "the guest did not get SIGPWR");
    assert.ok(ms >= 2_500 && ms < 7_900, `stop took ${ms} ms with StopTimeout=3s (systemd's own timer is 3s + 5s grace)`);
    // The helper kills the guest after the plan's stop timeout; systemd's
    // TimeoutStopSec= is 5 s longer, so the stop is clean, not a timeout.
    const st = h.show("container@stubborn.service", ["ActiveState", "Result"]);
    assert.equal(st, { ActiveState: "inactive", Result: "success" });
    h.run("systemctl reset-failed container@stubborn.service");
    assert.equal(procsIn("stubborn"), []);
  });

  test.run();
}
