// A real systemd to test against: a Debian 12 (bookworm) root filesystem,
// built once with debootstrap and cached, booted with systemd as PID 1 inside
// an LXC container that gets writable cgroup controllers (on this hybrid
// cgroup host systemd-nspawn mounts them read-only; see
// ../shared/docs/peers.md). containerctl is installed into each instance
// through the project's own install path (`containerctl install-system
// --root`), and tests drive it with systemctl/journalctl run inside.
//
//   const h = SystemdHarness.create();   // fresh overlay instance + install
//   h.boot();                            // until is-system-running says running|degraded
//   h.run(["systemctl", "show", "-p", "LoadState", "container@web"]);
//   h.writeFile("/etc/containerctl/web.container", "...");
//   h.reboot();
//   h.destroy();                         // container, mounts, temp dir; idempotent
//
// Everything here is synchronous (spawnSync with timeouts), so an exit or
// signal handler can always clean up. Needs root, debootstrap and lxc.
// Environment:
//   CONTAINERCTL_TEST_CACHE   cache root (default /var/cache/containerctl-test)
//   CONTAINERCTL_TEST_MIRROR  Debian mirror for debootstrap (default: from apt's config)
//   CONTAINERCTL_TEST_KEEP=1  leave instances running after the test (prints how to reach them)
//   CONTAINERCTL_TEST_NODE_BUNDLE=1  always copy Node and its libraries into the guest
//   CONTAINERCTL_TEST_VERBOSE=1  log every step to stderr

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pidAlive, tryLock } from "../../generator/create/lock";
import { aptProxyEnv, hostMirrors } from "../../generator/create/mirror";

