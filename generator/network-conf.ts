// The managed host bridge's configuration, /etc/containerctl/network.conf
// (docs/network.md), as far as the generator needs it: the bridge's name, so
// that containers whose Bridge= names it are ordered after the job that makes
// it. runtime/bridge reads the whole file (and validates every key) when it
// brings the bridge up; this reads the same systemd-style syntax.

import * as fs from "node:fs";
import * as path from "node:path";
import type { SpecError } from "./spec/errors";
import { readIni } from "./spec/ini-reader";
import { ifname, ValueError } from "./spec/values";

export const NETWORK_CONF = "network.conf";
/** Name= when network.conf does not set one (lxc-net's is lxcbr0). */
export const DEFAULT_BRIDGE = "ccbr0";
export const NETWORK_UNIT = "containerctl-network.service";
export const NETWORK_JOB = "containerctl-network";

export interface ManagedBridge {
  /** The managed bridge's name; null when network.conf cannot say (its error is in errors). */
  name: string | null;
  errors: SpecError[];
}

/** Name= of [Bridge] from network.conf text; the last assignment wins, as in systemd's syntax. */
export function managedBridgeFrom(file: string, text: string): ManagedBridge {
  const { assignments, errors } = readIni(file, text);
  let name: string | null = DEFAULT_BRIDGE;
  for (const a of assignments) {
    if (a.section !== "Bridge" || a.key !== "Name") continue;
    try {
      name = a.value === "" ? DEFAULT_BRIDGE : ifname.parse(a.value);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      errors.push({ file: a.file, line: a.line, section: a.section, key: a.key, message: e.message });
      name = null;
    }
  }
  return { name, errors };
}

/** The reading edge: no network.conf is the default bridge name. */
export function readManagedBridge(configDir: string): ManagedBridge {
  const file = path.join(configDir, NETWORK_CONF);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { name: DEFAULT_BRIDGE, errors: [] };
    return { name: null, errors: [{ file, line: 0, message: `cannot read it: ${(e as Error).message}` }] };
  }
  return managedBridgeFrom(file, text);
}
