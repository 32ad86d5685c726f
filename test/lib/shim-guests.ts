// Guest fixtures for the init shim (runtime/shim, docs/shim.md), written on
// top of a busybox rootfs from the facts in ../shared/docs/lucid-guests.md:
// a Lucid-shaped upstart guest, a Debian-style sysvinit guest, an OpenVZ
// guest whose network config names venet0, and a systemd-shaped guest. Their
// /sbin/init is a busybox sh script that reports what it sees on the console
// (RECORDING_INIT) and exits on SIGPWR or SIGRTMIN+3.

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const GOOD_JOBS = path.join(__dirname, "../../../test/upstart/jobs/good");

/** Reports PID, environment, fds 0-2, /dev/console, mounts and the files the shim may replace; then waits. */
export const RECORDING_INIT = `#!/bin/sh
{
echo "=== view"
echo "pid=$$"
env | sort | sed 's/^/env /'
for fd in 0 1 2; do echo "fd$fd=$(readlink /proc/$$/fd/$fd)"; done
if [ -c /dev/console ]; then echo "console=char"; else echo "console=other"; fi
[ -e /dev/.containerctl-shim ] && echo "scratch=present" || echo "scratch=absent"
awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print "mount " $5 " " $(i + 1); break } }' /proc/self/mountinfo
for f in /etc/fstab /lib/init/fstab /etc/inittab /etc/network/interfaces /etc/sysconfig/network /etc/sysconfig/network-scripts/ifcfg-venet0; do
  [ -f "$f" ] && { echo "--- file $f"; cat "$f"; echo "--- end"; }
done
if [ -d /etc/init ]; then
  echo "jobs $(ls /etc/init | tr '\\n' ' ')"
  for f in /etc/init/*; do echo "--- file $f"; cat "$f"; echo "--- end"; done
fi
echo "=== end"
}
trap 'echo "guest: got SIGPWR"; exit 0' PWR
trap 'echo "guest: got SIGRTMIN+3"; exit 0' 37
while :; do sleep 1 & wait; done
`;

export interface View {
  pid: string;
  env: string[];
  fds: string[];
  console: string;
  scratch: string;
  mounts: string[];
  files: Map<string, string>;
  jobs: string[];
}

/** Parses RECORDING_INIT's report out of the console output. */
export function parseView(out: string): View {
  const text = out.replace(/\r/g, "");
  const start = text.indexOf("=== view\n");
  const end = text.indexOf("=== end\n", start);
  if (start < 0 || end < 0) throw new Error(`no view in ${out}`);
  const lines = text.slice(start + 9, end).split("\n");
  const v: View = { pid: "", env: [], fds: [], console: "", scratch: "", mounts: [], files: new Map(), jobs: [] };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("--- file ")) {
      const name = l.slice(9);
      const body: string[] = [];
      while (lines[++i] !== "--- end") body.push(lines[i]);
      v.files.set(name, body.join("\n") + "\n");
    } else if (l.startsWith("pid=")) v.pid = l.slice(4);
    else if (l.startsWith("env ")) v.env.push(l.slice(4));
    else if (/^fd\d=/.test(l)) v.fds.push(l);
    else if (l.startsWith("console=")) v.console = l.slice(8);
    else if (l.startsWith("scratch=")) v.scratch = l.slice(8);
    else if (l.startsWith("mount ")) v.mounts.push(l.slice(6));
    else if (l.startsWith("jobs ")) v.jobs = l.slice(5).trim().split(" ").filter(Boolean);
  }
  return v;
}

/** A new file: an existing one is unlinked first, so a tree of hard links to a shared template (bench/start) never writes through to it. */
function write(root: string, p: string, content: string, mode = 0o644): void {
  const f = path.join(root, p);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.rmSync(f, { force: true });
  fs.writeFileSync(f, content, { mode });
}

/** A job file of the shape Lucid ships: comment, description, conditions, process. */
function job(desc: string, body: string): string {
  return `# ${desc}\n\ndescription\t"${desc}"\n\n${body}`;
}

