// Small pure pieces of create: debootstrap progress parsing and the bar,
// the default mirror from apt's sources, and guest writes that must never
// follow a guest's symlinks out of its root.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { debootstrapEvent, makeReporter, tracker } from "../../generator/create/progress";
import { mirrorsFromIndexTargets, mirrorsFromSources, parseAptSources } from "../../generator/create/mirror";
import { applySteps, GuestFsError } from "../../generator/create/guest-fs";
import { nameserversOf } from "../../generator/create/create";
import { parseLayers, renderLayers, overlayMountArgv } from "../../generator/create/layers";
import { withoutKeys } from "../../generator/create/clone";

test("debootstrap lines become package events; index downloads and phase headers do not", () => {
  assert.equal(debootstrapEvent("I: Retrieving libc6 2.36-9+deb12u4"), { phase: "download", item: "libc6" });
  assert.equal(debootstrapEvent("I: Retrieving Release "), null);
  assert.equal(debootstrapEvent("I: Retrieving Packages "), null);
  assert.equal(debootstrapEvent("I: Extracting base-files..."), { phase: "unpack", item: "base-files" });
  assert.equal(debootstrapEvent("I: Unpacking libc6:amd64..."), { phase: "unpack", item: "libc6" });
  assert.equal(debootstrapEvent("I: Unpacking required packages..."), null);
  assert.equal(debootstrapEvent("I: Configuring the base system..."), null);
  assert.equal(debootstrapEvent("I: Configuring systemd-sysv..."), { phase: "configure", item: "systemd-sysv" });
  assert.equal(debootstrapEvent("I: Base system installed successfully."), null);
});

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { text: "", isTTY, columns: 60, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test("progress: a redrawn bar on a terminal, a few plain lines otherwise", () => {
  const lines = Array.from({ length: 8 }, (_, i) => `I: Configuring pkg${i}...`);
  const tty = fakeStream(true);
  const feedTty = tracker(makeReporter("web", tty, true), 8);
  lines.forEach(feedTty);
  assert.match(tty.text, /\r\x1b\[Kconfigure +\[#{30}\] 8\/8 pkg7/);
  assert.not.match(tty.text, /\n/, "one line, redrawn");
  const plain = fakeStream(false);
  const feed = tracker(makeReporter("web", plain, false), 8);
  lines.forEach(feed);
  assert.equal(plain.text.trimEnd().split("\n"), [
    "containerctl: web: configure 1/8 (pkg0)", "containerctl: web: configure 2/8 (pkg1)", "containerctl: web: configure 4/8 (pkg3)",
    "containerctl: web: configure 6/8 (pkg5)", "containerctl: web: configure 8/8 (pkg7)",
  ]);
});

test("the default mirror: apt's index targets first, else a main source for the host's own codename", () => {
  const targets = [
    "http://d.example/debian/\tDebian\tDebian\tbookworm\tdeb",
    "http://d.example/debian/\tDebian\tDebian\tbookworm-updates\tdeb",
    "http://s.example/debian-security/\tDebian\tDebian-Security\tbookworm-security\tdeb",
    "http://u.example/ubuntu/\tUbuntu\tUbuntu\tnoble\tdeb",
    "http://x.example/node/\tNodeSource\tNodeSource\tnodistro\tdeb",
  ].join("\n");
  assert.equal(mirrorsFromIndexTargets(targets), { debian: "http://d.example/debian/", ubuntu: "http://u.example/ubuntu/" });
  const deb822 = "Types: deb\n# comment\nURIs: http://d.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://s.example/sec\nSuites: bookworm-security\nComponents: main\nEnabled: no\n";
  const list = "deb [arch=amd64] http://u.example/ubuntu noble main universe\n# deb http://old.example/ubuntu jammy main\n";
  const sources = [...parseAptSources(deb822, true), ...parseAptSources(list, false)];
  assert.equal(mirrorsFromSources(sources, 'ID=debian\nVERSION_CODENAME=bookworm\n'), { debian: "http://d.example/debian", ubuntu: null });
  assert.equal(mirrorsFromSources(sources, 'ID=ubuntu\nVERSION_CODENAME="noble"\n'), { debian: null, ubuntu: "http://u.example/ubuntu" });
  assert.equal(mirrorsFromSources(sources, "ID=fedora\n"), { debian: null, ubuntu: null });
});

test("host name servers: loopback stub resolvers are the host's own and are dropped", () => {
  assert.equal(nameserversOf("nameserver 127.0.0.53\nnameserver 192.0.2.1\n# nameserver 192.0.2.9\nnameserver ::1\nnameserver 2001:db8::1\n"), ["192.0.2.1", "2001:db8::1"]);
});

test("guest writes never follow the guest's symlinks out of its root", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cc-guestfs-"));
  try {
    const root = path.join(tmp, "root"), outside = path.join(tmp, "outside");
    fs.mkdirSync(root);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, "hostname"), "host file\n");
    // /etc a symlink to a host directory: refused, nothing written there.
    fs.symlinkSync(outside, path.join(root, "etc"));
    assert.throws(() => applySteps(root, [{ op: "file", path: "/etc/hostname", content: "guest\n", mode: 0o644 }]), (e: Error) => e instanceof GuestFsError && /symlink/.test(e.message));
    assert.is(fs.readFileSync(path.join(outside, "hostname"), "utf8"), "host file\n");
    // /etc/hostname a symlink to a host file: the link is replaced, the host file untouched.
    fs.rmSync(path.join(root, "etc"));
    fs.mkdirSync(path.join(root, "etc"));
    fs.symlinkSync(path.join(outside, "hostname"), path.join(root, "etc/hostname"));
    applySteps(root, [{ op: "file", path: "/etc/hostname", content: "guest\n", mode: 0o644 }]);
    assert.is(fs.readFileSync(path.join(outside, "hostname"), "utf8"), "host file\n");
    assert.ok(fs.lstatSync(path.join(root, "etc/hostname")).isFile());
    assert.is(fs.readFileSync(path.join(root, "etc/hostname"), "utf8"), "guest\n");
    // /etc/shadow a symlink: the password step refuses.
    fs.symlinkSync(path.join(outside, "hostname"), path.join(root, "etc/shadow"));
    assert.throws(() => applySteps(root, [{ op: "root-password", hash: null }]), /not a regular file/);
    assert.throws(() => applySteps(root, [{ op: "file", path: "/etc/../x", content: "", mode: 0o644 }]), /bad guest path/);
    // Locking keeps an existing hash, behind "!".
    fs.rmSync(path.join(root, "etc/shadow"));
    fs.writeFileSync(path.join(root, "etc/shadow"), "root:$6$s$h:1::::::\nbin:*:1::::::\n", { mode: 0o640 });
    applySteps(root, [{ op: "root-password", hash: null }]);
    assert.is(fs.readFileSync(path.join(root, "etc/shadow"), "utf8"), "root:!$6$s$h:1::::::\nbin:*:1::::::\n");
    assert.is(fs.statSync(path.join(root, "etc/shadow")).mode & 0o777, 0o640);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("snapshot layers round-trip; paths overlayfs cannot take are refused", () => {
  const l = { lower: ["/var/lib/containerctl/web/upper", "/var/lib/containerctl/base/rootfs"], upper: "/var/lib/containerctl/web2/upper", work: "/var/lib/containerctl/web2/work" };
  assert.equal(parseLayers(renderLayers("web2", l, "/var/lib/containerctl/web2/rootfs")), l);
  assert.equal(overlayMountArgv(l, "/t"), ["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${l.lower.join(":")},upperdir=${l.upper},workdir=${l.work}`, "--", "/t"]);
  assert.throws(() => renderLayers("x", { ...l, lower: ["/a,b"] }, "/t"), /cannot be an overlay layer/);
  assert.throws(() => parseLayers("lower\t/a\nupper\t/b\n"), /no work/);
  assert.throws(() => parseLayers("upper\t/b\nwork\t/c\n"), /no lower/);
});

test("clone drops the keys that must differ, continuation lines included", () => {
  const text = "[Container]\nHostname=web\nRootDirectory=/srv/a \\\n  b\nDescription=x\n[Network]\nMACAddress=02:00:00:00:00:01\nType=none\n";
  assert.is(withoutKeys("web.container", text, ["hostname", "root", "mac"]), "[Container]\nDescription=x\n[Network]\nType=none\n");
});

test.run();
