// The host side of create, clone and destroy: running programs (argv, never a
// shell), cleaning up after them (mounts first, then one filesystem only),
// and noticing whether a container runs. Thin edges; no planning here.

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export class HostError extends Error {}

/** Thrown when SIGINT/SIGTERM/SIGHUP arrives during an operation (see guarded()). */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** Mount points at or under `dir`, deepest first (/proc/self/mountinfo, field 5, octal escapes). */
export function mountsUnder(dir: string): string[] {
  const base = path.resolve(dir);
  let text = "";
  try {
    text = fs.readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const mp = line.split(" ")[4];
    if (!mp) continue;
    const p = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === base || p.startsWith(base + "/")) out.push(p);
  }
  return out.sort((a, b) => b.split("/").length - a.split("/").length || b.localeCompare(a));
}

export function unmountAll(dir: string): void {
  for (const mp of mountsUnder(dir)) {
    // Lazy: whatever still holds it (a killed debootstrap's chroot) no longer keeps it in our tree.
    // setsid: a terminal's ^C goes to its foreground group and must not stop our cleanup.
    const r = spawnSync("setsid", ["-w", "umount", "-l", mp], { encoding: "utf8" });
    if (r.status !== 0 && mountsUnder(mp).includes(mp)) throw new HostError(`cannot unmount ${mp}: ${r.stderr.trim()}`);
  }
}

/** Remove a tree: unmount anything under it, then `rm -rf --one-file-system` so no mount is ever crossed. */
export function removeTree(dir: string): void {
  if (!fs.existsSync(dir) && lstatOrNull(dir) === null) return;
  unmountAll(dir);
  const r = spawnSync("setsid", ["-w", "rm", "-rf", "--one-file-system", "--", dir], { encoding: "utf8" });
  if (r.status !== 0 || lstatOrNull(dir) !== null) throw new HostError(`cannot remove ${dir}: ${(r.stderr || "").trim()}`);
}

/** The real path of p, or p made absolute when it does not exist. */
export function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

export function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

/** Bytes available to root-less writers on the filesystem holding `dir` (or its nearest existing parent). */
export function freeBytes(dir: string): number {
  let d = path.resolve(dir);
  while (lstatOrNull(d) === null && d !== "/") d = path.dirname(d);
  const s = fs.statfsSync(d);
  return s.bavail * s.bsize;
}

