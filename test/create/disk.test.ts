// containerctl disk create | grow | check on busybox guests in a temporary
// host layout, with real loop devices and real ext4 images: what the copy
// keeps, the switch, resizes without data loss, and each refusal (no space on
// the host, a filesystem too small for its contents, an image that exists or
// is attached, a shrink below the contents) changing nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { enrichTree, listing, mountsUnder, skipReason, tempHost, waitFor, xattrs, type TempHost } from "./env";

const skip = skipReason();
const it = skip ? test.skip : test;
if (skip) console.log(`disk tests skipped: ${skip}`);

let h: TempHost;
test.before.each(() => {
  h = tempHost();
});
test.after.each(() => {
  for (const l of loops(h.root)) spawnSync("losetup", ["-d", l]);
  h.cleanup();
});

const rootOf = (name: string): string => path.join(h.paths.libDir, name, "rootfs");
const imageOf = (name: string): string => `${rootOf(name)}.img`;

/** Loop devices whose backing file is under dir. */
function loops(dir: string): string[] {
  const r = spawnSync("losetup", ["-n", "-O", "NAME,BACK-FILE", "-l"], { encoding: "utf8" });
  return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f[1]?.startsWith(dir + "/")).map((f) => f[0]);
}

function make(name: string, disk?: string): void {
  const r = h.cli(["create", name, "--busybox"]);
  assert.is(r.code, 0, r.stderr);
  if (disk) fs.appendFileSync(path.join(h.paths.configDir, `${name}.container`), `\n[Resources]\nDisk=${disk}\n`);
}

/** enrichTree, plus a sparse file. */
function enrich(R: string): void {
  enrichTree(R);
  const fd = fs.openSync(path.join(R, "root/sparse"), "w");
  fs.writeSync(fd, "end", 20 * 1024 * 1024);
  fs.closeSync(fd);
}

/** Mount an image in a mount namespace of its own (never on the host) and look at it through /proc/PID/root. */
async function inImage<T>(image: string, fn: (dir: string) => T, opts = "ro"): Promise<T> {
  const mnt = fs.mkdtempSync(path.join(h.root, "mnt-"));
  const p = spawn("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", 'mount -o "loop,$3" "$1" "$2" && echo up && read -r _', "sh", image, mnt, opts], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((r) => p.on("exit", r));
  const up = await new Promise<boolean>((r) => {
    p.stdout.once("data", () => r(true));
    void exited.then(() => r(false));
  });
  try {
    assert.ok(up, `mount ${image}`);
    return fn(`/proc/${p.pid}/root${mnt}`);
  } finally {
    p.stdin.end();
    await exited;
  }
}

/** Stop a `containerctl run` as a terminal's Ctrl-C would, and wait for it (at once when it already ended). */
async function stopRun(run: ChildProcess): Promise<void> {
  if (run.exitCode !== null || run.signalCode !== null) return;
  const exited = new Promise((res) => run.on("exit", res));
  run.kill("SIGTERM");
  await exited;
}

const sha = (f: string): string => createHash("sha256").update(fs.readFileSync(f)).digest("hex");
const used = (dir: string): number => Number(spawnSync("du", ["-sxB1", dir], { encoding: "utf8" }).stdout.split("\t")[0]);

