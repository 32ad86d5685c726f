// containerctl network up | down | status: the managed host bridge
// (docs/network.md). The work is runtime/bridge's (POSIX sh, so the init
// system's job needs no Node); this only picks who runs it: the init system's
// job when it is installed (containerctl-network.service, or the upstart job
// of that name), so that containers ordered after it see the same state;
// else the script itself (a host without an init system, --direct, or a
// --config-dir other than the one the job reads).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { DEFAULT_CONFIG_DIR } from "../../generator/generate";
import { NETWORK_UNIT, NETWORK_JOB } from "../../generator/network-conf";
import { UPSTART_JOB_DIR } from "../../generator/upstart-check";
import { runtimeDir } from "./runtime";

type Runner = { argv: string[]; env?: NodeJS.ProcessEnv; via: string };

/** runtime/bridge ACTION itself, reading network.conf from configDir. */
const bridgeScript = (action: "up" | "down" | "status", configDir: string): Runner => ({
  argv: ["sh", path.join(runtimeDir(), "bridge"), action],
  env: { ...process.env, CONTAINERCTL_CONFIG_DIR: configDir },
  via: "runtime/bridge",
});

function runner(action: "up" | "down", configDir: string, direct: boolean): Runner {
  const script = bridgeScript(action, configDir);
  if (direct || path.resolve(configDir) !== DEFAULT_CONFIG_DIR) return script;
  const unitInstalled = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"].some((d) => fs.existsSync(path.join(d, NETWORK_UNIT)));
  if (fs.existsSync("/run/systemd/system") && unitInstalled) {
    return { argv: ["systemctl", action === "up" ? "start" : "stop", NETWORK_UNIT], via: `systemctl (${NETWORK_UNIT})` };
  }
  if (fs.existsSync(path.join(UPSTART_JOB_DIR, `${NETWORK_JOB}.conf`)) && spawnSync("initctl", ["version"]).status === 0) {
    return { argv: ["initctl", action === "up" ? "start" : "stop", NETWORK_JOB], via: `upstart (${NETWORK_JOB})` };
  }
  return script;
}

function run(r: Runner): number {
  const p = spawnSync(r.argv[0], r.argv.slice(1), { stdio: "inherit", env: r.env ?? process.env });
  if (p.error) throw new Error(`${r.via}: ${p.error.message}`);
  return p.status ?? 1;
}

export function register(program: Command): void {
  const configDir = (): string => program.opts().configDir;
  const net = program.command("network").description("the managed host bridge with NAT and DHCP, like lxc-net (network.conf)");
  for (const action of ["up", "down"] as const) {
    net
      .command(action)
      .description(action === "up"
        ? "create the bridge with its address, turn on forwarding and NAT, start dnsmasq if installed"
        : "remove the bridge, the NAT rules and dnsmasq again; forwarding back as it was")
      .option("--direct", "run runtime/bridge here instead of through the init system's job")
      .action((opts: { direct?: boolean }) => {
        process.exitCode = run(runner(action, configDir(), opts.direct === true));
      });
  }
  net
    .command("status")
    .description("the bridge, its address, NAT, DHCP leases and ports (exit 3 when down)")
    .action(() => {
      process.exitCode = run(bridgeScript("status", configDir()));
    });
}
