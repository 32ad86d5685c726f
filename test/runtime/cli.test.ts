// `containerctl run` end to end: a spec in a config directory, the plan from
// the generator's pure functions, the container in the foreground, exec and
// console against it, stop by SIGTERM/SIGINT to the CLI, and no state left.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeBusyboxGuest, DEFAULT_INIT } from "../lib/busybox-guest";
import { CLI, buildHelper, hostSnapshot, processesOf, sleep } from "../lib/runtime-harness";

buildHelper();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-cli-"));
const configDir = path.join(dir, "etc");
fs.mkdirSync(configDir);
const name = `cli${process.pid}`;
const root = makeBusyboxGuest(dir, { init: DEFAULT_INIT.replace("while :;", "(while IFS= read -r l; do echo \"guest: heard $l\"; done) </dev/console &\nwhile :;") });
fs.writeFileSync(path.join(configDir, `${name}.container`), `[Container]
RootDirectory=${root}
Hostname=clihost
StopTimeout=5s
Environment=GREETING=hello
`);

function cli(args: string[], input?: string): ReturnType<typeof spawnSync> {
  return spawnSync("node", [CLI, "-C", configDir, ...args], { encoding: "utf8", input, timeout: 20000 });
}

async function until(what: () => boolean, ms: number, msg: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(msg());
    await sleep(20);
  }
}

function runCli(): { p: ChildProcess; out: () => string; exited: Promise<number | null> } {
  let out = "";
  const p = spawn("node", [CLI, "-C", configDir, "run", name], { stdio: ["ignore", "pipe", "pipe"] });
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
  return { p, out: () => out, exited };
}

test.after(() => {
  for (const pid of processesOf(name)) process.kill(pid, "SIGKILL");
  spawnSync(path.join(__dirname, "../../../runtime/cleanup"), [name]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("run: foreground until SIGTERM, exec, shell and console in between, then no state left", async () => {
  const before = hostSnapshot();
  const r = runCli();
  await until(() => /init up pid=1 host=clihost/.test(r.out()), 5000, () => `no init line: ${r.out()}`);
  assert.ok(fs.existsSync(`/run/containerctl/${name}/plan`), "the plan is where the contract says");
  const plan = fs.readFileSync(`/run/containerctl/${name}/plan`, "utf8");
  assert.match(plan, /^env\tGREETING=hello$/m);

  const e = cli(["exec", name, "--", "sh", "-c", "echo $GREETING-$container_name; hostname"]);
  assert.is(e.status, 0, String(e.stderr));
  assert.is(e.stdout, `-${name}\nclihost\n`, "exec gets a clean environment, not the init's");
  const initEnv = cli(["exec", name, "--", "sh", "-c", "tr '\\0' '\\n' </proc/1/environ"]);
  assert.match(String(initEnv.stdout), /^GREETING=hello$/m, "the spec's Environment= reaches init");

  const sh = cli(["shell", name], "echo inside-$(hostname)\n");
  assert.is(sh.status, 0);
  assert.match(String(sh.stdout), /inside-clihost/);

  const con = cli(["console", name], "knock knock\n");
  assert.is(con.status, 0, String(con.stderr));
  assert.match(String(con.stdout), /guest: heard knock knock/);
  await until(() => /guest: heard knock knock/.test(r.out()), 3000, () => `console traffic is in the log too: ${r.out()}`);

  r.p.kill("SIGTERM");
  assert.is(await r.exited, 0);
  assert.match(r.out(), /guest: got SIGPWR/);
  assert.equal(processesOf(name), []);
  assert.not.ok(fs.existsSync(`/run/containerctl/${name}`), "state directory removed");
  const after = hostSnapshot();
  assert.equal(after.mounts, before.mounts);
  assert.equal(after.unixSockets, before.unixSockets);
});

test("run: SIGINT stops it too; a running name is refused; commands on a stopped one fail clearly", async () => {
  const r = runCli();
  await until(() => /init up/.test(r.out()), 5000, () => r.out());
  const second = cli(["run", name]);
  assert.is(second.status, 1);
  assert.match(String(second.stderr), new RegExp(`containerctl: ${name}: already running`));
  r.p.kill("SIGINT");
  assert.is(await r.exited, 0);
  for (const args of [["exec", name, "--", "true"], ["console", name], ["shell", name]]) {
    const x = cli(args);
    assert.is(x.status, 1, args.join(" "));
    assert.is(x.stderr, `containerctl: ${name}: not running\n`);
  }
});

test("run: a spec error is reported as file:line and nothing starts", () => {
  fs.writeFileSync(path.join(configDir, "bad.container"), "[Container]\nRootDirectory=relative/path\nFoo=1\n");
  const x = cli(["run", "bad"]);
  assert.is(x.status, 1);
  assert.match(String(x.stderr), /bad\.container:\d+: /);
  assert.not.ok(fs.existsSync("/run/containerctl/bad/plan"));
});

test("runtime/run: the foreground without Node resident; SIGTERM stops it; the state goes", async () => {
  const wrapper = path.join(dir, "containerctl");
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec node ${CLI} -C ${configDir} "$@"\n`, { mode: 0o755 });
  let out = "";
  const p = spawn(path.join(__dirname, "../../../runtime/run"), [name], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CONTAINERCTL_CLI: wrapper } });
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
  await until(() => /init up/.test(out), 8000, () => out);
  // What runs on the host for it: this sh and the helper, no node.
  const tree = spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(p.pid)], { encoding: "utf8" }).stdout;
  assert.match(tree, /runtime\/helper hold/);
  assert.not.match(tree, /node/);
  p.kill("SIGTERM");
  assert.is(await exited, 0);
  assert.match(out, /got SIGPWR/);
  assert.equal(processesOf(name), []);
  assert.not.ok(fs.existsSync(`/run/containerctl/${name}`));
});

test("kill -9 of `containerctl run`: the helper stops the guest and cleans up after it", async () => {
  const before = hostSnapshot();
  const r = runCli();
  await until(() => /init up/.test(r.out()), 5000, () => r.out());
  r.p.kill("SIGKILL");
  await until(() => processesOf(name).length === 0, 10000, () => `still running: ${processesOf(name).join(" ")}`);
  await until(() => !fs.existsSync(`/run/containerctl/${name}`), 3000, () => "plan left behind");
  const after = hostSnapshot();
  assert.equal(after.cgroups, before.cgroups, "cgroups");
  assert.equal(after.unixSockets, before.unixSockets);
  assert.equal(after.mounts, before.mounts);
});

test("stopViaHelper stops a container that no init system manages", async () => {
  const r = runCli();
  await until(() => /init up/.test(r.out()), 5000, () => r.out());
  const { stopViaHelper } = await import("../../cli/commands/runtime");
  await stopViaHelper(name, 10);
  assert.is(await r.exited, 0);
  assert.match(r.out(), /got SIGPWR/);
});

test.run();
