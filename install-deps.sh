#!/bin/sh
# Installs what containerctl and its tests need on a fresh Debian/Ubuntu
# machine: the Debian packages listed in test/apt-packages.txt (only the
# missing ones) and the npm packages from package-lock.json; then builds.
# Used by demo.sh and test/run.sh.
set -eu
cd "$(dirname "$0")"
if [ "$(id -u)" != 0 ]; then
	echo "$0: run as root: containers need namespaces, cgroups and mounts" >&2
	exit 1
fi
pkgs=$(sed -e 's/#.*//' test/apt-packages.txt | tr -s ' \n' '  ')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing Debian packages:$missing"
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
command -v node >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
