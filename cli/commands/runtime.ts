// containerctl run | exec | shell | console: the runtime side of the CLI
// (docs/runtime.md). None of these sit on the systemd start path: the unit runs
// runtime/start directly. `run` is the foreground start for hosts without an
// init system; the others talk to a running container's helper over its
// abstract socket @containerctl/NAME (root only). `stop` lives in
// commands/state.ts (through the init system); stopViaHelper below stops a
// container started by `run`, and `run` itself stops it on SIGINT/SIGTERM.

import * as fs from "node:fs";
import { constants } from "node:os";
import * as path from "node:path";
import type { Command } from "commander";

/** runtime/ beside dist/ (the same in the source tree and under /usr/lib/containerctl). */
export function runtimeDir(): string {
  return process.env.CONTAINERCTL_RUNTIME_DIR || path.resolve(__dirname, "../../../runtime");
}

export const STATE_DIR = "/run/containerctl";
export const planPath = (name: string): string => `${STATE_DIR}/${name}/plan`;
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const EXIT_REBOOT = 133;

class CliError extends Error {}

// ---- the helper's control socket ----

/** One request on @containerctl/NAME; resolves with the socket, rejects with "not running". */
async function connect(name: string, request: string): Promise<import("node:net").Socket> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: `\0containerctl/${name}` });
    s.once("connect", () => {
      s.write(`${request}\n`);
      resolve(s);
    });
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(new CliError(e.code === "ECONNREFUSED" || e.code === "ENOENT" ? `${name}: not running` : `${name}: ${e.message}`)));
  });
}

/** Host pids of the helper and of the guest's init. */
export async function containerPids(name: string): Promise<{ helper: number; init: number }> {
  const s = await connect(name, "pid");
  const text = await new Promise<string>((resolve) => {
    let buf = "";
    s.on("data", (d) => (buf += d.toString()));
    s.on("close", () => resolve(buf));
  });
  const m = /^(\d+) (\d+)\n$/.exec(text);
  if (text === "") throw new CliError(`${name}: the helper refused the request (root only)`);
  if (!m) throw new CliError(`${name}: unexpected answer from the helper: ${JSON.stringify(text)}`);
  return { helper: Number(m[1]), init: Number(m[2]) };
}

// ---- run ----

async function writePlan(configDir: string, name: string): Promise<string> {
  const { loadSpec } = await import("../../generator/spec/load");
  const { renderPlan } = await import("../../generator/render/plan");
  const { formatSpecError } = await import("../../generator/spec/errors");
  const r = loadSpec(configDir, name);
  for (const w of r.warnings) process.stderr.write(`${formatSpecError(w)} (warning)\n`);
  if (!r.spec) throw new CliError(r.errors.map(formatSpecError).join("\n"));
  const file = planPath(name);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  fs.writeFileSync(`${file}.new`, renderPlan(r.spec), { mode: 0o644 });
  fs.renameSync(`${file}.new`, file);
  return file;
}

/** Runs the container in the foreground until it stops; restarts it when the guest reboots. */
async function runForeground(name: string, plan: string): Promise<number> {
  const { spawn, spawnSync } = await import("node:child_process");
  const dir = runtimeDir();
  if (!fs.existsSync(path.join(dir, "helper"))) throw new CliError(`runtime helper not built: run sh ${dir}/build.sh`);
  for (;;) {
    // Its own process group: a terminal's Ctrl-C reaches only us, and we ask once.
    const child = spawn(path.join(dir, "start"), [name], {
      stdio: "inherit", detached: true, env: { ...process.env, CONTAINERCTL_PLAN: plan },
    });
    const forward = (): void => {
      child.kill("SIGTERM");
    };
    for (const s of SIGNALS) process.on(s, forward);
    const code = await new Promise<number>((resolve) => {
      child.on("exit", (c, sig) => resolve(c ?? 128 + (sig ? constants.signals[sig] : 0)));
      child.on("error", () => resolve(127));
    });
    for (const s of SIGNALS) process.off(s, forward);
    // Refuses (quietly for us) when another instance of this name runs: then we never started.
    const clean = spawnSync(path.join(dir, "cleanup"), [name], { encoding: "utf8" });
    if (clean.status !== 0 && !/still running/.test(clean.stderr)) process.stderr.write(clean.stderr);
    if (code !== EXIT_REBOOT) return code;
    fs.mkdirSync(path.dirname(plan), { recursive: true });
    if (!fs.existsSync(plan)) throw new CliError(`${name}: rebooted, but its plan is gone`);
    process.stderr.write(`containerctl: ${name}: guest rebooted; starting it again\n`);
  }
}

// ---- stop ----

/**
 * Stops a container that no init system manages (one started by `run`):
 * asks its helper, which sends the guest's stop signal and SIGKILLs it after
 * the stop timeout; resolves when the helper has exited. `containerctl stop`
 * (commands/state.ts) goes through systemd or upstart; this is its fallback
 * for hosts without one.
 */
