// Shared by the create tests: a temporary host layout (spec, lib, run and
// cache directories moved by containerctl's environment variables), the CLI
// run as a child process, and tree listings to prove what changed.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Paths } from "../../generator/create/paths";

export const CLI = path.join(__dirname, "../../cli/containerctl.js");

export function skipReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root";
  return null;
}

export interface TempHost {
  root: string;
  paths: Paths;
  env: NodeJS.ProcessEnv;
  cli(args: string[], opts?: { input?: string; timeoutMs?: number }): { code: number | null; stdout: string; stderr: string };
  /** Start the CLI without waiting (to signal it). */
  spawnCli(args: string[]): import("node:child_process").ChildProcess;
  cleanup(): void;
}

export function tempHost(cacheDir?: string): TempHost {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-create-"));
  const paths: Paths = { configDir: path.join(root, "etc"), libDir: path.join(root, "lib"), runDir: path.join(root, "run"), cacheDir: cacheDir ?? path.join(root, "cache") };
  const env = {
    ...process.env, CONTAINERCTL_CONFIG_DIR: paths.configDir, CONTAINERCTL_LIB_DIR: paths.libDir,
    CONTAINERCTL_RUN_DIR: paths.runDir, CONTAINERCTL_CACHE_DIR: paths.cacheDir,
  };
  return {
    root, paths, env,
    cli(args, opts = {}) {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        env, encoding: "utf8", input: opts.input, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], timeout: opts.timeoutMs ?? 120_000,
      });
      return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
    spawnCli(args) {
      return spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    },
    cleanup() {
      for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
        const mp = line.split(" ")[4];
        if (mp && mp.startsWith(root + "/")) spawnSync("umount", ["-l", mp]);
      }
      spawnSync("rm", ["-rf", "--one-file-system", root]);
    },
  };
}

/** Every path under dir with its type, mode, owner and size (or link target): a fingerprint of a tree. */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(d).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      const kind = st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : st.isDirectory() ? "dir" : st.isFile() ? `file ${st.size}` : `special ${st.rdev}`;
      out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${kind}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

export function mountsUnder(dir: string): string[] {
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4]).filter((m) => m && (m === dir || m.startsWith(dir + "/")));
}

export function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = (): void => {
      if (pred()) return resolve(true);
      if (Date.now() > until) return resolve(false);
      setTimeout(tick, 100);
    };
    tick();
  });
}