/** Lucid's /etc/init as far as the shim cares (lucid-guests.md), plus the fstab, lsb-release and initctl. */
export const LUCID_JOBS: Record<string, string> = {
  "mountall.conf": fs.readFileSync(path.join(GOOD_JOBS, "mountall.conf"), "utf8"),
  "rc-sysinit.conf": fs.readFileSync(path.join(GOOD_JOBS, "rc-sysinit.conf"), "utf8"),
  "rc.conf": job("System V runlevel compatibility", "start on runlevel [0123456]\nstop on runlevel [!$RUNLEVEL]\n\nexport RUNLEVEL\nconsole output\nenv INIT_VERBOSE\n\ntask\n\nexec /etc/init.d/rc $RUNLEVEL\n"),
  "rcS.conf": job("Recovery shell", "start on runlevel S\nstop on runlevel [!S]\n\nconsole owner\nscript\n    /sbin/sulogin\nend script\n"),
  "udev.conf": job("device node and kernel event manager", "start on virtual-filesystems\nstop on runlevel [06]\n\nexpect fork\nrespawn\n\nexec /sbin/udevd --daemon\n"),
  "udevtrigger.conf": job("load modules and create device nodes", "start on (startup\n\t  and started udev\n\t  and stopped udevmonitor)\n\ntask\n\nexec udevadm trigger --action=add\n"),
  "udevmonitor.conf": job("log initial device creation", "start on (startup\n\t  and starting udevtrigger)\nstop on stopped udevtrigger\n\nexec udevadm monitor -e >/dev/.udev.log\n"),
  "udev-finish.conf": job("save udev persistent rules", "start on (startup\n\t  and stopped udevtrigger)\n\ntask\n\nexec /lib/udev/udev-finish\n"),
  "upstart-udev-bridge.conf": job("Bridge between upstart and udev", "start on starting udev\nstop on stopped udev\n\nexpect daemon\nrespawn\n\nexec upstart-udev-bridge --daemon\n"),
  "plymouth.conf": job("Userspace bootsplash", "start on (starting mountall\n          or (runlevel [016]\n              and (stopped gdm\n                   or stopped kdm)))\nstop on (started gdm or stopped rc RUNLEVEL=[2345])\n\nexpect fork\nkill timeout 5\n\nexec /sbin/plymouthd --mode=boot\npost-start exec /bin/plymouth --show-splash\n"),
  "plymouth-splash.conf": job("Userspace bootsplash", "start on (started plymouth\n          and (graphics-device-added PRIMARY_DEVICE_FOR_DISPLAY=1\n               or drm-device-added PRIMARY_DEVICE_FOR_DISPLAY=1\n               or stopped udevtrigger))\n\ntask\n\nexec /bin/plymouth show-splash\n"),
  "plymouth-stop.conf": job("Hide the splash screen", "start on (starting rc RUNLEVEL=[2345]\n          or stopped rc RUNLEVEL=[2345])\n\ntask\n\nexec /bin/plymouth quit\n"),
  "hwclock.conf": job("set system clock from hardware clock", "start on starting mountall\n\ntask\n\nscript\n    . /etc/default/rcS\n    exec hwclock --rtc=/dev/rtc0 --hctosys\nend script\n"),
  "hwclock-save.conf": job("save system clock to hardware clock", "start on runlevel [06]\n\ntask\n\nexec hwclock --rtc=/dev/rtc0 --systohc\n"),
  "module-init-tools.conf": job("load modules from /etc/modules", "start on (startup\n\t  and started udev)\n\ntask\nscript\n    exec /sbin/modprobe -a $(cat /etc/modules)\nend script\n"),
  "ureadahead.conf": job("Read required files in advance", "start on starting mountall\n\nexpect fork\nexec /sbin/ureadahead --daemon\n"),
  "ureadahead-other.conf": job("Read required files in advance for other mountpoints", "start on mounted DEVICE=[/UL]* MOUNTPOINT=/?*\n\nexpect fork\nexec /sbin/ureadahead --daemon $MOUNTPOINT\n"),
  "network-interface.conf": job("configure network device", "emits net-device-up\nemits net-device-down\n\nstart on net-device-added\nstop on net-device-removed INTERFACE=$INTERFACE\n\ninstance $INTERFACE\n\npre-start exec ifup --allow auto $INTERFACE\npost-stop exec ifdown --allow auto $INTERFACE\n"),
  "networking.conf": job("configure virtual network devices", "emits static-network-up\nemits net-device-up\n\nstart on (local-filesystems\n\t  and stopped udevtrigger)\n\ntask\n\npre-start exec mkdir -p /var/run/network\nexec ifup -a\n"),
  "control-alt-delete.conf": job("emergency keypress handling", "start on control-alt-delete\n\ntask\nexec shutdown -r now \"Control-Alt-Delete pressed\"\n"),
  "ssh.conf": job("OpenSSH server", "start on filesystem\nstop on runlevel S\n\nexpect fork\nrespawn\nrespawn limit 10 5\numask 022\n\npre-start script\n    test -x /usr/sbin/sshd || { stop; exit 0; }\n    mkdir -p -m0755 /var/run/sshd\nend script\n\nexec /usr/sbin/sshd\n"),
};
for (let n = 1; n <= 6; n++) {
  LUCID_JOBS[`tty${n}.conf`] = fs.readFileSync(path.join(GOOD_JOBS, "tty1.conf"), "utf8").replaceAll("tty1", `tty${n}`)
    .replace("stopped rc RUNLEVEL=[2345]", n === 1 ? "stopped rc RUNLEVEL=[2345]" : "runlevel [23]");
}

