// containerctl clone (copy and --snapshot) and destroy, as root, on busybox
// guests in a temporary host layout.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../../generator/spec/load";
import { overlayMountArgv, readLayers } from "../../generator/create/layers";
import { enrichTree, listing, mountsUnder, skipReason, tempHost, waitFor, xattrs, type TempHost } from "./env";

const skip = skipReason();
const it = skip ? test.skip : test;
if (skip) console.log(`clone/destroy tests skipped: ${skip}`);

let h: TempHost;
test.before.each(() => {
  h = tempHost();
});
test.after.each(() => h.cleanup());

const rootOf = (name: string): string => path.join(h.paths.libDir, name, "rootfs");

/** A busybox base with the things a naive copy loses: hard links, xattrs, a device node, odd owners and modes. */
function makeBase(): void {
  const r = h.cli(["create", "base", "--busybox"]);
  assert.is(r.code, 0, r.stderr);
  enrichTree(rootOf("base"));
}

it("clone copies owners, modes, hard links, xattrs and device nodes; the copy has its own name and writes stay in it", () => {
  makeBase();
  const r = h.cli(["clone", "base", "copy"]);
  assert.is(r.code, 0, r.stderr);
  const A = rootOf("base"), B = rootOf("copy");
  const differ = (l: string): boolean => /^etc\/(hostname|hosts) /.test(l);
  assert.equal(listing(B).filter((l) => !differ(l)), listing(A).filter((l) => !differ(l)));
  assert.is(fs.statSync(path.join(B, "root/a")).ino, fs.statSync(path.join(B, "root/b")).ino, "hard link kept");
  assert.is.not(fs.statSync(path.join(B, "root/a")).ino, fs.statSync(path.join(A, "root/a")).ino, "a copy, not the same file");
  const st = fs.statSync(path.join(B, "root/owned"));
  assert.equal([st.uid, st.gid, st.mode & 0o7777], [1234, 5678, 0o4750]);
  assert.ok(fs.statSync(path.join(B, "dev/null")).isCharacterDevice());
  assert.is(fs.statSync(path.join(B, "dev/null")).rdev, fs.statSync(path.join(A, "dev/null")).rdev);
  assert.ok(fs.statSync(path.join(B, "root/fifo")).isFIFO());
  assert.match(xattrs(path.join(B, "root/owned")), /user\.note.*6b657074/);
  assert.is(xattrs(path.join(B, "root/owned")), xattrs(path.join(A, "root/owned")));
  assert.is(fs.readFileSync(path.join(B, "etc/hostname"), "utf8"), "copy\n");
  assert.match(fs.readFileSync(path.join(B, "etc/hosts"), "utf8"), /^127\.0\.1\.1\tcopy$/m);
  assert.is(fs.readFileSync(path.join(A, "etc/hostname"), "utf8"), "base\n");
  const spec = loadSpec(h.paths.configDir, "copy");
  assert.equal(spec.errors, []);
  assert.is(spec.spec!.values.root, B);
  assert.is(spec.spec!.values.guest, "sysvinit");
  fs.writeFileSync(path.join(B, "root/a"), "changed\n");
  assert.is(fs.readFileSync(path.join(A, "root/a"), "utf8"), "shared\n");
});

