// A minimal guest from the host's static busybox (Debian's busybox-static):
// the binary, a link per applet, busybox init with an inittab that runs a
// boot script and a getty on the console, busybox ifup for the network and a
// udhcpc script for DHCP. No network, no packages: it takes well under a second.
// Pure: the host's binary and applet list come in as data (create.ts reads them).

import * as path from "node:path";
import type { GuestStep } from "./guest-files";

export interface HostBusybox {
  /** The static binary on the host. */
  path: string;
  /** `busybox --list-full`: applet paths relative to /, e.g. "sbin/init". */
  applets: readonly string[];
}

const HEADER = "# Written by containerctl create for a busybox guest.\n";

export function busyboxTreeSteps(bb: HostBusybox): GuestStep[] {
  const steps: GuestStep[] = [];
  for (const d of ["/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/etc", "/etc/init.d", "/etc/network", "/etc/network/if-pre-up.d", "/etc/network/if-up.d", "/etc/network/if-down.d", "/etc/network/if-post-down.d", "/proc", "/sys", "/dev", "/run", "/var", "/var/log", "/usr/share", "/usr/share/udhcpc", "/home"]) {
    steps.push({ op: "dir", path: d, mode: 0o755 });
  }
  steps.push(
    { op: "dir", path: "/tmp", mode: 0o1777 },
    { op: "dir", path: "/root", mode: 0o700 },
    // busybox ifup keeps its state in /var/run/ifstate.
    { op: "symlink", path: "/var/run", target: "../run" },
    { op: "copy", from: bb.path, path: "/bin/busybox", mode: 0o755 },
  );
  for (const a of [...bb.applets].sort()) {
    if (a === "bin/busybox" || !/^(usr\/)?s?bin\/[^/]+$/.test(a)) continue;
    // Relative, so the links also resolve inside the guest when seen from the host (a chroot, a backup).
    steps.push({ op: "symlink", path: `/${a}`, target: path.posix.relative(path.posix.dirname(`/${a}`), "/bin/busybox") });
  }
  steps.push(
    { op: "file", path: "/etc/inittab", content: INITTAB, mode: 0o644 },
    { op: "file", path: "/etc/init.d/rcS", content: RCS, mode: 0o755 },
    { op: "file", path: "/usr/share/udhcpc/default.script", content: UDHCPC_SCRIPT, mode: 0o755 },
    { op: "file", path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", mode: 0o644 },
    { op: "file", path: "/etc/group", content: "root:x:0:\nnogroup:x:65534:\n", mode: 0o644 },
    // The password field is set by the root-password step (locked unless asked).
    { op: "file", path: "/etc/shadow", content: "root:!:1::::::\nnobody:*:1::::::\n", mode: 0o600 },
    // getty prints it before its prompt: \n is the host name, \l the terminal.
    { op: "file", path: "/etc/issue", content: "BusyBox guest \\n on \\l\n\n", mode: 0o644 },
    { op: "file", path: "/etc/os-release", content: 'NAME="BusyBox"\nID=busybox\nPRETTY_NAME="BusyBox guest (containerctl)"\n', mode: 0o644 },
  );
  return steps;
}

// busybox init(8): SIGTERM reboots, SIGUSR2 powers off, SIGUSR1 and SIGPWR halt;
// every one runs the shutdown actions, then init exits in a pid namespace.
const INITTAB = `${HEADER}::sysinit:/etc/init.d/rcS
::respawn:/sbin/getty -L 38400 console vt100
::ctrlaltdel:/sbin/reboot
::shutdown:/sbin/ifdown -a -f
`;

// /proc, /sys, /dev and the host name are the runtime's work.
const RCS = `#!/bin/sh
${HEADER}ifup -a
`;

const UDHCPC_SCRIPT = `#!/bin/sh
${HEADER}# udhcpc(8) calls this with deconfig | bound | renew | nak and the lease in the environment.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/\${mask:-24}" dev "$interface"
	if [ -n "\${router:-}" ]; then ip route replace default via "\${router%% *}" dev "$interface"; fi
	if [ -n "\${dns:-}" ]; then
		{
			if [ -n "\${domain:-}" ]; then echo "search $domain"; fi
			for s in $dns; do echo "nameserver $s"; done
		} > /etc/resolv.conf
	fi
	;;
esac
exit 0
`;
