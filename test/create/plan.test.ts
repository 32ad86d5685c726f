// The planned create of every release, whole, against golden files
// (test/create/golden/*.plan; UPDATE_GOLDEN=1 rewrites them and a reviewer
// reads the diff). No network, no root: these are the Ubuntu paths' only
// check on a Debian-only network, so they also assert the facts per release.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { planCreate, PlanError, type CreateRequest, type HostFacts } from "../../generator/create/plan";
import { planText } from "../../generator/create/plan-text";
import { allReleases, findRelease, ReleaseError } from "../../generator/create/releases";
import { defaultPaths } from "../../generator/create/paths";
import type { GuestStep } from "../../generator/create/guest-files";

const GOLDEN = path.join(__dirname, "../../../test/create/golden");
const paths = { configDir: "/etc/containerctl", libDir: "/var/lib/containerctl", runDir: "/run/containerctl", cacheDir: "/var/cache/containerctl" };
// Mirror URLs here are placeholders on the reserved example domain: plans are never run.
const host: HostFacts = {
  arch: "amd64", mirrors: { debian: "http://debian.mirror.example/debian", ubuntu: null }, nameservers: ["192.0.2.53"],
  busybox: { path: "/usr/bin/busybox", applets: ["bin/sh", "sbin/init", "sbin/getty", "usr/bin/env", "bin/busybox"] },
};
const ubuntuMirror = (archived: boolean): string => (archived ? "http://ubuntu-archive.mirror.example/ubuntu" : "http://ubuntu.mirror.example/ubuntu");

function req(distro: string, release: string, o: Partial<CreateRequest> = {}, mirror?: string): CreateRequest {
  return {
    name: "web",
    source: { kind: "debootstrap", distro, release, mirror, packages: [], checkGpg: true },
    network: { bridge: "br0", addresses: ["10.0.3.10/24"], gateways: ["10.0.3.1"], dns: [] },
    rootPasswordHash: null, authorizedKeys: null, ...o,
  };
}

function golden(name: string, text: string): void {
  const file = path.join(GOLDEN, `${name}.plan`);
  if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, text);
  assert.ok(fs.existsSync(file), `${file} is missing (UPDATE_GOLDEN=1 writes it)`);
  assert.fixture(text, fs.readFileSync(file, "utf8"), name);
}

const steps = (p: ReturnType<typeof planCreate>, op: GuestStep["op"]): GuestStep[] => p.steps.filter((s) => s.op === op);
const filePaths = (p: ReturnType<typeof planCreate>): string[] => p.steps.flatMap((s) => (s.op === "file" || s.op === "symlink" ? [s.path] : []));

for (const r of allReleases()) {
  test(`${r.distro} ${r.codename}: the planned commands and guest steps match golden/${r.distro}-${r.codename}.plan`, () => {
    const mirror = r.distro === "ubuntu" ? ubuntuMirror(r.archive === "archived") : r.archive === "archived" ? "http://debian-archive.mirror.example/debian" : undefined;
    const plan = planCreate(req(r.distro, r.codename, {}, mirror), host, paths);
    golden(`${r.distro}-${r.codename}`, planText(plan));
    const b = plan.bootstrap;
    assert.ok(b.kind === "debootstrap");
    // Both runs name the same script, suite, target kind and options but the tarball flag.
    const strip = (a: string[]): string[] => a.filter((x) => !/^--(make|unpack)-tarball=/.test(x)).slice(0, -3);
    assert.equal(strip(b.download), strip(b.install));
    assert.equal(b.install.slice(-4), [r.codename, plan.paths.staging, b.mirror, `/usr/share/debootstrap/scripts/${r.script}`]);
    assert.ok(b.install.includes(`--unpack-tarball=${b.cacheFile}`));
    assert.ok(b.download.includes(`--make-tarball=${b.cacheFile}.partial`));
    assert.ok(b.install.includes(`--keyring=${r.keyring}`));
    assert.ok(b.install.includes(r.mergedUsr ? "--merged-usr" : "--no-merged-usr"));
    assert.match(plan.specText, new RegExp(`^Guest=${r.guest}$`, "m"));
    assert.equal(plan.spec.values.guest, r.guest);
  });
}

