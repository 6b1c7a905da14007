#!/bin/sh
# check-install.sh: installs the build into a temporary folder and uses the
# installed tree the way a user of the library would.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-install.sh INSTALLED_TASK_C INSTALLED_TASK_PY
#
# The build is described by the environment, which tests/install/meson.build
# sets: BUILD_ROOT, PREFIX, LIBDIR and DATADIR (absolute), MESON, CC,
# GLIB_VERSION (the GLib version that the library needs, "2.74"),
# HAVE_GIR and HAVE_DOCS ('true' or 'false'), DOCDIR (where the manual goes),
# PYTHON (a Python with PyGObject, or empty), and INSTALL_TAGS (optional: the
# install tags to install, all when empty).
#
# It runs `meson install --destdir` without rebuilding, compiles
# INSTALLED_TASK_C with the flags that the installed asab-1.0.pc gives and
# runs it, then runs INSTALLED_TASK_PY with the installed typelib (and the
# installed Python overrides, when there are some). Nothing from the source
# or build tree is on any search path.
#
# Prints TAP; stops at the first step that fails.

set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 INSTALLED_TASK_C INSTALLED_TASK_PY" >&2
  exit 2
fi
c_source=$1
py_source=$2

for var in BUILD_ROOT PREFIX LIBDIR DATADIR MESON CC HAVE_GIR HAVE_DOCS DOCDIR GLIB_VERSION; do
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    echo "check-install.sh: $var is not set" >&2
    exit 2
  fi
done
PYTHON=${PYTHON:-}
INSTALL_TAGS=${INSTALL_TAGS:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asab-install-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

dest=$tmp/destdir
installed_libdir=$dest$LIBDIR
installed_pc=$installed_libdir/pkgconfig/asab-1.0.pc
installed_typelib_dir=$installed_libdir/girepository-1.0
installed_gir=$dest$DATADIR/gir-1.0/Asab-1.0.gir
installed_docs=$dest$DOCDIR
n=0

# step DESCRIPTION COMMAND [ARG...]: runs the command, its output going to
# standard error, and reports it; gives up at the first failure.
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

skip () {
  n=$((n + 1))
  echo "ok $n - $1 # SKIP $2"
}

install_into_destdir () {
  # --no-rebuild: `meson test` has built what the test depends on, and a
  # build started from a test would race with the other tests.
  if [ -n "$INSTALL_TAGS" ]; then
    $MESON install -C "$BUILD_ROOT" --destdir "$dest" --no-rebuild --quiet --tags "$INSTALL_TAGS"
  else
    $MESON install -C "$BUILD_ROOT" --destdir "$dest" --no-rebuild --quiet
  fi
}

# files_installed FILE...: each file is there.
files_installed () {
  status=0
  for file in "$@"; do
    if [ ! -e "$file" ]; then
      echo "missing: $file"
      status=1
    fi
  done
  return $status
}

# The installed asab-1.0.pc with its prefix moved into the destdir: pkg-config
# --define-variable and PKG_CONFIG_SYSROOT_DIR would move GLib's paths too.
relocate_pkg_config () {
  mkdir -p "$tmp/pkgconfig" || return 1
  if ! grep -qx "prefix=$PREFIX" "$installed_pc"; then
    echo "$installed_pc does not say prefix=$PREFIX:"
    cat "$installed_pc"
    return 1
  fi
  sed "s|^prefix=.*|prefix=$dest$PREFIX|" "$installed_pc" > "$tmp/pkgconfig/asab-1.0.pc" || return 1

  PKG_CONFIG_PATH=$tmp/pkgconfig
  export PKG_CONFIG_PATH
  cflags=$(pkg-config --cflags asab-1.0) || return 1
  libs=$(pkg-config --libs asab-1.0) || return 1
  echo "cflags: $cflags"
  echo "libs: $libs"
  case "$cflags" in
    *"-I$dest$PREFIX/"*) ;;
    *) echo "the cflags do not lead into the installed tree"; return 1 ;;
  esac
  case "$libs" in
    *"-L$installed_libdir "*|*"-L$installed_libdir") ;;
    *) echo "the libs do not lead into the installed tree"; return 1 ;;
  esac
}

