// `containerctl create`, the thin executor of a CreatePlan (plan.ts): gather
// the host's facts, claim the name, build the rootfs in a staging directory
// next to its destination, apply the guest steps, rename it into place and
// write the spec last (linked into place, so an existing spec is never
// replaced). Any failure or signal removes everything this run made; the
// download cache is only ever replaced whole (a .partial file renamed in).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readConfigDir } from "../spec/load";
import { applySteps } from "./guest-fs";
import { checkInterrupted, claimEntry, freeBytes, guarded, haveCommand, HostError, Interrupted, lstatOrNull, removeTree, runStreaming, type RunResult } from "./host";
import { tryLock } from "./lock";
import { aptProxyEnv, hostMirrors } from "./mirror";
import { checkMirrorRelease } from "./mirror-check";
import { planCreate, type CreatePlan, type CreateRequest, type DebootstrapPlan, type HostFacts } from "./plan";
import { makeReporter, tracker, type Reporter } from "./progress";
import type { Paths } from "./paths";
import { DISTROS } from "./releases";

export class CreateError extends Error {}

export interface CreateOptions {
  reporter?: Reporter;
  /** Install debootstrap with apt-get when it is missing (the CLI's behaviour). */
  installDebootstrap?: boolean;
}

/** Space a new rootfs needs before we start (rough: minbase ~250 MB, default variant ~450 MB, busybox ~2 MB). */
function spaceNeeded(plan: CreatePlan): number {
  if (plan.bootstrap.kind === "busybox") return 8 << 20;
  return (plan.bootstrap.release.variant === "minbase" ? 400 : 800) << 20;
}

export async function createContainer(req: CreateRequest, paths: Paths, opts: CreateOptions = {}): Promise<CreatePlan> {
  const rep = opts.reporter ?? makeReporter(req.name);
  const plan = planCreate(req, hostFactsFor(req, paths), paths);
  const cp = plan.paths;
  takenCheck(plan);
  if (plan.bootstrap.kind === "debootstrap") prepareDebootstrap(plan.bootstrap, opts, rep);
  const need = spaceNeeded(plan);
  const free = freeBytes(paths.libDir);
  if (free < need) throw new CreateError(`no space: ${mb(free)} free under ${paths.libDir}, a ${plan.bootstrap.kind} guest needs about ${mb(need)}`);

  // Made here (first container on this host) and removed again if this create fails.
  const madeLibDir = fs.mkdirSync(paths.libDir, { recursive: true, mode: 0o700 });
  let claim: { release(): void };
  try {
    claim = claimEntry(cp.entry, cp.spec, (m) => rep.step(m)); // only one create gets it; a killed one's is removed
  } catch (e) {
    if (madeLibDir) removeEmptyDirs(madeLibDir, paths.libDir);
    throw e instanceof HostError ? new CreateError(e.message) : e;
  }
  let done = false;
  const t0 = Date.now();
  try {
    await guarded(async () => {
      try {
        if (plan.bootstrap.kind === "debootstrap") {
          const b = plan.bootstrap;
          if (b.rootfsCache && b.unpackRootfs && fs.existsSync(b.rootfsCache)) {
            rep.step(`unpacking the installed ${b.release.distro} ${b.release.codename} from the cache ${b.rootfsCache}`);
            fs.mkdirSync(cp.staging, { mode: 0o755 });
            const r = await runStreaming(b.unpackRootfs);
            checkInterrupted();
            if (r.code !== 0) throw new CreateError(`unpacking ${b.rootfsCache} failed: ${r.tail.slice(-3).join(" / ")}`);
          } else {
            await ensureCached(b, rep);
            rep.step(`installing ${b.release.distro} ${b.release.codename} from the cache`);
            const r = await runStreaming(b.install, tracker(rep, packageCount(b.cacheFile)));
            rep.end();
            checkInterrupted();
            if (r.code !== 0) throw new CreateError(`debootstrap failed: ${why(r, plan.paths.staging)}`);
            if (b.rootfsCache) await saveRootfs(b.rootfsCache, cp.staging, rep);
          }
        } else {
          rep.step("building a busybox guest");
          fs.mkdirSync(cp.staging, { mode: 0o755 });
          fs.chmodSync(cp.staging, 0o755);
        }
        checkInterrupted();
        rep.step("configuring the guest (host name, network, console, root password)");
        applySteps(cp.staging, plan.steps);
        checkInterrupted();
        fs.renameSync(cp.staging, cp.rootfs);
        writeSpecExclusive(cp.spec, plan.specText);
        claim.release();
        done = true;
      } finally {
        if (!done) {
          removeTree(cp.entry);
          if (madeLibDir) removeEmptyDirs(madeLibDir, paths.libDir);
        }
      }
    });
  } catch (e) {
    rep.end();
    throw explain(e, paths);
  }
  rep.step(`created in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${cp.spec}, ${cp.rootfs}`);
  return plan;
}

