// The init shim (runtime/shim, runtime/guest-init, upstart/guest/, docs/shim.md)
// on the real kernel: Lucid-shaped, sysvinit, OpenVZ-venet and systemd-shaped
// guests (test/lib/shim-guests.ts) booted by runtime/start. Each guest's
// /sbin/init reports what it sees; the test asserts that view exactly, that
// every job the shim gives an upstart guest passes the upstart 0.6.5 checker,
// and that the rootfs on disk (content, modes, owners, mtimes) is the same
// before start and after stop. Golden files: test/golden-shim/<case>/ hold
// what `shim prepare` writes for each fixture (UPDATE_GOLDEN=1 rewrites them).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkJob } from "../../generator/upstart-check";
import { busyboxBinary, makeBusyboxGuest } from "../lib/busybox-guest";
import { CLI, PROJECT_DIR, RUNTIME_DIR, TestContainer, buildHelper, hostSnapshot, planText, processesOf, sleep } from "../lib/runtime-harness";
import {
  LUCID_JOBS, hashTree, makeLucidGuest, makeRedhatVenetGuest, makeSysvinitGuest, makeSystemdGuest, makeVenetGuest, parseView, type View,
} from "../lib/shim-guests";

buildHelper();
const SHIM = path.join(RUNTIME_DIR, "shim");
const GOLDEN = path.join(PROJECT_DIR, "test/golden-shim");
const OURS = path.join(PROJECT_DIR, "upstart/guest");
const ourJobs = (): string[] => fs.readdirSync(OURS).filter((f) => f.endsWith(".conf")).sort();
const scratch = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-shim-"));

