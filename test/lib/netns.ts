// Network namespaces for network tests, and a look inside TestContainers that
// run in one. Tests touch only loopback and namespaces they make here; names
// carry the test process's pid so parallel runs never meet.
//
//   const host = new Netns("h");          // `ip netns add cct-h-PID`
//   host.ok("ip", "link", "add", "br0", "type", "bridge");
//   c.start({...}, {}, undefined, host.prefix);   // the container's "host" is that namespace
//   inside(c, "ip -o addr").stdout;
//   await stopped(c);
//   host.del();

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as assert from "uvu/assert";
import { guestInit, nsenterArgv, processesOf, sleep, type TestContainer } from "./runtime-harness";

export class Netns {
  readonly name: string;
  constructor(tag: string) {
    this.name = `cct-${tag}-${process.pid}`;
    assert.is(spawnSync("ip", ["netns", "add", this.name]).status, 0, `ip netns add ${this.name}`);
    this.ok("ip", "link", "set", "lo", "up");
  }

  /**
   * argv prefix that runs a command in this namespace and nothing else: not
   * `ip netns exec`, whose new mount namespace with a fresh /sys has no
   * /sys/fs/cgroup (the runtime and `containerctl exec` need the cgroups).
   */
  get prefix(): string[] {
    return ["nsenter", `--net=/run/netns/${this.name}`, "--"];
  }

  run(cmd: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
    return spawnSync("ip", ["netns", "exec", this.name, ...cmd], { encoding: "utf8", timeout: 30000, env: { ...process.env, ...env } });
  }

  exec(...cmd: string[]): SpawnSyncReturns<string> {
    return this.run(cmd);
  }

  /** Run and assert exit status 0. */
  ok(...cmd: string[]): string {
    const r = this.run(cmd);
    assert.is(r.status, 0, `${cmd.join(" ")} in ${this.name}: ${r.stderr}`);
    return r.stdout;
  }

  del(): void {
    spawnSync("ip", ["netns", "del", this.name]);
  }
}

/** A veth pair between two namespaces, with an address on each end ("" for none). */
export function link(a: Netns, aIf: string, aAddr: string, b: Netns, bIf: string, bAddr: string): void {
  a.ok("ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.name);
  if (aAddr) a.ok("ip", "addr", "add", aAddr, "dev", aIf);
  a.ok("ip", "link", "set", aIf, "up");
  if (bAddr) b.ok("ip", "addr", "add", bAddr, "dev", bIf);
  b.ok("ip", "link", "set", bIf, "up");
}

// The helper's control socket is abstract, so it belongs to the network
// namespace the helper runs in (the test's "host" namespace): commands inside
// the containers go through nsenter on the guest init found from /proc.
/** The guest init's host pid (runtime-harness's guestInit, by container). */
export const initOf = (c: TestContainer): number => guestInit(c.name);

/** sh -c CMD in every namespace of the container, with its root; stdout and stderr together. */
export function inside(c: TestContainer, cmd: string, timeout = 15000): { code: number | null; stdout: string } {
  const [nsenter, ...args] = nsenterArgv(initOf(c), cmd);
  const r = spawnSync(nsenter, args, { encoding: "utf8", timeout });
  return { code: r.status, stdout: r.stdout + r.stderr };
}

/** Stop as systemd would (SIGTERM to the main process) and wait until none of its processes is left. */
export async function stopped(c: TestContainer): Promise<void> {
  c.proc?.kill("SIGTERM");
  await c.waitExit(15000);
  for (let i = 0; i < 100 && processesOf(c.name).length > 0; i++) await sleep(20);
  assert.equal(processesOf(c.name), [], `${c.name}: processes left 2 s after its exit`);
}

/** Plan lines from fields (the plan is tab-separated). */
export const planLines = (lines: string[][]): string[] => lines.map((l) => l.join("\t"));
