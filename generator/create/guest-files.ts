// What `containerctl create` writes into a new guest so it boots as a
// container, as data (GuestStep[]): host name, hosts, the network the spec
// gives it, resolv.conf, the root password, a console getty where the guest's
// init does not start one itself. Pure; guest-fs.ts applies the steps.
//
// Not written: anything the runtime's init shim does at every boot
// (../shared/docs/lucid-guests.md). For a Lucid guest that is the console
// getty, bringing lo up and the udev events, fstab, plymouth, tty jobs and the
// power job; the guest keeps its files as the distribution made them.
// systemd guests start a console getty themselves (systemd-getty-generator
// adds console-getty.service when $container is set) and skip hardware units
// (ConditionVirtualization=!container), so they need none of this either.

import type { ContainerSpec } from "../spec/load";
import type { IpPrefix } from "../spec/values";
import type { GuestInit, NetworkConfig } from "./releases";

export type GuestStep =
  | { op: "dir"; path: string; mode: number }
  | { op: "file"; path: string; content: string; mode: number }
  | { op: "symlink"; path: string; target: string }
  /** Copy a host file into the guest (busybox). */
  | { op: "copy"; from: string; path: string; mode: number }
  /** Set root's password field in /etc/shadow: a crypt(3) hash, or null to lock it. */
  | { op: "root-password"; hash: string | null }
  /** Empty a file when it exists (machine-id: each container makes its own at first boot). */
  | { op: "empty"; path: string }
  /** Remove the *.deb files directly in a directory (debootstrap's downloads; the cache keeps them). */
  | { op: "remove-debs"; path: string };

export interface GuestInput {
  spec: ContainerSpec;
  init: GuestInit | "busybox";
  network: NetworkConfig | "busybox";
  /** Name servers for resolv.conf when the spec has no DNS= (from the host, loopback ones dropped). */
  hostNameservers: readonly string[];
  rootPasswordHash: string | null;
  authorizedKeys: string | null;
}

const HEADER = "# Written by containerctl create from the container's spec.\n";

export function guestSteps(g: GuestInput): GuestStep[] {
  const v = g.spec.values;
  const hostname = v.hostname ?? g.spec.name;
  const steps: GuestStep[] = [
    { op: "file", path: "/etc/hostname", content: `${hostname}\n`, mode: 0o644 },
    { op: "file", path: "/etc/hosts", content: hostsFile(hostname, v.addresses), mode: 0o644 },
    { op: "file", path: "/etc/resolv.conf", content: resolvConf(v.dns.map((d) => d.address), v.domains, g.hostNameservers), mode: 0o644 },
  ];
  const ownInterface = v.netType === "veth" || v.netType === "macvlan";
  if (g.network === "networkd") {
    if (ownInterface) {
      steps.push(
        { op: "file", path: "/etc/systemd/network/80-containerctl-eth0.network", content: networkdFile(v.addresses, v.gateways.map((x) => x.address)), mode: 0o644 },
        // What `systemctl enable systemd-networkd` links (its [Install] and Also=).
        { op: "dir", path: "/etc/systemd/system/multi-user.target.wants", mode: 0o755 },
        { op: "symlink", path: "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service", target: "/lib/systemd/system/systemd-networkd.service" },
        { op: "dir", path: "/etc/systemd/system/sockets.target.wants", mode: 0o755 },
        { op: "symlink", path: "/etc/systemd/system/sockets.target.wants/systemd-networkd.socket", target: "/lib/systemd/system/systemd-networkd.socket" },
      );
    }
  } else {
    steps.push(
      { op: "dir", path: "/etc/network", mode: 0o755 },
      { op: "file", path: "/etc/network/interfaces", content: interfacesFile(ownInterface, v.addresses, v.gateways.map((x) => x.address)), mode: 0o644 },
    );
  }
  if (g.init === "upstart") {
    // Upstart 1.x guests (precise, trusty) detect the container themselves
    // (container-detect) but run gettys only on tty1-6.
    steps.push({ op: "file", path: "/etc/init/console-getty.conf", content: UPSTART_CONSOLE_GETTY, mode: 0o644 });
  }
  steps.push({ op: "root-password", hash: g.rootPasswordHash });
  if (g.authorizedKeys !== null) {
    steps.push(
      { op: "dir", path: "/root/.ssh", mode: 0o700 },
      { op: "file", path: "/root/.ssh/authorized_keys", content: g.authorizedKeys.endsWith("\n") ? g.authorizedKeys : g.authorizedKeys + "\n", mode: 0o600 },
    );
  }
  return steps;
}

const UPSTART_CONSOLE_GETTY = `${HEADER}# A login prompt on the container's console (containerctl console NAME).
start on stopped rc RUNLEVEL=[2345]
stop on runlevel [!2345]

respawn
exec /sbin/getty -8 38400 console
`;

function hostsFile(hostname: string, addresses: readonly IpPrefix[]): string {
  const short = hostname.split(".")[0];
  const names = short === hostname ? hostname : `${hostname} ${short}`;
  const own = addresses.length ? addresses.map((a) => `${a.address}\t${names}`) : [`127.0.1.1\t${names}`];
  return [
    "127.0.0.1\tlocalhost", ...own, "",
    "::1\tlocalhost ip6-localhost ip6-loopback", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters", "",
  ].join("\n");
}

function resolvConf(dns: readonly string[], domains: readonly string[], host: readonly string[]): string {
  const servers = dns.length ? dns : host;
  const lines = [HEADER.trimEnd()];
  if (domains.length) lines.push(`search ${domains.join(" ")}`);
  for (const s of servers.slice(0, 3)) lines.push(`nameserver ${s}`); // resolv.conf(5): at most 3
  if (!servers.length) lines.push("# no name server known: set DNS= in the spec's [Network]");
  return lines.join("\n") + "\n";
}

function networkdFile(addresses: readonly IpPrefix[], gateways: readonly string[]): string {
  const net = addresses.length
    ? [...addresses.map((a) => `Address=${a.address}/${a.prefix}`), ...gateways.map((g) => `Gateway=${g}`)]
    : ["DHCP=yes"];
  return `${HEADER}[Match]\nName=eth0\n\n[Network]\n${net.join("\n")}\n`;
}

/** ifupdown syntax old enough for Lucid's ifupdown 0.6 and busybox's ifup (netmask, not /prefix). */
function interfacesFile(ownInterface: boolean, addresses: readonly IpPrefix[], gateways: readonly string[]): string {
  const out = [HEADER.trimEnd(), "auto lo", "iface lo inet loopback"];
  if (ownInterface) {
    out.push("", "auto eth0");
    if (!addresses.length) out.push("iface eth0 inet dhcp");
    for (const fam of [4, 6] as const) {
      const gw = gateways.find((g) => (fam === 4) === !g.includes(":"));
      addresses.filter((a) => a.family === fam).forEach((a, i) => {
        out.push(`iface eth0 ${fam === 4 ? "inet" : "inet6"} static`, `\taddress ${a.address}`, `\tnetmask ${fam === 4 ? netmask4(a.prefix) : a.prefix}`);
        if (i === 0 && gw) out.push(`\tgateway ${gw}`);
      });
    }
  }
  return out.join("\n") + "\n";
}

function netmask4(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join(".");
}
