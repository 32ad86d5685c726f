// containerctl create NAME --busybox end to end, as root, in a temporary host
// layout: the spec is valid, the rootfs boots with its own init, nothing else
// changed; and the failures that must leave nothing behind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../../generator/spec/load";
import { isStaticElf } from "../../generator/create/create";
import { listing, mountsUnder, skipReason, tempHost, waitFor, type TempHost } from "./env";

// Connections to a closed port can time out (not be refused) in sandboxes: keep the check short.
process.env.CONTAINERCTL_MIRROR_TIMEOUT_MS = "5000";
const skip = skipReason();
const it = skip ? test.skip : test;
if (skip) console.log(`create busybox tests skipped: ${skip}`);

let h: TempHost;
test.before.each(() => {
  h = tempHost();
});
test.after.each(() => h.cleanup());

/** The real host's container directories must not change either. */
const realDirs = ["/etc/containerctl", "/var/lib/containerctl"];
const realBefore = realDirs.map((d) => listing(d).join("\n"));

it("create --busybox: a valid spec, a bootable rootfs, and nothing else changed", () => {
  const before = listing(h.root);
  const t0 = Date.now();
  const r = h.cli(["create", "tiny", "--busybox", "--bridge", "br0"]);
  const ms = Date.now() - t0;
  assert.is(r.code, 0, r.stderr);
  console.log(`busybox create took ${ms} ms`);
  const after = listing(h.root);
  const added = after.filter((l) => !before.includes(l));
  // Only the spec and the container's directory are new.
  for (const l of added) assert.ok(l.startsWith("etc ") || l.startsWith("etc/tiny.container ") || l.startsWith("lib ") || l.startsWith("lib/tiny"), `unexpected: ${l}`);
  assert.ok(added.some((l) => l.startsWith("etc/tiny.container ")));
  assert.not.ok(after.some((l) => /creating|\.tmp-|containerctl-\d/.test(l)), "no temporary files left");

  const spec = loadSpec(h.paths.configDir, "tiny");
  assert.equal(spec.errors, []);
  const v = spec.spec!.values;
  assert.is(v.root, path.join(h.paths.libDir, "tiny/rootfs"));
  assert.is(v.guest, "sysvinit");
  assert.is(v.netType, "veth");
  assert.is(v.bridge, "br0");

  const R = v.root!;
  assert.ok(isStaticElf(path.join(R, "bin/busybox")));
  assert.is(fs.readlinkSync(path.join(R, "sbin/init")), "../bin/busybox");
  assert.is(fs.readlinkSync(path.join(R, "bin/sh")), "busybox");
  assert.is(fs.realpathSync(path.join(R, "usr/bin/env")), path.join(fs.realpathSync(R), "bin/busybox"), "links resolve inside the guest");
  assert.match(fs.readFileSync(path.join(R, "etc/inittab"), "utf8"), /^::respawn:\/sbin\/getty .* console/m);
  assert.is(fs.statSync(path.join(R, "etc/init.d/rcS")).mode & 0o777, 0o755);
  assert.is(fs.readFileSync(path.join(R, "etc/hostname"), "utf8"), "tiny\n");
  assert.match(fs.readFileSync(path.join(R, "etc/hosts"), "utf8"), /^127\.0\.1\.1\ttiny$/m);
  assert.match(fs.readFileSync(path.join(R, "etc/network/interfaces"), "utf8"), /^iface eth0 inet dhcp$/m);
  assert.ok(fs.existsSync(path.join(R, "etc/resolv.conf")));
  assert.match(fs.readFileSync(path.join(R, "etc/shadow"), "utf8"), /^root:!:/m);
  assert.is(fs.statSync(path.join(R, "tmp")).mode & 0o7777, 0o1777);
  assert.equal(realDirs.map((d) => listing(d).join("\n")), realBefore);
});

it("the busybox guest boots with its own init (rcS brings lo up) and halts on SIGPWR", async () => {
  assert.is(h.cli(["create", "tiny", "--busybox"]).code, 0);
  const R = path.join(h.paths.libDir, "tiny/rootfs");
  const child = spawn("unshare", ["--fork", "--pid", "--mount", "--uts", "--net", `--mount-proc=${R}/proc`, "chroot", R, "/sbin/init"], { stdio: "ignore" });
  const initPid = (): number | null => {
    for (const e of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(e)) continue;
      try {
        if (fs.readlinkSync(`/proc/${e}/root`) === R && fs.readFileSync(`/proc/${e}/cmdline`, "utf8").startsWith("init")) return Number(e);
      } catch { /* gone */ }
    }
    return null;
  };
  try {
    assert.ok(await waitFor(() => initPid() !== null, 5000), "busybox init runs");
    const pid = initPid()!;
    const lo = (): string => spawnSync("nsenter", ["-t", String(pid), "-n", "ip", "-o", "addr", "show", "dev", "lo"], { encoding: "utf8" }).stdout;
    assert.ok(await waitFor(() => /127\.0\.0\.1/.test(lo()), 5000), `rcS ran ifup -a: ${lo()}`);
    process.kill(pid, "SIGPWR");
    // unshare ends with its child's signal (a halted pid-namespace init dies of SIGINT).
    assert.ok(await waitFor(() => child.exitCode !== null || child.signalCode !== null, 10_000), "init ended on SIGPWR");
  } finally {
    child.kill("SIGKILL");
  }
});

