// The systemd test harness itself: it boots systemd as PID 1 fast enough,
// runs commands inside with their output and status, gives systemd writable
// cgroup controllers (what the limit tests rely on), survives a reboot, and
// leaves nothing behind. Root only (skipped otherwise).

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import { SystemdHarness, unavailableReason } from "../lib/systemd-harness";

const why = unavailableReason();
if (why) {
  test.skip(`systemd harness (${why})`, () => {});
  test.run();
} else {
  let h: SystemdHarness | undefined;
  let bootMs = 0;

  test.after(() => h?.destroy());

  test("a cached instance boots systemd as PID 1 to running in well under a minute", () => {
    h = SystemdHarness.create();
    const b = h.boot();
    bootMs = b.ms;
    process.stderr.write(`systemd-harness: boot to '${b.state}' took ${b.ms} ms (node in guest: ${h.nodeMode})\n`);
    assert.ok(b.state === "running" || b.state === "degraded", b.state);
    assert.ok(b.ms < 30_000, `boot took ${b.ms} ms`);
    assert.is(h.sh("cat /proc/1/comm").trim(), "systemd");
    assert.is(h.run(["systemd-detect-virt", "--container"]).stdout.trim(), "lxc");
  });

  test("run captures stdout, stderr and the exit status; sh throws on failure; timeouts are reported", () => {
    const r = h!.run("echo out; echo err >&2; exit 3");
    assert.is(r.stdout, "out\n");
    assert.is(r.stderr, "err\n");
    assert.is(r.code, 3);
    assert.is(r.timedOut, false);
    assert.throws(() => h!.sh("exit 1"));
    const t0 = Date.now();
    const slow = h!.run(["sleep", "30"], { timeoutMs: 1000 });
    assert.ok(slow.timedOut, "timedOut");
    assert.ok(Date.now() - t0 < 10_000, `timeout took ${Date.now() - t0} ms`);
    assert.is(h!.run(["cat"], { input: "piped" }).stdout, "piped");
  });

  test("writeFile/readFile go through the guest", () => {
    h!.writeFile("/etc/containerctl-test/a b/file", "x=1\n", 0o600);
    assert.is(h!.readFile("/etc/containerctl-test/a b/file"), "x=1\n");
    assert.is(h!.sh("stat -c %a '/etc/containerctl-test/a b/file'").trim(), "600");
    // The instance is an overlay: the cached image stays untouched.
    assert.ok(fs.existsSync(`${h!.rootfs}/etc/containerctl-test/a b/file`));
  });

  test("containerctl is installed through install-system and its CLI and Node run in the guest", () => {
    assert.ok(h!.sh("test -x /usr/lib/systemd/system-generators/containerctl-generator && echo ok").includes("ok"));
    assert.match(h!.show("container@x.service", ["FragmentPath"]).FragmentPath, /^(\/usr)?\/lib\/systemd\/system\/container@\.service$/);
    assert.match(h!.sh("containerctl --help"), /Usage: containerctl/);
  });

  test("systemd inside has writable cgroup controllers: a unit's MemoryMax/CPUQuota/TasksMax reach the cgroup", () => {
    h!.sh("systemd-run --unit=limits-probe -p MemoryMax=64M -p CPUQuota=50% -p TasksMax=20 /bin/sleep 300");
    assert.equal(h!.cgroupLimits("system.slice/limits-probe.service"), { memoryMax: "67108864", cpuQuotaUs: "50000", pidsMax: "20" });
    h!.sh("systemctl stop limits-probe");
  });

  test("reboot: systemctl reboot inside brings systemd back with a new PID 1; files persist", () => {
    const before = h!.initPid();
    h!.writeFile("/var/lib/persist-me", "still here\n");
    const r = h!.reboot();
    assert.ok(r.state === "running" || r.state === "degraded", r.state);
    assert.is.not(h!.initPid(), before);
    assert.is(h!.readFile("/var/lib/persist-me"), "still here\n");
    // The persistent journal holds the previous boot.
    assert.ok(Number(h!.sh("journalctl --list-boots --no-pager | wc -l").trim()) >= 2);
    const again = h!.reboot("restart");
    assert.ok(again.state === "running" || again.state === "degraded", again.state);
  });

  test("destroy stops the container and removes its mounts and directory", () => {
    const { dir, rootfs } = h!;
    h!.destroy();
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
    assert.not.ok(mounts.includes(rootfs), "overlay still mounted");
    assert.not.ok(fs.existsSync(dir), `${dir} still exists`);
    h = undefined;
    assert.ok(bootMs > 0);
  });

  test.run();
}
