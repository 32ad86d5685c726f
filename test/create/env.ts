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

/** What a naive copy loses, added to a tree: a hard link, odd owners and a setuid mode, xattrs (a file capability), a device node, a fifo. */
export function enrichTree(R: string): void {
  const ok = (argv: string[]): void => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  };
  fs.writeFileSync(path.join(R, "root/a"), "shared\n");
  fs.linkSync(path.join(R, "root/a"), path.join(R, "root/b"));
  fs.writeFileSync(path.join(R, "root/owned"), "x");
  fs.chownSync(path.join(R, "root/owned"), 1234, 5678);
  fs.chmodSync(path.join(R, "root/owned"), 0o4750);
  ok(["mknod", path.join(R, "dev/null"), "c", "1", "3"]);
  ok(["mkfifo", path.join(R, "root/fifo")]);
  ok(["python3", "-c", "import os,sys; os.setxattr(sys.argv[1], 'user.note', b'kept'); os.setxattr(sys.argv[1], 'security.capability', bytes.fromhex('0100000200200000000000000000000000000000'))", path.join(R, "root/owned")]);
}

/** A file's xattrs, names and values, as one comparable string. */
export function xattrs(file: string): string {
  const py = "import os,sys; print(sorted((k, os.getxattr(sys.argv[1], k, follow_symlinks=False).hex()) for k in os.listxattr(sys.argv[1], follow_symlinks=False)))";
  return spawnSync("python3", ["-c", py, file], { encoding: "utf8" }).stdout;
}
