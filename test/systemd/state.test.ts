// containerctl list/status/start/stop/restart/enable/disable against a REAL
// systemd and system bus (Debian 12 systemd as PID 1 in the LXC harness,
// test/lib/systemd-harness.ts), with the installed CLI run inside the guest.
// The runtime is not what is under test here: a drop-in replaces ExecStart=
// with a plain long-running process so the units can really run (and the
// "broken" one keeps the template's Type=notify and exits before READY=1).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness, unavailableReason } from "../lib/systemd-harness";

const why = unavailableReason();
let h: SystemdHarness;

const STAND_IN = `[Service]
Type=simple
ExecStart=
ExecStart=/bin/sleep infinity
ExecStopPost=
`;

test.before(() => {
  if (why) return;
  h = SystemdHarness.create();
  h.boot();
  h.writeFile("/etc/containerctl/web.container", "[Container]\nDescription=web server\n[Resources]\nMemory=256M\nTasks=64\n[Boot]\nAutostart=yes\n");
  h.writeFile("/etc/containerctl/db.container", "[Container]\nHostname=db\n");
  h.writeFile("/etc/containerctl/broken.container", "[Container]\nHostname=broken\n");
  for (const n of ["web", "db"]) h.writeFile(`/etc/systemd/system/container@${n}.service.d/50-test.conf`, STAND_IN);
  h.writeFile("/etc/systemd/system/container@broken.service.d/50-test.conf", "[Service]\nExecStart=\nExecStart=/bin/sh -c 'echo the-broken-guest-said-no >&2; exit 3'\nExecStopPost=\n");
  h.sh("systemctl daemon-reload");
});

test.after(() => h?.destroy());

const ctl = (args: string) => h.run(`containerctl ${args}`, { timeoutMs: 60_000 });
const json = (args: string) => {
  const r = ctl(`${args} --json`);
  assert.is(r.code, 0, `${args}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
};

test("list reads every container's state from systemd, stopped ones included", () => {
  if (why) return console.log(`skipped: ${why}`);
  const states = json("list");
  assert.equal(states.map((s) => s.name), ["broken", "db", "web"]);
  for (const s of states) assert.is(s.active, "inactive");
  assert.equal(states.map((s) => s.autostart), [false, false, true]);
});

test("start runs the job through D-Bus; status shows PID, since, memory and tasks from systemd", () => {
  if (why) return console.log(`skipped: ${why}`);
  const r = ctl("start web");
  assert.is(r.code, 0, r.stderr);
  const [s] = json("status web");
  assert.is(s.active, "active");
  assert.is(s.sub, "running");
  const pid = h.show("container@web.service", ["MainPID"]).MainPID;
  assert.is(String(s.mainPid), pid);
  assert.ok(typeof s.since === "string" && Date.parse(s.since as string) > 0);
  assert.is(s.memoryMax, 256 * 1024 * 1024);
  assert.ok((s.tasks as number) >= 1);
  assert.is(s.description, "web server");
  const human = ctl("status web");
  assert.match(human.stdout, /^NAME +STATE +PID/);
  assert.match(human.stdout, new RegExp(`\\nweb +active/running +${pid} `));
});

test("stop and restart wait for the job; a failing start reports the reason from the journal", () => {
  if (why) return console.log(`skipped: ${why}`);
  assert.is(ctl("restart web").code, 0);
  assert.is(ctl("stop web").code, 0);
  assert.is(h.show("container@web.service", ["ActiveState"]).ActiveState, "inactive");
  const bad = ctl("start broken");
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /start broken: failed/, bad.stderr);
  assert.match(bad.stderr, /the-broken-guest-said-no/);
});

test("enable/disable go through systemd's unit files", () => {
  if (why) return console.log(`skipped: ${why}`);
  assert.is(ctl("enable db").code, 0);
  assert.is(h.run("systemctl is-enabled container@db.service").stdout.trim(), "enabled");
  assert.is((json("status db")[0] as { autostart: boolean }).autostart, true);
  assert.is(ctl("disable db").code, 0);
  assert.is(h.run("systemctl is-enabled container@db.service").stdout.trim(), "disabled");
});

test("a spec edited after the last reload shows as out of date", () => {
  if (why) return console.log(`skipped: ${why}`);
  ctl("start db");
  h.writeFile("/etc/systemd/system/container@db.service.d/60-touch.conf", "[Unit]\nDescription=changed\n");
  assert.is((json("status db")[0] as { needsReload: boolean }).needsReload, true);
  h.sh("systemctl daemon-reload");
  assert.is((json("status db")[0] as { needsReload: boolean }).needsReload, false);
  ctl("stop db");
});

test.run();