/** The project checkout (this file runs as dist/test/lib/systemd-harness.js). */
export const PROJECT_DIR = path.resolve(__dirname, "../../..");
export const CACHE_ROOT = process.env.CONTAINERCTL_TEST_CACHE || "/var/cache/containerctl-test";
const SUITE = "bookworm";
// iproute2 and nftables: the runtime's network (ip, tc) and the managed bridge's NAT, as on a host.
const INCLUDE = "systemd,systemd-sysv,dbus,iproute2,nftables";
/** Bump when the image recipe changes; a cached image with another recipe is rebuilt. */
const RECIPE_NO = 2;
const RECIPE = `debootstrap --variant=minbase --include=${INCLUDE} ${SUITE}; recipe ${RECIPE_NO}`;
// The recipe's number is in the directory's name: checkouts with another recipe
// (running at the same time on this machine) never rebuild an image under each other.
export const IMAGE_DIR = path.join(CACHE_ROOT, `debian-${SUITE}-systemd-${RECIPE_NO}`);
const INSTANCE_PREFIX = "containerctl-systemd-";
const GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const verbose = process.env.CONTAINERCTL_TEST_VERBOSE === "1";
function log(msg: string): void {
  if (verbose) process.stderr.write(`systemd-harness: ${msg}\n`);
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface RunResult {
  /** The command as given, for messages. */
  command: string;
  stdout: string;
  stderr: string;
  /** Exit status; null when killed by a signal. */
  code: number | null;
  timedOut: boolean;
}

function describe(r: RunResult): string {
  return `${r.command}: exit ${r.code}${r.timedOut ? " (timed out)" : ""}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Run a host command; throws with its output when it fails and `check` is set. */
function host(cmd: string, args: string[], opts: { timeoutMs?: number; check?: boolean; input?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: "utf8",
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    input: opts.input,
    stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024,
  });
  const res: RunResult = {
    command: [cmd, ...args].join(" "),
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error && (r.error as NodeJS.ErrnoException).code !== "ETIMEDOUT" ? String(r.error) : ""),
    code: r.status,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT",
  };
  log(`host ${res.command} -> ${res.code}`);
  if (opts.check && res.code !== 0) throw new Error(`command failed: ${describe(res)}`);
  return res;
}

function haveCommand(name: string): boolean {
  return host("sh", ["-c", `command -v ${name}`]).code === 0;
}

/** Why the harness cannot run here, or null when it can. */
export function unavailableReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root (namespaces, mounts, LXC)";
  if (process.platform !== "linux") return "needs Linux";
  return null;
}

// ---------------------------------------------------------------- the mirror

/**
 * The Debian archive this machine's apt is configured with, for debootstrap:
 * the same lookup `containerctl create` uses (generator/create/mirror.ts:
 * apt's own view of its sources, else the sources files). Nothing is hard-coded.
 */
export function debianMirror(): string {
  const override = process.env.CONTAINERCTL_TEST_MIRROR;
  if (override) return override;
  const found = hostMirrors().debian;
  if (found) return found;
  throw new Error("systemd-harness: cannot find a Debian mirror in apt's configuration (/etc/apt/sources.list*); set CONTAINERCTL_TEST_MIRROR");
}

// ----------------------------------------------------------------- the image

/** Cross-process lock: a directory holding the owner's pid; a dead owner's lock is taken over. */
function withLock<T>(lockDir: string, waitMs: number, fn: () => T): T {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const owner = tryLock(lockDir);
    if (owner === null) break;
    if (Date.now() > deadline) throw new Error(`systemd-harness: ${lockDir} is held by pid ${owner}`);
    sleepMs(500);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function imageReady(): boolean {
  try {
    return fs.readFileSync(path.join(IMAGE_DIR, "stamp"), "utf8").split("\n")[0] === RECIPE && fs.existsSync(path.join(IMAGE_DIR, "rootfs", "lib/systemd/systemd"));
  } catch {
    return false;
  }
}

/**
 * The cached Debian 12 rootfs with systemd, built on first use (about a
 * minute from the mirror). Returns its path. Never modified by instances.
 */
export function ensureImage(): string {
  const rootfs = path.join(IMAGE_DIR, "rootfs");
  if (imageReady()) return rootfs;
  fs.mkdirSync(IMAGE_DIR, { recursive: true });
  return withLock(path.join(IMAGE_DIR, "lock"), 20 * 60_000, () => {
    if (imageReady()) return rootfs;
    for (const c of ["debootstrap", "lxc-start"]) {
      if (!haveCommand(c)) throw new Error(`systemd-harness: ${c} not found; install the packages in test/apt-packages.txt (sh test/run.sh does)`);
    }
    const mirror = debianMirror();
    const t0 = Date.now();
    const tmp = path.join(IMAGE_DIR, `rootfs.new-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(`systemd-harness: building the ${SUITE} image in ${IMAGE_DIR} (debootstrap from ${mirror}); cached for later runs\n`);
    const r = host("debootstrap", ["--variant=minbase", `--include=${INCLUDE}`, SUITE, tmp, mirror], { timeoutMs: 30 * 60_000, env: aptProxyEnv() });
    if (r.code !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`systemd-harness: debootstrap failed: ${describe(r)}`);
    }
    prepareImage(tmp);
    fs.rmSync(path.join(IMAGE_DIR, "rootfs"), { recursive: true, force: true });
    fs.renameSync(tmp, rootfs);
    fs.writeFileSync(path.join(IMAGE_DIR, "stamp"), `${RECIPE}\nbuilt ${new Date().toISOString()} in ${Math.round((Date.now() - t0) / 1000)}s\n`);
    return rootfs;
  });
}

/** Offline touches to a fresh debootstrap tree, before it is cached. */
function prepareImage(rootfs: string): void {
  // debootstrap leaves its apt cache behind; instances never install packages.
  host("sh", ["-c", 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages', "sh", rootfs]);
  // A persistent journal, so `journalctl -b -1` works across reboot(); Debian 12 usually ships the dir already.
  fs.mkdirSync(path.join(rootfs, "var/log/journal"), { recursive: true });
}

// ------------------------------------------------------------ the instances

const live = new Set<SystemdHarness>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const h of [...live]) h.destroy();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      for (const h of [...live]) h.destroy();
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
}

export interface HarnessOptions {
  /** Install containerctl with install-system (default true). */
  install?: boolean;
  /** Extra lines for the LXC config. */
  lxcConfig?: string[];
  /**
   * Container names whose /var/lib/containerctl/NAME/rootfs inside the harness
   * is a copy-on-write overlay of the cached Debian image (a Debian guest with
   * systemd, for nested tests). Mounted by LXC at every boot; writes go to the
   * instance's directory.
   */
  debianGuests?: string[];
}

