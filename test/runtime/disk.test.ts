// Disk= at run time (runtime/disk, docs/disk.md), with real loop devices and
// real ext4 filesystems: a guest that fills its Disk=64M image gets ENOSPC
// while the host and a second container carry on; the image is mounted only
// inside the container's mount namespace and its loop device goes with it,
// after a stop and after kill -9; the refusals; and project quotas on a
// test-made ext4 (enforced only where the kernel has quota support).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setProjectId } from "../../generator/create/disk-project";
import { makeBusyboxGuest } from "../lib/busybox-guest";
import { CLI, TestContainer, planText, buildHelper, hostSnapshot, processesOf, sleep } from "../lib/runtime-harness";

buildHelper();

const M64 = 64 * 1024 * 1024;

/** Loop devices the file is attached to. */
const loopsOf = (file: string): string[] => spawnSync("losetup", ["-j", file], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await sleep(20);
  }
}

/** A spec for c in a config directory of its own, and the CLI run against it (its data under c.dir). */
function specFor(c: TestContainer, resources: string): { cli: (args: string[]) => { code: number | null; out: string } } {
  const cfg = path.join(c.dir, "etc");
  fs.mkdirSync(cfg, { recursive: true });
  fs.writeFileSync(path.join(cfg, `${c.name}.container`), `[Container]\nRootDirectory=${c.root}\n[Resources]\n${resources}\n`);
  return {
    cli(args) {
      const r = spawnSync(process.execPath, [CLI, "-C", cfg, ...args], { encoding: "utf8", env: { ...process.env, CONTAINERCTL_LIB_DIR: c.dir, CONTAINERCTL_RUN_DIR: path.join(c.dir, "run") } });
      return { code: r.status, out: r.stdout + r.stderr };
    },
  };
}

/** A busybox container whose root is a Disk=64M image, running. */
async function imageContainer(prefix: string): Promise<{ c: TestContainer; image: string; cli: ReturnType<typeof specFor>["cli"] }> {
  const c = new TestContainer(prefix);
  const { cli } = specFor(c, "Disk=64M");
  const r = cli(["disk", "create", c.name]);
  assert.is(r.code, 0, r.out);
  c.start({ stopTimeout: "2", extra: [`disk\t${M64}`] });
  await c.waitOutput(/init up/);
  return { c, image: `${c.root}.img`, cli };
}

test("a guest that fills its Disk=64M image gets ENOSPC; the host and a second container keep working", async () => {
  const before = hostSnapshot();
  const other = new TestContainer("disk-other");
  let c: TestContainer | null = null;
  try {
    other.start({ stopTimeout: "2" });
    await other.waitOutput(/init up/);
    const x = await imageContainer("disk-fill");
    c = x.c;
    assert.equal(fs.readdirSync(c.root), [], "the host sees an empty mount point: the image is mounted only in the container");
    assert.is(loopsOf(x.image).length, 1, "one loop device while it runs");
    const df = await c.sh("df -k / | tail -1");
    const total = Number(df.stdout.trim().split(/\s+/)[1]);
    assert.ok(total > 50_000 && total <= 65_536, `the guest's / is the 64M image: ${df.stdout}`);

    const fill = await c.sh("dd if=/dev/zero of=/fill bs=1M count=200; echo rc=$?");
    assert.match(fill.stderr, /No space left on device/, fill.stderr);
    assert.match(fill.stdout, /rc=1/);
    const allocated = fs.statSync(x.image).blocks * 512;
    assert.ok(allocated <= M64, `the image holds at most Disk= on the host (${allocated})`);

    // The host's filesystem and the other container are unaffected; the full one still answers.
    const probe = path.join(os.tmpdir(), `containerctl-disk-probe-${process.pid}`);
    fs.writeFileSync(probe, Buffer.alloc(8 * 1024 * 1024));
    assert.is(fs.statSync(probe).size, 8 * 1024 * 1024);
    fs.rmSync(probe);
    const o = await other.sh("echo written > /root/x && cat /root/x");
    assert.is(o.stdout, "written\n");
    assert.is((await c.sh("echo alive")).stdout, "alive\n");
    const freed = await c.sh("rm /fill && echo ok > /root/after && cat /root/after");
    assert.is(freed.stdout, "ok\n", "space comes back when the guest deletes");

    const check = x.cli(["disk", "check", c.name]);
    assert.is(check.code, 0, check.out);
    assert.match(check.out, /^fsck: skipped \(running\)$/m);
    assert.match(check.out, /^used: [\d.]+[KM] of [\d.]+M/m);

    await c.stop();
    await until(() => loopsOf(x.image).length === 0, 3000, "the loop device is released after the stop");
    assert.is(c.cleanup().status, 0);
    assert.equal(hostSnapshot().mounts, before.mounts, "no mount left on the host");
    // The data the guest wrote is in the image.
    c.start({ stopTimeout: "2", extra: [`disk\t${M64}`] });
    await c.waitOutput(/init up/);
    assert.is((await c.sh("cat /root/after")).stdout, "ok\n");
    await c.stop();
  } finally {
    c?.destroy();
    other.destroy();
  }
});

