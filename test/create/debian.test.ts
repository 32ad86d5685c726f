// A real Debian bookworm create (debootstrap minbase from this host's apt
// mirror), cached between runs under /var/cache/containerctl-test/create so
// only the first run downloads; then the second create from the cache, and
// interruptions during the install and during a download leave nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../../generator/spec/load";
import { hostMirrors } from "../../generator/create/mirror";
import { listing, mountsUnder, skipReason, tempHost, waitFor, type TempHost } from "./env";

const CACHE = process.env.CONTAINERCTL_TEST_CACHE ? path.join(process.env.CONTAINERCTL_TEST_CACHE, "create") : "/var/cache/containerctl-test/create";
const skip = skipReason();
const it = skip ? test.skip : test;
if (skip) console.log(`debian create tests skipped: ${skip}`);

let h: TempHost;
test.before.each(() => {
  h = tempHost(CACHE);
});
test.after.each(() => h.cleanup());

function checkGuest(name: string, hostname: string): void {
  const spec = loadSpec(h.paths.configDir, name);
  assert.equal(spec.errors, []);
  const v = spec.spec!.values;
  assert.is(v.guest, "systemd");
  const R = v.root!;
  assert.is(fs.readlinkSync(path.join(R, "sbin/init")), "/lib/systemd/systemd");
  assert.ok(fs.existsSync(path.join(R, "lib/systemd/systemd")));
  assert.is(fs.readFileSync(path.join(R, "etc/hostname"), "utf8"), `${hostname}\n`);
  assert.is(fs.statSync(path.join(R, "etc/machine-id")).size, 0, "each container makes its own machine-id at first boot");
  assert.is(fs.readlinkSync(path.join(R, "var/lib/dbus/machine-id")), "/etc/machine-id", "D-Bus's machine id follows it");
  assert.match(fs.readFileSync(path.join(R, "etc/shadow"), "utf8"), /^root:!/m);
  assert.equal(fs.readdirSync(path.join(R, "var/cache/apt/archives")).filter((f) => f.endsWith(".deb")), []);
  // systemd-networkd enabled as `systemctl enable` would, with a unit that exists in the guest.
  const link = path.join(R, "etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
  assert.ok(fs.existsSync(path.join(R, fs.readlinkSync(link))), "networkd's unit is where the link points");
  // The console getty comes from systemd's getty generator in a container: its unit must be there.
  assert.ok(fs.existsSync(path.join(R, "lib/systemd/system/console-getty.service")));
  assert.ok(fs.existsSync(path.join(R, "sbin/agetty")) && fs.existsSync(path.join(R, "bin/login")));
  assert.not.ok(fs.existsSync(path.join(R, "debootstrap")), "debootstrap finished its second stage");
}

it("create --distro debian --release bookworm: download once into the cache, then a second create from the cache alone", () => {
  const before = listing(h.root);
  let t0 = Date.now();
  let r = h.cli(["create", "deb", "--distro", "debian", "--release", "bookworm", "--bridge", "br0"], { timeoutMs: 30 * 60_000 });
  assert.is(r.code, 0, r.stderr);
  console.log(`bookworm create: ${((Date.now() - t0) / 1000).toFixed(1)}s${/downloading/.test(r.stderr) ? " (downloaded into the cache)" : " (from the cache)"}`);
  checkGuest("deb", "deb");
  const R = path.join(h.paths.libDir, "deb/rootfs");
  assert.match(fs.readFileSync(path.join(R, "etc/systemd/network/80-containerctl-eth0.network"), "utf8"), /^DHCP=yes$/m);
  const added = listing(h.root).filter((l) => !before.includes(l));
  for (const l of added) assert.ok(/^(etc|etc\/deb\.container|lib|lib\/deb|lib\/deb\/rootfs(\/.*)?) /.test(l), `unexpected: ${l}`);

  // The second create: the mirror is not asked (a mirror that cannot answer would fail it).
  t0 = Date.now();
  r = h.cli(["create", "deb2", "--distro", "debian", "--release", "bookworm", "--address", "10.0.3.5/24", "--gateway", "10.0.3.1", "--bridge", "br0", "--hostname", "second"], { timeoutMs: 30 * 60_000 });
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /downloading/);
  // The first install from this cache kept the installed system: the second only unpacks it.
  assert.match(r.stderr, /unpacking the installed debian bookworm from the cache/);
  const secs = (Date.now() - t0) / 1000;
  console.log(`bookworm create from the cache: ${secs.toFixed(1)}s`);
  assert.ok(secs < 30, `a create from the cache takes seconds, not dpkg's minute (${secs}s)`);
  checkGuest("deb2", "second");
  const net = fs.readFileSync(path.join(h.paths.libDir, "deb2/rootfs/etc/systemd/network/80-containerctl-eth0.network"), "utf8");
  assert.match(net, /^Address=10\.0\.3\.5\/24\nGateway=10\.0\.3\.1$/m);
  assert.match(fs.readFileSync(path.join(h.paths.libDir, "deb2/rootfs/etc/hosts"), "utf8"), /^10\.0\.3\.5\tsecond$/m);
  assert.equal(mountsUnder(h.root), []);
});

