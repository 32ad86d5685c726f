#!/bin/sh
# The whole test suite, as root, on a fresh Debian/Ubuntu machine:
#   sudo sh test/run.sh
# Installs what the tests need (Debian packages from test/apt-packages.txt,
# npm packages from package-lock.json), builds, runs every test and ends
# with "N passed, N failed, N skipped". TEST_FILTER=regex runs a subset.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "test/run.sh: run as root: the tests use namespaces, cgroups and mounts" >&2
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
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
exec node test/run.mjs
