#!/bin/sh
# Build the runtime's C helper next to this script with the machine's cc
# (docs/runtime.md). Run by the install path and by the test setup:
#   sh runtime/build.sh            (rebuilds only when helper.c is newer)
set -eu
case $0 in
*/*) dir=${0%/*} ;;
*) dir=. ;;
esac
# find -newer instead of test -nt, which POSIX sh lacks.
if [ -x "$dir/helper" ] && [ -z "$(find "$dir/helper.c" -newer "$dir/helper")" ]; then exit 0; fi
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "runtime/build.sh: no C compiler ('$cc'); install gcc" >&2; exit 1; }
"$cc" -Os -Wall -Wextra -o "$dir/helper.new" "$dir/helper.c" -lm
mv "$dir/helper.new" "$dir/helper"
