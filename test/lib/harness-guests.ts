// Busybox guests inside a systemd-harness instance (test/lib/systemd-harness.ts),
// for tests that start containers under the harness's real systemd with the
// real runtime. The guest's /sbin/init is a small sh script that reports what
// it sees and does what the test asks on its stop signal or after a while.

import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import { PROJECT_DIR, type SystemdHarness, sleepMs, unavailableReason } from "./systemd-harness";

export const BUSYBOX = "/bin/busybox";
export const RUNTIME_DIR = path.join(PROJECT_DIR, "runtime");

/** Why containers cannot be started in the harness yet, or null. */
export function runtimeMissing(): string | null {
  if (!fs.existsSync(path.join(RUNTIME_DIR, "start"))) return "no runtime/start yet";
  return null;
}

/**
 * For a test file that needs the harness and the runtime: where either is
 * missing, registers one skipped test, `what (why)`, runs it and returns true;
 * the file then defines nothing else.
 */
export function skippedWithoutRuntime(what: string): boolean {
  const why = unavailableReason() ?? runtimeMissing();
  if (why === null) return false;
  test.skip(`${what} (${why})`, () => {});
  test.run();
  return true;
}

/**
 * Build the runtime's C helper (a build product that install-system copies
 * when present). Call before SystemdHarness.create().
 */
export function buildRuntime(): void {
  if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing: install busybox-static (test/apt-packages.txt)`);
  const b = spawnSync("sh", [path.join(RUNTIME_DIR, "build.sh")], { encoding: "utf8" });
  if (b.status !== 0) throw new Error(`runtime/build.sh failed:\n${b.stdout}${b.stderr}`);
}

export interface GuestBehaviour {
  /** On SIGPWR/SIGTERM/SIGRTMIN+3: exit 0 (default) or ignore it. */
  onStop?: "exit" | "ignore";
  /** After this many seconds of running (on its first boot only, when `once`): exit with `code`, or reboot. */
  after?: { seconds: number; action: { exit: number } | "reboot"; once?: boolean };
  /**
   * A shell script the init runs in the background after it starts (so it runs
   * inside the container, in its cgroup), stdout+stderr to /job.out, status to /job.rc.
   */
  job?: string;
}

/**
 * A busybox root filesystem at /var/lib/containerctl/NAME/rootfs inside the
 * harness, written from the host side. Its init appends one line per boot to
 * /boots ("PID HOSTNAME $container $container_name") and prints
 * "bb-guest-started TAG boot=N pid=PID" on its console.
 */
export function makeBusyboxGuest(h: SystemdHarness, name: string, tag: string, b: GuestBehaviour = {}): string {
  const inside = `/var/lib/containerctl/${name}/rootfs`;
  const root = path.join(h.rootfs, inside);
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "etc", "tmp", "run", "var"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(root, "bin/busybox"));
  fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
  const onStop = b.onStop === "ignore" ? `echo "bb-guest-ignoring-$1 ${tag}"` : `echo "bb-guest-stopping-$1 ${tag}"; exit 0`;
  let later = "";
  if (b.after) {
    const act = b.after.action === "reboot" ? `echo "bb-guest-rebooting ${tag}"; reboot -f` : `echo "bb-guest-exiting-${b.after.action.exit} ${tag}"; exit ${b.after.action.exit}`;
    const cond = b.after.once ? `[ "$boot" = 1 ]` : "true";
    later = `if ${cond}; then sleep ${b.after.seconds}; ${act}; fi\n`;
  }
  // busybox ash knows no RTMIN+n names: 37 is SIGRTMIN+3 (glibc's SIGRTMIN is 34 on Linux).
  fs.writeFileSync(
    path.join(root, "sbin/init"),
    `#!/bin/sh
on_signal() { ${onStop}; }
trap 'on_signal PWR' PWR
trap 'on_signal TERM' TERM
trap 'on_signal RTMIN+3' 37
echo "$$ $(hostname) $container $container_name" >> /boots
boot=$(wc -l < /boots)
echo "bb-guest-started ${tag} boot=$boot pid=$$"
if [ -f /job ] && [ ! -e /job.rc ]; then (sh /job > /job.out 2>&1; echo $? > /job.rc) & fi
${later}while :; do sleep 1 & wait $!; done
`,
    { mode: 0o755 },
  );
  if (b.job !== undefined) fs.writeFileSync(path.join(root, "job"), b.job, { mode: 0o755 });
  h.sh(`chroot ${inside} /bin/busybox --install -s`);
  return inside;
}

/** Lines of the guest's /boots file (one per boot of the guest). */
export function guestBoots(h: SystemdHarness, name: string): string[] {
  return h.run(`cat /var/lib/containerctl/${name}/rootfs/boots 2>/dev/null`).stdout.split("\n").filter(Boolean);
}

/** Poll until fn() is true; false on timeout. */
export function waitFor(fn: () => boolean, timeoutMs = 10_000, stepMs = 100): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > deadline) return false;
    sleepMs(stepMs);
  }
}

/** The first line of the unit's journal matching re (polled), or null. */
export function unitJournalLine(h: SystemdHarness, unit: string, re: RegExp, timeoutMs = 10_000): string | null {
  let found: string | null = null;
  waitFor(() => {
    found = h.run(["journalctl", "-u", unit, "-o", "cat", "--no-pager"]).stdout.split("\n").find((l) => re.test(l)) ?? null;
    return found !== null;
  }, timeoutMs, 200);
  return found;
}

/** PIDs in a unit's cgroup inside the harness (v1 pids hierarchy or unified). */
export function unitProcs(h: SystemdHarness, unit: string): string[] {
  return h
    .run(`cat /sys/fs/cgroup/pids/machine.slice/${unit}/cgroup.procs /sys/fs/cgroup/machine.slice/${unit}/cgroup.procs 2>/dev/null`)
    .stdout.split("\n")
    .filter(Boolean);
}