test("kill -9 of the helper, or of the guest's init: the mount and the loop device go with the container", async () => {
  for (const victim of ["helper", "init"] as const) {
    const before = hostSnapshot();
    const { c, image } = await imageContainer(`disk-kill-${victim}`);
    try {
      assert.is(loopsOf(image).length, 1, "the image is attached while it runs");
      const pids = await c.pids();
      process.kill(pids[victim], "SIGKILL");
      await c.waitExit();
      await until(() => processesOf(c.name).length === 0, 3000, "the container's processes are gone");
      await until(() => loopsOf(image).length === 0, 3000, `the loop device is released after kill -9 of the ${victim}`);
      assert.is(c.cleanup().status, 0);
      assert.equal(hostSnapshot().mounts, before.mounts);
    } finally {
      c.destroy();
    }
  }
});

test("disk create and grow refuse while the container runs: the image is in use", async () => {
  const { c, image, cli } = await imageContainer("disk-busy");
  try {
    const size = fs.statSync(image).size;
    let r = cli(["disk", "grow", c.name, "128M"]);
    assert.is(r.code, 1);
    assert.match(r.out, new RegExp(`disk grow ${c.name}: the disk is in use: ${c.name} is running \\(its runtime helper listens on @containerctl/${c.name}\\); stop it first`));
    assert.is(fs.statSync(image).size, size);
    r = cli(["disk", "create", c.name, "--size", "128M"]);
    assert.is(r.code, 1);
    assert.match(r.out, /already has a disk image/);
    await c.stop();
    r = cli(["disk", "grow", c.name, "128M"]);
    assert.is(r.code, 0, `right after the stop, grow waits for the loop device to go: ${r.out}`);
  } finally {
    c.destroy();
  }
});

