// Where create, clone and destroy put things (DESIGN.md "Where things go on a
// host"). Every directory can be moved by an environment variable so tests
// run in temporary directories; the spec directory follows --config-dir.

import * as path from "node:path";
import { DEFAULT_CONFIG_DIR } from "../generate";
import { SPEC_SUFFIX } from "../spec/load";

export interface Paths {
  configDir: string;
  /** Container data: NAME/rootfs, and for snapshots NAME/upper, NAME/work, NAME/layers. */
  libDir: string;
  /** Runtime state of running containers (/run/containerctl/NAME). */
  runDir: string;
  /** Download cache (debootstrap tarballs). */
  cacheDir: string;
}

export const DEFAULT_LIB_DIR = "/var/lib/containerctl";

export function defaultPaths(configDir = process.env.CONTAINERCTL_CONFIG_DIR || DEFAULT_CONFIG_DIR): Paths {
  return {
    configDir,
    libDir: process.env.CONTAINERCTL_LIB_DIR || DEFAULT_LIB_DIR,
    runDir: process.env.CONTAINERCTL_RUN_DIR || "/run/containerctl",
    cacheDir: process.env.CONTAINERCTL_CACHE_DIR || "/var/cache/containerctl",
  };
}

export interface ContainerPaths {
  spec: string;
  dropIns: string;
  /** The directory create claims (mkdir fails: the name is taken) and destroy removes. */
  entry: string;
  rootfs: string;
  /** Where a rootfs is built before the rename that makes it appear whole. */
  staging: string;
  upper: string;
  work: string;
  /** Snapshot layers for the runtime (clone.ts); absent for a plain container. */
  layers: string;
  run: string;
}

export function containerPaths(p: Paths, name: string): ContainerPaths {
  const entry = path.join(p.libDir, name);
  const spec = path.join(p.configDir, name + SPEC_SUFFIX);
  return {
    spec, dropIns: spec + ".d", entry,
    rootfs: path.join(entry, "rootfs"), staging: path.join(entry, ".rootfs.creating"),
    upper: path.join(entry, "upper"), work: path.join(entry, "work"), layers: path.join(entry, "layers"),
    run: path.join(p.runDir, name),
  };
}