it("name taken: an existing spec or data directory is left alone and nothing is added", () => {
  fs.mkdirSync(h.paths.configDir, { recursive: true });
  fs.writeFileSync(path.join(h.paths.configDir, "web.container"), "[Container]\nHostname=keep\n");
  let before = listing(h.root);
  let r = h.cli(["create", "web", "--busybox"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /name taken: .*web\.container exists/);
  assert.equal(listing(h.root), before);
  assert.is(fs.readFileSync(path.join(h.paths.configDir, "web.container"), "utf8"), "[Container]\nHostname=keep\n");

  fs.mkdirSync(path.join(h.paths.libDir, "db/rootfs"), { recursive: true });
  fs.writeFileSync(path.join(h.paths.libDir, "db/rootfs/keep"), "x");
  before = listing(h.root);
  r = h.cli(["create", "db", "--busybox"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /name taken: .*lib\/db exists/);
  assert.equal(listing(h.root), before);
});

it("bad names, unknown releases and bad options change nothing", () => {
  const before = listing(h.root);
  for (const [args, msg] of [
    [["create", "../x", "--busybox"], /container name/],
    [["create", "web", "--distro", "debian", "--release", "hamm"], /unknown debian release 'hamm' \(known: .*bookworm/],
    [["create", "web", "--distro", "gentoo", "--release", "1"], /unknown distribution 'gentoo'/],
    [["create", "web", "--distro", "ubuntu", "--release", "lucid"], /--mirror URL of an archive of past ubuntu releases/],
    [["create", "web", "--busybox", "--address", "10.0.0.300/24"], /not an IP address/],
    [["create", "web"], /give either --busybox or --distro and --release/],
  ] as [string[], RegExp][]) {
    const r = h.cli(args);
    assert.is(r.code, 1, args.join(" "));
    assert.match(r.stderr, msg);
  }
  assert.equal(listing(h.root), before);
});

it("no space: a full filesystem mid-way (inodes) and too little space up front both leave nothing", () => {
  fs.mkdirSync(h.paths.libDir, { recursive: true });
  // Enough bytes for the pre-check, too few inodes for ~300 applet links.
  assert.is(spawnSync("mount", ["-t", "tmpfs", "-o", "size=64m,nr_inodes=60", "cc-test", h.paths.libDir]).status, 0);
  try {
    const before = listing(h.root);
    let r = h.cli(["create", "tiny", "--busybox"]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /no space/);
    assert.equal(listing(h.root), before);
    assert.equal(fs.readdirSync(h.paths.libDir), []);
    spawnSync("umount", [h.paths.libDir]);
    assert.is(spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "cc-test", h.paths.libDir]).status, 0);
    r = h.cli(["create", "tiny", "--busybox"]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /no space: .* free under /);
    assert.equal(fs.readdirSync(h.paths.libDir), []);
  } finally {
    spawnSync("umount", [h.paths.libDir]);
  }
  assert.equal(mountsUnder(h.root), []);
});

it("unreachable mirror: the download fails with a clear message and leaves nothing, in the cache either", () => {
  const before = listing(h.root);
  const r = h.cli(["create", "web", "--distro", "debian", "--release", "bookworm", "--mirror", "http://127.0.0.1:9/debian"], { timeoutMs: 300_000 });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /mirror is unreachable/);
  const added = listing(h.root).filter((l) => !before.includes(l));
  // The cache directories may now exist, empty; nothing else.
  assert.equal(added.filter((l) => !/^(cache|cache\/debootstrap) [0-7]+ 0:0 dir$/.test(l)), []);
  assert.equal(mountsUnder(h.root), []);
});

it("debootstrap missing from PATH: create says so, tries apt-get, and fails cleanly when it is still not found", () => {
  const before = listing(h.root);
  // /usr/sbin (debootstrap's home) is left out; apt-get in /usr/bin finds it installed already and changes nothing.
  const r = spawnSync(process.execPath, [path.join(__dirname, "../../cli/containerctl.js"), "create", "web", "--distro", "debian", "--release", "bookworm", "--mirror", "http://127.0.0.1:9/debian"], {
    env: { ...h.env, PATH: "/usr/bin:/bin" }, encoding: "utf8", timeout: 120_000,
  });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /debootstrap is not installed; installing it now with: apt-get install -y debootstrap/);
  assert.match(r.stderr, /could not install debootstrap/);
  assert.equal(listing(h.root), before);
});

it("--dry-run prints the plan and changes nothing", () => {
  const before = listing(h.root);
  const r = h.cli(["create", "web", "--distro", "debian", "--release", "trixie", "--mirror", "http://127.0.0.1:9/debian", "--dry-run"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^debootstrap .*--unpack-tarball=.* trixie .*\/lib\/web\/\.rootfs\.creating http:\/\/127\.0\.0\.1:9\/debian \/usr\/share\/debootstrap\/scripts\/sid$/m);
  assert.equal(listing(h.root), before);
});

it("--root-password sets a SHA-512 hash (read from stdin with '-'); --authorized-key is refused for busybox", () => {
  let r = h.cli(["create", "pw", "--busybox", "--root-password", "-"], { input: "s3cret\n" });
  assert.is(r.code, 0, r.stderr);
  const shadow = fs.readFileSync(path.join(h.paths.libDir, "pw/rootfs/etc/shadow"), "utf8");
  const hash = /^root:([^:]*):/m.exec(shadow)![1];
  assert.match(hash, /^\$6\$/);
  const salt = hash.split("$")[2];
  const again = spawnSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: "s3cret\n", encoding: "utf8" }).stdout.trim();
  assert.is(hash, again, "the hash is of the password given");
  fs.writeFileSync(path.join(h.root, "key.pub"), "ssh-ed25519 AAAAC3Nza test\n");
  r = h.cli(["create", "k", "--busybox", "--authorized-key", path.join(h.root, "key.pub")]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /needs an SSH server/);
});

test.run();
