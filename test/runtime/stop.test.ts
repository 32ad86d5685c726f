// Stopping: the stop signal each guest kind gets, the timeout path, the exit
// status the unit sees (guest exit code, 133 on reboot, 0 on halt or stop).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_INIT } from "../lib/busybox-guest";
import { TestContainer, buildHelper, processesOf, sleep } from "../lib/runtime-harness";

buildHelper();

async function stopWith(c: TestContainer, signal: string | number): Promise<number | null> {
  await c.waitOutput(/init up/);
  const { helper } = await c.pids();
  spawnSync("kill", [`-${signal}`, String(helper)]);
  return (await c.waitExit()).code;
}

async function run(prefix: string, plan: Parameters<TestContainer["start"]>[0], fn: (c: TestContainer) => Promise<void>, init = DEFAULT_INIT): Promise<void> {
  const c = new TestContainer(prefix, { init });
  try {
    c.start(plan);
    await fn(c);
  } finally {
    c.destroy();
  }
}

test("systemd sends SIGTERM (Guest=auto): a busybox init gets SIGPWR", async () => {
  await run("auto", {}, async (c) => {
    assert.is(await stopWith(c, "TERM"), 0);
    assert.match(c.stdout, /guest: got SIGPWR/);
  });
});

test("Guest=sysvinit: KillSignal=SIGPWR reaches init as SIGPWR", async () => {
  await run("pwr", { guest: "sysvinit", stopSignal: "SIGPWR" }, async (c) => {
    assert.is(await stopWith(c, "PWR"), 0);
    assert.match(c.stdout, /guest: got SIGPWR/);
  });
});

test("Guest=systemd: KillSignal=SIGRTMIN+3 reaches init as SIGRTMIN+3, and so does SIGTERM", async () => {
  await run("rtmin", { guest: "systemd", stopSignal: "SIGRTMIN+3" }, async (c) => {
    assert.is(await stopWith(c, "RTMIN+3"), 0);
    assert.match(c.stdout, /guest: got SIGRTMIN\+3/);
  });
  await run("rtmin-term", { guest: "systemd", stopSignal: "SIGRTMIN+3" }, async (c) => {
    assert.is(await stopWith(c, "TERM"), 0);
    assert.match(c.stdout, /guest: got SIGRTMIN\+3/);
  });
});

test("Guest=auto with /sbin/init -> systemd: SIGTERM becomes SIGRTMIN+3", async () => {
  const c = new TestContainer("auto-systemd");
  try {
    fs.mkdirSync(path.join(c.root, "lib/systemd"), { recursive: true });
    fs.writeFileSync(path.join(c.root, "lib/systemd/systemd"), DEFAULT_INIT, { mode: 0o755 });
    fs.rmSync(path.join(c.root, "sbin/init"));
    fs.symlinkSync("/lib/systemd/systemd", path.join(c.root, "sbin/init"));
    c.start({});
    assert.is(await stopWith(c, "TERM"), 0);
    assert.match(c.stdout, /guest: got SIGRTMIN\+3/);
  } finally {
    c.destroy();
  }
});

/** An init that ignores its stop signal (SIGPWR, what Guest=auto picks for busybox). */
const STUBBORN = `#!/bin/sh
trap 'echo "guest: ignoring the stop signal"' PWR
echo "guest: init up"
while :; do sleep 1 & wait; done
`;

test("a guest that ignores its stop signal is killed after stop_timeout", async () => {
  await run("timeout", { stopTimeout: "1.5" }, async (c) => {
    await c.waitOutput(/init up/);
    const t0 = Date.now();
    c.proc!.kill("SIGTERM");
    const exit = await c.waitExit();
    const elapsed = Date.now() - t0;
    assert.match(c.stdout, /ignoring the stop signal/);
    assert.ok(elapsed >= 1400 && elapsed < 4000, `killed after ${elapsed} ms`);
    assert.is(exit.code, 0, "a requested stop is a clean stop");
    assert.match(c.stderr, /stop timeout reached/);
  }, STUBBORN);
});

test("stop_timeout infinity waits; a second request kills at once", async () => {
  await run("infinity", { stopTimeout: "infinity" }, async (c) => {
    await c.waitOutput(/init up/);
    c.proc!.kill("SIGTERM");
    await c.waitOutput(/ignoring/);
    await sleep(1200);
    assert.is(c.exit, null, "still running without a timeout");
    c.proc!.kill("SIGTERM");
    assert.is((await c.waitExit(3000)).code, 0);
  }, STUBBORN);
});

test("the guest's own exit status, 133 on reboot, 0 on halt", async () => {
  await run("exit7", {}, async (c) => {
    assert.is((await c.waitExit()).code, 7);
  }, "#!/bin/sh\necho 'guest: init up'\nexit 7\n");
  await run("reboot", {}, async (c) => {
    await c.waitOutput(/init up/);
    assert.is((await c.waitExit()).code, 133);
  }, "#!/bin/sh\necho 'guest: init up'\nreboot -f\nsleep 10\n");
  await run("halt", {}, async (c) => {
    await c.waitOutput(/init up/);
    assert.is((await c.waitExit()).code, 0);
  }, "#!/bin/sh\necho 'guest: init up'\npoweroff -f\nsleep 10\n");
});

test("CONTAINERCTL_EXIT_STATUS=FILE (the upstart job): the helper records the exit status there, not through a symlink", async () => {
  for (const [init, code] of [["exit 7", "7"], ["reboot -f; sleep 10", "133"], ["poweroff -f; sleep 10", "0"]]) {
    const c = new TestContainer("status", { init: `#!/bin/sh\necho 'guest: init up'\n${init}\n` });
    const file = path.join(c.dir, "exit-status");
    try {
      c.start({}, { CONTAINERCTL_EXIT_STATUS: file });
      const e = await c.waitExit();
      assert.is(String(e.code), code);
      assert.is(fs.readFileSync(file, "utf8"), `${code}\n`);
    } finally {
      c.destroy();
    }
  }
  const c = new TestContainer("statuslink", { init: "#!/bin/sh\nexit 3\n" });
  const target = path.join(c.dir, "target");
  try {
    fs.writeFileSync(target, "untouched\n");
    fs.symlinkSync(target, path.join(c.dir, "exit-status"));
    c.start({}, { CONTAINERCTL_EXIT_STATUS: path.join(c.dir, "exit-status") });
    assert.is((await c.waitExit()).code, 3);
    assert.is(fs.readFileSync(target, "utf8"), "untouched\n");
    assert.match(c.stderr, /cannot record the exit status/);
  } finally {
    c.destroy();
  }
});

test("a closed stdout (the journal gone) neither stops nor blocks the container", async () => {
  const chatty = `#!/bin/sh
echo "guest: init up"
trap 'exit 0' PWR
while :; do echo "guest: chatter chatter chatter"; sleep 0.01 & wait; done
`;
  await run("epipe", {}, async (c) => {
    await c.waitOutput(/init up/);
    c.proc!.stdout!.destroy(); // our end of the helper's stdout: its writes now fail with EPIPE
    await sleep(500);
    assert.is(c.exit, null, `still running: ${c.stderr}`);
    const { init } = await c.pids();
    assert.ok(fs.existsSync(`/proc/${init}`));
    assert.is((await c.stop()).code, 0);
  }, chatty);
});

test("stopping a container still in its start kills it", async () => {
  await run("early", {}, async (c) => {
    await sleep(1); // the helper is up, the stage may still be mounting
    c.proc!.kill("SIGTERM");
    await c.waitExit();
    await sleep(50);
    assert.equal(processesOf(c.name), [], "nothing of it runs");
  });
});

test.run();
