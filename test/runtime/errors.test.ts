// What start refuses: each gets one clear line on stderr, a non-zero exit,
// and nothing mounted or left running.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RUNTIME_DIR, TestContainer, buildHelper, hostSnapshot, processesOf, type PlanOptions } from "../lib/runtime-harness";

buildHelper();

/** Starts with a broken setup; returns stderr after checking exit status and leftovers. */
async function refused(prefix: string, setup: (c: TestContainer) => PlanOptions | void, env: Record<string, string> = {}, code?: number): Promise<string> {
  const before = hostSnapshot();
  const c = new TestContainer(prefix);
  try {
    const plan = setup(c) ?? {};
    c.start(plan, env);
    const exit = await c.waitExit();
    assert.is.not(exit.code, 0, `refused: ${c.stdout}`);
    if (code !== undefined) assert.is(exit.code, code, "exit status");
    assert.not.match(c.stdout, /init up/, "the guest never ran");
    assert.equal(processesOf(c.name), []);
    const after = hostSnapshot();
    assert.equal(after.mounts, before.mounts);
    assert.equal(after.unixSockets, before.unixSockets);
    return c.stderr;
  } finally {
    c.destroy();
  }
}

const oneLine = (s: string): void => assert.is(s.trim().split("\n").length, 1, `one line: ${s}`);

test("a missing root directory", async () => {
  const err = await refused("noroot", (c) => {
    fs.rmSync(c.root, { recursive: true });
  });
  oneLine(err);
  assert.match(err, /^containerctl: t-noroot-\S+: root directory '.*\/rootfs' does not exist$/m);
});

test("a root without its init", async () => {
  const err = await refused("noinit", (c) => {
    fs.rmSync(path.join(c.root, "sbin/init"));
  });
  oneLine(err);
  assert.match(err, /the root filesystem has no init '\/sbin\/init'/);
});

test("/proc, /sys or /dev as a symlink pointing outside is refused before anything is mounted", async () => {
  for (const d of ["proc", "sys", "dev"]) {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-outside-"));
    try {
      const err = await refused(`link-${d}`, (c) => {
        fs.rmSync(path.join(c.root, d), { recursive: true });
        fs.symlinkSync(outside, path.join(c.root, d));
      });
      oneLine(err);
      assert.match(err, new RegExp(`'.*/rootfs/${d}' is a symlink; refusing to mount over it`));
      assert.equal(fs.readdirSync(outside), [], "nothing created outside");
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  }
});

test("a bind target through a symlink, or with '..', is refused", async () => {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-outside-"));
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-src-"));
  try {
    let err = await refused("bind-link", (c) => {
      fs.symlinkSync(outside, path.join(c.root, "var", "www"));
      return { binds: [[src, "/var/www/html", "rw"]] };
    });
    oneLine(err);
    assert.match(err, /bind target '\/var\/www\/html' goes through the symlink '\/var\/www'/);
    assert.equal(fs.readdirSync(outside), [], "nothing created outside");
    err = await refused("bind-dots", () => ({ binds: [[src, "/tmp/../../etc", "rw"]] }));
    assert.match(err, /contains '\.\.'/);
    err = await refused("bind-nosrc", () => ({ binds: [[`${src}/missing`, "/mnt", "rw"]] }));
    assert.match(err, /bind source '.*\/missing' does not exist/);
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
    fs.rmSync(src, { recursive: true, force: true });
  }
});

test("a plan of another version or for another name", async () => {
  let err = await refused("version", (c) => {
    c.writePlan();
    fs.writeFileSync(c.planFile, fs.readFileSync(c.planFile, "utf8").replace("version\t1", "version\t2"));
  });
  assert.match(err, /version '2' is not supported/);
  err = await refused("other", (c) => {
    c.writePlan();
    fs.writeFileSync(c.planFile, fs.readFileSync(c.planFile, "utf8").replace(/^name\t.*$/m, "name\tsomeone-else"));
  });
  assert.match(err, /is for 'someone-else'/);
  const p = spawnSync(path.join(RUNTIME_DIR, "start"), ["nope"], { env: { ...process.env, CONTAINERCTL_PLAN: "/nonexistent/plan" }, encoding: "utf8" });
  assert.is(p.status, 1);
  assert.match(p.stderr, /^containerctl: nope: no plan at '\/nonexistent\/plan'/);
});

test("an unknown capability name", async () => {
  const err = await refused("cap", () => ({ capDrop: ["sys_module", "not_a_cap"] }));
  assert.match(err, /unknown capability 'not_a_cap'/);
});

test("a util-linux without what we need (here: an unshare that fails) stops the start cleanly", async () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-bin-"));
  try {
    fs.writeFileSync(path.join(bin, "unshare"), "#!/bin/sh\necho \"unshare: unrecognized option '--cgroup'\" >&2\nexit 1\n", { mode: 0o755 });
    const err = await refused("nounshare", () => {}, { CONTAINERCTL_PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` });
    oneLine(err);
    assert.match(err, /unrecognized option '--cgroup'/);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test("Disabled=yes (a plan's disabled line): refused with 78 (RestartPreventExitStatus=), naming the spec file that says so", async () => {
  const err = await refused("disabled", () => ({ extra: ["disabled\t/etc/containerctl/old.container"] }), {}, 78);
  oneLine(err);
  assert.match(err, /^containerctl: t-disabled-\S+: disabled: Disabled=yes in \/etc\/containerctl\/old\.container; set Disabled=no there to start it$/m);
});

test.run();