test("lucid: upstart 0.6.5 guest, removed-keys keyring, split /usr, and none of the init shim's fixes written", () => {
  const r = findRelease("ubuntu", "10.04");
  assert.is(r.codename, "lucid");
  assert.is(r.keyring, "/usr/share/keyrings/ubuntu-archive-removed-keys.gpg");
  const plan = planCreate(req("ubuntu", "lucid", {}, ubuntuMirror(true)), host, paths);
  const files = filePaths(plan);
  // lucid-guests.md: console getty, lo/udev events, fstab, plymouth, tty and power jobs are the shim's.
  assert.equal(files.filter((f) => f.startsWith("/etc/init/") || f.startsWith("/lib/init/") || f === "/etc/fstab"), []);
  assert.not.ok(files.some((f) => /systemd/.test(f)));
  assert.ok(files.includes("/etc/network/interfaces"));
  const ifaces = steps(plan, "file").find((s) => s.op === "file" && s.path === "/etc/network/interfaces");
  // ifupdown 0.6 has no CIDR addresses.
  assert.match((ifaces as { content: string }).content, /address 10\.0\.3\.10\n\tnetmask 255\.255\.255\.0\n\tgateway 10\.0\.3\.1/);
  assert.not.ok(plan.bootstrap.kind === "debootstrap" && plan.bootstrap.install.some((a) => a.startsWith("--variant")));
});

test("precise and trusty (upstart 1.x) get a console getty job; systemd guests get none (systemd starts console-getty itself)", () => {
  for (const rel of ["precise", "trusty"]) {
    const plan = planCreate(req("ubuntu", rel, {}, ubuntuMirror(rel === "precise")), host, paths);
    assert.ok(filePaths(plan).includes("/etc/init/console-getty.conf"), rel);
  }
  const plan = planCreate(req("debian", "bookworm"), host, paths);
  assert.not.ok(filePaths(plan).some((f) => /getty/.test(f)));
});

