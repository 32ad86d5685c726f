#!/usr/bin/env node
// containerctl-generator: a systemd generator (systemd.generator(7)).
// Called as `containerctl-generator NORMAL [EARLY LATE]`; writes only into
// NORMAL. No D-Bus, no systemctl, nothing read from /var. Logs to /dev/kmsg
// when run by systemd, else to stderr. One bad spec is logged and skipped;
// the exit status is 1 when anything was skipped. Keep this module's import
// graph small: it runs at every boot and daemon-reload.

import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_CONFIG_DIR, generateSystemd } from "./generate";
import { NETWORK_CONF } from "./network-conf";
import { formatSpecError } from "./spec/errors";
import { writeTree } from "./tree";

function logger(): (msg: string) => void {
  const prefix = `containerctl-generator[${process.pid}]: `;
  // systemd sets SYSTEMD_SCOPE for generators (v251+); SYSTEMD_LOG_TARGET=console forces stderr.
  if (process.env.SYSTEMD_SCOPE && process.env.SYSTEMD_LOG_TARGET !== "console") {
    try {
      const fd = fs.openSync("/dev/kmsg", "w");
      // <3> is LOG_ERR; one write per record, as kmsg requires.
      return (msg) => {
        try {
          fs.writeSync(fd, `<3>${prefix}${msg}\n`);
        } catch {
          /* the log must never fail the boot */
        }
      };
    } catch {
      /* no /dev/kmsg: fall through to stderr */
    }
  }
  return (msg) => process.stderr.write(`${prefix}${msg}\n`);
}

function main(argv: string[]): number {
  const log = logger();
  if (argv.length !== 1 && argv.length !== 3) {
    log("usage: containerctl-generator NORMAL-DIR [EARLY-DIR LATE-DIR]");
    return 1;
  }
  const out = argv[0];
  const configDir = process.env.CONTAINERCTL_CONFIG_DIR || DEFAULT_CONFIG_DIR;
  try {
    const r = generateSystemd(configDir, out);
    // network.conf's errors skip no container: only the ordering after the managed bridge's unit.
    for (const e of r.errors) log(`${formatSpecError(e)} (${path.basename(e.file) === NETWORK_CONF ? "no container ordered after the managed bridge" : "container skipped"})`);
    for (const w of r.warnings) log(`${formatSpecError(w)} (warning)`);
    writeTree(out, r.tree);
    return r.errors.length > 0 ? 1 : 0;
  } catch (e) {
    log(`failed: ${(e as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