it("clone --snapshot: an overlay over the base; writes to the clone do not reach the base", () => {
  makeBase();
  const baseBefore = listing(rootOf("base"));
  const r = h.cli(["clone", "base", "snap", "--snapshot"]);
  assert.is(r.code, 0, r.stderr);
  const S = rootOf("snap");
  assert.equal(fs.readdirSync(S), [], "the rootfs is an empty mount point until the overlay is mounted");
  assert.equal(mountsUnder(h.root), [], "clone unmounted what it mounted");
  const layers = readLayers(path.join(h.paths.libDir, "snap/layers"))!;
  assert.equal(layers, { lower: [rootOf("base")], upper: path.join(h.paths.libDir, "snap/upper"), work: path.join(h.paths.libDir, "snap/work") });
  assert.equal(loadSpec(h.paths.configDir, "snap").errors, []);
  assert.is(loadSpec(h.paths.configDir, "snap").spec!.values.root, S);
  // The clone's own identity already lives in the upper layer.
  assert.is(fs.readFileSync(path.join(layers.upper, "etc/hostname"), "utf8"), "snap\n");

  const argv = overlayMountArgv(layers, S);
  assert.is(spawnSync(argv[0], argv.slice(1)).status, 0, "mount the overlay");
  try {
    assert.is(fs.readFileSync(path.join(S, "etc/hostname"), "utf8"), "snap\n");
    assert.is(fs.readFileSync(path.join(S, "root/a"), "utf8"), "shared\n", "reads come from the base");
    fs.writeFileSync(path.join(S, "root/a"), "changed in the snapshot\n");
    fs.writeFileSync(path.join(S, "root/new"), "new\n");
    fs.rmSync(path.join(S, "root/b"));
  } finally {
    spawnSync("umount", [S]);
  }
  assert.is(fs.readFileSync(path.join(rootOf("base"), "root/a"), "utf8"), "shared\n");
  assert.is(fs.readFileSync(path.join(rootOf("base"), "etc/hostname"), "utf8"), "base\n");
  assert.equal(listing(rootOf("base")), baseBefore, "the base is byte-for-byte as it was");
  assert.is(fs.readFileSync(path.join(layers.upper, "root/a"), "utf8"), "changed in the snapshot\n");
});

/** Mount the overlay of `layers` (read-only when `ro`) on target, run fn, unmount: the test's look at a snapshot. */
function withOverlay<T>(layers: { lower: string[]; upper: string; work: string }, target: string, fn: () => T, ro = false): T {
  const argv = ro ? ["mount", "-t", "overlay", "overlay", "-o", `ro,lowerdir=${[layers.upper, ...layers.lower].join(":")}`, "--", target] : overlayMountArgv(layers, target);
  const m = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  assert.is(m.status, 0, `mount the overlay: ${m.stderr}`);
  try {
    return fn();
  } finally {
    spawnSync("umount", [target]);
  }
}

/** base, and snap (a snapshot of it) with every kind of overlay change in its upper layer. */
function makeChangedSnapshot(): void {
  makeBase();
  const R = rootOf("base");
  fs.mkdirSync(path.join(R, "root/dir"));
  for (const f of ["old1", "old2"]) fs.writeFileSync(path.join(R, "root/dir", f), `${f}\n`);
  const r = h.cli(["clone", "base", "snap", "--snapshot"]);
  assert.is(r.code, 0, r.stderr);
  const S = rootOf("snap");
  withOverlay(readLayers(path.join(h.paths.libDir, "snap/layers"))!, S, () => {
    fs.writeFileSync(path.join(S, "root/a"), "changed in the snapshot\n"); // copy-up
    fs.rmSync(path.join(S, "root/fifo")); // a whiteout
    fs.rmSync(path.join(S, "root/dir"), { recursive: true }); // ... and an opaque directory
    fs.mkdirSync(path.join(S, "root/dir"));
    fs.writeFileSync(path.join(S, "root/dir/new"), "new\n");
    fs.writeFileSync(path.join(S, "root/h1"), "linked\n");
    fs.linkSync(path.join(S, "root/h1"), path.join(S, "root/h2"));
    const fd = fs.openSync(path.join(S, "root/sparse"), "w");
    fs.writeSync(fd, "end", 256 << 20);
    fs.closeSync(fd);
    assert.is(spawnSync("mknod", [path.join(S, "dev/zero"), "c", "1", "5"]).status, 0);
    assert.is(spawnSync("python3", ["-c", "import os,sys; os.setxattr(sys.argv[1], 'user.snap', b'mine')", path.join(S, "root/h1")]).status, 0);
  });
}

