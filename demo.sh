#!/bin/sh
# containerctl's main job on a fresh Debian or Ubuntu machine, as root:
#   sh demo.sh
# Installs what it needs (install-deps.sh: Debian packages, npm packages,
# build), installs containerctl into the system (generator, units, runtime,
# CLI, man pages), creates a tiny busybox guest from the host's
# busybox-static, starts it as a container — under systemd when systemd is
# PID 1, otherwise in the foreground runtime — shows its state, runs commands
# in it and stops it. The container stays defined: start it again with
# `systemctl start container@demo` (or `containerctl run demo`).
# CONTAINERCTL_DEMO=NAME picks another name.
set -eu
cd "$(dirname "$0")"
sh ./install-deps.sh
node dist/cli/containerctl.js install-system
ctl=/usr/sbin/containerctl
name=${CONTAINERCTL_DEMO:-demo}
say() { printf '\n== %s\n' "$*"; }

if [ ! -e "/etc/containerctl/$name.container" ]; then
	say "containerctl create $name --busybox"
	"$ctl" create "$name" --busybox
fi
say "containerctl check /etc/containerctl/$name.container"
"$ctl" check "/etc/containerctl/$name.container"
say "what the generator writes for it (containerctl generate --dry-run)"
"$ctl" generate --dry-run 2>/dev/null | awk -v n="$name" '/^==> /{show = index($0, "container@" n ".service") || index($0, "containerctl/" n ".plan")} show'

log=$(mktemp)
runpid=""
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	say "systemctl start container@$name"
	systemctl start "container@$name"
else
	say "no systemd as PID 1 here: containerctl run $name (the foreground runtime, like lxc-start -F)"
	"$ctl" run "$name" >"$log" 2>&1 &
	runpid=$!
fi
i=0
until "$ctl" exec "$name" -- true 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		echo "demo: the container did not come up; its output:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done

say "containerctl status $name"
"$ctl" status "$name" || :
say "inside: hostname, processes, network, capability bounding set"
"$ctl" exec "$name" -- hostname
"$ctl" exec "$name" -- ps
"$ctl" exec "$name" -- ip -o link
"$ctl" exec "$name" -- grep CapBnd /proc/1/status

say "containerctl stop $name"
"$ctl" stop "$name"
if [ -n "$runpid" ]; then
	wait "$runpid" || :
	say "the guest's console while it ran"
	cat "$log"
else
	say "the guest's console while it ran (journalctl -u container@$name)"
	journalctl -u "container@$name" -n 20 --no-pager -o cat || :
fi
rm -f "$log"
say "done: $name is defined in /etc/containerctl/$name.container; start it again with" \
	"$( [ -d /run/systemd/system ] && echo "systemctl start container@$name" || echo "containerctl run $name")"