it("disk create copies the rootfs into an ext4 image keeping owners, modes, hard links, xattrs, devices and holes; the rootfs becomes an empty mount point", async () => {
  make("web", "64M");
  const R = rootOf("web");
  enrich(R);
  const before = listing(R);
  const xa = xattrs(path.join(R, "root/owned"));
  const r = h.cli(["disk", "create", "web"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /verifying the copy/);
  assert.equal(fs.readdirSync(R), [], "the old tree is gone; the directory is the mount point");
  assert.equal(fs.readdirSync(path.dirname(R)).sort(), ["rootfs", "rootfs.img"], "no .partial, no scratch mount point, no old tree left");
  const img = fs.statSync(imageOf("web"));
  assert.is(img.size, 64 * 1024 * 1024);
  assert.ok(img.blocks * 512 < 32 * 1024 * 1024, `the image is sparse (${img.blocks * 512} bytes allocated)`);
  assert.equal(loops(h.root), [], "no loop device left");
  assert.equal(mountsUnder(h.root), [], "nothing mounted on the host");
  await inImage(imageOf("web"), (d) => {
    assert.equal(listing(d).filter((l) => !l.startsWith("lost+found ")), before);
    assert.is(fs.statSync(path.join(d, "root/a")).ino, fs.statSync(path.join(d, "root/b")).ino, "hard link kept");
    assert.ok(fs.statSync(path.join(d, "dev/null")).isCharacterDevice());
    assert.ok(fs.statSync(path.join(d, "root/fifo")).isFIFO());
    assert.is(xattrs(path.join(d, "root/owned")), xa);
    assert.match(xa, /security\.capability/);
    assert.ok(fs.statSync(path.join(d, "root/sparse")).blocks * 512 < 1024 * 1024, "the hole stayed a hole");
  });
  const c = h.cli(["disk", "check", "web"]);
  assert.is(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /^backing: image .*rootfs\.img \(64\.0M, .*Disk=64\.0M; DiskBacking=auto\)$/m);
  assert.match(c.stdout, /^used: [\d.]+M of 64\.0M/m);
  assert.match(c.stdout, /^fsck: clean/m);
});

it("disk grow grows and shrinks the image without losing data; a shrink below the contents is refused and changes nothing", async () => {
  make("web", "64M");
  assert.is(h.cli(["disk", "create", "web"]).code, 0);
  const data = randomBytes(8 * 1024 * 1024);
  await inImage(imageOf("web"), (d) => fs.writeFileSync(path.join(d, "root/data"), data), "rw");
  const want = createHash("sha256").update(data).digest("hex");

  let r = h.cli(["disk", "grow", "web", "256M"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /note: set Disk=256M/);
  assert.is(fs.statSync(imageOf("web")).size, 256 * 1024 * 1024);
  await inImage(imageOf("web"), (d) => {
    assert.is(sha(path.join(d, "root/data")), want);
    const s = fs.statfsSync(d);
    assert.ok(s.blocks * s.bsize > 200 * 1024 * 1024, `the filesystem grew with the image (${s.blocks * s.bsize})`);
  });

  const imgBefore = sha(imageOf("web"));
  r = h.cli(["disk", "grow", "web", "8M"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /disk grow web: the filesystem would be too small for its contents: .* needs at least [\d.]+M \(resize2fs -P\); 8\.0M is less; nothing was changed/);
  assert.is(sha(imageOf("web")), imgBefore, "the refused shrink did not touch the image");

  r = h.cli(["disk", "grow", "web", "40M"]);
  assert.is(r.code, 0, r.stderr);
  assert.is(fs.statSync(imageOf("web")).size, 40 * 1024 * 1024);
  await inImage(imageOf("web"), (d) => assert.is(sha(path.join(d, "root/data")), want));
  const c = h.cli(["disk", "check", "web"]);
  assert.is(c.code, 0, c.stdout);
  assert.match(c.stdout, /warning: Disk= is 64\.0M but the image is 40\.0M/);
  assert.equal(loops(h.root), []);
});

it("disk create refuses a filesystem too small for its contents, and keeps the rootfs", () => {
  make("web");
  const R = rootOf("web");
  fs.writeFileSync(path.join(R, "root/big"), randomBytes(12 * 1024 * 1024));
  const before = listing(R);
  const r = h.cli(["disk", "create", "web", "--size", "10M"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /disk create web: the filesystem is too small for its contents: .*rootfs holds [\d.]+M in \d+ files; an ext4 of 10\.0M offers/);
  assert.equal(listing(R), before);
  assert.equal(fs.readdirSync(path.dirname(R)), ["rootfs"], "no image, no .partial");
  assert.equal(loops(h.root), []);
});

it("disk create refuses when the host has no space for the copy, and keeps the rootfs", () => {
  // The container's directory on a test-made 48M filesystem; its rootfs holds more than the rest.
  const fsImg = path.join(h.root, "small.img");
  fs.closeSync(fs.openSync(fsImg, "w"));
  fs.truncateSync(fsImg, 48 * 1024 * 1024);
  assert.is(spawnSync("mkfs.ext4", ["-q", "-m", "0", fsImg]).status, 0);
  fs.mkdirSync(h.paths.libDir, { recursive: true });
  assert.is(spawnSync("mount", ["-o", "loop", fsImg, h.paths.libDir]).status, 0);
  try {
    make("web", "64M");
    const R = rootOf("web");
    fs.writeFileSync(path.join(R, "root/big"), randomBytes(24 * 1024 * 1024));
    const before = listing(R);
    const r = h.cli(["disk", "create", "web"]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /disk create web: no space on the host: copying .*rootfs into .*rootfs\.img needs about [\d.]+M, .* has [\d.]+M free/);
    assert.equal(listing(R), before);
    assert.equal(fs.readdirSync(path.dirname(R)), ["rootfs"]);
  } finally {
    spawnSync("umount", [h.paths.libDir]);
  }
});

it("disk create and grow: clear errors for an existing image, an attached image, no size, no disk; disk check finds a damaged image", () => {
  make("web");
  let r = h.cli(["disk", "create", "web"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no size: give --size SIZE, or set Disk= in .*web\.container/);
  r = h.cli(["disk", "grow", "web", "1G"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /web has no disk \(no image .*, no project quota on .*\): containerctl disk create web/);
  // Another disk command at work (its lock, held by a live pid: this test's): refused.
  const lock = `${imageOf("web")}.lock`;
  fs.mkdirSync(lock);
  fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
  r = h.cli(["disk", "create", "web", "--size", "32M"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`disk create web: another disk command works on web \\(pid ${process.pid}, lock .*rootfs\\.img\\.lock\\)`));
  // A dead owner's lock (a killed run) is taken over.
  fs.writeFileSync(path.join(lock, "pid"), "999999999");
  r = h.cli(["disk", "create", "web", "--size", "32M"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /sets no Disk=/);
  assert.not.ok(fs.existsSync(lock), "the lock is released");
  r = h.cli(["disk", "create", "web", "--size", "32M"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /web already has a disk image .*rootfs\.img \(containerctl disk grow web SIZE resizes it\)/);

  r = h.cli(["disk", "grow", "web", "64T"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /disk grow web: no space on the host: a 64\.0T disk|disk grow web: no space on the host: a 65536\.00G disk/);
  assert.is(fs.statSync(imageOf("web")).size, 32 * 1024 * 1024, "the refused grow changed nothing");

  // Attached elsewhere (a stray losetup): refused, after a short wait for a loop device on its way out.
  const loop = spawnSync("losetup", ["-f", "--show", imageOf("web")], { encoding: "utf8" }).stdout.trim();
  try {
    const t0 = Date.now();
    r = h.cli(["disk", "grow", "web", "64M"]);
    assert.is(r.code, 1);
    assert.match(r.stderr, new RegExp(`the image .*rootfs\\.img is in use: attached to ${loop}`));
    assert.ok(Date.now() - t0 > 2500, "it waited for the loop device to go");
    assert.is(fs.statSync(imageOf("web")).size, 32 * 1024 * 1024);
  } finally {
    spawnSync("losetup", ["-d", loop]);
  }

  // Damage a group descriptor: e2fsck -n reports it, check exits 1.
  assert.is(spawnSync("debugfs", ["-w", "-R", "set_bg 0 free_blocks_count 7", imageOf("web")]).status, 0);
  const c = h.cli(["disk", "check", "web"]);
  assert.is(c.code, 1, c.stdout);
  assert.match(c.stdout, /^fsck: errors \(e2fsck -f -n exit 4\)/m);
  r = h.cli(["disk", "create", "web", "--backing", "floppy"]);
  assert.match(r.stderr, /--backing must be image or project, not 'floppy'/);
});

it("disk create --backing project refuses a filesystem without project quotas, and changes nothing", () => {
  make("web", "64M");
  const R = rootOf("web");
  const before = listing(R);
  const r = h.cli(["disk", "create", "web", "--backing", "project"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no project quotas for .*rootfs: its filesystem .* is not ext4 or xfs mounted with prjquota/);
  assert.equal(listing(R), before);
  assert.is(spawnSync("lsattr", ["-pd", R], { encoding: "utf8" }).stdout.trim().split(/\s+/)[0] ?? "0", "0", "no project id was set");
});

it("disk create killed with SIGKILL while copying: no mount, no loop device left, the rootfs intact; the next run succeeds", async () => {
  make("web", "256M");
  const R = rootOf("web");
  for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(R, `root/f${i}`), randomBytes(16 * 1024 * 1024));
  const before = listing(R);
  const p = h.spawnCli(["disk", "create", "web"]);
  let err = "";
  p.stderr!.on("data", (d) => (err += d));
  assert.ok(await waitFor(() => /copying/.test(err), 20_000), err);
  assert.is(loops(h.root).length, 1, "the image is attached while the copy runs");
  p.kill("SIGKILL");
  await new Promise((res) => p.on("exit", res));
  assert.ok(await waitFor(() => loops(h.root).length === 0, 20_000), `loop devices left: ${loops(h.root).join(" ")}`);
  assert.equal(mountsUnder(h.root), []);
  assert.equal(listing(R), before, "the rootfs is untouched");
  assert.not.ok(fs.existsSync(imageOf("web")), "no image was switched in");
  const r = h.cli(["disk", "create", "web"]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fs.readdirSync(path.dirname(R)).sort(), ["rootfs", "rootfs.img"], "the .partial and scratch directory of the killed run are gone");
});

it("create --disk: Disk= in the spec and the rootfs in an image; clone copies the image; containerctl run mounts it inside the container only", async () => {
  const name = `dk${process.pid}`;
  let r = h.cli(["create", name, "--busybox", "--disk", "48M"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(h.paths.configDir, `${name}.container`), "utf8"), /^\[Resources\]\nDisk=48M$/m);
  assert.equal(fs.readdirSync(rootOf(name)), []);
  assert.is(fs.statSync(imageOf(name)).size, 48 * 1024 * 1024);
  // clone copies the image and gives the copy its own name inside it; a snapshot is refused.
  const srcSha = sha(imageOf(name));
  r = h.cli(["clone", name, "copy"]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fs.readdirSync(path.dirname(rootOf("copy"))).sort(), ["rootfs", "rootfs.img"]);
  assert.equal(fs.readdirSync(rootOf("copy")), []);
  assert.is(sha(imageOf(name)), srcSha, "the source image is untouched");
  assert.ok(fs.statSync(imageOf("copy")).blocks * 512 < 24 * 1024 * 1024, "the copy is sparse");
  await inImage(imageOf("copy"), (d) => assert.is(fs.readFileSync(path.join(d, "etc/hostname"), "utf8"), "copy\n"));
  await inImage(imageOf(name), (d) => assert.is(fs.readFileSync(path.join(d, "etc/hostname"), "utf8"), `${name}\n`));
  assert.match(fs.readFileSync(path.join(h.paths.configDir, "copy.container"), "utf8"), /^Disk=48M$/m);
  assert.equal(loops(h.root), []);
  r = h.cli(["clone", name, "snap", "--snapshot"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /root filesystem is the disk image .*rootfs\.img; a snapshot of it is not supported yet \(a full clone is\)/);
  assert.not.ok(fs.existsSync(path.join(h.paths.libDir, "snap")));

  // The foreground path without systemd: the CLI renders the plan from the spec, runtime/start mounts the image.
  const run = h.spawnCli(["run", name]);
  let out = "";
  run.stderr!.on("data", (d) => (out += d));
  try {
    let df = "";
    assert.ok(await waitFor(() => {
      const x = h.cli(["exec", name, "--", "df", "-k", "/"]);
      df = x.stdout;
      return x.code === 0;
    }, 10_000), `exec in the running container: ${out}`);
    const total = Number(df.trim().split("\n").pop()!.trim().split(/\s+/)[1]);
    assert.ok(total > 38_000 && total <= 49_152, `the guest's / is the 48M image: ${df}`);
    assert.equal(mountsUnder(h.root), [], "nothing mounted on the host");
    assert.is(loops(h.root).length, 1);
  } finally {
    await stopRun(run);
  }
  assert.ok(await waitFor(() => loops(h.root).length === 0, 3000), "the loop device went with the container");
});

it("a snapshot's disk: disk create moves its upper layer into UPPER.img (upper/ and work/); run mounts it under the overlay; the guest gets ENOSPC; the base is untouched", async () => {
  const base = `dkb${process.pid}`, snap = `dks${process.pid}`;
  assert.is(h.cli(["create", base, "--busybox"]).code, 0);
  let r = h.cli(["clone", base, snap, "--snapshot"]);
  assert.is(r.code, 0, r.stderr);
  const upper = path.join(h.paths.libDir, snap, "upper");
  fs.writeFileSync(path.join(upper, "mine"), "kept\n"); // a change the snapshot already has
  fs.appendFileSync(path.join(h.paths.configDir, `${snap}.container`), "\n[Resources]\nDisk=32M\n");
  const baseBefore = listing(rootOf(base));
  r = h.cli(["disk", "create", snap, "--backing", "project"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /is a snapshot \(an overlay root\): its disk can only be an image/);
  r = h.cli(["disk", "create", snap]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fs.readdirSync(upper), [], "the upper directory is the image's mount point now");
  assert.is(fs.statSync(`${upper}.img`).size, 32 * 1024 * 1024);
  await inImage(`${upper}.img`, (d) => {
    assert.equal(fs.readdirSync(d).sort(), ["lost+found", "upper", "work"]);
    assert.is(fs.readFileSync(path.join(d, "upper/mine"), "utf8"), "kept\n");
  });

  const run = h.spawnCli(["run", snap]);
  let out = "";
  run.stderr!.on("data", (d) => (out += d));
  try {
    assert.ok(await waitFor(() => h.cli(["exec", snap, "--", "true"]).code === 0, 10_000), `exec in the running snapshot: ${out}`);
    assert.is(h.cli(["exec", snap, "--", "cat", "/mine"]).stdout, "kept\n");
    assert.is(h.cli(["exec", snap, "--", "cat", "/etc/hostname"]).stdout, `${snap}\n`);
    const fill = h.cli(["exec", snap, "--", "dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=100"]);
    assert.match(fill.stderr, /No space left on device/, fill.stderr);
    assert.equal(mountsUnder(h.root), [], "nothing mounted on the host");
  } finally {
    await stopRun(run);
  }
  assert.ok(await waitFor(() => loops(h.root).length === 0, 3000), "the loop device went with the container");
  assert.equal(listing(rootOf(base)), baseBefore, "the base (the lower layer) is untouched");
  const c = h.cli(["disk", "check", snap]);
  assert.is(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /^backing: image .*upper\.img \(32\.0M/m);
  // A full clone copies the merged view, its upper layer read from the image (loop-mounted read-only in a private namespace).
  r = h.cli(["clone", snap, `${snap}c`]);
  assert.is(r.code, 0, r.stderr);
  assert.is(fs.readFileSync(path.join(rootOf(`${snap}c`), "mine"), "utf8"), "kept\n");
  assert.ok(fs.existsSync(path.join(rootOf(`${snap}c`), "bin/busybox")), "the base's files too");
  assert.is(fs.readFileSync(path.join(rootOf(`${snap}c`), "etc/hostname"), "utf8"), `${snap}c\n`);
  assert.equal(mountsUnder(h.root), []);
  assert.ok(await waitFor(() => loops(h.root).length === 0, 3000), "no loop device left");
  r = h.cli(["clone", snap, `${snap}s`, "--snapshot"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /upper layer is in the disk image .*upper\.img; a snapshot of it is not supported yet \(a full clone is\)/);
});

test.run();