/** The snapshot's merged view, as the runtime would assemble it (mounted read-only for the look). */
function mergedListing(name: string): string[] {
  const l = readLayers(path.join(h.paths.libDir, name, "layers"))!;
  return withOverlay(l, rootOf(name), () => listing(rootOf(name)), true);
}

const notIdentity = (l: string): boolean => !/^etc\/(hostname|hosts) /.test(l);

it("a full clone of a snapshot copies its merged view (whiteouts, opaque dirs, hard links, xattrs, devices, sparse files): a standalone root", () => {
  makeChangedSnapshot();
  const merged = mergedListing("snap");
  const baseBefore = listing(rootOf("base"));
  const r = h.cli(["clone", "snap", "full"]);
  assert.is(r.code, 0, r.stderr);
  const F = rootOf("full");
  assert.equal(listing(F).filter(notIdentity), merged.filter(notIdentity), "the copy is the merged view");
  assert.is(fs.readFileSync(path.join(F, "root/a"), "utf8"), "changed in the snapshot\n");
  assert.is(fs.readFileSync(path.join(F, "root/b"), "utf8"), "shared\n");
  assert.not.ok(fs.existsSync(path.join(F, "root/fifo")), "the whiteout applied");
  assert.equal(fs.readdirSync(path.join(F, "root/dir")), ["new"], "the opaque directory applied");
  assert.is(fs.statSync(path.join(F, "root/h1")).ino, fs.statSync(path.join(F, "root/h2")).ino, "hard link kept");
  assert.match(xattrs(path.join(F, "root/h1")), /user\.snap/);
  assert.is(xattrs(path.join(F, "root/owned")), xattrs(path.join(rootOf("base"), "root/owned")), "the base's xattrs (a file capability) kept");
  assert.ok(fs.statSync(path.join(F, "dev/zero")).isCharacterDevice());
  assert.is(fs.statSync(path.join(F, "root/sparse")).size, (256 << 20) + 3);
  assert.ok(fs.statSync(path.join(F, "root/sparse")).blocks * 512 < 1 << 20, "the sparse file stays sparse");
  assert.is(fs.readFileSync(path.join(F, "etc/hostname"), "utf8"), "full\n");
  // Standalone: no layers, nothing of the snapshot's in its spec, and not a snapshot of base or snap.
  const spec = loadSpec(h.paths.configDir, "full");
  assert.equal(spec.errors, []);
  assert.equal(spec.spec!.values.rootLower, []);
  assert.is(spec.spec!.values.rootUpper, undefined);
  assert.equal(fs.readdirSync(path.join(h.paths.libDir, "full")), ["rootfs"]);
  assert.equal(mountsUnder(h.root), [], "nothing mounted on the host");
  assert.equal(listing(rootOf("base")), baseBefore, "the base is untouched");
  assert.equal(fs.readdirSync(rootOf("snap")), [], "the snapshot's mount point stays empty");
  assert.is(h.cli(["destroy", "base", "--yes", "--force"]).code, 0);
  assert.is(fs.readFileSync(path.join(F, "root/b"), "utf8"), "shared\n", "the copy does not need the base");
});

