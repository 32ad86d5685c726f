// `systemctl start/stop container@NAME` under a real systemd (the LXC harness,
// test/lib/systemd-harness.ts) with the real runtime and a busybox guest:
// the guest's init runs as PID 1 of its own pid namespace, its console output
// is in the unit's journal, the generated limits are on its cgroup, `stop`
// sends the guest's own signal and a guest that ignores it is killed after
// StopTimeout=. Root only; needs the runtime (runtime/start, runtime/helper
// built by runtime/build.sh) and busybox-static on the host.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { PROJECT_DIR, SystemdHarness, sleepMs, unavailableReason } from "../lib/systemd-harness";

const BUSYBOX = "/bin/busybox";
const RUNTIME = path.join(PROJECT_DIR, "runtime");
const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;

function reasonToSkip(): string | null {
  const why = unavailableReason();
  if (why) return why;
  if (!fs.existsSync(path.join(RUNTIME, "start"))) return "no runtime/start yet";
  return null;
}

/** Guest init: records what it sees, then waits; `mode` says what it does on SIGPWR/SIGTERM. */
function initScript(mode: "obey" | "ignore"): string {
  const onStop = mode === "obey" ? `echo "bb-guest-stopping-$1 ${TOKEN}"; exit 0` : `echo "bb-guest-ignoring-$1 ${TOKEN}"`;
  return `#!/bin/sh
on_signal() { ${onStop}; }
trap 'on_signal PWR' PWR
trap 'on_signal TERM' TERM
echo "$$ $(hostname) $container $container_name" > /started
echo "bb-guest-started ${TOKEN} pid=$$"
while :; do sleep 1 & wait $!; done
`;
}

const skip = reasonToSkip();
if (skip) {
  test.skip(`start/stop with a busybox guest (${skip})`, () => {});
  test.run();
} else {
  let h: SystemdHarness;

  /** A busybox root filesystem inside the harness at /var/lib/containerctl/NAME/rootfs, written from the host side. */
  const makeGuest = (name: string, mode: "obey" | "ignore"): void => {
    const root = path.join(h.rootfs, "var/lib/containerctl", name, "rootfs");
    for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "etc", "tmp", "run"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(root, "bin/busybox"));
    fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
    fs.writeFileSync(path.join(root, "sbin/init"), initScript(mode), { mode: 0o755 });
    h.sh(`chroot /var/lib/containerctl/${name}/rootfs /bin/busybox --install -s`);
  };

  test.before(() => {
    if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing: install busybox-static (test/apt-packages.txt)`);
    // The runtime's C helper is a build product; install-system copies it when it is there.
    const b = spawnSync("sh", [path.join(RUNTIME, "build.sh")], { encoding: "utf8" });
    if (b.status !== 0) throw new Error(`runtime/build.sh failed:\n${b.stdout}${b.stderr}`);
    h = SystemdHarness.create();
    h.boot();
    makeGuest("bb", "obey");
    makeGuest("stubborn", "ignore");
    h.writeFile("/etc/containerctl/bb.container", "[Container]\nRootDirectory=/var/lib/containerctl/bb/rootfs\nGuest=sysvinit\nStopTimeout=20s\n[Resources]\nMemory=64M\nTasks=32\n");
    h.writeFile("/etc/containerctl/stubborn.container", "[Container]\nRootDirectory=/var/lib/containerctl/stubborn/rootfs\nGuest=sysvinit\nStopTimeout=3s\n");
    h.sh("systemctl daemon-reload");
  });
  test.after(() => h?.destroy());

  const unitJournal = (name: string, re: RegExp): string | null => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const line = h.run(["journalctl", "-u", `container@${name}.service`, "-o", "cat", "--no-pager"]).stdout.split("\n").find((l) => re.test(l));
      if (line) return line;
      sleepMs(200);
    }
    return null;
  };
  const procsIn = (name: string): string[] =>
    h.run(`cat /sys/fs/cgroup/pids/machine.slice/container@${name}.service/cgroup.procs /sys/fs/cgroup/machine.slice/container@${name}.service/cgroup.procs 2>/dev/null`).stdout.split("\n").filter(Boolean);

  test("systemctl start boots the busybox guest: its init is PID 1 of its own pid namespace, with its name and container=containerctl", () => {
    const r = h.run("systemctl start container@bb.service", { timeoutMs: 60_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run("journalctl -u container@bb --no-pager -n 30").stdout}`);
    assert.is(h.show("container@bb.service", ["ActiveState"]).ActiveState, "active");
    let started = "";
    for (let i = 0; i < 50 && !started; i++) {
      started = h.run("cat /var/lib/containerctl/bb/rootfs/started 2>/dev/null").stdout.trim();
      if (!started) sleepMs(100);
    }
    assert.is(started, "1 bb containerctl bb");
  });

  test("journalctl -u container@bb shows the guest's console output", () => {
    assert.ok(unitJournal("bb", new RegExp(`bb-guest-started ${TOKEN} pid=1`)), "guest output not in the unit's journal");
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
    assert.ok(ms >= 2_500 && ms < 15_000, `stop took ${ms} ms with StopTimeout=3s`);
    // The helper kills the guest after the plan's stop timeout while systemd's
    // TimeoutStopSec= (the same value) runs too: whichever fires first decides
    // between inactive (helper) and failed/timeout (systemd). Both stop it.
    const st = h.show("container@stubborn.service", ["ActiveState", "Result"]);
    assert.ok(st.ActiveState === "inactive" || (st.ActiveState === "failed" && st.Result === "timeout"), JSON.stringify(st));
    h.run("systemctl reset-failed container@stubborn.service");
    assert.equal(procsIn("stubborn"), []);
  });

  test.run();
}