function detect(root: string, init = "/sbin/init"): string {
  const r = spawnSync("sh", [SHIM, "detect", root, init], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

interface Prepared { files: Map<string, string>; report: string }

/** Every file below dir (relative name → content). */
function readTree(dir: string, rel = "", into = new Map<string, string>()): Map<string, string> {
  for (const f of fs.readdirSync(path.join(dir, rel)).sort()) {
    const p = path.join(dir, rel, f);
    if (fs.statSync(p).isDirectory()) readTree(dir, path.join(rel, f), into);
    else into.set(path.join(rel, f), fs.readFileSync(p, "utf8"));
  }
  return into;
}

/** `shim prepare` into a scratch directory: every file it writes, and what it says (stdout, then stderr). */
function prepare(root: string, guest: string, ttys: number, net: string, shell: string[] = ["sh"]): Prepared {
  const out = scratch();
  try {
    const r = spawnSync(shell[0], [...shell.slice(1), SHIM, "prepare", root, guest, String(ttys), net, out], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    return { files: readTree(out), report: r.stdout + r.stderr };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Compared whole with test/golden-shim/<name>/ (files, and `report`). */
function golden(name: string, p: Prepared): void {
  const dir = path.join(GOLDEN, name);
  const all = new Map(p.files);
  all.set("report", p.report);
  if (process.env.UPDATE_GOLDEN) {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const [f, c] of all) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), c);
    }
  }
  const expected = readTree(dir);
  assert.equal([...all.keys()].sort(), [...expected.keys()].sort(), `${name}: file names`);
  for (const [f, c] of expected) assert.fixture(all.get(f)!, c);
}

function guestRoot(make?: (root: string) => void): { dir: string; root: string } {
  const dir = scratch();
  const root = makeBusyboxGuest(dir);
  make?.(root);
  return { dir, root };
}

// ---- detection, from files only ----

test("detect: each kind from the guest's files, Init= other than /sbin/init is a command", () => {
  const cases: [string, (root: string) => void, string, string?][] = [
    ["lucid", makeLucidGuest, "lucid"],
    ["upstart, not lucid", (r) => { makeLucidGuest(r); fs.writeFileSync(path.join(r, "etc/lsb-release"), "DISTRIB_CODENAME=precise\n"); }, "upstart"],
    ["upstart without initctl", (r) => { makeLucidGuest(r); fs.rmSync(path.join(r, "sbin/initctl")); }, "command"],
    ["upstart with /etc/init a symlink", (r) => {
      makeLucidGuest(r); fs.renameSync(path.join(r, "etc/init"), path.join(r, "etc/init.real")); fs.symlinkSync("init.real", path.join(r, "etc/init"));
    }, "command"],
    ["sysvinit", makeSysvinitGuest, "sysvinit"],
    ["systemd", makeSystemdGuest, "systemd"],
    ["busybox", () => {}, "command"],
    ["lucid, Init=/bin/sh", makeLucidGuest, "command", "/bin/sh"],
  ];
  for (const [what, make, kind, init] of cases) {
    const g = guestRoot(make);
    try {
      assert.is(detect(g.root, init), kind, what);
    } finally {
      fs.rmSync(g.dir, { recursive: true, force: true });
    }
  }
});

// ---- what prepare writes (golden), and the 0.6.5 checker over every job ----

const CASES: [string, (root: string) => void, string, number, string][] = [
  ["lucid", makeLucidGuest, "lucid", 2, "none"],
  ["sysvinit", makeSysvinitGuest, "sysvinit", 2, "none"],
  ["venet", makeVenetGuest, "lucid", 4, "veth"],
  ["systemd-venet", makeSystemdGuest, "systemd", 4, "veth"],
  ["redhat-venet", makeRedhatVenetGuest, "systemd", 4, "veth"],
];

test("prepare: golden files for every fixture; every shim job is valid upstart 0.6.5", () => {
  for (const [name, make, guest, ttys, net] of CASES) {
    const g = guestRoot(make);
    try {
      const before = hashTree(g.root);
      const p = prepare(g.root, guest, ttys, net);
      golden(name, p);
      // stage runs it under whichever shell runs the runtime: dash and busybox ash write the same.
      for (const shell of [["dash"], [busyboxBinary(), "sh"]]) assert.equal(prepare(g.root, guest, ttys, net, shell), p, `${name} under ${shell.join(" ")}`);
      for (const [f, c] of p.files) if (f.startsWith("init/")) assert.equal(checkJob(c), [], `${name}: ${f}`);
      assert.equal(hashTree(g.root), before, `${name}: the guest is only read`);
    } finally {
      fs.rmSync(g.dir, { recursive: true, force: true });
    }
  }
  for (const f of ourJobs()) assert.equal(checkJob(fs.readFileSync(path.join(OURS, f), "utf8")), [], f);
});

test("prepare: the Lucid shim neutralises exactly the hardware jobs and the ttys beyond Ttys=", () => {
  const g = guestRoot(makeLucidGuest);
  try {
    const p = prepare(g.root, "lucid", 2, "none");
    const jobs = [...p.files.keys()].filter((f) => f.startsWith("init/")).map((f) => f.slice(5)).sort();
    const neutral = Object.keys(LUCID_JOBS).filter((j) => /^(udev|upstart-udev-bridge|plymouth|hwclock|module-init-tools|ureadahead|tty[3-6]\.)/.test(j));
    assert.equal(jobs, [...ourJobs(), ...neutral].sort());
    // A stub keeps the conditions (multi-line ones too) and runs nothing; a task stub ends at once.
    assert.match(p.files.get("init/plymouth.conf")!, /start on \(starting mountall\n {10}or \(runlevel \[016\]\n[^]*or stopped kdm\)\)\)\nstop on/);
    assert.not.match(p.files.get("init/plymouth.conf")!, /^(exec|expect|post-start)/m);
    assert.match(p.files.get("init/udevtrigger.conf")!, /\ntask\nexec true\n$/);
    assert.not.match(p.files.get("init/module-init-tools.conf")!, /modprobe/);
  } finally {
    fs.rmSync(g.dir, { recursive: true, force: true });
  }
});