export function haveCommand(cmd: string): boolean {
  return (process.env.PATH || "/usr/sbin:/usr/bin:/sbin:/bin").split(":").some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Claim a container's data directory `entry` (mkdir: only one process gets it)
 * and record the claimant's pid in ENTRY/.claim until `release`. An entry left
 * by a claimant that died (kill -9) before writing `spec` is removed first;
 * `onStale` is told. Throws "name taken" otherwise.
 */
export function claimEntry(entry: string, spec: string, onStale: (msg: string) => void): { release(): void } {
  const claim = path.join(entry, ".claim");
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(entry, { mode: 0o700 });
      fs.writeFileSync(claim, `${process.pid}\n`);
      return { release: () => fs.rmSync(claim, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
    }
    // No claim: a container's entry, or a claimant still writing it.
    const pid = claimantOf(entry);
    if (lstatOrNull(spec) !== null || pid === null || fs.existsSync(`/proc/${pid}`)) {
      throw new HostError(`name taken: ${entry} exists${pid !== null && lstatOrNull(spec) === null ? ` (being made by pid ${pid})` : ""}`);
    }
    onStale(`removing ${entry}, left by pid ${pid} (ended before it finished)`);
    removeTree(entry);
  }
}

/** The pid claimEntry recorded in ENTRY/.claim (a create or clone making it), or null. */
export function claimantOf(entry: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(entry, ".claim"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * PIDs whose root directory is `dir` (or, in our mount namespace, inside it):
 * the container's processes, whatever started them. A pivot_root'ed guest in
 * its own mount namespace shows "/" as its root's path, so roots are compared
 * by device and inode (stat follows /proc/PID/root into its namespace).
 */
export function processesRootedIn(dir: string): number[] {
  let real: string;
  let st: fs.Stats;
  try {
    real = fs.realpathSync(dir);
    st = fs.statSync(real);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const r = fs.statSync(`/proc/${e}/root`);
      const link = fs.readlinkSync(`/proc/${e}/root`);
      if ((r.dev === st.dev && r.ino === st.ino) || link.startsWith(real + "/")) out.push(Number(e));
    } catch {
      continue; // gone, or a kernel thread
    }
  }
  return out;
}

/**
 * Run `script` (sh, `set -eu`, its arguments `args`) in a private mount
 * namespace of its own, held open by the shell waiting for EOF on its stdin,
 * and hand fn `target` as that shell sees it (/proc/PID/root/TARGET). The host
 * never sees the script's mounts: when fn ends, or we die (pdeathsig), the
 * namespace goes, and its mounts and loop devices with it. A script that
 * fails is `fail(its stderr)`.
 */
export async function inMountNamespace<T>(script: string, args: string[], target: string, fn: (inside: string) => Promise<T>, fail: (stderr: string) => Error): Promise<T> {
  const sh = `set -eu\n${script}\necho ready\nexec cat >/dev/null`;
  const p = spawn("setpriv", ["--pdeathsig", "KILL", "--", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", sh, "sh", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  p.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => p.on("close", () => resolve()));
  try {
    const ready = await new Promise<boolean>((resolve) => {
      let out = "";
      p.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("ready\n")) resolve(true);
      });
      p.on("error", (e) => ((err += e.message), resolve(false)));
      p.on("close", () => resolve(false));
    });
    if (!ready) throw fail(err.trim());
    return await fn(`/proc/${p.pid}/root${target}`);
  } finally {
    p.stdin.end();
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  }
}

/** The runtime's helper listens on the abstract socket @containerctl/NAME while the container runs (docs/runtime.md). */
export function runtimeSocketListening(name: string): boolean {
  let text = "";
  try {
    text = fs.readFileSync("/proc/net/unix", "utf8");
  } catch {
    return false;
  }
  // /proc/net/unix shows an abstract name's NUL padding as '@'; container names cannot contain '@'.
  const want = `@containerctl/${name}`;
  return text.split("\n").some((l) => {
    const p = l.trim().split(/\s+/)[7];
    return p !== undefined && (p === want || (p.startsWith(want) && /^@+$/.test(p.slice(want.length))));
  });
}

/** container@NAME.service's ActiveState when systemd runs this host, else null. */
export function systemdState(name: string): string | null {
  if (!fs.existsSync("/run/systemd/system") || !haveCommand("systemctl")) return null;
  const r = spawnSync("systemctl", ["is-active", `container@${name}.service`], { encoding: "utf8", timeout: 10_000 });
  return (r.stdout || "").trim() || null;
}

// ------------------------------------------------------------ interruption

let current: { signal: NodeJS.Signals | null; children: Set<number> } | null = null;

/**
 * Run `fn` with SIGINT, SIGTERM and SIGHUP turned into an Interrupted error:
 * running children (their whole process groups) are ended, `fn`'s own
 * try/finally cleans up, and the caller learns which signal came.
 */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  const state = { signal: null as NodeJS.Signals | null, children: new Set<number>() };
  current = state;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (state.signal === null) state.signal = sig;
    for (const pid of state.children) killGroup(pid);
  };
  const sigs: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of sigs) process.on(s, onSignal);
  try {
    // fn checks between its steps and cleans up inside (while these handlers
    // still turn a second ^C into a no-op instead of killing us mid-cleanup).
    return await fn();
  } finally {
    for (const s of sigs) process.removeListener(s, onSignal);
    current = null;
  }
}

/** Throws Interrupted when a signal has arrived; call between steps. */
export function checkInterrupted(): void {
  if (current?.signal) throw new Interrupted(current.signal);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    return;
  }
  // debootstrap's chroot'ed dpkg may ignore SIGTERM for a while.
  setTimeout(() => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }, 5000).unref();
}

export interface RunResult { code: number | null; signal: NodeJS.Signals | null; tail: string[] }

/**
 * Run argv in its own process group (so a terminal's ^C reaches only us and we
 * end the whole group), feeding each output line (stdout and stderr) to onLine.
 * Keeps the last lines for error messages.
 */
export function runStreaming(argv: readonly string[], onLine: (line: string) => void = () => {}, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  checkInterrupted();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: true, env: env ?? process.env });
    const tail: string[] = [];
    const feed = (stream: NodeJS.ReadableStream): void => {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.search(/[\r\n]/)) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 40) tail.shift();
          onLine(line);
        }
      });
    };
    feed(child.stdout!);
    feed(child.stderr!);
    if (child.pid !== undefined) current?.children.add(child.pid);
    child.on("error", (e) => {
      if (child.pid !== undefined) current?.children.delete(child.pid);
      reject(new HostError(`cannot run ${argv[0]}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      if (child.pid !== undefined) current?.children.delete(child.pid);
      resolve({ code, signal, tail });
    });
  });
}
