// containerctl list/status/start/stop on an upstart host, over D-Bus.
// Stand-in, said plainly: upstart is not packaged in Debian, so this test runs
// a small service implementing upstart 0.6.5's D-Bus interface
// (com.ubuntu.Upstart0_6 manager, .Job and .Instance objects, as documented)
// on a REAL dbus-daemon; containerctl talks to it exactly as to upstart.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as dbus from "dbus-next";
import { startDbusDaemon, type TestBus } from "../lib/dbus-daemon";

const run = promisify(execFile);
const cli = join(__dirname, "../../cli/containerctl.js");
const conf = mkdtempSync(join(tmpdir(), "cc-upstart-conf-"));
writeFileSync(join(conf, "web.container"), "[Container]\nHostname=web\n[Boot]\nAutostart=yes\n");
writeFileSync(join(conf, "db.container"), "[Container]\nHostname=db\n");

const { Interface } = dbus.interface;
const sleepers: ChildProcess[] = [];
const calls: string[] = [];

class Instance extends Interface {
  constructor(public name: string, public goal: string, public state: string, public processes: [string, number][]) {
    super("com.ubuntu.Upstart0_6.Instance");
  }
}
Instance.configureMembers({
  properties: {
    name: { signature: "s", access: "read" }, goal: { signature: "s", access: "read" },
    state: { signature: "s", access: "read" }, processes: { signature: "a(si)", access: "read" },
  },
});

let bus: dbus.MessageBus;
const instances = new Map<string, { path: string; iface: Instance }>();

class Job extends Interface {
  constructor() {
    super("com.ubuntu.Upstart0_6.Job");
  }
  GetAllInstances(): string[] {
    return [...instances.values()].map((i) => i.path);
  }
  Start(env: string[], wait: boolean): string {
    calls.push(`Start ${env.join(" ")} ${wait}`);
    const name = env.find((e) => e.startsWith("NAME="))!.slice(5);
    const child = spawn("sleep", ["300"], { stdio: "ignore" });
    sleepers.push(child);
    const path = `/com/ubuntu/Upstart/jobs/container/${name}`;
    const iface = new Instance(name, "start", "running", [["main", child.pid!]]);
    bus.export(path, iface);
    instances.set(name, { path, iface });
    return path;
  }
  Stop(env: string[], wait: boolean): void {
    calls.push(`Stop ${env.join(" ")} ${wait}`);
    const name = env.find((e) => e.startsWith("NAME="))!.slice(5);
    const i = instances.get(name);
    if (!i) throw new dbus.DBusError("com.ubuntu.Upstart0_6.Error.UnknownInstance", `Unknown instance: ${name}`);
    bus.unexport(i.path, i.iface);
    instances.delete(name);
  }
}
Job.configureMembers({
  methods: {
    GetAllInstances: { inSignature: "", outSignature: "ao" },
    Start: { inSignature: "asb", outSignature: "o" },
    Stop: { inSignature: "asb", outSignature: "" },
  },
});

class Manager extends Interface {
  constructor() {
    super("com.ubuntu.Upstart0_6");
  }
  GetJobByName(name: string): string {
    if (name !== "container") throw new dbus.DBusError("com.ubuntu.Upstart0_6.Error.UnknownJob", `Unknown job: ${name}`);
    return "/com/ubuntu/Upstart/jobs/container";
  }
}
Manager.configureMembers({ methods: { GetJobByName: { inSignature: "s", outSignature: "o" } } });

let daemon: TestBus;

test.before(async () => {
  daemon = await startDbusDaemon();
  bus = dbus.sessionBus({ busAddress: daemon.address });
  await bus.requestName("com.ubuntu.Upstart", 0);
  bus.export("/com/ubuntu/Upstart", new Manager());
  bus.export("/com/ubuntu/Upstart/jobs/container", new Job());
});

test.after(() => {
  for (const s of sleepers) if (s.exitCode === null) s.kill("SIGKILL");
  bus?.disconnect();
  daemon?.stop();
});

const ctl = (...args: string[]) =>
  run(process.execPath, [cli, "-C", conf, ...args], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: daemon.address }, timeout: 20000 });

test("list shows every spec, stopped, through upstart's interface", async () => {
  const { stdout } = await ctl("list", "--json");
  const states = JSON.parse(stdout);
  assert.equal(states.map((s: { name: string }) => s.name), ["db", "web"]);
  assert.ok(states.every((s: { active: string; sub: string }) => s.active === "inactive" && s.sub === "stop/waiting"));
  assert.equal(states.map((s: { autostart: boolean }) => s.autostart), [false, true]);
});

test("start calls Job.Start with NAME= and waits; status shows the running instance", async () => {
  await ctl("start", "web");
  assert.equal(calls, ["Start NAME=web true"]);
  const { stdout } = await ctl("status", "web", "--json");
  const [s] = JSON.parse(stdout);
  assert.is(s.active, "active");
  assert.is(s.sub, "start/running");
  assert.is(s.mainPid, sleepers[0].pid);
});

test("stop calls Job.Stop; stopping a stopped container reports upstart's error", async () => {
  await ctl("stop", "web");
  assert.is(calls[1], "Stop NAME=web true");
  const { stdout } = await ctl("status", "web", "--json");
  assert.is(JSON.parse(stdout)[0].active, "inactive");
  const err = await ctl("stop", "db").then(() => null, (e) => e);
  assert.ok(err, "stop of a stopped container fails");
  assert.match(err.stderr, /stop db: .*Unknown instance: db/);
});

test("no bus at all: one clear line, the specs, exit 3", async () => {
  const r = await run(process.execPath, [cli, "-C", conf, "list"], {
    env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${conf}/nothing` },
  }).then(() => null, (e) => e);
  assert.is(r.code, 3);
  assert.match(r.stderr, /^containerctl: no system bus at .*nothing \(is dbus running\?\); showing containers run in the foreground \(containerctl run\), others unknown\n$/);
  assert.match(r.stdout, /^NAME +STATE/);
  assert.match(r.stdout, /\nweb +unknown\/unknown/);
});

test.run();