/** rmdir from `deepest` up to `top` (the first directory mkdir -p made), while empty. */
function removeEmptyDirs(top: string, deepest: string): void {
  for (let d = path.resolve(deepest); ; d = path.dirname(d)) {
    try {
      fs.rmdirSync(d);
    } catch {
      return;
    }
    if (d === path.resolve(top) || d === "/") return;
  }
}

function mb(n: number): string {
  return `${Math.round(n / (1 << 20))} MiB`;
}

function takenCheck(plan: CreatePlan): void {
  // The data directory is claimed later (claimEntry): one a killed create or clone left is removed then.
  if (lstatOrNull(plan.paths.spec) !== null) throw new CreateError(`name taken: ${plan.paths.spec} exists`);
}

/** Turn low-level failures into what happened, in words. */
function explain(e: unknown, paths: Paths): Error {
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOSPC" || /No space left on device/.test(err.message ?? "")) {
    return new CreateError(`no space left on the filesystem of ${paths.libDir} (or ${paths.cacheDir}); nothing was kept`);
  }
  if (e instanceof Error && !(e instanceof CreateError) && !(e instanceof Interrupted) && err.code) {
    return new CreateError(`${err.message}; nothing was kept`);
  }
  return e as Error;
}

/** debootstrap's own last words, classified. */
function why(r: RunResult, target: string): string {
  const text = r.tail.join("\n");
  if (/No space left on device/.test(text) || freeBytes(target) < 16 << 20) return "no space left on device";
  let log: string[] = [];
  try {
    // debootstrap's own log holds the failing dpkg or wget's words.
    log = fs.readFileSync(path.join(target, "debootstrap", "debootstrap.log"), "utf8").trimEnd().split("\n").slice(-3);
  } catch {
    /* none yet */
  }
  const e = r.tail.filter((l) => /^E: /.test(l)).pop() ?? [...r.tail.slice(-2), ...log].join(" / ");
  if (/Failed getting release file|Couldn't download|Connection refused|unable to resolve|Failure trying to run: wget|Invalid Release/.test(text)) {
    return `the mirror is unreachable or does not have this release (${e})`;
  }
  return `${e} (exit ${r.code ?? r.signal})`;
}

/** What the host offers a create: architecture, mirrors (only when needed), name servers, busybox. */
export function hostFactsFor(req: CreateRequest, paths: Paths): HostFacts {
  const facts: HostFacts = { arch: "", mirrors: { debian: null, ubuntu: null }, nameservers: hostNameservers(), busybox: null, defaults: readConfigDir(paths.configDir).defaults };
  if (req.source.kind === "busybox") {
    facts.busybox = hostBusybox();
    return facts;
  }
  const arch = spawnSync("dpkg", ["--print-architecture"], { encoding: "utf8" });
  facts.arch = arch.status === 0 ? arch.stdout.trim() : process.arch === "x64" ? "amd64" : process.arch;
  if (!req.source.mirror && (DISTROS as readonly string[]).includes(req.source.distro)) facts.mirrors = hostMirrors();
  return facts;
}

/** The host's name servers that a guest can use: loopback ones (a local stub resolver) are the host's own. */
export function nameserversOf(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]).filter((a) => !/^127\.|^::1$/.test(a));
}

function hostNameservers(): string[] {
  try {
    return nameserversOf(fs.readFileSync("/etc/resolv.conf", "utf8"));
  } catch {
    return [];
  }
}

/** A statically linked busybox: an ELF file without a PT_INTERP program header. */
export function isStaticElf(file: string): boolean {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false; // 64-bit little-endian only
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  return true;
}

function hostBusybox(): HostFacts["busybox"] {
  for (const p of ["/bin/busybox", "/usr/bin/busybox", "/usr/sbin/busybox"]) {
    try {
      if (!isStaticElf(p)) continue;
    } catch {
      continue;
    }
    const r = spawnSync(p, ["--list-full"], { encoding: "utf8" });
    if (r.status === 0) return { path: p, applets: r.stdout.split("\n").filter(Boolean) };
  }
  return null;
}

