// A busybox guest for runtime tests and benchmarks: Debian's busybox-static
// (statically linked, so the guest needs no libraries), its applets as
// relative symlinks, the usual top-level directories and an /sbin/init shell
// script. The template is built once and cached; each test copies it.
//
//   const root = makeBusyboxGuest(dir, { init: TEST_INIT });   // dir/rootfs
//
// Environment: CONTAINERCTL_TEST_CACHE (default /var/cache/containerctl-test).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const CACHE_ROOT = process.env.CONTAINERCTL_TEST_CACHE || "/var/cache/containerctl-test";
/** Bump when the recipe changes; a cached template of another recipe is rebuilt. */
const RECIPE = "busybox-static applets as relative links; recipe 1";
export const TEMPLATE_DIR = path.join(CACHE_ROOT, "busybox-guest");

/**
 * The default init: says it is up on the console, reports which stop signal
 * it got and exits, so a test sees both ends. RTMIN+3 is 37 with glibc.
 */
export const DEFAULT_INIT = `#!/bin/sh
echo "guest: init up pid=$$ host=$(hostname)"
trap 'echo "guest: got SIGPWR"; exit 0' PWR
trap 'echo "guest: got SIGRTMIN+3"; exit 0' 37
trap 'echo "guest: got SIGTERM"; exit 0' TERM
trap 'echo "guest: got SIGINT"; exit 0' INT
while :; do sleep 1 & wait; done
`;

function run(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** /bin/busybox of the installed busybox-static package, or one extracted from its .deb into the cache. */
export function busyboxBinary(): string {
  const listed = spawnSync("dpkg", ["-L", "busybox-static"], { encoding: "utf8" });
  const inPackage = listed.status === 0 ? listed.stdout.split("\n").find((l) => /\/bin\/busybox$/.test(l)) : undefined;
  if (inPackage && fs.existsSync(inPackage)) return inPackage;
  const dir = path.join(CACHE_ROOT, "busybox-static-deb");
  const bin = path.join(dir, "bin", "busybox");
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  run(["sh", "-c", `cd "$1" && apt-get download busybox-static >/dev/null && dpkg-deb -x busybox-static_*.deb .`, "sh", dir]);
  if (!fs.existsSync(bin)) throw new Error(`busybox-static: no bin/busybox in the package (looked in ${dir})`);
  return bin;
}

/** The cached template root; built on first use (atomically, so parallel users see all or nothing). */
export function busyboxTemplate(): string {
  const stamp = path.join(TEMPLATE_DIR, ".recipe");
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === RECIPE) return TEMPLATE_DIR;
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = `${TEMPLATE_DIR}.new-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const d of ["bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var", "mnt"]) {
    fs.mkdirSync(path.join(tmp, d), { recursive: true });
  }
  fs.chmodSync(path.join(tmp, "tmp"), 0o1777);
  const bb = path.join(tmp, "bin", "busybox");
  fs.copyFileSync(busyboxBinary(), bb);
  fs.chmodSync(bb, 0o755);
  for (const applet of run([bb, "--list"]).split("\n")) {
    if (!applet || applet === "busybox") continue;
    fs.symlinkSync("busybox", path.join(tmp, "bin", applet));
  }
  fs.writeFileSync(path.join(tmp, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  fs.writeFileSync(path.join(tmp, "etc", "group"), "root:x:0:\ntty:x:5:\n");
  fs.writeFileSync(path.join(tmp, "sbin", "init"), DEFAULT_INIT, { mode: 0o755 });
  fs.writeFileSync(path.join(tmp, ".recipe"), RECIPE);
  fs.rmSync(TEMPLATE_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, TEMPLATE_DIR);
  return TEMPLATE_DIR;
}

export interface GuestOptions {
  /** Contents of /sbin/init (default DEFAULT_INIT). */
  init?: string;
}

/** A fresh copy of the template at dir/rootfs; returns the rootfs path. */
export function makeBusyboxGuest(dir: string, opts: GuestOptions = {}): string {
  const root = path.join(dir, "rootfs");
  fs.mkdirSync(dir, { recursive: true });
  run(["cp", "-a", busyboxTemplate(), root]);
  fs.rmSync(path.join(root, ".recipe"));
  if (opts.init !== undefined) fs.writeFileSync(path.join(root, "sbin", "init"), opts.init, { mode: 0o755 });
  return root;
}