test("archived releases need --mirror; Ubuntu needs one on a host whose apt has no Ubuntu mirror", () => {
  for (const [d, r] of [["ubuntu", "lucid"], ["ubuntu", "precise"], ["debian", "buster"], ["debian", "stretch"]]) {
    assert.throws(() => planCreate(req(d, r), host, paths), (e: Error) => e instanceof PlanError && /--mirror/.test(e.message) && /archive/.test(e.message), `${d} ${r}`);
  }
  assert.throws(() => planCreate(req("ubuntu", "jammy"), host, paths), (e: Error) => /no ubuntu mirror in this host's apt sources/.test(e.message));
  const withUbuntu = { ...host, mirrors: { debian: null, ubuntu: "http://ubuntu.mirror.example/ubuntu" } };
  const p = planCreate(req("ubuntu", "jammy"), withUbuntu, paths);
  assert.ok(p.bootstrap.kind === "debootstrap" && p.bootstrap.mirror === "http://ubuntu.mirror.example/ubuntu");
});

test("unknown distributions and releases are refused with the known ones listed", () => {
  assert.throws(() => findRelease("debian", "hamm"), (e: Error) => e instanceof ReleaseError && /bookworm \(12\)/.test(e.message));
  assert.throws(() => findRelease("fedora", "40"), (e: Error) => /unknown distribution 'fedora'/.test(e.message));
  assert.throws(() => planCreate(req("debian", "bookworm", {}, "http://x/ y"), host, paths), /not a mirror URL/);
  assert.throws(() => planCreate(req("debian", "bookworm", { source: { kind: "debootstrap", distro: "debian", release: "bookworm", packages: ["bad;pkg"], checkGpg: true } }), host, paths), /not a package name/);
});

test("DHCP and networks without an interface of their own", () => {
  const dhcp = planCreate(req("debian", "bookworm", { network: { bridge: "br0", addresses: [], gateways: [], dns: [] } }), host, paths);
  const nw = dhcp.steps.find((s) => s.op === "file" && s.path.endsWith(".network")) as { content: string };
  assert.match(nw.content, /^DHCP=yes$/m);
  assert.match(dhcp.specText, /^Type=veth$/m);
  const none = planCreate(req("debian", "bookworm", { network: { addresses: [], gateways: [], dns: [] } }), host, paths);
  assert.match(none.specText, /^Type=none$/m);
  assert.not.ok(filePaths(none).some((f) => /network/.test(f)), "no eth0 config and networkd not enabled");
  const lucid = planCreate(req("ubuntu", "lucid", { network: { bridge: "br0", addresses: [], gateways: [], dns: [] } }, ubuntuMirror(true)), host, paths);
  assert.match((lucid.steps.find((s) => s.op === "file" && s.path === "/etc/network/interfaces") as { content: string }).content, /^iface eth0 inet dhcp$/m);
});

test("root password: locked unless a hash is given; an authorized key adds openssh-server and a 0600 key file", () => {
  const locked = planCreate(req("debian", "bookworm"), host, paths);
  assert.equal(steps(locked, "root-password"), [{ op: "root-password", hash: null }]);
  const keyed = planCreate(req("debian", "bookworm", { authorizedKeys: "ssh-ed25519 AAAA test" }), host, paths);
  assert.ok(keyed.bootstrap.kind === "debootstrap" && keyed.bootstrap.install.includes("--include=dbus,iproute2,openssh-server,systemd-sysv"));
  assert.equal(keyed.steps.find((s) => s.op === "file" && s.path === "/root/.ssh/authorized_keys"), { op: "file", path: "/root/.ssh/authorized_keys", content: "ssh-ed25519 AAAA test\n", mode: 0o600 });
  const pw = planCreate(req("debian", "bookworm", { rootPasswordHash: "$6$salt$hash" }), host, paths);
  assert.equal(steps(pw, "root-password"), [{ op: "root-password", hash: "$6$salt$hash" }]);
});

test("the cache file depends on the package set and the mirror", () => {
  const a = planCreate(req("debian", "bookworm"), host, paths);
  const b = planCreate(req("debian", "bookworm", {}, "http://other.mirror.example/debian"), host, paths);
  const c = planCreate(req("debian", "bookworm", { source: { kind: "debootstrap", distro: "debian", release: "bookworm", packages: ["less"], checkGpg: true } }), host, paths);
  assert.ok(a.bootstrap.kind === "debootstrap" && b.bootstrap.kind === "debootstrap" && c.bootstrap.kind === "debootstrap");
  assert.is.not(a.bootstrap.cacheFile, b.bootstrap.cacheFile);
  assert.is(a.bootstrap.cacheFile, planCreate(req("debian", "bookworm"), host, paths).bootstrap.kind === "debootstrap" ? (planCreate(req("debian", "bookworm"), host, paths).bootstrap as { cacheFile: string }).cacheFile : "");
  assert.is.not(a.bootstrap.cacheFile, c.bootstrap.cacheFile);
  assert.match(a.bootstrap.cacheFile, /^\/var\/cache\/containerctl\/debootstrap\/debian-bookworm-amd64-minbase-[0-9a-f]{12}\.tgz$/);
});

test("busybox plan matches golden/busybox.plan; names that are no host names get a derived Hostname=", () => {
  const plan = planCreate({ ...req("", ""), source: { kind: "busybox" }, network: { bridge: "br0", addresses: [], gateways: [], dns: [] } }, host, paths);
  golden("busybox", planText(plan));
  const odd = planCreate({ ...req("", ""), name: "db_1", source: { kind: "busybox" } }, host, paths);
  assert.match(odd.specText, /^Hostname=db-1$/m);
  assert.throws(() => planCreate({ ...req("", ""), source: { kind: "busybox" } }, { ...host, busybox: null }, paths), /busybox-static/);
  assert.throws(() => planCreate({ ...req("", ""), name: "../x", source: { kind: "busybox" } }, host, paths), /container name/);
});

test("a lib directory other than the default is written as RootDirectory=", () => {
  const plan = planCreate({ ...req("", ""), source: { kind: "busybox" } }, host, { ...defaultPaths("/tmp/x"), libDir: "/srv/containers" });
  assert.match(plan.specText, /^RootDirectory=\/srv\/containers\/web\/rootfs$/m);
  const dflt = planCreate({ ...req("", ""), source: { kind: "busybox" } }, host, paths);
  assert.not.match(dflt.specText, /RootDirectory/);
});

test("defaults.conf is merged under the new spec: its DNS= reaches the guest, its conflicts are errors now, not at boot", () => {
  const defaults = { path: "/etc/containerctl/defaults.conf", text: "[Network]\nDNS=192.0.2.99\nDomains=example.net\n" };
  const plan = planCreate(req("debian", "bookworm"), { ...host, defaults }, paths);
  const resolv = plan.steps.find((s) => s.op === "file" && s.path === "/etc/resolv.conf") as { content: string };
  assert.match(resolv.content, /^search example\.net\nnameserver 192\.0\.2\.99$/m);
  const bad = { path: "/etc/containerctl/defaults.conf", text: "[Network]\nInterface=eth9\n" };
  assert.throws(() => planCreate(req("debian", "bookworm"), { ...host, defaults: bad }, paths), /Interface: applies to Type=macvlan/);
});

test("docs/create.md names every release of the table", () => {
  const doc = fs.readFileSync(path.join(GOLDEN, "../../../docs/create.md"), "utf8");
  for (const r of allReleases()) assert.ok(doc.includes(r.codename) && doc.includes(r.version), `${r.distro} ${r.codename}`);
});

test.run();
