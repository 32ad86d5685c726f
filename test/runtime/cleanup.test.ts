// Nothing is left behind: after a normal stop, after kill -9 of the helper or
// of the guest init, after a kill at any moment of the start, and after 50
// start/stop cycles. A start after a crash works without manual steps.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  RUNTIME_DIR, TestContainer, buildHelper, hostSnapshot, namespaceHolders, namespacesOf, processesOf, sleep, type HostSnapshot,
} from "../lib/runtime-harness";

buildHelper();

async function gone(name: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (processesOf(name).length > 0) {
    if (Date.now() > until) throw new Error(`processes of ${name} still there: ${processesOf(name).join(" ")}`);
    await sleep(10);
  }
}

/** Once every process of `c` is gone: cleanup succeeds and the host is as in `before`. */
async function assertNothingLeft(before: HostSnapshot, c: TestContainer, namespaces: string[]): Promise<void> {
  await gone(c.name);
  const r = c.cleanup();
  assert.is(r.status, 0, String(r.stderr));
  assert.equal(processesOf(c.name), []);
  const after = hostSnapshot();
  assert.equal(after.mounts, before.mounts, "host mounts");
  assert.equal(after.unixSockets, before.unixSockets, "control sockets");
  assert.equal(after.run, before.run, "/run/containerctl");
  assert.is(after.netns, before.netns, "ip netns");
  assert.equal(after.cgroups, before.cgroups, "cgroups");
  assert.equal(namespaceHolders(c.name, namespaces), [], "nothing holds the container's namespaces");
}

async function started(c: TestContainer): Promise<{ helper: number; init: number; ns: string[] }> {
  c.start({ stopTimeout: "2" });
  await c.waitOutput(/init up/);
  const p = await c.pids();
  const ns = namespacesOf(p.init).filter((n) => !fs.readlinkSync(`/proc/self/ns/${n.split(":")[0]}`).startsWith(n));
  assert.ok(ns.length >= 6, `own namespaces: ${ns.join(" ")}`);
  return { ...p, ns };
}

test("a normal stop leaves nothing behind", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("clean");
  try {
    const { ns } = await started(c);
    assert.ok(hostSnapshot().unixSockets.includes(`@containerctl/${c.name}`), "the control socket exists while running");
    await c.stop();
    await assertNothingLeft(before, c, ns);
  } finally {
    c.destroy();
  }
});

test("the leak checks can fail: a namespace kept by a bind mount and a stray cgroup are seen", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("canary");
  const keep = path.join(c.dir, "netns");
  try {
    const { init, ns } = await started(c);
    fs.writeFileSync(keep, "");
    assert.is(spawnSync("mount", ["--bind", `/proc/${init}/ns/net`, keep]).status, 0);
    await c.stop();
    await gone(c.name);
    assert.ok(namespaceHolders(c.name, ns).some((h) => h.startsWith("nsfs mount")), "the kept net namespace is reported");
    spawnSync("umount", [keep]);
    assert.equal(namespaceHolders(c.name, ns), []);
    const stray = `/sys/fs/cgroup/pids/containerctl-canary-${process.pid}`;
    fs.mkdirSync(stray);
    try {
      assert.not.equal(hostSnapshot().cgroups, before.cgroups, "a cgroup with our name is seen");
    } finally {
      fs.rmdirSync(stray);
    }
  } finally {
    spawnSync("umount", [keep]);
    c.destroy();
  }
});

test("kill -9 of the helper: the guest dies with it, nothing is left, a new start works", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("kill-helper");
  try {
    const { helper, ns } = await started(c);
    process.kill(helper, "SIGKILL");
    await c.waitExit();
    await assertNothingLeft(before, c, ns);
    const again = await started(c);
    assert.ok(again.init > 0);
    await c.stop();
    await assertNothingLeft(before, c, again.ns);
  } finally {
    c.destroy();
  }
});

test("kill -9 of the guest init: the helper exits, nothing is left", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("kill-init");
  try {
    const { init, ns } = await started(c);
    process.kill(init, "SIGKILL");
    const exit = await c.waitExit();
    assert.is(exit.code, 137, "128 + SIGKILL: the guest died, nobody asked it to");
    await assertNothingLeft(before, c, ns);
  } finally {
    c.destroy();
  }
});

test("kill -9 at any moment of the start leaves nothing behind", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("kill-early");
  try {
    for (const delay of [0, 2, 5, 10, 20, 40]) {
      c.start({});
      await sleep(delay);
      // Every process of ours at that moment: the start script, helper, stage, mount, init...
      for (const pid of [c.proc!.pid!, ...processesOf(c.name)]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
      await c.waitExit();
      await assertNothingLeft(before, c, []);
    }
    c.start({});
    await c.waitOutput(/init up/);
    await c.stop();
  } finally {
    c.destroy();
  }
});

test("a second start of a running container is refused and harms nothing", async () => {
  const c = new TestContainer("twice");
  try {
    const { init } = await started(c);
    const p = spawnSync(path.join(RUNTIME_DIR, "start"), [c.name], { env: { ...process.env, CONTAINERCTL_PLAN: c.planFile }, encoding: "utf8" });
    assert.is(p.status, 1);
    assert.is(p.stderr, `containerctl: ${c.name}: already running\n`);
    assert.ok(fs.existsSync(`/proc/${init}`), "the first one still runs");
    assert.is((await c.sh("echo alive")).stdout, "alive\n");
    assert.is(c.cleanup().status, 1, "cleanup refuses while it runs");
    await c.stop();
  } finally {
    c.destroy();
  }
});

test("without systemd: the guest's cgroup root is its own cgroup; what it makes inside goes with it", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("cgroups");
  try {
    const { init, ns } = await started(c);
    const own = fs.readFileSync("/proc/self/cgroup", "utf8");
    const pidsLine = /^\d+:pids:(.*)$/m.exec(own);
    const hostCg = fs.readFileSync(`/proc/${init}/cgroup`, "utf8");
    for (const line of own.trim().split("\n")) {
      const [, ctrl, p] = line.split(":");
      assert.ok(hostCg.includes(`:${ctrl}:${p === "/" ? "" : p}/containerctl/${c.name}\n`), `${ctrl}: ${hostCg}`);
    }
    // Inside its cgroup namespace the guest's cgroup is / ...
    const inside = await c.sh("cat /proc/1/cgroup");
    assert.match(inside.stdout, /^\d+:devices:\/$/m);
    if (pidsLine) {
      // ... and a cgroup it makes lands below containerctl/NAME on the host; the parents stay out of sight.
      const r = await c.sh("mkdir -p /tmp/cg && mount -t cgroup -o pids none /tmp/cg && mkdir /tmp/cg/child && ls /tmp/cg | grep -c containerctl; umount /tmp/cg");
      assert.is(r.stdout.trim(), "0", r.stderr);
      const hostDir = `/sys/fs/cgroup/pids${pidsLine[1] === "/" ? "" : pidsLine[1]}/containerctl/${c.name}/child`;
      assert.ok(fs.existsSync(hostDir), hostDir);
    }
    await c.stop();
    await assertNothingLeft(before, c, ns);
  } finally {
    c.destroy();
  }
});

test("50 start/stop cycles leave nothing behind", async () => {
  const before = hostSnapshot();
  const c = new TestContainer("cycles");
  const seen: string[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const { ns } = await started(c);
      seen.push(...ns);
      assert.is((await c.stop()).code, 0);
      await gone(c.name);
      assert.is(c.cleanup().status, 0);
    }
    await assertNothingLeft(before, c, seen);
  } finally {
    c.destroy();
  }
});

test.run();
