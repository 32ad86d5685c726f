// Planning a new container, pure: from what the user asked and what the host
// offers (HostFacts, gathered by create.ts) to a CreatePlan: the spec text
// (already validated), how to get a root filesystem (the debootstrap argv
// vectors, or the busybox tree) and the post-steps for the guest. Tests compare
// whole plans per release (test/create/golden/) without network or root.

import { createHash } from "node:crypto";
import * as path from "node:path";
import type { ContainerSpec } from "../spec/load";
import { checkName } from "../spec/names";
import { hostname as hostnameType, ValueError } from "../spec/values";
import { busyboxTreeSteps, type HostBusybox } from "./busybox";
import { guestSteps, type GuestStep } from "./guest-files";
import { containerPaths, DEFAULT_LIB_DIR, type ContainerPaths, type Paths } from "./paths";
import { findRelease, type Distro, type Release } from "./releases";
import { checkSpecText, renderSpecText, type SpecSettings } from "./spec-text";

export class PlanError extends Error {}

export interface NetworkRequest {
  type?: "veth" | "macvlan" | "none" | "host";
  bridge?: string;
  interface?: string;
  addresses: string[];
  gateways: string[];
  dns: string[];
}

export type SourceRequest =
  | { kind: "busybox" }
  | {
      kind: "debootstrap";
      distro: string;
      release: string;
      mirror?: string;
      packages: string[];
      components?: string[];
      /** A keyring instead of the release's own. */
      keyring?: string;
      /** false: --no-check-gpg (only for archives whose signatures cannot be checked; see docs/create.md). */
      checkGpg: boolean;
    };

export interface CreateRequest {
  name: string;
  hostname?: string;
  source: SourceRequest;
  network: NetworkRequest;
  /** crypt(3) hash for root, or null: root's password stays locked. */
  rootPasswordHash: string | null;
  /** Disk= (the disk itself is made after the rootfs: `containerctl disk create`). */
  disk?: string;
  /** Contents for /root/.ssh/authorized_keys, or null. */
  authorizedKeys: string | null;
}

export interface HostFacts {
  /** dpkg architecture of the host (debootstrap --arch). */
  arch: string;
  /** Mirrors this host's apt uses, per distribution, or null (mirror.ts). */
  mirrors: Record<Distro, string | null>;
  nameservers: readonly string[];
  busybox: HostBusybox | null;
  /** The spec directory's defaults.conf, merged under the new spec as the generator will. */
  defaults?: { path: string; text: string } | null;
}

export interface DebootstrapPlan {
  kind: "debootstrap";
  release: Release;
  mirror: string;
  /** The cached download: a debootstrap --make-tarball tarball. */
  cacheFile: string;
  /** Download into the cache (run only when cacheFile is missing): writes cacheFile + ".partial". */
  download: string[];
  /** Build the rootfs from the cached tarball into the staging directory (no network). */
  install: string[];
  /** Scratch directory debootstrap --make-tarball works in. */
  downloadDir: string;
  /**
   * The installed rootfs, as a tar made after the first install from this
   * cache, unpacked instead of running the install again (seconds instead of
   * dpkg's minute). null when the package set may create per-install secrets
   * (extra packages, openssh-server's host keys), which must not be shared.
   */
  rootfsCache: string | null;
  /** tar argv that unpacks rootfsCache into the staging directory (owners, modes, xattrs, ACLs kept). */
  unpackRootfs: string[] | null;
}

export interface CreatePlan {
  name: string;
  paths: ContainerPaths;
  specText: string;
  spec: ContainerSpec;
  bootstrap: { kind: "busybox" } | DebootstrapPlan;
  /** Applied to the staging rootfs after it is built, in order. */
  steps: GuestStep[];
}

const DEBOOTSTRAP_SCRIPTS = "/usr/share/debootstrap/scripts";