export const LUCID_LIB_INIT_FSTAB = `# /lib/init/fstab: static file system information.
#
# These are the filesystems that are always mounted on boot, you can
# override any of these by copying the appropriate line from this file into
# /etc/fstab and tweaking it as you see fit.  See fstab(5).
#
# <file system> <mount point>             <type>          <options>                               <dump> <pass>
/dev/root       /                         rootfs          defaults                                        0 1
none            /proc                     proc            nodev,noexec,nosuid                             0 0
none            /proc/sys/fs/binfmt_misc  binfmt_misc     nodev,noexec,nosuid,optional                    0 0
none            /sys                      sysfs           nodev,noexec,nosuid                             0 0
none            /sys/fs/fuse/connections  fusectl         optional                                        0 0
none            /sys/kernel/debug         debugfs         optional                                        0 0
none            /sys/kernel/security      securityfs      optional                                        0 0
none            /dev                      devtmpfs,tmpfs  mode=0755                                       0 0
none            /dev/pts                  devpts          noexec,nosuid,gid=tty,mode=0620                 0 0
none            /dev/shm                  tmpfs           nosuid,nodev                                    0 0
none            /var/run                  tmpfs           mode=0755,nosuid,showthrough                    0 0
none            /var/lock                 tmpfs           nodev,noexec,nosuid,showthrough                 0 0
none            /lib/init/rw              tmpfs           mode=0755,nosuid                                0 0
`;

export const LUCID_FSTAB = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
proc            /proc           proc    nodev,noexec,nosuid 0       0
# / was on /dev/sda1 during installation
UUID=3e6be9de-8139-11d1-9106-a43f08d823a6 /               ext4    errors=remount-ro 0       1
# swap was on /dev/sda5 during installation
UUID=4f7a1c2e-8139-11d1-9106-a43f08d823a6 none            swap    sw              0       0
/dev/scd0       /media/cdrom0   udf,iso9660 user,noauto,exec,utf8 0       0
tmpfs           /srv/cache      tmpfs   size=16m        0       0
`;

/** A Lucid-shaped upstart guest on top of a busybox rootfs. */
export function makeLucidGuest(root: string): void {
  for (const [name, content] of Object.entries(LUCID_JOBS)) write(root, `etc/init/${name}`, content);
  write(root, "etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.04\nDISTRIB_CODENAME=lucid\nDISTRIB_DESCRIPTION=\"Ubuntu 10.04.4 LTS\"\n");
  write(root, "lib/init/fstab", LUCID_LIB_INIT_FSTAB);
  write(root, "etc/fstab", LUCID_FSTAB);
  write(root, "sbin/initctl", "#!/bin/sh\nexit 0\n", 0o755);
  write(root, "sbin/shutdown", "#!/bin/sh\nexit 0\n", 0o755);
  fs.rmSync(path.join(root, "sbin/getty"), { force: true });
  fs.symlinkSync("../bin/busybox", path.join(root, "sbin/getty"));
  write(root, "sbin/init", RECORDING_INIT, 0o755);
}

export const DEBIAN_INITTAB = `# /etc/inittab: init(8) configuration.
id:2:initdefault:
si::sysinit:/etc/init.d/rcS
~~:S:wait:/sbin/sulogin
l0:0:wait:/etc/init.d/rc 0
l2:2:wait:/etc/init.d/rc 2
l6:6:wait:/etc/init.d/rc 6
z6:6:respawn:/sbin/sulogin
ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now
pf::powerwait:/etc/init.d/powerfail start
pn::powerfailnow:/etc/init.d/powerfail now
po::powerokwait:/etc/init.d/powerfail stop
1:2345:respawn:/sbin/getty 38400 tty1
2:23:respawn:/sbin/getty 38400 tty2
3:23:respawn:/sbin/getty 38400 tty3
4:23:respawn:/sbin/getty 38400 tty4
5:23:respawn:/sbin/getty 38400 tty5
6:23:respawn:/sbin/getty 38400 tty6
#T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100
T1:23:respawn:/sbin/getty -L ttyS1 9600 vt100
`;

/** A Debian-style sysvinit guest (sysvinit's inittab, an fstab with a UUID root). */
export function makeSysvinitGuest(root: string): void {
  write(root, "etc/inittab", DEBIAN_INITTAB);
  write(root, "etc/fstab", "UUID=0a1b2c3d / ext3 errors=remount-ro 0 1\nproc /proc proc defaults 0 0\n");
  write(root, "sbin/init", RECORDING_INIT, 0o755);
}

/** What vzctl's Debian/Ubuntu set_ipadd script writes into a guest on venet. */
export const VENET_INTERFACES = `# This configuration file is auto-generated.
#
# WARNING: Do not edit this file, your changes will be lost.
# Please create/edit /etc/network/interfaces.head and
# /etc/network/interfaces.tail instead, their contents will be
# inserted at the beginning and at the end of this file, respectively.