test("prepare: nothing is read through a symlink (a guest cannot show us a host file)", () => {
  const secret = path.join(scratch(), "secret");
  fs.writeFileSync(secret, "start on host-secret\nUUID=host-secret / ext4 defaults 0 1\n");
  const g = guestRoot((r) => {
    makeLucidGuest(r);
    fs.rmSync(path.join(r, "etc/init/udev.conf"));
    fs.symlinkSync(secret, path.join(r, "etc/init/udev.conf"));
    fs.rmSync(path.join(r, "etc/fstab"));
    fs.symlinkSync(secret, path.join(r, "etc/fstab"));
    fs.rmSync(path.join(r, "lib/init"), { recursive: true });
    fs.symlinkSync(path.dirname(secret), path.join(r, "lib/init"));
  });
  try {
    const p = prepare(g.root, "lucid", 4, "none");
    for (const [f, c] of p.files) assert.not.match(c, /host-secret/, f);
    assert.not.match(p.files.get("mounts")!, /fstab/);
    assert.match(p.report, /udev\.conf is a symlink: neutralised without its start conditions/);
    // /etc/init itself a symlink (to the host's /etc/init, say): no overlay over it at all.
    fs.renameSync(path.join(g.root, "etc/init"), path.join(g.root, "etc/init.real"));
    fs.symlinkSync(path.dirname(secret), path.join(g.root, "etc/init"));
    const q = prepare(g.root, "upstart", 4, "none");
    assert.not.match(q.files.get("mounts")!, /overlay/);
    assert.match(q.report, /\/etc\/init is missing or passes through a symlink: no container jobs added/);
  } finally {
    fs.rmSync(g.dir, { recursive: true, force: true });
    fs.rmSync(path.dirname(secret), { recursive: true, force: true });
  }
});