export interface BootResult {
  state: string;
  ms: number;
}

/** One booted-systemd test machine: an overlay over the cached image, run by LXC. */
export class SystemdHarness {
  /** Temp dir holding everything of this instance. */
  readonly dir: string;
  /** The instance's root filesystem as the host sees it (overlay over the image). */
  readonly rootfs: string;
  readonly name: string;
  readonly lxcPath: string;
  readonly consoleLog: string;
  /** How the host's Node binary got into the guest: "bind" (same binary, guest libc) or "bundle". */
  nodeMode: "bind" | "bundle" | "none" = "none";
  private mounted = false;
  private destroyed = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.rootfs = path.join(dir, "rootfs");
    this.lxcPath = path.join(dir, "lxc");
    this.name = `cctl-${path.basename(dir).slice(INSTANCE_PREFIX.length)}`;
    this.consoleLog = path.join(dir, "console.log");
  }

  /** A fresh instance of the cached image (built first if needed), with containerctl installed; not booted yet. */
  static create(opts: HarnessOptions = {}): SystemdHarness {
    const why = unavailableReason();
    if (why) throw new Error(`systemd-harness: ${why}`);
    for (const c of ["lxc-start", "lxc-attach", "mount"]) {
      if (!haveCommand(c)) throw new Error(`systemd-harness: ${c} not found; install the packages in test/apt-packages.txt (sh test/run.sh does)`);
    }
    reapStale();
    const image = ensureImage();
    installExitHandlers();
    const h = new SystemdHarness(fs.mkdtempSync(path.join(os.tmpdir(), INSTANCE_PREFIX)));
    fs.writeFileSync(path.join(h.dir, "owner.pid"), String(process.pid));
    live.add(h);
    try {
      h.mountRootfs(image);
      const extra: string[] = [];
      if (opts.install !== false) {
        extra.push(...h.provideNode());
        h.installContainerctl();
      }
      for (const g of opts.debianGuests ?? []) extra.push(h.debianGuestMount(image, g));
      h.writeLxcConfig([...extra, ...(opts.lxcConfig ?? [])]);
    } catch (e) {
      h.destroy();
      throw e;
    }
    return h;
  }

  private mountRootfs(image: string): void {
    const upper = path.join(this.dir, "upper");
    const work = path.join(this.dir, "work");
    for (const d of [upper, work, this.rootfs]) fs.mkdirSync(d);
    const r = host("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${image},upperdir=${upper},workdir=${work}`, this.rootfs]);
    if (r.code === 0) {
      this.mounted = true;
      return;
    }
    // No overlayfs (or tmpdir on a filesystem it refuses as upper): a full copy, reflinked where possible.
    log(`overlay failed (${r.stderr.trim()}), copying the image`);
    host("cp", ["-a", "--reflink=auto", `${image}/.`, this.rootfs], { check: true, timeoutMs: 10 * 60_000 });
  }

  /**
   * The guest has no Node: make the host's binary available at the same path.
   * A read-only bind mount when it runs on the guest's libc (checked in a
   * chroot, with ldd's report in the error), else a copy of Node with the
   * host's loader and libraries behind a wrapper script at that path.
   */
  private provideNode(): string[] {
    const node = fs.realpathSync(process.execPath);
    const target = path.join(this.rootfs, node);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tryNode = (): RunResult => host("chroot", [this.rootfs, node, "-e", "process.stdout.write('ok')"], { timeoutMs: 30_000 });
    if (process.env.CONTAINERCTL_TEST_NODE_BUNDLE !== "1") {
      fs.writeFileSync(target, "");
      host("mount", ["--bind", "-o", "ro", node, target], { check: true });
      let r: RunResult;
      let ldd: RunResult;
      try {
        r = tryNode();
        ldd = host("chroot", [this.rootfs, "ldd", node]);
      } finally {
        host("umount", [target]);
      }
      if (r.code === 0 && r.stdout === "ok" && !/not found/.test(ldd.stdout)) {
        this.nodeMode = "bind";
        const fstab = (p: string): string => p.replace(/\\/g, "\\134").replace(/ /g, "\\040").replace(/\t/g, "\\011");
        return [`lxc.mount.entry = ${fstab(node)} ${fstab(node.slice(1))} none bind,ro,create=file 0 0`];
      }
      log(`host node does not run on the guest's libc:\n${ldd.stdout}${r.stderr}`);
    }
    // Bundle: node + every library ldd resolves on the host + the host's loader.
    const dir = "/usr/lib/containerctl-test/node";
    fs.mkdirSync(path.join(this.rootfs, dir, "lib"), { recursive: true });
    fs.copyFileSync(node, path.join(this.rootfs, dir, "node"));
    fs.chmodSync(path.join(this.rootfs, dir, "node"), 0o755);
    const ldd = host("ldd", [node], { check: true });
    let loader = "";
    for (const line of ldd.stdout.split("\n")) {
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)/.exec(line);
      if (!m) continue;
      const lib = m[1];
      if (/ld-linux|ld64|ld-musl/.test(path.basename(lib)) && !line.includes("=>")) loader = lib;
      fs.copyFileSync(fs.realpathSync(lib), path.join(this.rootfs, dir, "lib", path.basename(lib)));
    }
    if (!loader) throw new Error(`systemd-harness: cannot find the dynamic loader of ${node} in ldd's output:\n${ldd.stdout}`);
    fs.rmSync(target, { force: true });
    fs.writeFileSync(
      target,
      `#!/bin/sh\n# containerctl test harness: the host's Node with the host's libraries\nexec ${dir}/lib/${path.basename(loader)} --library-path ${dir}/lib ${dir}/node "$@"\n`,
      { mode: 0o755 },
    );
    const r = tryNode();
    if (r.code !== 0 || r.stdout !== "ok") throw new Error(`systemd-harness: Node does not run in the guest even bundled: ${describe(r)}`);
    this.nodeMode = "bundle";
    return [];
  }

  private debianGuestMount(image: string, name: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`systemd-harness: bad guest name '${name}'`);
    const upper = path.join(this.dir, "guests", name, "upper");
    const work = path.join(this.dir, "guests", name, "work");
    fs.mkdirSync(upper, { recursive: true });
    fs.mkdirSync(work, { recursive: true });
    return `lxc.mount.entry = overlay var/lib/containerctl/${name}/rootfs overlay lowerdir=${image},upperdir=${upper},workdir=${work},create=dir 0 0`;
  }

  private installContainerctl(): void {
    const cli = path.join(PROJECT_DIR, "dist/cli/containerctl.js");
    if (!fs.existsSync(cli)) throw new Error(`systemd-harness: ${cli} missing; build first (npx tsc -p .)`);
    host(process.execPath, [cli, "install-system", "--root", this.rootfs, "--node", fs.realpathSync(process.execPath)], { check: true, timeoutMs: 120_000 });
    this.fitRuntimeHelper();
  }

  /**
   * The runtime's C helper is built on the host; on a host with a newer glibc
   * than Debian 12's it may not load in the guest. Then this instance gets a
   * static build of it (CONTAINERCTL_TEST_STATIC_HELPER=1 forces that).
   */
  private fitRuntimeHelper(): void {
    const rel = "/usr/lib/containerctl/runtime/helper";
    const helper = path.join(this.rootfs, rel);
    if (!fs.existsSync(helper)) return;
    if (process.env.CONTAINERCTL_TEST_STATIC_HELPER !== "1") {
      const r = host("chroot", [this.rootfs, rel]);
      if (r.code !== 127 && !/error while loading shared libraries|version `GLIBC_/.test(r.stderr)) return;
      log(`runtime helper does not load in the guest: ${r.stderr.trim()}`);
    }
    const src = path.join(PROJECT_DIR, "runtime/helper.c");
    host(process.env.CC || "cc", ["-static", "-Os", "-o", helper, src, "-lm"], { check: true, timeoutMs: 120_000 });
    const r = host("chroot", [this.rootfs, rel]);
    if (r.code === 127 || /error while loading/.test(r.stderr)) throw new Error(`systemd-harness: the runtime helper does not run in the guest even static: ${describe(r)}`);
  }

  private writeLxcConfig(extra: string[]): void {
    fs.mkdirSync(path.join(this.lxcPath, this.name), { recursive: true });
    const lines = [
      "# containerctl test harness: Debian systemd as PID 1 with writable cgroup controllers",
      `lxc.uts.name = ${this.name}`,
      `lxc.rootfs.path = dir:${this.rootfs}`,
      "lxc.init.cmd = /lib/systemd/systemd",
      // /proc read-write as on a host: the runtime sets a container's hostname through
      // /proc/sys/kernel/hostname (proc:mixed would make /proc/sys read-only).
      "lxc.mount.auto = proc:rw sys:mixed cgroup:rw:force",
      "lxc.autodev = 1",
      "lxc.apparmor.profile = unconfined",
      // Only a loopback: nothing of the tests crosses the host's network.
      "lxc.net.0.type = empty",
      "lxc.tty.max = 0",
      "lxc.pty.max = 64",
      `lxc.console.logfile = ${this.consoleLog}`,
      // What systemd understands: SIGRTMIN+3 halts, SIGINT reboots (ctrl-alt-del.target).
      "lxc.signal.halt = SIGRTMIN+3",
      "lxc.signal.reboot = SIGINT",
      // The generator logs to /dev/kmsg and journald reads it back, as on a host.
      "lxc.mount.entry = /dev/kmsg dev/kmsg none bind,optional,create=file 0 0",
      ...extra,
    ];
    fs.writeFileSync(path.join(this.lxcPath, this.name, "config"), lines.join("\n") + "\n");
  }

  private lxc(tool: string, args: string[], opts: { timeoutMs?: number; check?: boolean } = {}): RunResult {
    return host(tool, ["-P", this.lxcPath, "-n", this.name, ...args], opts);
  }

  /** LXC's view: RUNNING, STOPPED, … */
  state(): string {
    return this.lxc("lxc-info", ["-sH"]).stdout.trim();
  }

  /** The host pid of the guest's PID 1, or null. */
  initPid(): number | null {
    const n = Number(this.lxc("lxc-info", ["-pH"]).stdout.trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  }

  /** Start the container and wait until systemd says running or degraded. */
  boot(timeoutMs = 60_000): BootResult {
    const t0 = Date.now();
    if (this.state() !== "RUNNING") {
      this.lxc("lxc-start", ["-d", "-o", path.join(this.dir, "lxc.log"), "-l", "WARN"], { check: true, timeoutMs: 30_000 });
    }
    const state = this.waitRunning(timeoutMs - (Date.now() - t0));
    const ms = Date.now() - t0;
    log(`booted ${this.name} in ${ms} ms (${state})`);
    return { state, ms };
  }

  /** Poll `systemctl is-system-running` until running or degraded; throws with diagnostics otherwise. */
  waitRunning(timeoutMs = 60_000): string {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (this.state() !== "RUNNING") {
        last = `container ${this.state()}`;
      } else {
        const r = this.run(["systemctl", "is-system-running"], { timeoutMs: 10_000 });
        last = (r.stdout.trim() || r.stderr.trim()).split("\n")[0];
        if (last === "running" || last === "degraded") return last;
        if (last === "maintenance") break;
      }
      sleepMs(100);
    }
    throw new Error(`systemd-harness: systemd in ${this.name} did not reach running/degraded (last: ${last})\n${this.diagnostics()}`);
  }

  /** What a failing boot or test needs to be understood. */
  diagnostics(): string {
    const parts: string[] = [];
    const tail = (f: string): string => {
      try {
        return fs.readFileSync(f, "utf8").split("\n").slice(-40).join("\n");
      } catch {
        return "(none)";
      }
    };
    parts.push(`--- console (${this.consoleLog})\n${tail(this.consoleLog)}`);
    parts.push(`--- lxc log\n${tail(path.join(this.dir, "lxc.log"))}`);
    if (this.state() === "RUNNING") {
      for (const c of ["systemctl list-jobs --no-pager", "systemctl --failed --no-pager", "journalctl -b --no-pager -n 40"]) {
        const r = this.run(["sh", "-c", c], { timeoutMs: 10_000 });
        parts.push(`--- ${c}\n${r.stdout}${r.stderr}`);
      }
    }
    return parts.join("\n");
  }

  /**
   * Run a command inside the guest (lxc-attach: its namespaces and cgroup,
   * a clean environment). A string runs under /bin/sh -c. Never throws for
   * the command's own failure unless `check` is set; see `sh` for that.
   */
  run(cmd: string | string[], opts: { timeoutMs?: number; input?: string; check?: boolean; env?: Record<string, string> } = {}): RunResult {
    const argv = typeof cmd === "string" ? ["/bin/sh", "-c", cmd] : cmd;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const vars = { PATH: GUEST_PATH, LANG: "C.UTF-8", TERM: "dumb", SYSTEMD_PAGER: "cat", PAGER: "cat", SYSTEMD_COLORS: "0", ...(opts.env ?? {}) };
    const setVars = Object.entries(vars).flatMap(([k, v]) => ["--set-var", `${k}=${v}`]);
    // The guest's own timeout kills the command; the host-side one only catches a stuck attach.
    const secs = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const r = host("lxc-attach", ["-P", this.lxcPath, "-n", this.name, "--clear-env", ...setVars, "--", "timeout", "-k", "2", secs, ...argv], {
      timeoutMs: timeoutMs + 10_000,
      input: opts.input,
    });
    const res: RunResult = { ...r, command: argv.join(" "), timedOut: r.timedOut || r.code === 124 };
    if (opts.check && res.code !== 0) throw new Error(`in ${this.name}: ${describe(res)}`);
    return res;
  }

  /** Run under /bin/sh -c inside; returns stdout; throws with the output when the exit status is not 0. */
  sh(script: string, timeoutMs?: number): string {
    return this.run(script, { check: true, timeoutMs }).stdout;
  }

  /** Write a file inside the guest (creating its directory), through the guest itself. */
  writeFile(file: string, content: string, mode = 0o644): void {
    this.run(["/bin/sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', "sh", file, mode.toString(8)], {
      input: content,
      check: true,
    });
  }

  readFile(file: string): string {
    return this.run(["cat", file], { check: true }).stdout;
  }

  removeFile(file: string): void {
    this.run(["rm", "-rf", "--", file], { check: true });
  }

  /** `systemctl show -p A,B UNIT` as a map. */
  show(unit: string, props: string[]): Record<string, string> {
    const out = this.run(["systemctl", "show", "-p", props.join(","), "--", unit], { check: true }).stdout;
    const m: Record<string, string> = {};
    for (const line of out.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) m[line.slice(0, i)] = line.slice(i + 1);
    }
    return m;
  }

  /**
   * The memory, CPU quota and tasks limits of a cgroup inside the guest
   * (path relative to the hierarchy root, e.g. "system.slice/x.service"),
   * from the v1 controllers on a hybrid host or the unified hierarchy on a
   * pure cgroup v2 one. Values as the kernel prints them.
   */
  cgroupLimits(cgPath: string): { memoryMax: string; cpuQuotaUs: string; pidsMax: string } {
    const q = cgPath.replace(/'/g, "'\\''");
    const out = this.sh(
      `cd /sys/fs/cgroup; if [ -e cgroup.controllers ]; then ` +
        `cat '${q}/memory.max'; cut -d' ' -f1 '${q}/cpu.max'; cat '${q}/pids.max'; else ` +
        `cat 'memory/${q}/memory.limit_in_bytes' 'cpu/${q}/cpu.cfs_quota_us' 'pids/${q}/pids.max'; fi`,
    );
    const [memoryMax, cpuQuotaUs, pidsMax] = out.trim().split("\n");
    return { memoryMax, cpuQuotaUs, pidsMax };
  }

  /** Shut the guest down cleanly (systemd's halt signal), killing it after timeoutSec. */
  stop(timeoutSec = 30): void {
    if (this.state() === "STOPPED") return;
    const r = this.lxc("lxc-stop", ["-t", String(timeoutSec)], { timeoutMs: (timeoutSec + 15) * 1000 });
    if (r.code !== 0 && this.state() !== "STOPPED") this.lxc("lxc-stop", ["-k"], { timeoutMs: 30_000 });
  }

  /**
   * Reboot: `guest` (default) runs `systemctl reboot` inside and waits for a
   * new PID 1, as a host reboots; `restart` stops and starts the LXC
   * container. Either way the instance's files persist; waits for running again.
   */
  reboot(how: "guest" | "restart" = "guest", timeoutMs = 90_000): BootResult {
    const t0 = Date.now();
    if (how === "restart") {
      this.stop();
      const b = this.boot(timeoutMs);
      return { state: b.state, ms: Date.now() - t0 };
    }
    const before = this.initPid();
    this.run(["systemctl", "--no-block", "reboot"], { check: true });
    const deadline = t0 + timeoutMs;
    for (;;) {
      const now = this.initPid();
      if (now !== null && now !== before && this.state() === "RUNNING") break;
      if (Date.now() > deadline) throw new Error(`systemd-harness: ${this.name} did not come back after reboot\n${this.diagnostics()}`);
      sleepMs(100);
    }
    const state = this.waitRunning(deadline - Date.now());
    return { state, ms: Date.now() - t0 };
  }

  /** Stop the container and remove every trace (mounts, temp dir). Idempotent; runs on exit too. */
  destroy(): void {
    if (this.destroyed) return;
    if (process.env.CONTAINERCTL_TEST_KEEP === "1") {
      fs.writeFileSync(path.join(this.dir, "keep"), "");
      process.stderr.write(`systemd-harness: keeping ${this.name}: lxc-attach -P ${this.lxcPath} -n ${this.name}; clean up: lxc-stop -k -P ${this.lxcPath} -n ${this.name}; umount ${this.rootfs}; rm -rf ${this.dir}\n`);
      this.destroyed = true;
      live.delete(this);
      return;
    }
    this.destroyed = true;
    live.delete(this);
    cleanupInstance(this.dir, this.name);
  }
}

/** Stop an instance's container, unmount its rootfs and remove its directory. */
function cleanupInstance(dir: string, name: string): void {
  const lxcPath = path.join(dir, "lxc");
  if (fs.existsSync(path.join(lxcPath, name, "config"))) {
    const st = host("lxc-info", ["-P", lxcPath, "-n", name, "-sH"]).stdout.trim();
    if (st && st !== "STOPPED") {
      const r = host("lxc-stop", ["-P", lxcPath, "-n", name, "-t", "10"], { timeoutMs: 25_000 });
      if (r.code !== 0) host("lxc-stop", ["-P", lxcPath, "-n", name, "-k"], { timeoutMs: 25_000 });
    }
  }
  const rootfs = path.join(dir, "rootfs");
  for (let i = 0; i < 50 && isMountPoint(rootfs); i++) {
    if (host("umount", [rootfs]).code !== 0) {
      if (i < 20) sleepMs(100);
      else host("umount", ["-l", rootfs]);
    }
  }
  // Anything still mounted below the instance (never the case normally) would make rm fail loudly rather than reach the image.
  if (isMountPoint(rootfs)) throw new Error(`systemd-harness: cannot unmount ${rootfs}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

function isMountPoint(p: string): boolean {
  try {
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
    return mounts.split("\n").some((l) => l.split(" ")[4] === p);
  } catch {
    return false;
  }
}

/** Instances left behind by a test process that died without cleaning up (e.g. SIGKILLed). */
export function reapStale(): void {
  const tmp = os.tmpdir();
  for (const e of fs.readdirSync(tmp)) {
    if (!e.startsWith(INSTANCE_PREFIX)) continue;
    const dir = path.join(tmp, e);
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // being created
    }
    if (!Number.isInteger(owner) || pidAlive(owner) || fs.existsSync(path.join(dir, "keep"))) continue;
    log(`reaping ${dir} (owner ${owner} is gone)`);
    try {
      cleanupInstance(dir, `cctl-${e.slice(INSTANCE_PREFIX.length)}`);
    } catch (err) {
      process.stderr.write(`systemd-harness: could not reap ${dir}: ${(err as Error).message}\n`);
    }
  }
}