# Auto generated lo interface
auto lo
iface lo inet loopback

# Auto generated venet0 interface
auto venet0
iface venet0 inet manual
\tup ifconfig venet0 up
\tup ifconfig venet0 127.0.0.2
\tup route add -net 191.255.255.1 netmask 255.255.255.255 dev venet0
\tup route add default gw 191.255.255.1
\tdown route del default gw 191.255.255.1
\tdown route del -net 191.255.255.1 netmask 255.255.255.255 dev venet0
\tdown ifconfig venet0 down

iface venet0 inet6 manual
\tup route -A inet6 add default dev venet0
\tdown route -A inet6 del default dev venet0

auto venet0:0
iface venet0:0 inet static
\taddress 10.98.0.5
\tnetmask 255.255.255.255

auto venet0:1
iface venet0:1 inet static
\taddress 10.98.0.6
\tnetmask 255.255.255.255
`;

/** A Lucid guest that came from OpenVZ: venet0 in its network config, its tty jobs removed as OpenVZ templates did. */
export function makeVenetGuest(root: string): void {
  makeLucidGuest(root);
  for (let n = 1; n <= 6; n++) fs.rmSync(path.join(root, `etc/init/tty${n}.conf`));
  // OpenVZ's Ubuntu templates ran their console getty from a job of their own.
  write(root, "etc/init/console.conf", "# console - getty\n\nstart on stopped rc RUNLEVEL=[2345]\nstop on runlevel [!2345]\n\nrespawn\nexec /sbin/getty -8 38400 console\n");
  write(root, "etc/network/interfaces", VENET_INTERFACES);
}

/** A Red Hat-style (CentOS 7) guest from OpenVZ: systemd, and venet0 in its network-scripts. */
export function makeRedhatVenetGuest(root: string): void {
  makeSystemdGuest(root);
  fs.rmSync(path.join(root, "etc/network"), { recursive: true });
  const d = "etc/sysconfig/network-scripts";
  write(root, `${d}/ifcfg-lo`, "DEVICE=lo\nIPADDR=127.0.0.1\nNETMASK=255.0.0.0\nONBOOT=yes\nNAME=loopback\n");
  write(root, `${d}/ifcfg-venet0`, "DEVICE=venet0\nBOOTPROTO=static\nONBOOT=yes\nIPADDR=127.0.0.1\nNETMASK=255.255.255.255\nBROADCAST=0.0.0.0\nIPV6INIT=\"yes\"\n");
  write(root, `${d}/ifcfg-venet0:0`, "DEVICE=venet0:0\nONBOOT=yes\nIPADDR=10.98.0.5\nNETMASK=255.255.255.255\n");
  write(root, "etc/sysconfig/network", "NETWORKING=\"yes\"\nIPV6_DEFAULTDEV=\"venet0\"\nNETWORKING_IPV6=\"yes\"\nHOSTNAME=\"ct101\"\nGATEWAYDEV=\"venet0\"\n");
}

/** A systemd-shaped guest: /sbin/init a link to /lib/systemd/systemd (here the recording script). */
export function makeSystemdGuest(root: string): void {
  write(root, "lib/systemd/systemd", RECORDING_INIT, 0o755);
  fs.rmSync(path.join(root, "sbin/init"));
  fs.symlinkSync("/lib/systemd/systemd", path.join(root, "sbin/init"));
  write(root, "etc/fstab", "UUID=0a1b2c3d / ext4 defaults 0 1\n");
  write(root, "etc/network/interfaces", VENET_INTERFACES.replace(/venet0:\d/g, "venet0"));
  write(root, "etc/init/udev.conf", LUCID_JOBS["udev.conf"]); // leftovers of an upgrade from upstart
}

/**
 * Every name under root with type, mode, owner, size, mtime and a hash of
 * the content (link target for symlinks), sorted: equal before and after
 * means not one byte, mode, owner or time changed, and nothing was added.
 */
export function hashTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p, { bigint: true });
    let what = "";
    if (st.isSymbolicLink()) what = `-> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) what = crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
    out.push(`${rel || "."} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeNs} ${what}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(rel, e));
  };
  walk("");
  return out;
}
