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
  assert.equal(layers, { lower: rootOf("base"), upper: path.join(h.paths.libDir, "snap/upper"), work: path.join(h.paths.libDir, "snap/work") });
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

  // A snapshot of a snapshot would make a running overlay's upper someone's lower.
  const again = h.cli(["clone", "snap", "snap2", "--snapshot"]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /itself a snapshot/);
});

it("clone refuses a taken name and a running source, and leaves nothing", () => {
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
    assert.ok(spawnSync("sh", ["-c", "sleep 0.5"]).status === 0 && inside());
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

it("destroy: refuses with no terminal and no --yes, refuses a base with snapshots, removes everything with --yes", async () => {
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
  assert.match(r.stderr, /snap is a snapshot of base: destroy it first/);
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
  assert.ok(await waitFor(() => true, 1));
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