it("SIGTERM during debootstrap's install: exit 143, nothing kept, nothing mounted", async () => {
  const before = listing(h.root);
  // Extra packages: no installed-rootfs cache, so debootstrap's dpkg runs (and mounts /proc in the target).
  const p = h.spawnCli(["create", "cut", "--distro", "debian", "--release", "bookworm", "--packages", "less"]);
  let err = "";
  p.stderr!.on("data", (d) => (err += d));
  // Wait until dpkg runs inside the new rootfs (debootstrap's second stage mounts /proc there).
  const staging = path.join(h.paths.libDir, "cut/.rootfs.creating");
  assert.ok(await waitFor(() => /configure \d+/.test(err) || mountsUnder(staging).length > 0, 10 * 60_000), err);
  p.kill("SIGTERM");
  assert.ok(await waitFor(() => p.exitCode !== null, 60_000), "create ended");
  assert.is(p.exitCode, 143, err);
  assert.match(err, /interrupted by SIGTERM; nothing was kept/);
  assert.equal(listing(h.root), before);
  assert.equal(mountsUnder(h.root), []);
});

it("SIGINT during a download into an empty cache: exit 130, no partial download kept", async () => {
  const cache = path.join(h.root, "fresh-cache");
  const env = { ...h.env, CONTAINERCTL_CACHE_DIR: cache };
  const { spawn } = await import("node:child_process");
  const p = spawn(process.execPath, [path.join(__dirname, "../../cli/containerctl.js"), "create", "dl", "--distro", "debian", "--release", "bookworm"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  p.stderr!.on("data", (d) => (err += d));
  assert.ok(await waitFor(() => /download \d+/.test(err), 5 * 60_000), err);
  p.kill("SIGINT");
  assert.ok(await waitFor(() => p.exitCode !== null, 60_000), "create ended");
  assert.is(p.exitCode, 130, err);
  assert.match(err, /interrupted by SIGINT/);
  assert.equal(listing(cache).filter((l) => !/^debootstrap [0-7]+ 0:0 dir$/.test(l)), [], "no .partial, .download, .lock or .wgetrc left");
  assert.not.ok(fs.existsSync(path.join(h.paths.libDir, "dl")));
  assert.not.ok(fs.existsSync(path.join(h.paths.configDir, "dl.container")));
});

it("a release the mirror does not have is reported as such, quickly", () => {
  const mirror = hostMirrors().debian;
  assert.ok(mirror, "this host's apt has a Debian mirror");
  const t0 = Date.now();
  // stretch was moved off the regular mirrors to the archive of past releases.
  const r = h.cli(["create", "old", "--distro", "debian", "--release", "stretch", "--mirror", mirror!]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /the mirror does not have stretch \(.*: 404 Not Found\)/);
  assert.ok(Date.now() - t0 < 60_000);
  assert.not.ok(fs.existsSync(path.join(h.paths.libDir, "old")));
});

test.run();
