// The distributions and releases `containerctl create` can bootstrap, one row
// each (STYLE.md: one table per concern). Everything release-specific that the
// planner needs is here: how debootstrap must be called (script, keyring,
// variant, merged /usr, extra packages) and what the guest boots with (its
// init, which decides Guest= and the post-steps, and how it configures its
// network). The planner (plan.ts) is a pure function of a row.
//
// Facts per row come from debootstrap's own scripts (scripts/gutsy, scripts/sid,
// scripts/debian-common: merged-/usr blacklists) and the distributions'
// keyrings; the script is always named explicitly so a debootstrap that
// predates a release (1.0.128 has no script for noble or forky) still works.

export const DISTROS = ["debian", "ubuntu"] as const;
export type Distro = (typeof DISTROS)[number];

/**
 * What boots the guest. systemd and upstart are Guest= values of the key
 * table; "lucid" is upstart 0.6.5, whose container fixes the runtime's init
 * shim applies at every boot (../shared/docs/lucid-guests.md), so create
 * writes none of them.
 */
export type GuestInit = "systemd" | "upstart" | "lucid";

/** How the guest configures eth0: systemd-networkd, or ifupdown's /etc/network/interfaces. */
export type NetworkConfig = "networkd" | "ifupdown";

export interface ReleaseDef {
  version: string;
  /**
   * "current": served by the distribution's regular mirrors (the default
   * mirror works). "archived": moved to the distribution's archive of past
   * releases, so --mirror must name such an archive.
   */
  archive: "current" | "archived";
  /** debootstrap script under /usr/share/debootstrap/scripts. */
  script: "sid" | "gutsy";
  /** Keyring that verifies the release's Release file (a host path). */
  keyring: string;
  /** debootstrap --variant; "-" is its default set (required + important). */
  variant: "minbase" | "-";
  mergedUsr: boolean;
  /** Packages added with --include on top of the variant. */
  include: readonly string[];
  guest: GuestInit;
  network: NetworkConfig;
}

const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
// Keys of releases past their life move to the removed-keys keyring (both in debian-archive-keyring).
const DEBIAN_REMOVED_KEYRING = "/usr/share/keyrings/debian-archive-removed-keys.gpg";
const UBUNTU_KEYRING = "/usr/share/keyrings/ubuntu-archive-keyring.gpg";
// Lucid's Release.gpg carries only the 2004 archive key, which ubuntu-keyring moved to its removed-keys file.
const UBUNTU_REMOVED_KEYRING = "/usr/share/keyrings/ubuntu-archive-removed-keys.gpg";

// minbase has no init: systemd-sysv makes systemd /sbin/init. systemd ships
// systemd-networkd; dbus lets networkctl, hostnamectl and loginctl work, and
// iproute2 is the administrator's `ip` (both are in a standard install).
const SYSTEMD_GUEST = ["dbus", "iproute2", "systemd-sysv"];
const debianSystemd = (version: string, archive: ReleaseDef["archive"], o: Partial<ReleaseDef> = {}): ReleaseDef => ({
  version, archive, script: "sid", keyring: archive === "archived" ? DEBIAN_REMOVED_KEYRING : DEBIAN_KEYRING,
  variant: "minbase", mergedUsr: true, include: SYSTEMD_GUEST, guest: "systemd", network: "networkd", ...o,
});
const ubuntuSystemd = (version: string, mergedUsr: boolean): ReleaseDef => ({
  version, archive: "current", script: "gutsy", keyring: UBUNTU_KEYRING,
  variant: "minbase", mergedUsr, include: SYSTEMD_GUEST, guest: "systemd", network: "networkd",
});
// Upstart releases take debootstrap's default variant: it brings ifupdown, the
// DHCP client and netbase that their network jobs expect, as OpenVZ templates had.
const ubuntuUpstart = (version: string, archive: ReleaseDef["archive"], guest: GuestInit, keyring: string): ReleaseDef => ({
  version, archive, script: "gutsy", keyring, variant: "-", mergedUsr: false, include: [], guest, network: "ifupdown",
});

export const RELEASES = {
  debian: {
    stretch: debianSystemd("9", "archived", { mergedUsr: false }),
    buster: debianSystemd("10", "archived"),
    bullseye: debianSystemd("11", "current"),
    bookworm: debianSystemd("12", "current"),
    trixie: debianSystemd("13", "current"),
    forky: debianSystemd("14", "current"),
    sid: debianSystemd("unstable", "current"),
  },
  ubuntu: {
    lucid: ubuntuUpstart("10.04", "archived", "lucid", UBUNTU_REMOVED_KEYRING),
    precise: ubuntuUpstart("12.04", "archived", "upstart", UBUNTU_KEYRING),
    trusty: ubuntuUpstart("14.04", "current", "upstart", UBUNTU_KEYRING),
    xenial: ubuntuSystemd("16.04", false),
    bionic: ubuntuSystemd("18.04", false),
    focal: ubuntuSystemd("20.04", false),
    jammy: ubuntuSystemd("22.04", true),
    noble: ubuntuSystemd("24.04", true),
  },
} satisfies Record<Distro, Record<string, ReleaseDef>>;

export interface Release extends ReleaseDef {
  distro: Distro;
  codename: string;
}

export class ReleaseError extends Error {}

/** A release by codename or version number ("bookworm", "12", "22.04"). */
export function findRelease(distro: string, release: string): Release {
  if (!(DISTROS as readonly string[]).includes(distro)) {
    throw new ReleaseError(`unknown distribution '${distro}' (known: ${DISTROS.join(", ")}; or --busybox)`);
  }
  const table: Record<string, ReleaseDef> = RELEASES[distro as Distro];
  const codename = Object.keys(table).find((c) => c === release || table[c].version === release);
  if (!codename) {
    throw new ReleaseError(`unknown ${distro} release '${release}' (known: ${Object.keys(table).map((c) => `${c} (${table[c].version})`).join(", ")})`);
  }
  return { distro: distro as Distro, codename, ...table[codename] };
}

export function allReleases(): Release[] {
  return DISTROS.flatMap((d) => Object.keys(RELEASES[d]).map((c) => findRelease(d, c)));
}
