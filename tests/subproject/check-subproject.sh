#!/bin/sh
# check-subproject.sh: builds asab-glib the way another project embeds it,
# as a meson subproject.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-subproject.sh SOURCE_ROOT
#
# MESON is the meson command. Three builds, in a temporary folder:
#
# - parent/, a tiny parent project with a default test setup of its own,
#   with asab-glib as subprojects/asab-glib: `dependency('asab-1.0')` finds
#   the subproject's library, none of asab-glib's tests, examples or
#   benchmarks is built or registered, and the parent's test passes;
# - the same with GLib as a subproject too (glib/, a stand-in that provides
#   GLib's dependencies as internal ones, on top of the system's GLib);
# - asab-glib as the main project with that GLib subproject: it configures,
#   though GLib has no pkg-config file to ask.
#
# Prints TAP; stops at the first step that fails.

set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_ROOT" >&2
  exit 2
fi
source_root=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd) || exit 2
if [ -z "${MESON:-}" ]; then
  echo "check-subproject.sh: MESON is not set" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asab-subproject-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

. "$here/../tap-steps.sh"

# parent_project DIR [glib]: the parent project in DIR, with asab-glib as a
# subproject, and the stand-in GLib too when asked.
parent_project () {
  mkdir -p "$1/subprojects" &&
  cp "$here/parent/meson.build" "$here/parent/parent.c" "$1/" &&
  ln -s "$source_root" "$1/subprojects/asab-glib" || return 1
  if [ "${2:-}" = glib ]; then
    ln -s "$here/glib" "$1/subprojects/glib" &&
    cp "$here/glib.wrap" "$1/subprojects/" || return 1
  fi
}

# nothing_extra BUILDDIR: no target and no test of asab-glib's tests/,
# examples/ or bench/; the parent's test is the only one.
nothing_extra () {
  $MESON introspect --targets --tests "$1" > "$tmp/introspect.json" || return 1
  python3 - "$tmp/introspect.json" <<'PY'
import json, sys

info = json.load(open(sys.argv[1]))
extra = [t['name'] for t in info['targets']
         if any(f'/subprojects/asab-glib/{d}/' in t['defined_in']
                for d in ('tests', 'examples', 'bench'))]
tests = [t['name'] for t in info['tests']]
subproject = sorted({t['subproject'] for t in info['targets'] if t['subproject']})
print(f'subproject targets: {subproject}; tests: {tests}')
if extra:
    print(f'asab-glib built these for the parent: {extra}')
if tests != ['parent']:
    print('the parent has tests that are not its own')
if 'asab-glib' not in subproject:
    print('no target comes from the asab-glib subproject')
sys.exit(1 if extra or tests != ['parent'] or 'asab-glib' not in subproject else 0)
PY
}

# build_and_test BUILDDIR: builds the parent and runs its tests with its own
# default setup.
build_and_test () {
  ninja -C "$1" && $MESON test -C "$1" --print-errorlogs
}

# main_project DIR: asab-glib's source, file by file, with the stand-in GLib
# as subprojects/glib.
main_project () {
  mkdir -p "$1/subprojects" || return 1
  for entry in "$source_root"/* "$source_root"/.ci; do
    case "${entry##*/}" in
      _build*|subprojects) ;;
      *) ln -s "$entry" "$1/" || return 1 ;;
    esac
  done
  ln -s "$here/glib" "$1/subprojects/glib" &&
  cp "$here/glib.wrap" "$1/subprojects/"
}

configure_main () {
  $MESON setup "$tmp/build-main" "$tmp/main" --wrap-mode=nodownload \
    --force-fallback-for=glib-2.0,gobject-2.0,gio-2.0 > "$tmp/main.log" 2>&1
  status=$?
  cat "$tmp/main.log"
  [ $status -eq 0 ] || return 1
  if ! grep -q "GLib is a subproject: --setup valgrind runs without GLib's suppressions" "$tmp/main.log"; then
    echo "GLib was not taken from the subproject"
    return 1
  fi
}

step "a parent project configures with asab-glib as a subproject" \
  parent_project "$tmp/parent"
step "dependency('asab-1.0') falls back to the subproject" \
  $MESON setup "$tmp/build-parent" "$tmp/parent" --wrap-mode=nodownload \
    --force-fallback-for=asab-1.0
step "the parent gets none of asab-glib's tests, examples or benchmarks" \
  nothing_extra "$tmp/build-parent"
step "the parent builds, and its test runs with its own default setup" \
  build_and_test "$tmp/build-parent"
step "g-ir-scanner's warnings are not fatal for the parent, which has no -Dwerror" \
  "$here/../install/check-gir-warnings.sh" "$tmp/build-parent" \
    subprojects/asab-glib/introspection/Asab-1.0.gir false

step "a parent project with GLib as a subproject too" \
  parent_project "$tmp/parent-glib" glib
step "asab-glib configures against GLib's internal dependencies" \
  $MESON setup "$tmp/build-parent-glib" "$tmp/parent-glib" --wrap-mode=nodownload \
    --force-fallback-for=asab-1.0,glib-2.0,gobject-2.0,gio-2.0
step "the parent builds against both subprojects, and its test runs" \
  build_and_test "$tmp/build-parent-glib"

step "asab-glib as the main project with GLib as a subproject" \
  main_project "$tmp/main"
step "it configures without asking GLib's pkg-config file" configure_main

steps_done
