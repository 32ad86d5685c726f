// Shared by disk.ts and disk-project.ts (docs/disk.md): the error, the
// container a disk command acts on, running a program, sizes for people.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import type { ContainerSpec } from "../spec/load";
import { inMountNamespace } from "./host";

export class DiskError extends Error {}

export type Backing = "image" | "project";

export interface DiskTarget {
  name: string;
  spec: ContainerSpec;
  root: string;
  /** A snapshot (overlay root): its disk holds the upper and work directories. */
  layered: boolean;
  /** The directory whose contents the disk holds: RootDirectory, or a snapshot's RootUpperDirectory. */
  data: string;
  /** DATA.img (the rule runtime/disk and start apply). */
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

/** Loop devices the image is attached to (losetup -j). */
export function loopsOf(image: string): string[] {
  const r = spawnSync("losetup", ["-j", image], { encoding: "utf8" });
  return (r.stdout || "").split("\n").filter(Boolean).map((l) => l.split(":")[0]);
}

/**
 * Mount an image in a mount namespace of its own (inMountNamespace) and hand
 * fn the path that reaches the mount through /proc/PID/root. The host never
 * sees the mount: when fn ends, or we die, the namespace goes, and the loop
 * device with it (waited for a little).
 */
export async function withMounted<T>(image: string, mnt: string, fn: (inside: string) => Promise<T>): Promise<T> {
  fs.mkdirSync(mnt, { mode: 0o700 });
  try {
    return await inMountNamespace('mount -t ext4 -o loop -- "$1" "$2"', [image, mnt], mnt, fn, (err) => new DiskError(`cannot mount ${image}: ${err}`));
  } finally {
    fs.rmdirSync(mnt); // empty on the host: the mount was only in the namespace
    for (let i = 0; loopsOf(image).length && i < 30; i++) await new Promise((r) => setTimeout(r, 100));
  }
}