# asab-1.0.pc requires the GLib version that the library needs, so that
# pkg-config refuses an older GLib instead of the compiler failing later.
glib_versions_required () {
  requires=$(pkg-config --print-requires asab-1.0) || return 1
  echo "requires: $requires"
  for module in glib-2.0 gobject-2.0 gio-2.0; do
    if ! echo "$requires" | grep -qx "$module >= $GLIB_VERSION"; then
      echo "asab-1.0.pc does not require $module >= $GLIB_VERSION"
      return 1
    fi
  done
}

compile_program () {
  # Word splitting wanted: CC may be a command with arguments, and the flags
  # are several words.
  # shellcheck disable=SC2086
  $CC -Wall -Werror -o "$tmp/installed-task" "$c_source" $cflags $libs
}

run_program () {
  if command -v ldd > /dev/null; then
    library=$(LD_LIBRARY_PATH=$installed_libdir ldd "$tmp/installed-task" | grep 'libasab-1\.0')
    echo "$library"
    case "$library" in
      *"=> $installed_libdir/"*) ;;
      *) echo "the program would not load the installed libasab-1.0"; return 1 ;;
    esac
  fi
  LD_LIBRARY_PATH=$installed_libdir "$tmp/installed-task"
}

run_python () {
  # The overrides, if the build installs them, are in gi/overrides under a
  # site folder of the destdir: put that folder on PYTHONPATH.
  overrides=$(find "$dest" -path '*/gi/overrides/Asab.py' -type f | head -n 1)
  if [ -n "$overrides" ]; then
    site_dir=$(dirname "$(dirname "$(dirname "$overrides")")")
    echo "overrides: $overrides"
    env GI_TYPELIB_PATH="$installed_typelib_dir" LD_LIBRARY_PATH="$installed_libdir" \
      PYTHONPATH="$site_dir" PYTHONDONTWRITEBYTECODE=1 \
      "$PYTHON" "$py_source" "$installed_typelib_dir" "$overrides"
  else
    echo "no overrides installed: the introspected API only"
    (
      unset PYTHONPATH
      GI_TYPELIB_PATH=$installed_typelib_dir LD_LIBRARY_PATH=$installed_libdir \
        PYTHONDONTWRITEBYTECODE=1 \
        "$PYTHON" "$py_source" "$installed_typelib_dir" ""
    )
  fi
}

step "meson install --destdir" install_into_destdir
step "the library and asab-1.0.pc are installed" \
  files_installed "$installed_pc" "$installed_libdir/libasab-1.0.so.0"
step "pkg-config finds the installed asab-1.0" relocate_pkg_config
step "asab-1.0.pc requires GLib $GLIB_VERSION" glib_versions_required
step "a program compiles against the installed headers and library" compile_program
step "the program runs a task with the installed library" run_program
if [ "$HAVE_GIR" != true ]; then
  skip "the GIR and the typelib are installed" "introspection is disabled"
  skip "Python runs a task with the installed typelib" "introspection is disabled"
else
  step "the GIR and the typelib are installed" \
    files_installed "$installed_gir" "$installed_typelib_dir/Asab-1.0.typelib"
  if [ -z "$PYTHON" ]; then
    skip "Python runs a task with the installed typelib" "no Python with PyGObject"
  else
    step "Python runs a task with the installed typelib" run_python
  fi
fi
if [ "$HAVE_DOCS" != true ]; then
  skip "the reference manual is installed" "the manual is not built, or not before the tests"
else
  step "the reference manual is installed" \
    files_installed "$installed_docs/index.html" "$installed_docs/class.TaskService.html" \
      "$installed_docs/overview.html" "$installed_docs/asab-1.0.devhelp2"
fi

echo "1..$n"
