// The script blocks of every generated job as shell: syntax under dash
// (`sh -n`), shellcheck -s sh, and the instance and autostart jobs' scripts
// run for real under `dash -e` (as upstart runs them) against stand-ins for
// upstart's commands (status, start, stop, initctl, logger) and the runtime,
// with fake guests that record the signal they get.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseJob } from "../../generator/upstart-check";
import { buildSpec } from "../../generator/spec/load";
import { renderAutostartJob, renderInstanceJob, renderUpstart, STOP_GRACE, writeUpstartTree } from "../../generator/render/upstart";
import { allGeneratedJobs } from "./golden";

const have = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

function blocks(job: string): Map<string, string> {
  const p = parseJob(job);
  assert.equal(p.problems, []);
  return new Map(p.stanzas.filter((s) => s.block).map((s) => [s.name, s.block!.text]));
}

test("every script block of every generated job passes dash -n and shellcheck -s sh", () => {
  assert.ok(have("dash"), "dash is installed (test/apt-packages.txt)");
  const checkShell = have("shellcheck");
  if (!checkShell) console.log("note: shellcheck is not installed; only dash -n ran");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upstart-sh-"));
  try {
    let n = 0;
    for (const j of allGeneratedJobs()) {
      for (const [name, text] of blocks(j.text)) {
        const f = path.join(dir, `${j.label.replace(/\//g, "_")}.${name}.sh`);
        fs.writeFileSync(f, `#!/bin/sh\nset -e\n${text}`);
        const syn = spawnSync("dash", ["-n", f], { encoding: "utf8" });
        assert.is(syn.stderr, "", `${j.label} ${name}: dash -n`);
        assert.is(syn.status, 0, `${j.label} ${name}: dash -n`);
        if (checkShell) {
          const sc = spawnSync("shellcheck", ["-s", "sh", "-f", "gcc", f], { encoding: "utf8" });
          assert.is(sc.stdout, "", `${j.label} ${name}: shellcheck`);
          assert.is(sc.status, 0, `${j.label} ${name}: shellcheck`);
        }
        n++;
      }
    }
    assert.ok(n >= 12, "script blocks found");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("dash -n does catch a broken block (the check above can fail)", () => {
  const r = spawnSync("dash", ["-n", "-c", "if true; then echo"], { encoding: "utf8" });
  assert.is.not(r.status, 0);
});

// ---- running the scripts ----

interface Host {
  dir: string;
  init: string;
  state: string;
  runtime: string;
  bin: string;
  calls: string;
}

/** A temporary host: job dir, state dir, runtime stand-ins and upstart command stand-ins. */
function host(): Host {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upstart-host-"));
  const h = { dir, init: `${dir}/init`, state: `${dir}/run`, runtime: `${dir}/runtime`, bin: `${dir}/bin`, calls: `${dir}/calls` };
  for (const d of [h.init, h.state, h.runtime, h.bin]) fs.mkdirSync(d, { recursive: true });
  const script = (f: string, body: string): void => fs.writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  // Each stand-in appends one line to calls: its name, its arguments, and CONTAINERCTL_PLAN where it matters.
  script(`${h.runtime}/start`, `echo "runtime-start $* plan=$CONTAINERCTL_PLAN" >>"${h.calls}"`);
  script(`${h.runtime}/cleanup`, `echo "runtime-cleanup $* plan=$CONTAINERCTL_PLAN" >>"${h.calls}"`);
  script(`${h.bin}/logger`, `echo "logger $*" >>"${h.calls}"`);
  script(`${h.bin}/start`, `echo "start $*" >>"${h.calls}"`);
  script(`${h.bin}/stop`, `echo "stop $*" >>"${h.calls}"; n=\${2#NAME=}; grep -v "^$n " "${dir}/running" >"${dir}/running.new" || :; mv "${dir}/running.new" "${dir}/running"`);
  // status: running instances are listed in $dir/running as "NAME PID".
  script(`${h.bin}/status`, `n=\${2#NAME=}; while read -r name pid; do [ "$name" = "$n" ] && echo "container ($n) start/running, process $pid" && exit 0; done <"${dir}/running"; echo "status: Unknown instance: $n" >&2; exit 1`);
  script(`${h.bin}/initctl`, `[ "$1" = list ] || exit 1; echo "containers start/running"; while read -r name pid; do echo "container ($name) start/running, process $pid"; done <"${dir}/running"`);
  fs.writeFileSync(`${dir}/running`, "");
  return h;
}

const calls = (h: Host): string[] => (fs.existsSync(h.calls) ? fs.readFileSync(h.calls, "utf8").trim().split("\n").filter(Boolean) : []);

function run(h: Host, text: string, name: string | null): { status: number | null; stderr: string; ms: number } {
  const env: NodeJS.ProcessEnv = { PATH: `${h.bin}:${process.env.PATH}` };
  if (name !== null) env.NAME = name;
  const t0 = Date.now();
  const r = spawnSync("dash", ["-e", "-c", text], { encoding: "utf8", env, timeout: 20000 });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

const spec = (name: string, text: string) => {
  const r = buildSpec(name, `/etc/containerctl/${name}.container`, [{ path: `/etc/containerctl/${name}.container`, text }]);
  if (!r.spec) throw new Error(JSON.stringify(r.errors));
  return r.spec;
};

function instanceJob(h: Host, specs: ReturnType<typeof spec>[], managedBridge: string | null = null): Map<string, string> {
  const { tree } = renderUpstart(specs, h.init, managedBridge);
  writeUpstartTree(h.init, tree);
  return blocks(renderInstanceJob(specs, h.init, { runtimeDir: h.runtime, stateDir: h.state }, managedBridge));
}

/**
 * A fake runtime helper (the job's main process): appends each signal it gets
 * to $dir/got, exits on the first unless told to ignore them.
 */
function guest(h: Host, signal: string, ignore = false): ChildProcess {
  const onSig = `'echo ${signal} >>"${h.dir}/got"${ignore ? "" : "; exit 0"}'`;
  const p = spawn("dash", ["-c", `trap ${onSig} ${signal}; echo ready; while :; do sleep 0.05; done`], { stdio: ["ignore", "pipe", "ignore"] });
  return p;
}
const ready = (p: ChildProcess): Promise<void> => new Promise((res) => p.stdout!.once("data", () => res()));
function runAsync(h: Host, text: string, name: string): Promise<{ status: number | null; ms: number }> {
  const t0 = Date.now();
  const p = spawn("dash", ["-e", "-c", text], { env: { PATH: `${h.bin}:${process.env.PATH}`, NAME: name }, stdio: "ignore" });
  return new Promise((res) => p.once("exit", (status) => res({ status, ms: Date.now() - t0 })));
}

test("pre-start snapshots the plan privately; main runs the runtime with CONTAINERCTL_PLAN; post-stop cleans up", () => {
  const h = host();
  try {
    const b = instanceJob(h, [spec("web", "")]);
    assert.is(run(h, b.get("pre-start")!, "web").status, 0);
    const snap = `${h.state}/web/plan`;
    assert.is(fs.readFileSync(snap, "utf8"), fs.readFileSync(`${h.init}/containerctl/web.plan`, "utf8"));
    assert.is(fs.statSync(snap).mode & 0o777, 0o600);
    assert.is(fs.statSync(`${h.init}/containerctl/web.plan`).mode & 0o777, 0o600);
    assert.is(run(h, b.get("script")!, "web").status, 0);
    assert.is(run(h, b.get("post-stop")!, "web").status, 0);
    assert.equal(calls(h), [`runtime-start web plan=${snap}`, `runtime-cleanup web plan=${snap}`]);
  } finally {
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

test("pre-start starts the managed bridge's job first for a container on it (only for it), and fails when that does not start", () => {
  const h = host();
  try {
    const b = instanceJob(h, [spec("web", "[Network]\nType=veth\nBridge=ccbr0\n"), spec("db", "[Network]\nType=veth\nBridge=br0\n")], "ccbr0");
    assert.is(run(h, b.get("pre-start")!, "db").status, 0);
    assert.equal(calls(h), [], "a container on another bridge starts nothing");
    assert.is(run(h, b.get("pre-start")!, "web").status, 0);
    assert.equal(calls(h), ["start containerctl-network"]);
    assert.ok(fs.existsSync(`${h.state}/web/plan`));
    // The bridge does not come up: the container does not start.
    fs.rmSync(h.calls);
    fs.rmSync(`${h.state}/web`, { recursive: true });
    fs.writeFileSync(`${h.bin}/start`, `#!/bin/sh\necho "start $*" >>"${h.calls}"\nexit 1\n`, { mode: 0o755 });
    const r = run(h, b.get("pre-start")!, "web");
    assert.is(r.status, 1);
    assert.match(calls(h).join("\n"), /the managed bridge did not come up/);
    assert.not.ok(fs.existsSync(`${h.state}/web`), "stopped before making its state");
  } finally {
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

test("pre-start fails without a plan, and every script refuses a hostile NAME before touching a path", () => {
  const h = host();
  try {
    const b = instanceJob(h, [spec("web", "")]);
    const r = run(h, b.get("pre-start")!, "nosuch");
    assert.is(r.status, 1);
    assert.match(calls(h).join("\n"), /logger -t container\[nosuch\] -- no plan .*nosuch\.plan/);
    for (const bad of ["", "../../etc", "a/b", "-x", "a..b", "x y", "x'y", "a$(touch pwned)", "x".repeat(65)]) {
      for (const [stanza, text] of b) {
        const rr = run(h, text, bad);
        assert.is(rr.status, 1, `${stanza} with NAME=${JSON.stringify(bad)}`);
      }
    }
    assert.equal(fs.readdirSync(h.state), [], "nothing created in the state directory");
    assert.not.ok(fs.existsSync(path.join(h.dir, "pwned")));
    assert.is(run(h, b.get("pre-start")!, null).status, 1, "NAME unset");
  } finally {
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

for (const [guestKind, signal] of [["lucid", "PWR"], ["sysvinit", "PWR"], ["upstart", "PWR"], ["systemd", "37"], ["auto", "TERM"]] as const) {
  test(`pre-stop sends the runtime one SIG${signal === "37" ? "RTMIN+3" : signal} for Guest=${guestKind} and returns once it has stopped`, async () => {
    const h = host();
    const main = guest(h, signal);
    try {
      await ready(main);
      fs.writeFileSync(`${h.dir}/running`, `web ${main.pid}\n`);
      const b = instanceJob(h, [spec("web", `[Container]\nGuest=${guestKind}\nStopTimeout=10s\n`)]);
      assert.is(run(h, b.get("pre-start")!, "web").status, 0);
      const r = await runAsync(h, b.get("pre-stop")!, "web");
      assert.is(r.status, 0);
      assert.is(fs.readFileSync(`${h.dir}/got`, "utf8"), `${signal}\n`);
      assert.ok(r.ms < 5000, `returned after ${r.ms} ms, well before StopTimeout`);
      assert.ok(fs.existsSync(`${h.state}/web/stop-requested`));
    } finally {
      main.kill("SIGKILL");
      fs.rmSync(h.dir, { recursive: true, force: true });
    }
  });
}

test("pre-stop sends one signal only and waits StopTimeout plus the grace, then leaves it to upstart", async () => {
  const h = host();
  const main = guest(h, "PWR", true);
  try {
    await ready(main);
    fs.writeFileSync(`${h.dir}/running`, `web ${main.pid}\n`);
    const b = instanceJob(h, [spec("web", "[Container]\nGuest=lucid\nStopTimeout=500ms\n")]);
    assert.is(run(h, b.get("pre-start")!, "web").status, 0);
    const r = await runAsync(h, b.get("pre-stop")!, "web");
    assert.is(r.status, 0);
    const limit = (1 + STOP_GRACE) * 1000; // 0.5s rounds up to 1s
    assert.ok(r.ms >= limit && r.ms < limit + 4000, `returned after ${r.ms} ms (limit ${limit} ms)`);
    assert.is(fs.readFileSync(`${h.dir}/got`, "utf8"), "PWR\n", "exactly one signal: a second one makes the helper SIGKILL at once");
    assert.is(main.exitCode, null, "not killed by pre-stop");
    assert.match(calls(h).join("\n"), /still running \d+s after its stop signal: leaving it to upstart's SIGTERM and SIGKILL/);
  } finally {
    main.kill("SIGKILL");
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

test("pre-stop with no running main process sends nothing", () => {
  const h = host();
  try {
    const b = instanceJob(h, [spec("web", "")]);
    assert.is(run(h, b.get("pre-start")!, "web").status, 0);
    const r = run(h, b.get("pre-stop")!, "web");
    assert.is(r.status, 0);
    assert.not.ok(fs.existsSync(`${h.dir}/got`));
  } finally {
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

test("post-stop restarts per Restart= and after a guest reboot, only when it ended on its own after running a while", () => {
  const h = host();
  try {
    const b = instanceJob(h, [spec("web", "[Container]\nRestart=always\n"), spec("db", ""), spec("app", "[Container]\nRestart=on-failure\n")]);
    const post = b.get("post-stop")!;
    // name, seconds since start, stop requested, exit status recorded by the runtime → restarted?
    const cases: [string, number, boolean, string | null, boolean][] = [
      ["web", 60, false, null, true],
      ["web", 60, false, "0", true],
      ["web", 60, true, "1", false], // stopped on request
      ["web", 2, false, "1", false], // ended within MIN_UPTIME
      ["db", 60, false, "1", false], // Restart=no
      ["db", 60, false, "133", true], // the guest rebooted
      ["db", 60, true, "133", false],
      ["app", 60, false, "1", true],
      ["app", 60, false, "0", false], // the guest halted
      ["app", 60, false, null, false], // no status recorded: not a known failure
      ["app", 60, false, "x1", false],
    ];
    for (const [name, ago, requested, code, want] of cases) {
      fs.rmSync(h.calls, { force: true });
      const st = `${h.state}/${name}`;
      fs.mkdirSync(st, { recursive: true });
      fs.writeFileSync(`${st}/started`, `${Math.floor(Date.now() / 1000) - ago}\n`);
      if (requested) fs.writeFileSync(`${st}/stop-requested`, "");
      if (code !== null) fs.writeFileSync(`${st}/exit-status`, `${code}\n`);
      assert.is(run(h, post, name).status, 0);
      const restarts = calls(h).filter((c) => c.startsWith("start "));
      assert.equal(restarts, want ? [`start --no-wait container NAME=${name}`] : [], JSON.stringify([name, ago, requested, code]));
      for (const f of ["started", "stop-requested", "exit-status"]) assert.not.ok(fs.existsSync(`${st}/${f}`), `${f} removed`);
    }
  } finally {
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

test("the autostart job starts in Order with Delay between, stops in reverse and then the rest", () => {
  const h = host();
  try {
    const job = blocks(renderAutostartJob([
      spec("b", "[Boot]\nAutostart=yes\nOrder=2\n"),
      spec("a", "[Boot]\nAutostart=yes\nOrder=1\nDelay=700ms\n"),
      spec("c", "[Boot]\nAutostart=yes\nOrder=2\n"),
      spec("manual", "[Boot]\nAutostart=no\n"),
    ]));
    const r = run(h, job.get("pre-start")!, null);
    assert.is(r.status, 0);
    assert.equal(calls(h), ["start container NAME=a", "start container NAME=b", "start container NAME=c"]);
    assert.ok(r.ms >= 700, `waited a's Delay (${r.ms} ms)`);
    fs.rmSync(h.calls);
    fs.writeFileSync(`${h.dir}/running`, "manual 11\na 12\nc 13\nzz 14\n");
    assert.is(run(h, job.get("post-stop")!, null).status, 0);
    assert.equal(calls(h), ["stop container NAME=c", "stop container NAME=a", "stop container NAME=manual", "stop container NAME=zz"]);
  } finally {
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

test.run();