it("clone --snapshot of a snapshot is a layer chain: it sees both, writes reach neither; destroy names what depends on what, --force says what breaks", () => {
  makeChangedSnapshot();
  const snapUpper = path.join(h.paths.libDir, "snap/upper");
  const upperBefore = listing(snapUpper), baseBefore = listing(rootOf("base"));
  let r = h.cli(["clone", "snap", "snap2", "--snapshot"]);
  assert.is(r.code, 0, r.stderr);
  const spec = loadSpec(h.paths.configDir, "snap2").spec!;
  assert.equal(spec.values.rootLower, [snapUpper, rootOf("base")], "topmost first: snap's changes over the base");
  const layers = readLayers(path.join(h.paths.libDir, "snap2/layers"))!;
  assert.equal(layers.lower, spec.values.rootLower);
  const S2 = rootOf("snap2");
  withOverlay(layers, S2, () => {
    assert.is(fs.readFileSync(path.join(S2, "etc/hostname"), "utf8"), "snap2\n");
    assert.is(fs.readFileSync(path.join(S2, "root/a"), "utf8"), "changed in the snapshot\n", "snap's change shows");
    assert.is(fs.readFileSync(path.join(S2, "root/b"), "utf8"), "shared\n", "the base shows below");
    assert.not.ok(fs.existsSync(path.join(S2, "root/fifo")), "snap's whiteout applies");
    assert.equal(fs.readdirSync(path.join(S2, "root/dir")), ["new"], "snap's opaque directory applies");
    fs.writeFileSync(path.join(S2, "root/a"), "snap2's\n");
    fs.rmSync(path.join(S2, "root/b"));
    fs.writeFileSync(path.join(S2, "root/only2"), "x");
  });
  assert.equal(listing(snapUpper), upperBefore, "snap's upper layer is untouched");
  assert.equal(listing(rootOf("base")), baseBefore, "the base is untouched");

  // The base running: neither a copy nor a snapshot of snap is made while its lower layer can change.
  fs.mkdirSync(path.join(h.paths.runDir, "base"), { recursive: true });
  fs.writeFileSync(path.join(h.paths.runDir, "base/pid"), String(process.pid));
  let before = listing(h.root);
  for (const extra of [[], ["--snapshot"]]) {
    r = h.cli(["clone", "snap", "snap3", ...extra]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /snap is a snapshot of base \(.*names running pid .*\), which runs: its lower layers could change under the (copy|snapshot); stop it first/);
    assert.equal(listing(h.root), before);
  }
  fs.rmSync(h.paths.runDir, { recursive: true });

  before = listing(h.root);
  r = h.cli(["destroy", "snap", "--yes"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /snap2 is a snapshot of snap .*give --force/);
  r = h.cli(["destroy", "base", "--yes"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /snap, snap2 are snapshots of base \(base's files are their lower layer\): destroy them first, or give --force \(they will not start again\)/);
  // Even --force does not remove a layer a running snapshot has mounted (a live pid file says snap2 runs).
  fs.mkdirSync(path.join(h.paths.runDir, "snap2"), { recursive: true });
  fs.writeFileSync(path.join(h.paths.runDir, "snap2/pid"), String(process.pid));
  r = h.cli(["destroy", "base", "--yes", "--force"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /snap2, a snapshot of base, is running .*stop it first/);
  fs.rmSync(h.paths.runDir, { recursive: true });
  assert.equal(listing(h.root), before, "refusals change nothing");

  r = h.cli(["destroy", "base", "--yes", "--force"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /--force: snap, snap2 lose a lower layer with base and will not start again/);
  assert.not.ok(fs.existsSync(path.join(h.paths.libDir, "base")));
  // What breaks, breaks cleanly: a clone of a snapshot without its base is refused and leaves nothing.
  const after = listing(h.root);
  r = h.cli(["clone", "snap2", "rescued"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /snap2 is a snapshot whose layer .*base\/rootfs is missing \(was its base destroyed with --force\?\)/);
  assert.equal(listing(h.root), after);
});

it("kill -9 in the middle of a full clone leaves nothing mounted or running, and the next clone cleans up and succeeds", async () => {
  makeChangedSnapshot();
  // Enough files that the copy takes a while.
  const py = "import os,sys\nfor i in range(400):\n d=os.path.join(sys.argv[1],'d%d'%i); os.makedirs(d)\n for j in range(50): open(os.path.join(d,'f%d'%j),'w').write('x'*j)";
  assert.is(spawnSync("python3", ["-c", py, path.join(rootOf("base"), "srv")]).status, 0);
  const p = h.spawnCli(["clone", "snap", "full"]);
  const partial = path.join(h.paths.libDir, "full/.rootfs.creating.partial");
  const started = await new Promise<boolean>((resolve) => {
    const until = Date.now() + 60_000;
    const tick = (): void => {
      if (fs.existsSync(path.join(partial, "srv"))) return resolve(true);
      if (Date.now() > until || p.exitCode !== null) return resolve(false);
      setTimeout(tick, 5);
    };
    tick();
  });
  assert.ok(started, "the copy started");
  p.kill("SIGKILL");
  assert.ok(await waitFor(() => p.signalCode !== null, 10_000));
  const ours = (): string[] => fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).filter((e) => {
    try {
      return fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(h.root);
    } catch {
      return false;
    }
  });
  assert.ok(await waitFor(() => ours().length === 0, 10_000), `nothing of the clone runs on: ${ours().join(" ")}`);
  assert.equal(mountsUnder(h.root), [], "the merged view was never on the host");
  assert.ok(fs.existsSync(path.join(h.paths.libDir, "full/.claim")), "the dead clone's claim is still there");
  assert.not.ok(fs.existsSync(path.join(h.paths.configDir, "full.container")), "no spec: the clone does not exist");
  const r = h.cli(["clone", "snap", "full"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /removing .*\/full, left by pid \d+ \(ended before it finished\)/);
  assert.equal(fs.readdirSync(path.join(h.paths.libDir, "full")), ["rootfs"]);
  assert.ok(fs.existsSync(path.join(rootOf("full"), "srv/d399/f49")));
});

it("names that are taken: the source itself, an existing spec, a clone in progress, a bad name; nothing is left", () => {
  makeBase();
  fs.writeFileSync(path.join(h.paths.configDir, "speconly.container"), "[Container]\n");
  fs.mkdirSync(path.join(h.paths.libDir, "busy"));
  fs.writeFileSync(path.join(h.paths.libDir, "busy/.claim"), `${process.pid}\n`);
  const before = listing(h.root);
  const cases: [string, RegExp][] = [
    ["base", /name taken: base is the source/],
    ["speconly", /name taken: .*speconly\.container exists/],
    ["busy", new RegExp(`name taken: .*busy exists \\(being made by pid ${process.pid}\\)`)],
    ["../up", /.+/],
  ];
  for (const [dst, msg] of cases) {
    for (const snap of [[], ["--snapshot"]]) {
      const r = h.cli(["clone", "base", dst, ...snap]);
      assert.is(r.code, 1, `${dst} ${snap}`);
      assert.match(r.stderr, msg);
      assert.equal(listing(h.root), before);
    }
  }
  const d = h.cli(["destroy", "busy", "--yes"]);
  assert.is(d.code, 1);
  assert.match(d.stderr, new RegExp(`busy is being made by pid ${process.pid} \\(a create or clone\\)`));
  assert.equal(listing(h.root), before);
  // A claim whose process is gone (killed) is not a taken name: create and clone remove it and go on.
  const dead = spawnSync("true").pid!;
  for (const [n, argv] of [["stale1", ["create", "stale1", "--busybox"]], ["stale2", ["clone", "base", "stale2"]]] as [string, string[]][]) {
    fs.mkdirSync(path.join(h.paths.libDir, n, ".rootfs.creating"), { recursive: true });
    fs.writeFileSync(path.join(h.paths.libDir, n, ".claim"), `${dead}\n`);
    const r = h.cli(argv);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`removing .*/${n}, left by pid ${dead}`));
    assert.equal(fs.readdirSync(path.join(h.paths.libDir, n)), ["rootfs"]);
  }
});

it("clone refuses a taken name and a running source, and leaves nothing", async () => {
  makeBase();
  assert.is(h.cli(["create", "other", "--busybox"]).code, 0);
  let before = listing(h.root);
  let r = h.cli(["clone", "base", "other"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /name taken/);
  assert.equal(listing(h.root), before);
  const R = rootOf("base");
  const p = spawn("chroot", [R, "/bin/sleep", "30"], { stdio: "ignore" });
  try {
    before = listing(h.root);
    // chroot execs sleep: wait until the process runs inside the rootfs.
    const inside = (): boolean => { try { return fs.readlinkSync(`/proc/${p.pid}/root`) === R; } catch { return false; } };
    assert.ok(await waitFor(inside, 5_000), "the sleeper runs inside base's rootfs");
    r = h.cli(["clone", "base", "copy2"]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /base is running \(processes run inside its rootfs/);
    assert.equal(listing(h.root), before);
    r = h.cli(["destroy", "base", "--yes"]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /base is running/);
    assert.equal(listing(h.root), before);
  } finally {
    p.kill("SIGKILL");
  }
});

it("destroy: refuses with no terminal and no --yes, refuses a base with snapshots, removes everything with --yes", () => {
  const pristine = listing(h.root);
  makeBase();
  fs.mkdirSync(path.join(h.paths.configDir, "base.container.d"));
  fs.writeFileSync(path.join(h.paths.configDir, "base.container.d/10-memory.conf"), "[Resources]\nMemory=256M\n");
  assert.is(h.cli(["clone", "base", "snap", "--snapshot"]).code, 0);
  assert.ok(fs.existsSync(path.join(h.paths.configDir, "snap.container.d/10-memory.conf")), "drop-ins are cloned");

  let before = listing(h.root);
  let r = h.cli(["destroy", "snap"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /refusing without --yes: no terminal/);
  assert.equal(listing(h.root), before);

  r = h.cli(["destroy", "base", "--yes"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /snap is a snapshot of base \(base's files are its lower layer\): destroy it first, or give --force \(it will not start again\)/);
  assert.equal(listing(h.root), before);

  // A pid file of a live process in the runtime directory means running.
  fs.mkdirSync(path.join(h.paths.runDir, "snap"), { recursive: true });
  fs.writeFileSync(path.join(h.paths.runDir, "snap/pid"), String(process.pid));
  r = h.cli(["destroy", "snap", "--yes"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /snap is running .*names running pid/);
  fs.rmSync(h.paths.runDir, { recursive: true });

  r = h.cli(["destroy", "snap", "--yes"]);
  assert.is(r.code, 0, r.stderr);
  r = h.cli(["destroy", "base", "--yes"]);
  assert.is(r.code, 0, r.stderr);
  // Only the (now empty) directories the first create made are left.
  assert.equal(listing(h.root).filter((l) => !pristine.includes(l)), ["etc 755 0:0 dir", "lib 700 0:0 dir"]);
  r = h.cli(["destroy", "base", "--yes"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no container 'base'/);
});

it("destroy asks on a terminal: 'n' keeps everything, 'y' removes it", () => {
  assert.is(h.cli(["create", "asked", "--busybox"]).code, 0);
  const before = listing(h.root);
  // script(1) gives the command a pty; the answer comes through it.
  const ask = (answer: string): { status: number | null; out: string } => {
    const cmd = `${process.execPath} ${path.join(__dirname, "../../cli/containerctl.js")} destroy asked`;
    const r = spawnSync("sh", ["-c", `(sleep 1; printf '%s\\n' "$1") | script -qec "$2" /dev/null`, "sh", answer, cmd], { env: h.env, encoding: "utf8", timeout: 30_000 });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  let r = ask("n");
  assert.is(r.status, 1, r.out);
  assert.match(r.out, /Destroy container asked\? This removes:/);
  assert.match(r.out, /not confirmed; nothing removed/);
  assert.equal(listing(h.root), before);
  r = ask("y");
  assert.is(r.status, 0, r.out);
  assert.not.ok(fs.existsSync(path.join(h.paths.libDir, "asked")));
  assert.not.ok(fs.existsSync(path.join(h.paths.configDir, "asked.container")));
});

test.run();