test("DiskBacking=image without an image is refused; Disk= without any backing starts and warns; a too small Disk= for its image warns", async () => {
  const c = new TestContainer("disk-rules");
  try {
    c.start({ extra: [`disk\t${M64}`, "disk_backing\timage"] });
    assert.equal(await c.waitExit(), { code: 1, signal: null });
    assert.match(c.stderr, new RegExp(`DiskBacking=image, but there is no disk image '${c.root}\\.img' \\(containerctl disk create ${c.name}\\)`));
    c.start({ stopTimeout: "2", extra: [`disk\t${M64}`, "disk_backing\tproject"] });
    assert.equal(await c.waitExit(), { code: 1, signal: null });
    assert.match(c.stderr, /DiskBacking=project, but '.*' has no project id/);
    c.start({ stopTimeout: "2", extra: [`disk\t${M64}`] });
    await c.waitOutput(/init up/);
    assert.match(c.stderr, /Disk= is not enforced: '.*' has neither a disk image nor a project quota \(containerctl disk create/);
    await c.stop();
    const { cli } = specFor(c, "Disk=32M");
    assert.is(cli(["disk", "create", c.name]).code, 0);
    c.start({ stopTimeout: "2", extra: [`disk\t${M64}`] });
    await c.waitOutput(/init up/);
    assert.match(c.stderr, /Disk= is 67108864 bytes, but the disk image '.*' is 33554432 \(containerctl disk grow/);
    await c.stop();
    c.start({ stopTimeout: "2", extra: [`disk\t${M64}`, "disk_backing\tproject"] });
    assert.equal(await c.waitExit(), { code: 1, signal: null });
    assert.match(c.stderr, /DiskBacking=project, but '.*\.img' exists/);
  } finally {
    c.destroy();
  }
});

// ---- project quotas on test-made filesystems ----

type Kind = "ext4" | "xfs";
const MKFS: Record<Kind, string[]> = { ext4: ["mkfs.ext4", "-q", "-O", "quota,project"], xfs: ["mkfs.xfs", "-q"] };

/** A fresh filesystem on a loop device mounted on DIR/mnt (with prjquota when asked), or why the kernel refused. */
function testFs(dir: string, kind: Kind, prjquota: boolean): { mnt: string } | { why: string } {
  const img = path.join(dir, "fs.img");
  const mnt = path.join(dir, "mnt");
  fs.mkdirSync(mnt);
  fs.closeSync(fs.openSync(img, "w"));
  fs.truncateSync(img, 320 * 1024 * 1024); // sparse; XFS wants at least 300M
  const mk = spawnSync(MKFS[kind][0], [...MKFS[kind].slice(1), img], { encoding: "utf8" });
  assert.is(mk.status, 0, mk.stderr);
  const r = spawnSync("mount", ["-o", prjquota ? "loop,prjquota" : "loop", img, mnt], { encoding: "utf8" });
  if (r.status !== 0) {
    const dmesg = spawnSync("dmesg", { encoding: "utf8" }).stdout.split("\n").filter((l) => /quota/i.test(l)).pop() ?? "";
    return { why: `${kind}: ${dmesg.replace(/^\[[^\]]*\]\s*/, "").trim() || r.stderr.trim()}` };
  }
  return { mnt };
}

function umount(mnt: string): void {
  spawnSync("umount", [mnt]);
}

/** The first kind of filesystem this kernel mounts with prjquota, and why the others failed. */
function quotaKind(): { kind: Kind | null; why: string[] } {
  const why: string[] = [];
  for (const kind of ["ext4", "xfs"] as const) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-rt-prj-"));
    try {
      const t = testFs(dir, kind, true);
      if ("mnt" in t) {
        umount(t.mnt);
        return { kind, why };
      }
      why.push(t.why);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return { kind: null, why };
}
const quota = quotaKind();
if (!quota.kind) console.log(`project quota enforcement test skipped: this kernel mounts neither ext4 nor xfs with prjquota (${quota.why.join("; ")})`);

test("a project id on a filesystem without project quotas: start refuses; disk create --backing project refuses", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-rt-prj-"));
  // XFS keeps project ids without quota support in the kernel (ext4's project feature needs it to mount at all).
  const t = testFs(dir, "xfs", false);
  assert.ok("mnt" in t, JSON.stringify(t));
  const c = new TestContainer("disk-prj");
  try {
    const root = makeBusyboxGuest(path.join((t as { mnt: string }).mnt, "c"));
    const { cli } = specFor(c, "Disk=32M");
    fs.writeFileSync(path.join(c.dir, "etc", `${c.name}.container`), `[Container]\nRootDirectory=${root}\n[Resources]\nDisk=32M\n`);
    const r = cli(["disk", "create", c.name, "--backing", "project"]);
    assert.is(r.code, 1);
    assert.match(r.out, /no project quotas for .*: its filesystem .*mnt \(xfs\) is not ext4 or xfs mounted with prjquota/);
    // A root that has a project id, but no quota can be set: refused, never started unlimited.
    assert.is(spawnSync("chattr", ["-p", "4242", root]).status, 0);
    fs.writeFileSync(c.planFile, planText(c.name, root, { extra: [`disk\t${32 * 1024 * 1024}`] }));
    c.start();
    assert.equal(await c.waitExit(), { code: 1, signal: null });
    assert.match(c.stderr, /cannot set the project quota 4242 on '.*mnt' to Disk= \(is it ext4\/xfs mounted with prjquota\?\)/);
  } finally {
    c.destroy();
    umount((t as { mnt: string }).mnt);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the project id goes on every file and directory (+P on directories), special files skipped; new files inherit it", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-rt-prj-"));
  const t = testFs(dir, "xfs", false) as { mnt: string };
  try {
    const root = makeBusyboxGuest(path.join(t.mnt, "c"));
    fs.mkdirSync(path.join(root, "root/deep/er"), { recursive: true });
    fs.writeFileSync(path.join(root, "root/deep/er/f"), "x");
    assert.is(spawnSync("mknod", [path.join(root, "root/null"), "c", "1", "3"]).status, 0);
    assert.is(spawnSync("mkfifo", [path.join(root, "root/fifo")]).status, 0);
    setProjectId(root, 4243);
    const ids = spawnSync("sh", ["-c", "find \"$1\" -xdev \\( -type f -o -type d \\) -exec lsattr -pd -- {} + | awk '{print $1}' | sort | uniq -c", "sh", root], { encoding: "utf8" }).stdout.trim();
    assert.match(ids, /^\d+ 4243$/, `one project id on everything: ${ids}`);
    assert.match(spawnSync("lsattr", ["-pd", path.join(root, "root/deep")], { encoding: "utf8" }).stdout, /^ *4243 \S*P\S* /);
    fs.writeFileSync(path.join(root, "root/deep/er/new"), "y");
    assert.match(spawnSync("lsattr", ["-pd", path.join(root, "root/deep/er/new")], { encoding: "utf8" }).stdout, /^ *4243 /, "a new file inherits it");
  } finally {
    umount(t.mnt);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

(quota.kind ? test : test.skip)("project backing: disk create sets the quota, a filler inside gets an error at Disk=, the rest of the filesystem stays free", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-rt-prj-"));
  const t = testFs(dir, quota.kind!, true) as { mnt: string };
  const c = new TestContainer("disk-prjq");
  try {
    const root = makeBusyboxGuest(path.join(t.mnt, "c"));
    const { cli } = specFor(c, "Disk=32M");
    fs.writeFileSync(path.join(c.dir, "etc", `${c.name}.container`), `[Container]\nRootDirectory=${root}\n[Resources]\nDisk=32M\n`);
    const r = cli(["disk", "create", c.name]);
    assert.is(r.code, 0, r.out);
    assert.match(r.out, /project quota \d+ on /);
    fs.writeFileSync(c.planFile, planText(c.name, root, { stopTimeout: "2", extra: [`disk\t${32 * 1024 * 1024}`] }));
    c.start();
    await c.waitOutput(/init up/);
    const fill = await c.sh("dd if=/dev/zero of=/fill bs=1M count=100; echo rc=$?");
    assert.match(fill.stderr, /No space left on device|Disk quota exceeded/);
    const s = fs.statfsSync(t.mnt);
    assert.ok(s.bavail * s.bsize > 60 * 1024 * 1024, "the filesystem itself is far from full");
    assert.is(cli(["disk", "check", c.name]).code, 0);
    await c.stop();
  } finally {
    c.destroy();
    umount(t.mnt);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
