#!/bin/sh
# check-gir-warnings.sh: tells whether a build makes g-ir-scanner's warnings
# fatal, as it should exactly when it was configured with -Dwerror=true:
# the project's CI wants them fatal, a distribution's build with a newer
# scanner does not.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-gir-warnings.sh BUILDDIR GIR_OUTPUT true|false
#
# GIR_OUTPUT is the GIR's path in the build directory; the last argument is
# whether the build has -Dwerror=true.

set -u

if [ $# -ne 3 ]; then
  echo "usage: $0 BUILDDIR GIR_OUTPUT true|false" >&2
  exit 2
fi

command=$(ninja -C "$1" -t commands "$2" | grep 'g-ir-scanner' | tail -n 1)
if [ -z "$command" ]; then
  echo "$1 has no g-ir-scanner command for $2" >&2
  exit 1
fi

case "$command" in
  *" --warn-error "*|*" --warn-error") fatal=true ;;
  *) fatal=false ;;
esac

if [ "$fatal" != "$3" ]; then
  echo "werror is $3, but g-ir-scanner's warnings fatal is $fatal:" >&2
  echo "$command" >&2
  exit 1
fi
echo "werror $3: g-ir-scanner warnings fatal $fatal"