export function planCreate(req: CreateRequest, host: HostFacts, paths: Paths): CreatePlan {
  const bad = checkName(req.name);
  if (bad) throw new PlanError(bad);
  const cp = containerPaths(paths, req.name);
  const release = req.source.kind === "debootstrap" ? findRelease(req.source.distro, req.source.release) : null;

  const settings: SpecSettings = {};
  settings.description = release
    ? `${release.distro === "debian" ? "Debian" : "Ubuntu"} ${release.version} (${release.codename})`
    : "BusyBox";
  if (paths.libDir !== DEFAULT_LIB_DIR) settings.root = cp.rootfs;
  const hostname = guestHostname(req.name, req.hostname);
  if (hostname !== req.name) settings.hostname = hostname;
  // busybox init halts on SIGPWR, the signal Guest=sysvinit stops with.
  settings.guest = release ? release.guest : "sysvinit";
  const n = req.network;
  const type = n.type ?? (n.bridge || n.addresses.length ? "veth" : n.interface ? "macvlan" : "none");
  settings.netType = type;
  if (n.bridge) settings.bridge = n.bridge;
  if (n.interface) settings.netInterface = n.interface;
  if (n.addresses.length) settings.addresses = n.addresses;
  if (n.gateways.length) settings.gateways = n.gateways;
  if (n.dns.length) settings.dns = n.dns;
  if (req.disk) settings.disk = req.disk;
  const source = release ? `${release.distro} ${release.codename}` : "busybox";
  const specText = renderSpecText(settings, [`Created by containerctl create (${source}).`, "The spec reference: man containerctl.container (docs/spec.md)."]);
  const spec = checkSpecText(req.name, cp.spec, specText, [], host.defaults ?? null);

  const guest = guestSteps({
    spec, init: release ? release.guest : "busybox", network: release ? release.network : "ifupdown",
    hostNameservers: host.nameservers, rootPasswordHash: req.rootPasswordHash, authorizedKeys: req.authorizedKeys,
  });

  if (req.source.kind === "busybox") {
    if (!host.busybox) throw new PlanError("no static busybox on this host: install the busybox-static package");
    return { name: req.name, paths: cp, specText, spec, bootstrap: { kind: "busybox" }, steps: [...busyboxTreeSteps(host.busybox), ...guest] };
  }
  const r = release!;
  const src = req.source;
  const mirror = src.mirror ?? defaultMirror(r, host);
  checkMirror(mirror);
  for (const p of src.packages) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new PlanError(`'${p}' is not a package name`);
  const components = src.components ?? ["main"];
  for (const c of components) if (!/^[a-z0-9][a-z0-9/-]*$/.test(c)) throw new PlanError(`'${c}' is not an archive component`);
  // sshd reads the authorized key; without it the key would be dead weight.
  const include = [...new Set([...r.include, ...src.packages, ...(req.authorizedKeys !== null ? ["openssh-server"] : [])])].sort();

  const common = [
    `--arch=${host.arch}`,
    ...(r.variant === "-" ? [] : [`--variant=${r.variant}`]),
    `--components=${components.join(",")}`,
    ...(include.length ? [`--include=${include.join(",")}`] : []),
    r.mergedUsr ? "--merged-usr" : "--no-merged-usr",
    ...(src.checkGpg ? [`--keyring=${src.keyring ?? r.keyring}`] : ["--no-check-gpg"]),
  ];
  // The mirror is part of the key: debootstrap --unpack-tarball finds the
  // tarball's package indices under names made from the mirror URL.
  const key = createHash("sha256").update(JSON.stringify({ include, components, mergedUsr: r.mergedUsr, mirror })).digest("hex").slice(0, 12);
  const cacheFile = path.join(paths.cacheDir, "debootstrap", `${r.distro}-${r.codename}-${host.arch}-${r.variant === "-" ? "default" : r.variant}-${key}.tgz`);
  const downloadDir = `${cacheFile}.download`;
  const script = path.join(DEBOOTSTRAP_SCRIPTS, r.script);
  const bootstrap: DebootstrapPlan = {
    kind: "debootstrap", release: r, mirror, cacheFile, downloadDir,
    download: ["debootstrap", ...common, `--make-tarball=${cacheFile}.partial`, r.codename, downloadDir, mirror, script],
    install: ["debootstrap", ...common, `--unpack-tarball=${cacheFile}`, r.codename, cp.staging, mirror, script],
    rootfsCache: null, unpackRootfs: null,
  };
  if (src.packages.length === 0 && req.authorizedKeys === null) {
    bootstrap.rootfsCache = cacheFile.replace(/\.tgz$/, ".rootfs.tar");
    bootstrap.unpackRootfs = ["tar", "--extract", "--numeric-owner", "--preserve-permissions", "--xattrs", "--xattrs-include=*", "--acls", "-f", bootstrap.rootfsCache, "-C", cp.staging];
  }
  const post: GuestStep[] = [];
  if (r.guest === "systemd") {
    // Each container makes its own machine-id at first boot; dbus's copy (which its
    // postinst writes as a file) must follow it, not keep the installing system's.
    post.push({ op: "empty", path: "/etc/machine-id" }, { op: "symlink", path: "/var/lib/dbus/machine-id", target: "/etc/machine-id" });
  }
  post.push({ op: "remove-debs", path: "/var/cache/apt/archives" });
  return { name: req.name, paths: cp, specText, spec, bootstrap, steps: [...guest, ...post] };
}

/** The name as a host name, or a clear error when it cannot be one and none was given. */
function guestHostname(name: string, given: string | undefined): string {
  const candidate = given ?? name.toLowerCase().replace(/[_.]+/g, "-").replace(/^-+|-+$/g, "");
  try {
    return hostnameType.parse(candidate);
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    throw new PlanError(`${e.message}; give one with --hostname`);
  }
}

function defaultMirror(r: Release, host: HostFacts): string {
  const label = `${r.distro === "debian" ? "Debian" : "Ubuntu"} ${r.version} (${r.codename})`;
  if (r.archive === "archived") {
    throw new PlanError(`${label} is no longer on the regular ${r.distro} mirrors: give --mirror URL of an archive of past ${r.distro} releases (docs/create.md)`);
  }
  const m = host.mirrors[r.distro];
  if (!m) throw new PlanError(`no ${r.distro} mirror in this host's apt sources: give --mirror URL (docs/create.md)`);
  return m;
}

function checkMirror(m: string): void {
  if (!/^(https?|ftp|file):\/\/[^\s,'"\\]+$/.test(m)) throw new PlanError(`'${m.replace(/[^\x20-\x7e]/g, "?")}' is not a mirror URL (http://, https://, ftp:// or file://)`);
}
