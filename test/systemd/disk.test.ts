// Disk= under a real systemd (the LXC harness): `containerctl disk create`
// inside the harness, then `systemctl start container@dk`: the unit's device
// policy lets runtime/disk loop-mount the image, the guest gets ENOSPC when it
// fills its 32M, cannot reach loop devices itself, and the loop device goes
// after a stop and after SIGKILL of the unit's main process. Root only.
//
// The harness's /dev is LXC's autodev: the host's loop-control and loop0..7
// are bound in, so a test elsewhere on this host holding all eight loop
// devices at once would make this one fail to mount (the message says so).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, makeBusyboxGuest, unitJournalLine, waitFor } from "../lib/harness-guests";

const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;
const UNIT = "container@dk.service";
const IMG = "/var/lib/containerctl/dk/rootfs.img";

// Runs inside the guest at boot: fill the disk, then reach for the loop devices
// through a devtmpfs of its own (mknod is denied anyway: the policy has no 'm').
const LOOPS = `
mkdir -p /tmp/d && mount -t devtmpfs devtmpfs /tmp/d && echo devtmpfs=mounted
head -c 1 /tmp/d/loop-control >/dev/null; echo loopctl=$?
for i in 0 1 2 3 4 5 6 7; do head -c 512 /tmp/d/loop$i >/dev/null && echo loop$i=read; done
echo loop=done
`;
const JOB = `
dd if=/dev/zero of=/fill bs=1M count=100
echo dd=$?
rm /fill
${LOOPS}`;

if (!skippedWithoutRuntime("Disk= under systemd")) {
  let h: SystemdHarness;
  const loops = (): string => h.run(`losetup -j ${IMG}`).stdout.trim();
  const devs = ["loop-control", ...Array.from({ length: 8 }, (_, i) => `loop${i}`)];

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create({ lxcConfig: devs.map((d) => `lxc.mount.entry = /dev/${d} dev/${d} none bind,optional,create=file 0 0`) });
    h.boot();
    makeBusyboxGuest(h, "dk", TOKEN, { job: JOB });
    // Disk= without a disk yet: the unit allows loop devices all the same (it cannot know); start denies them at once.
    makeBusyboxGuest(h, "nodisk", TOKEN, { job: LOOPS });
    h.writeFile("/etc/containerctl/nodisk.container", "[Container]\nRootDirectory=/var/lib/containerctl/nodisk/rootfs\nGuest=sysvinit\nStopTimeout=5s\n[Resources]\nDisk=32M\n");
    h.writeFile("/etc/containerctl/dk.container", "[Container]\nRootDirectory=/var/lib/containerctl/dk/rootfs\nGuest=sysvinit\nStopTimeout=5s\n[Resources]\nDisk=32M\n");
    const r = h.run("containerctl disk create dk", { timeoutMs: 60_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
    h.sh("systemctl daemon-reload");
  });
  test.after(() => h?.destroy());

  const job = (): string => h.run("containerctl exec dk -- cat /job.out", { timeoutMs: 10_000 }).stdout;

  test("the unit allows loop devices for the mount; the guest fills its 32M disk and gets ENOSPC", () => {
    assert.match(h.run("systemctl cat container@dk.service").stdout, /DeviceAllow=block-loop rw/);
    const r = h.run(`systemctl start ${UNIT}`, { timeoutMs: 60_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run("journalctl -u container@dk --no-pager -n 30").stdout}`);
    assert.ok(unitJournalLine(h, UNIT, new RegExp(`bb-guest-started ${TOKEN}`), 20_000), h.run("journalctl -u container@dk --no-pager -n 30").stdout);
    assert.ok(waitFor(() => /loop=done/.test(job()), 30_000), `the job did not end: ${job()}`);
    const out = job();
    assert.match(out, /No space left on device/);
    assert.match(out, /dd=1/);
    assert.is(loops().split("\n").length, 1, "one loop device while it runs");
    assert.is(h.run("findmnt /var/lib/containerctl/dk/rootfs").code, 1, "nothing mounted in the harness's own mount table");
    assert.is(h.show(UNIT, ["ActiveState"]).ActiveState, "active");
  });

  test("the guest cannot use loop devices (denied again after the mount)", () => {
    const out = job();
    assert.match(out, /devtmpfs=mounted/, "the guest can see the host's device nodes: the cgroup is what stops it");
    assert.match(out, /head: \/tmp\/d\/loop0: Operation not permitted/, out);
    assert.not.match(out, /loopctl=0/, out);
    assert.not.match(out, /loop\d=read/, out);
  });

  test("Disk= without a disk: the container starts with a warning, and its guest cannot use loop devices either", () => {
    h.sh("systemctl start container@nodisk.service");
    const out = (): string => h.run("cat /var/lib/containerctl/nodisk/rootfs/job.out 2>/dev/null").stdout;
    assert.ok(waitFor(() => /loop=done/.test(out()), 30_000), `the job did not end: ${out()}`);
    assert.match(out(), /devtmpfs=mounted/);
    assert.match(out(), /head: \/tmp\/d\/loop0: Operation not permitted/, out());
    assert.not.match(out(), /loopctl=0/, out());
    assert.not.match(out(), /loop\d=read/, out());
    assert.ok(unitJournalLine(h, "container@nodisk.service", /Disk= is not enforced/), "the warning is in the journal");
    h.sh("systemctl stop container@nodisk.service");
  });

  test("disk check sees the running guest's full disk; stop releases the loop device", () => {
    const c = h.run("containerctl disk check dk");
    assert.is(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /^fsck: skipped \(running\)$/m);
    assert.match(c.stdout, /^used: [\d.]+[KM] of 2\d\.\dM \([\d.]+[KM] free\), inodes \d+ of \d+$/m, c.stdout);
    h.sh(`systemctl stop ${UNIT}`);
    assert.ok(waitFor(() => loops() === "", 5000), `loop device left after stop: ${loops()}`);
    const after = h.run("containerctl disk check dk");
    assert.is(after.code, 0, after.stdout);
    assert.match(after.stdout, /^fsck: clean/m);
  });

  test("SIGKILL of the unit's main process: the loop device goes too", () => {
    h.sh(`systemctl start ${UNIT}`);
    assert.ok(waitFor(() => loops() !== "", 10_000));
    h.sh(`systemctl kill -s KILL --kill-whom=main ${UNIT}`);
    assert.ok(waitFor(() => h.show(UNIT, ["ActiveState"]).ActiveState !== "active", 10_000));
    assert.ok(waitFor(() => loops() === "", 5000), `loop device left after kill -9: ${loops()}`);
    h.run(`systemctl reset-failed ${UNIT}`);
  });

  test.run();
}
