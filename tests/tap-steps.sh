# tap-steps.sh: TAP output for the shell scripts of the test suite, which
# source it. Each step runs a command, its output going to standard error,
# and prints one TAP line; the first failure ends the script.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

n=0

# step DESCRIPTION COMMAND [ARG...]
step () {
  description=$1
  shift
  n=$((n + 1))
  if "$@" >&2; then
    echo "ok $n - $description"
  else
    echo "not ok $n - $description"
    echo "Bail out! $description failed"
    exit 1
  fi
}

# skip DESCRIPTION REASON
skip () {
  n=$((n + 1))
  echo "ok $n - $1 # SKIP $2"
}

# steps_done: the plan, after the last step.
steps_done () {
  echo "1..$n"
}