function prepareDebootstrap(b: DebootstrapPlan, opts: CreateOptions, rep: Reporter): void {
  if (!haveCommand("debootstrap")) {
    if (!opts.installDebootstrap || !haveCommand("apt-get")) throw new CreateError("debootstrap is not installed: install the debootstrap package");
    rep.step("debootstrap is not installed; installing it now with: apt-get install -y debootstrap");
    const r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "--no-upgrade", "debootstrap"], { stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0 || !haveCommand("debootstrap")) throw new CreateError("could not install debootstrap (apt-get install debootstrap failed)");
  }
  const keyring = b.install.find((a) => a.startsWith("--keyring="))?.slice("--keyring=".length);
  if (keyring && !fs.existsSync(keyring)) {
    const pkg = b.release.distro === "ubuntu" ? "ubuntu-keyring" : "debian-archive-keyring";
    throw new CreateError(`keyring ${keyring} is missing: install ${pkg}, or give --keyring FILE (docs/create.md)`);
  }
}

function packageCount(cacheFile: string): number | null {
  try {
    return JSON.parse(fs.readFileSync(`${cacheFile}.info`, "utf8")).packages ?? null;
  } catch {
    return null;
  }
}

/** Download the release into the cache unless it is there; one downloader at a time per cache file. */
async function ensureCached(b: DebootstrapPlan, rep: Reporter): Promise<void> {
  if (fs.existsSync(b.cacheFile)) return;
  fs.mkdirSync(path.dirname(b.cacheFile), { recursive: true });
  const lock = `${b.cacheFile}.lock`;
  await takeLock(lock);
  try {
    if (fs.existsSync(b.cacheFile)) return;
    const env = { ...aptProxyEnv(), ...process.env };
    const reach = await checkMirrorRelease(b.mirror, b.release.codename, undefined, env);
    checkInterrupted();
    if (!reach.ok) throw new CreateError(`download failed: ${reach.message}`);
    removeTree(b.downloadDir);
    fs.rmSync(`${b.cacheFile}.partial`, { force: true });
    fs.mkdirSync(b.downloadDir);
    rep.step(`downloading ${b.release.distro} ${b.release.codename} from ${b.mirror} into the cache ${b.cacheFile}`);
    let packages = 0;
    const track = tracker(rep, null);
    let r: RunResult;
    try {
      // A dropped connection mid-download: a few tries with timeouts, not wget's 20 with none.
      const wgetrc = `${b.downloadDir}.wgetrc`;
      fs.writeFileSync(wgetrc, "tries = 3\nconnect_timeout = 30\nread_timeout = 120\npassive_ftp = on\n");
      r = await runStreaming(b.download, (line) => {
        if (/^I: Retrieving \S+ \S+$/.test(line)) packages++;
        track(line);
      }, { ...env, WGETRC: wgetrc });
      rep.end();
      checkInterrupted();
      if (r.code !== 0) throw new CreateError(`download failed: ${why(r, b.downloadDir)}`);
      fs.writeFileSync(`${b.cacheFile}.info`, JSON.stringify({ packages, mirror: b.mirror, argv: b.download }, null, 2) + "\n");
      fs.renameSync(`${b.cacheFile}.partial`, b.cacheFile);
    } finally {
      fs.rmSync(`${b.cacheFile}.partial`, { force: true });
      fs.rmSync(`${b.downloadDir}.wgetrc`, { force: true });
      removeTree(b.downloadDir);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Keep the freshly installed rootfs (before any guest step) for the next create of the same set. */
async function saveRootfs(file: string, staging: string, rep: Reporter): Promise<void> {
  const partial = `${file}.partial-${process.pid}`;
  rep.step(`keeping the installed system in the cache (${file})`);
  try {
    const r = await runStreaming(["tar", "--create", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "--one-file-system", "-f", partial, "-C", staging, "."]);
    checkInterrupted();
    // A failure here (no space in the cache) costs only the speed-up of the next create.
    if (r.code === 0) fs.renameSync(partial, file);
    else rep.step(`not cached: tar failed (${r.tail.slice(-1).join("")})`);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

async function takeLock(lock: string): Promise<void> {
  for (let i = 0; ; i++) {
    const owner = tryLock(lock);
    if (owner === null) return;
    if (i === 0) process.stderr.write(`containerctl: waiting for pid ${owner}, which is filling the same cache (${lock})\n`);
    checkInterrupted();
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Write a spec without ever replacing one: a temporary file, then link(2), which fails when the name exists. */
export function writeSpecExclusive(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, "wx", 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new CreateError(`name taken: ${file} exists`);
      throw e;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export { HostError };
