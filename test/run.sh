#!/bin/sh
# The whole test suite, as root, on a fresh Debian/Ubuntu machine:
#   sh test/run.sh
# Installs what the tests need (install-deps.sh), builds, runs every test and
# ends with "N passed, N failed, N skipped". TEST_FILTER=regex runs a subset.
set -eu
cd "$(dirname "$0")/.."
sh ./install-deps.sh
exec node test/run.mjs