test("containerctl check NAME: the detected guest, what the shim does, warnings about what it cannot neutralise", () => {
  const g = guestRoot(makeVenetGuest);
  const cfg = path.join(g.dir, "cfg");
  try {
    fs.mkdirSync(cfg);
    fs.writeFileSync(path.join(cfg, "old.container"), `[Container]\nRootDirectory=${g.root}\nTTYs=2\n\n[Network]\nType=veth\nAddress=10.98.0.5/32\n`);
    const r = spawnSync("node", [CLI, "-C", cfg, "check", "old"], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    const p = prepare(g.root, "lucid", 2, "veth");
    const said = p.report.split("\n").filter((l) => l && !l.startsWith("warning: "));
    assert.is(r.stdout, ["old: guest lucid (detected from its files), stop signal SIGPWR", ...said.map((l) => `old: shim: ${l}`), "1 spec(s) OK, 1 warning(s)", ""].join("\n"));
    assert.is(r.stderr, `${path.join(cfg, "old.container")}: guest: /etc/fstab: /media/cdrom0 (/dev/scd0) is not mounted: the container has no such device; give it a Bind= in the spec (warning)\n`);
    // A snapshot (an overlay root) is inspected in its top lower layer, and says so.
    fs.writeFileSync(path.join(cfg, "snap.container"), `[Container]\nRootDirectory=${g.dir}/merged\nRootLowerDirectory=${g.root}\nRootUpperDirectory=${g.dir}/upper\nRootWorkDirectory=${g.dir}/work\n`);
    const snap = spawnSync("node", [CLI, "-C", cfg, "check", "snap"], { encoding: "utf8" });
    assert.is(snap.status, 0, snap.stderr);
    assert.match(snap.stdout, /^snap: guest lucid \(detected from its files\), stop signal SIGPWR$/m);
    assert.match(snap.stderr, /guest: an overlay root: the guest is inspected in its top lower layer/);
    // A spec file argument is only validated, as before.
    assert.is(spawnSync("node", [CLI, "-C", cfg, "check", path.join(cfg, "old.container")], { encoding: "utf8" }).stdout, "1 spec(s) OK\n");
  } finally {
    fs.rmSync(g.dir, { recursive: true, force: true });
  }
});

// ---- the guest-side step ----

test("guest-init: opens closed fds 0-2, sets container=, execs the init with its arguments (dash and busybox ash)", () => {
  const text = fs.readFileSync(path.join(RUNTIME_DIR, "guest-init"), "utf8");
  const probe = 'for fd in 0 1 2; do printf "%s " "$(readlink /proc/$$/fd/$fd)"; done; printf "%s|%s|%s" "$container" "$1" "$2" >&1';
  for (const sh of ["dash", busyboxBinary()]) {
    const argv = sh === "dash" ? ["dash"] : [sh, "sh"];
    // fds 0 and 2 closed, 1 a pipe we read.
    const r = spawnSync("sh", ["-c", `"$@" <&- 2>&-`, "x", ...argv, "-c", text, "containerctl-shim", "/bin/sh", "-c", probe, "init", "a b", ""], { encoding: "utf8" });
    assert.is(r.status, 0, `${sh}: ${r.stderr}`);
    assert.match(r.stdout, /^\/dev\/null (pipe|socket):\[\d+\] \/dev\/null containerctl\|a b\|$/, sh);
  }
});

// ---- booted for real ----

/** What the host shows of this container: the snapshot's other parts are ours alone, but other tests on this machine mount devpts and roots too. */
function hostOf(c: TestContainer): ReturnType<typeof hostSnapshot> {
  const s = hostSnapshot();
  return { ...s, mounts: s.mounts.filter((m) => m.includes(c.dir)) };
}

/** A TestContainer whose busybox rootfs `make` turns into a guest; the rootfs hash before anything starts; destroyed after. */
async function withGuest(prefix: string, make: (root: string) => void, fn: (c: TestContainer, before: string[]) => Promise<void>): Promise<void> {
  const c = new TestContainer(prefix);
  make(c.root);
  const before = hashTree(c.root);
  try {
    await fn(c, before);
  } finally {
    c.destroy();
  }
}

async function boot(c: TestContainer, plan: Parameters<TestContainer["start"]>[0], pre: string[] = []): Promise<View> {
  c.start(plan, {}, undefined, pre);
  await c.waitOutput(/=== end\r?\n/, 10000);
  return parseView(c.stdout);
}

async function stopAndCompare(c: TestContainer, before: string[], signal: RegExp): Promise<void> {
  const e = await c.stop();
  assert.is(e.code, 0, c.stderr);
  assert.match(c.stdout, signal);
  for (let i = 0; i < 100 && processesOf(c.name).length > 0; i++) await sleep(20);
  assert.equal(processesOf(c.name), [], "nothing of the container runs on");
  assert.equal(hashTree(c.root), before, "the rootfs on disk is unchanged");
}

/**
 * What every guest's init sees. Its environment exactly: the helper's, plus
 * what busybox sh adds (PWD, SHLVL). SHLVL=2 shows the guest-side step ran:
 * the guest's /bin/sh (level 1) exec'd the init script (level 2).
 */
function baseView(v: View, c: TestContainer, step = true): void {
  assert.is(v.pid, "1");
  assert.equal(v.fds, ["fd0=/dev/console", "fd1=/dev/console", "fd2=/dev/console"]);
  assert.is(v.console, "char");
  assert.is(v.scratch, "absent", "the shim's tmpfs is detached before init runs");
  assert.equal(v.env, [
    "LANG=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PWD=/", `SHLVL=${step ? 2 : 1}`, "TERM=linux",
    "container=containerctl", `container_name=${c.name}`,
  ]);
}

/** The mounts the guest sees, except the /proc masks (which ones depends on the kernel) and the root's type. */
const mountsSeen = (v: View): string[] => v.mounts.filter((m) => !/^\/proc\/(sysrq-trigger|kcore|keys|timer_list|kallsyms) /.test(m)).map((m) => (m.startsWith("/ ") ? "/" : m));
const BASE_MOUNTS = ["/", "/dev tmpfs", "/proc proc", "/sys sysfs", "/proc/sys proc", "/proc/sys/net proc", "/dev/pts devpts", "/dev/shm tmpfs", "/dev/console devpts"];

test("a Lucid guest boots with the shim's view: jobs, fstabs, console, env; its rootfs is unchanged", async () => {
  await withGuest("lucid", makeLucidGuest, async (c, before) => {
    const host = hostOf(c);
    const v = await boot(c, { ttys: 2, env: ["LANG=C"] });
    baseView(v, c);
    assert.equal(mountsSeen(v), [...BASE_MOUNTS, "/dev/tty1 devpts", "/dev/tty2 devpts", "/etc/init overlay", "/lib/init/fstab tmpfs", "/etc/fstab tmpfs"]);
    assert.equal(v.jobs, [...new Set([...Object.keys(LUCID_JOBS), ...ourJobs()])].sort());
    const expected = path.join(GOLDEN, "lucid");
    for (const j of v.jobs) {
      const shim = path.join(expected, "init", j);
      const want = fs.existsSync(shim) ? fs.readFileSync(shim, "utf8") : LUCID_JOBS[j];
      assert.fixture(v.files.get(`/etc/init/${j}`)!, want);
    }
    assert.fixture(v.files.get("/etc/fstab")!, fs.readFileSync(path.join(expected, "fstab"), "utf8"));
    assert.fixture(v.files.get("/lib/init/fstab")!, fs.readFileSync(path.join(expected, "lib-init-fstab"), "utf8"));
    // The host never sees the shim's mounts.
    assert.equal(hostOf(c).mounts, host.mounts);
    await stopAndCompare(c, before, /got SIGPWR/);
    c.cleanup();
    assert.equal(hostOf(c), host);
  });
});

test("kill -9 of the helper of a Lucid guest leaves nothing behind, and its rootfs unchanged", async () => {
  await withGuest("lucidkill", makeLucidGuest, async (c, before) => {
    const host = hostOf(c);
    await boot(c, { ttys: 1 });
    c.proc!.kill("SIGKILL");
    await c.waitExit();
    for (let i = 0; i < 100 && processesOf(c.name).length > 0; i++) await sleep(20);
    assert.equal(processesOf(c.name), []);
    c.cleanup();
    assert.equal(hostOf(c), host);
    assert.equal(hashTree(c.root), before);
  });
});

test("a Lucid guest as the lower layer of an overlay root (a snapshot clone): the /etc/init overlay stacks on it", async () => {
  await withGuest("lucidovl", makeLucidGuest, async (c, before) => {
    const merged = path.join(c.dir, "merged");
    fs.mkdirSync(merged);
    fs.writeFileSync(c.planFile, planText(c.name, merged, { ttys: 2, env: ["LANG=C"], extra: [`root_lower\t${c.root}`, `root_upper\t${c.dir}/upper`, `root_work\t${c.dir}/work`] }));
    c.start();
    await c.waitOutput(/=== end\r?\n/, 10000);
    const v = parseView(c.stdout);
    baseView(v, c);
    assert.equal(v.mounts.filter((m) => /^\/(etc|lib)\/|^\/ /.test(m)), ["/ overlay", "/etc/init overlay", "/lib/init/fstab tmpfs", "/etc/fstab tmpfs"]);
    assert.ok(v.jobs.includes("containerctl-boot.conf"));
    await stopAndCompare(c, before, /got SIGPWR/);
  });
});

test("a sysvinit guest gets its inittab view (console getty, SIGPWR halts, no extra ttys); rootfs unchanged", async () => {
  await withGuest("sysv", makeSysvinitGuest, async (c, before) => {
    const v = await boot(c, { ttys: 2, env: ["LANG=C"] });
    baseView(v, c);
    assert.equal(mountsSeen(v), [...BASE_MOUNTS, "/dev/tty1 devpts", "/dev/tty2 devpts", "/etc/inittab tmpfs", "/etc/fstab tmpfs"]);
    assert.fixture(v.files.get("/etc/inittab")!, fs.readFileSync(path.join(GOLDEN, "sysvinit/inittab"), "utf8"));
    // Read-only: an edit fails instead of being lost at stop.
    const edit = await c.sh("(echo x >>/etc/inittab) 2>&1; echo rc=$?");
    assert.match(edit.stdout + edit.stderr, /Read-only file system[^]*rc=[12]/);
    await stopAndCompare(c, before, /got SIGPWR/);
  });
});

test("an OpenVZ guest on venet0: eth0 keeps its addresses and default route, venet0 stanzas gone from its view", async () => {
  const ns = `ccshim${process.pid}`;
  assert.is(spawnSync("ip", ["netns", "add", ns]).status, 0);
  try {
    await withGuest("venet", makeVenetGuest, async (c, before) => {
      const v = await boot(c, {
        ttys: 4, env: ["LANG=C"], netType: "veth",
        extra: [["net_host_ifname", `vs-${process.pid % 100000}`], ["net_address", "10.98.0.5/32"], ["net_address", "10.98.0.6/32"]].map((l) => l.join("\t")),
      }, ["ip", "netns", "exec", ns]);
      baseView(v, c);
      assert.fixture(v.files.get("/etc/network/interfaces")!, fs.readFileSync(path.join(GOLDEN, "venet/interfaces"), "utf8"));
      // The helper's control socket is in the test's network namespace: find the guest init from /proc.
      const init = processesOf(c.name).find((p) => /^NSpid:\s+\d+\s+1$/m.test(fs.readFileSync(`/proc/${p}/status`, "utf8")));
      const inside = spawnSync("nsenter", ["-t", String(init), "-a", "sh", "-c", "ip -o addr show dev eth0; ip route"], { encoding: "utf8" }).stdout;
      assert.match(inside, /inet 10\.98\.0\.5\/32/);
      assert.match(inside, /inet 10\.98\.0\.6\/32/);
      assert.match(inside, /^default dev eth0/m);
      await stopAndCompare(c, before, /got SIGPWR/);
    });
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
});

test("a Red Hat-style systemd guest from OpenVZ: only its venet0 files are replaced (read-only); SIGRTMIN+3; rootfs unchanged", async () => {
  await withGuest("rhvenet", makeRedhatVenetGuest, async (c, before) => {
    const v = await boot(c, { ttys: 2, env: ["LANG=C"] });
    baseView(v, c, false);
    assert.equal(mountsSeen(v), [...BASE_MOUNTS, "/dev/tty1 devpts", "/dev/tty2 devpts",
      "/etc/sysconfig/network-scripts/ifcfg-venet0 tmpfs", "/etc/sysconfig/network-scripts/ifcfg-venet0:0 tmpfs", "/etc/sysconfig/network tmpfs"]);
    assert.fixture(v.files.get("/etc/sysconfig/network-scripts/ifcfg-venet0")!, fs.readFileSync(path.join(GOLDEN, "redhat-venet/ifcfg-venet0"), "utf8"));
    assert.fixture(v.files.get("/etc/sysconfig/network")!, fs.readFileSync(path.join(GOLDEN, "redhat-venet/sysconfig-network"), "utf8"));
    await stopAndCompare(c, before, /got SIGRTMIN\+3/);
  });
});

test("a systemd guest is left alone: no mount over its files, SIGRTMIN+3 stops it; rootfs unchanged", async () => {
  await withGuest("sysd", (r) => {
    makeSystemdGuest(r);
    fs.rmSync(path.join(r, "etc/network/interfaces")); // the venet fix is the only shim a systemd guest can get
  }, async (c, before) => {
    const v = await boot(c, { ttys: 2, env: ["LANG=C"] });
    baseView(v, c, false); // no guest-side step: its init runs directly
    assert.equal(mountsSeen(v), [...BASE_MOUNTS, "/dev/tty1 devpts", "/dev/tty2 devpts"]);
    assert.fixture(v.files.get("/etc/init/udev.conf")!, LUCID_JOBS["udev.conf"]);
    await stopAndCompare(c, before, /got SIGRTMIN\+3/);
  });
});

test.run();
