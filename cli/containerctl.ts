#!/usr/bin/env node
// containerctl: the command line. Thin: parses arguments and calls the parts.
// Each command group lives in commands/<group>.ts and registers itself here.
// Commands set process.exitCode; nothing calls process.exit().

import { Command } from "commander";
import { DEFAULT_CONFIG_DIR } from "../generator/generate";
import { register as registerSpec } from "./commands/spec";
import { register as registerInstall } from "./commands/install";
import { register as registerRuntime } from "./commands/runtime";
import { register as registerImporter } from "./commands/importer";
import { register as registerState } from "./commands/state";
import { register as registerCreate } from "./commands/create";
import { register as registerDisk } from "./commands/disk";
import { register as registerNetwork } from "./commands/network";

export function buildProgram(): Command {
  const program = new Command("containerctl")
    .description("Run system containers as systemd (or upstart) services, from one spec file each.")
    .option("-C, --config-dir <dir>", "directory of container specs", process.env.CONTAINERCTL_CONFIG_DIR || DEFAULT_CONFIG_DIR)
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerSpec(program);
  registerInstall(program);
  registerRuntime(program);
  registerImporter(program);
  registerState(program);
  registerCreate(program);
  registerDisk(program);
  registerNetwork(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: Error) => {
      process.stderr.write(`containerctl: ${e.message}\n`);
      process.exitCode = 1;
    });
}