export async function stopViaHelper(name: string, timeoutSec = 600): Promise<void> {
  const s = await connect(name, "stop");
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      s.destroy();
      reject(new CliError(`${name}: still running after ${timeoutSec}s`));
    }, timeoutSec * 1000);
    s.on("data", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

// ---- exec / shell ----

/** The environment of an exec'd command: nothing of the caller's but TERM. */
export function execEnv(name: string): Record<string, string> {
  return {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", TERM: process.env.TERM || "linux", HOME: "/root",
    container: "containerctl", container_name: name,
  };
}

/**
 * Runs `command` inside the container: `helper execin` enters every namespace
 * of the guest init (its mount namespace, hence its root, last), cwd /, drops
 * what the init lacks from the bounding set, closes every fd above 2.
 */
async function execIn(name: string, command: string[]): Promise<number> {
  const { spawn } = await import("node:child_process");
  const { init } = await containerPids(name);
  const child = spawn(path.join(runtimeDir(), "helper"), ["execin", String(init), "--", ...command], { stdio: "inherit", env: execEnv(name) });
  // A terminal's Ctrl-C reaches the command itself (same process group); TERM and HUP are passed on.
  const ignore = (): void => {};
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on("SIGINT", ignore);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  return new Promise((resolve) => {
    child.on("exit", (c, sig) => resolve(c ?? 128 + (sig ? constants.signals[sig] : 0)));
    child.on("error", () => resolve(127));
  });
}

// ---- console ----

async function consoleAttach(name: string, escapeChar: string): Promise<void> {
  const s = await connect(name, "console");
  const esc = escapeChar.toLowerCase().charCodeAt(0) - 96; // 'a' → Ctrl-a (1)
  if (esc < 1 || esc > 26) throw new CliError(`bad escape character '${escapeChar}' (a letter)`);
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  await new Promise<void>((resolve, reject) => {
    let greeted = false;
    let pending = false; // escape key seen, waiting for the next key
    const done = (): void => {
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      s.destroy();
      resolve();
    };
    s.on("data", (d: Buffer) => {
      if (!greeted) {
        greeted = true;
        const nl = d.indexOf(10);
        const head = d.subarray(0, nl < 0 ? d.length : nl).toString();
        if (head !== "ok") {
          s.destroy();
          reject(new CliError(`${name}: ${head === "busy" ? "someone else is attached to the console" : `console refused: ${head}`}`));
          return;
        }
        if (tty) {
          process.stderr.write(`Connected to the console of ${name}. Type Ctrl-${escapeChar} q to detach.\r\n`);
          stdin.setRawMode(true);
        }
        stdin.resume();
        d = d.subarray(nl + 1);
      }
      process.stdout.write(d);
    });
    s.on("close", () => {
      // Closed before the helper said "ok": it refused us (it serves root only).
      if (!greeted) reject(new CliError(`${name}: the console refused the connection (root only)`));
      else done();
    });
    stdin.on("data", (d: Buffer) => {
      const out: number[] = [];
      for (const b of d) {
        if (pending) {
          pending = false;
          if (b === 0x71 /* q */) {
            if (out.length) s.write(Buffer.from(out));
            process.stderr.write("\r\n");
            done();
            return;
          }
          out.push(esc); // Ctrl-a a (or anything else) sends the escape key itself
          if (b !== esc && b !== escapeChar.charCodeAt(0)) out.push(b);
        } else if (b === esc) pending = true;
        else out.push(b);
      }
      if (out.length) s.write(Buffer.from(out));
    });
    stdin.on("end", () => {
      // Piped input: leave once it is all sent, after a moment for the reply.
      if (!tty) setTimeout(done, 300);
    });
  });
}

// ---- registration ----

function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === "number" ? code : 0;
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      process.stderr.write(`containerctl: ${e.message}\n`);
      process.exitCode = 1;
    }
  };
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a container in the foreground (like lxc-start -F) until it stops; SIGINT/SIGTERM stop it with the guest's stop signal")
    .argument("<name>", "container name (/etc/containerctl/NAME.container)")
    .option("--prepare", "only write the plan to /run/containerctl/NAME/plan and print its path (for runtime/run)")
    .action(action(async (name: string, opts: { prepare?: boolean }) => {
      const plan = await writePlan(program.opts().configDir, name);
      if (opts.prepare) {
        process.stdout.write(`${plan}\n`);
        return 0;
      }
      return runForeground(name, plan);
    }));

  program
    .command("exec")
    .description("run a command inside a running container (all its namespaces, its root, cwd /, its capability bounding set, a clean environment)")
    .argument("<name>", "container name")
    .argument("<command...>", "command and arguments (put -- before them)")
    .action(action(async (name: string, command: string[]) => execIn(name, command)));

  program
    .command("shell")
    .description("open a login shell inside a running container (/bin/bash if the guest has it, else /bin/sh)")
    .argument("<name>", "container name")
    .action(action(async (name: string) => {
      const { init } = await containerPids(name);
      const bash = fs.existsSync(`/proc/${init}/root/bin/bash`);
      return execIn(name, bash ? ["/bin/bash", "-l"] : ["/bin/sh", "-l"]);
    }));

  program
    .command("console")
    .description("attach to a running container's /dev/console (its output also goes to the log); detach with Ctrl-a q")
    .argument("<name>", "container name")
    .option("-e, --escape <letter>", "escape key: Ctrl-<letter> then q detaches, Ctrl-<letter> <letter> sends it", "a")
    .action(action(async (name: string, opts: { escape: string }) => consoleAttach(name, opts.escape)));
}
