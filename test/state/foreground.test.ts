// Without an init system (as on these machines): `containerctl list/status`
// show containers started by `containerctl run` from their runtime helper,
// and `containerctl stop` stops them through it. Real kernel, root.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeBusyboxGuest } from "../lib/busybox-guest";
import { CLI, buildHelper, processesOf, sleep } from "../lib/runtime-harness";

buildHelper();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-fg-"));
const configDir = path.join(dir, "etc");
fs.mkdirSync(configDir);
const name = `fg${process.pid}`;
const root = makeBusyboxGuest(dir);
fs.writeFileSync(path.join(configDir, `${name}.container`), `[Container]\nRootDirectory=${root}\nStopTimeout=5s\n`);
fs.writeFileSync(path.join(configDir, "other.container"), `[Container]\nRootDirectory=${root}\n`);
const NOBUS = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${dir}/no-bus` };
const ctl = (...args: string[]) => spawnSync(process.execPath, [CLI, "-C", configDir, ...args], { encoding: "utf8", env: NOBUS, timeout: 30000 });

test.after(() => {
  for (const pid of processesOf(name)) process.kill(pid, "SIGKILL");
  spawnSync(path.join(__dirname, "../../../runtime/cleanup"), [name]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("list shows the foreground container running with its init's PID; stop stops it", async () => {
  const run = spawn(process.execPath, [CLI, "-C", configDir, "run", name], { stdio: "ignore", env: NOBUS });
  const exited = new Promise<number | null>((r) => run.on("exit", (c) => r(c)));
  let states: { name: string; active: string; mainPid: number | null }[] = [];
  for (let i = 0; i < 100; i++) {
    const r = ctl("list", "--json");
    states = JSON.parse(r.stdout);
    if (states.find((s) => s.name === name)?.active === "active") break;
    await sleep(50);
  }
  const me = states.find((s) => s.name === name)!;
  assert.is(me.active, "active");
  const initPid = me.mainPid!;
  assert.ok(initPid > 1);
  assert.match(fs.readFileSync(`/proc/${initPid}/status`, "utf8"), /^NSpid:\s+\d+\s+1$/m, "mainPid is the guest's PID 1");
  assert.is(states.find((s) => s.name === "other")!.active, "unknown");
  const usage = me as unknown as { memoryCurrent: number | null; tasks: number | null };
  assert.ok((usage.memoryCurrent ?? 0) > 0, "memory of the runtime's cgroup");
  assert.ok((usage.tasks ?? 0) >= 1, "tasks of the runtime's cgroup");

  const stop = ctl("stop", name);
  assert.is(stop.status, 0, stop.stderr);
  assert.is(await exited, 0, "run ends when the container is stopped");
  assert.not.ok(fs.existsSync(`/proc/${initPid}`), "the guest init is gone");
  const after = JSON.parse(ctl("status", name, "--json").stdout);
  assert.is(after[0].active, "unknown");
});

test("start without an init system says how to run a container instead", () => {
  const r = ctl("start", name);
  assert.is(r.status, 1);
  assert.match(r.stderr, /no system bus .*containerctl run NAME/);
});

test.run();
