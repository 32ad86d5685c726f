// Shared by disk.ts and disk-project.ts (docs/disk.md): the error, the
// container a disk command acts on, running a program, sizes for people.

import { spawnSync } from "node:child_process";
import type { ContainerSpec } from "../spec/load";

export class DiskError extends Error {}

export type Backing = "image" | "project";

export interface DiskTarget {
  name: string;
  spec: ContainerSpec;
  root: string;
  /** RootDirectory.img (the rule runtime/disk applies). */
  image: string;
  /** Disk= in bytes, or null when unset (or infinity). */
  limit: number | null;
  /** DiskBacking= */
  backing: "auto" | Backing;
}

export interface CheckReport { lines: string[]; ok: boolean }

export const human = (n: number): string =>
  n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)}G` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)}M` : `${Math.ceil(n / 1024)}K`;

/** Run a program (argv, never a shell); its output, or a DiskError with its last lines. */
export function run(argv: string[], what: string, ok: (code: number) => boolean = (c) => c === 0): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  if (r.error) throw new DiskError(`${what}: cannot run ${argv[0]}: ${r.error.message}`);
  if (r.status === null || !ok(r.status)) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-3).join(" / ");
    throw new DiskError(`${what}: ${argv.join(" ")} failed (${r.status ?? r.signal}): ${tail}`);
  }
  return r.stdout;
}
