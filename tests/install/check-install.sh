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
# sets: BUILD_ROOT, SOURCE_ROOT, PREFIX, LIBDIR and DATADIR (absolute),
# MESON, CC, LIBRARY ('shared', 'static' or 'both'), GLIB_VERSION (the GLib
# version that the library needs, "2.74"), HAVE_GIR, HAVE_VAPI and HAVE_DOCS
# ('true' or 'false'), DOCDIR (where the manual goes), and, empty when there
# is none, PYTHON (a Python with PyGObject), GJS and VALAC.
#
# It runs `meson install --destdir` without rebuilding and without touching
# the build's install log, then:
#
# - with the prefix that the README recommends, /usr, checks that every
#   installed file lies where the program that looks for it looks, asking
#   each program (check-install-paths.py);
# - compiles INSTALLED_TASK_C and the README's C example with the flags of
#   the installed asab-1.0.pc and runs them;
# - runs INSTALLED_TASK_PY and the README's Python example with the
#   installed typelib and overrides, the README's JavaScript example with
#   gjs, and examples/hello.vala built with the installed vapi.
#
# The tree lies in a temporary folder, not in /, so that the programs need
# to be told where it is; they are told with these variables, and nothing
# from the source or build tree is on any search path:
#
#   LD_LIBRARY_PATH  for the dynamic loader: the installed libdir, which
#                    stands for LIBDIR;
#   GI_TYPELIB_PATH  for GObject-Introspection (PyGObject and GJS): the
#                    installed girepository-1.0 folder;
#   PYTHONPATH       for PyGObject: the site folder that holds the installed
#                    gi/overrides;
#   PKG_CONFIG_PATH  for pkg-config: a copy of the installed asab-1.0.pc
#                    whose prefix is the installed one;
#
# and valac with --vapidir, for the installed vala/vapi folder. Besides
# those, the programs get only PATH, HOME and TMPDIR, LC_ALL=C.UTF-8 for
# messages in English, and PYTHONDONTWRITEBYTECODE=1 to keep the tree as
# it was installed.
#
# Prints TAP; stops at the first step that fails.

set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 INSTALLED_TASK_C INSTALLED_TASK_PY" >&2
  exit 2
fi
c_source=$1
py_source=$2
here=$(cd "$(dirname "$0")" && pwd) || exit 2

for var in BUILD_ROOT SOURCE_ROOT PREFIX LIBDIR DATADIR MESON CC LIBRARY GLIB_VERSION \
           HAVE_GIR HAVE_VAPI HAVE_DOCS DOCDIR; do
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    echo "check-install.sh: $var is not set" >&2
    exit 2
  fi
done
PYTHON=${PYTHON:-}
GJS=${GJS:-}
VALAC=${VALAC:-}

# The prefix the README recommends, where the installed tree needs no
# variable at all.
RECOMMENDED_PREFIX=/usr

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
installed_vapi_dir=$dest$DATADIR/vala/vapi
installed_docs=$dest$DOCDIR
install_log=$BUILD_ROOT/meson-logs/install-log.txt

. "$here/../tap-steps.sh"

# installed COMMAND [ARG...]: runs a program against the installed tree,
# with the variables above and the few that any program needs, no others.
installed () {
  env -i PATH="$PATH" HOME="${HOME:-/nonexistent}" TMPDIR="${TMPDIR:-/tmp}" \
    LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    LD_LIBRARY_PATH="$installed_libdir" GI_TYPELIB_PATH="$installed_typelib_dir" \
    PYTHONPATH="${site_dir:-}" PKG_CONFIG_PATH="$tmp/pkgconfig" \
    timeout 30 "$@"
}

# The install log of the build, as `ninja uninstall` will read it.
log_state () {
  if [ -f "$install_log" ]; then
    cksum < "$install_log"
  else
    echo none
  fi
}
log_before=$(log_state)

install_into_destdir () {
  # `meson install` writes the list of what it installed to the build's
  # meson-logs/install-log.txt, which `ninja uninstall` then deletes: from
  # the build directory itself, this install would replace the list of a
  # real one with that of the temporary tree. It runs from a stand-in
  # directory instead, whose entries lead to the build's, but whose
  # meson-logs is its own.
  shadow=$tmp/build
  mkdir -p "$shadow/meson-private" "$shadow/meson-logs" || return 1
  for entry in "$BUILD_ROOT"/* "$BUILD_ROOT"/meson-private/*; do
    case "$entry" in
      "$BUILD_ROOT/meson-private"|"$BUILD_ROOT/meson-logs") ;;
      "$BUILD_ROOT"/meson-private/*) ln -s "$entry" "$shadow/meson-private/" || return 1 ;;
      *) ln -s "$entry" "$shadow/" || return 1 ;;
    esac
  done
  # --no-rebuild: `meson test` has built what the test depends on, and a
  # build started from a test would race with the other tests.
  $MESON install -C "$shadow" --destdir "$dest" --no-rebuild --quiet &&
  grep -q "^$dest/" "$shadow/meson-logs/install-log.txt"
}

log_untouched () {
  after=$(log_state)
  echo "install-log.txt before: $log_before, after: $after"
  [ "$after" = "$log_before" ]
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

library_installed () {
  case "$LIBRARY" in
    shared) files_installed "$installed_pc" "$installed_libdir/libasab-1.0.so.0" ;;
    static) files_installed "$installed_pc" "$installed_libdir/libasab-1.0.a" ;;
    *) files_installed "$installed_pc" "$installed_libdir/libasab-1.0.so.0" \
         "$installed_libdir/libasab-1.0.a" ;;
  esac
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

  static=
  [ "$LIBRARY" = static ] && static=--static
  cflags=$(installed pkg-config --cflags asab-1.0) || return 1
  libs=$(installed pkg-config $static --libs asab-1.0) || return 1
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
  requires=$(installed pkg-config --print-requires asab-1.0) || return 1
  echo "requires: $requires"
  for module in glib-2.0 gobject-2.0 gio-2.0; do
    if ! echo "$requires" | grep -qx "$module >= $GLIB_VERSION"; then
      echo "asab-1.0.pc does not require $module >= $GLIB_VERSION"
      return 1
    fi
  done
}

# compile_program SOURCE OUTPUT
compile_program () {
  # Word splitting wanted: CC may be a command with arguments, and the flags
  # are several words.
  # shellcheck disable=SC2086
  $CC -Wall -Werror -o "$2" "$1" $cflags $libs
}

# linked_as_built PROGRAM: a program of a shared build loads the installed
# libasab-1.0; one of a static build has it inside.
linked_as_built () {
  command -v ldd > /dev/null || return 0
  library=$(installed ldd "$1" | grep 'libasab-1\.0')
  echo "libasab-1.0: ${library:-none}"
  if [ "$LIBRARY" = static ]; then
    [ -z "$library" ]
  else
    case "$library" in
      *"=> $installed_libdir/"*) ;;
      *) echo "the program would not load the installed libasab-1.0"; return 1 ;;
    esac
  fi
}

run_program () {
  linked_as_built "$tmp/installed-task" && installed "$tmp/installed-task"
}

# extract LANGUAGE OUTPUT: the README's example in that language.
extract () {
  "$SOURCE_ROOT/docs/extract-example.py" "$SOURCE_ROOT/README.md" "$1" "$2"
}

# run_expecting LINE COMMAND [ARG...]: the command succeeds and prints LINE.
run_expecting () {
  line=$1
  shift
  installed "$@" > "$tmp/stdout"
  status=$?
  cat "$tmp/stdout"
  if [ $status -ne 0 ]; then
    echo "exit status $status"
    return 1
  fi
  if [ -n "$line" ] && ! grep -qxF "$line" "$tmp/stdout"; then
    echo "it did not print \"$line\""
    return 1
  fi
}

readme_c_example () {
  extract c "$tmp/readme.c" &&
  compile_program "$tmp/readme.c" "$tmp/readme-c" &&
  run_expecting "load: done" "$tmp/readme-c"
}

# Where the installed tree says gettext looks for the library's messages,
# and where it looks for those of a domain that nobody bound.
ask_gettext () {
  dirs=$(installed "$tmp/installed-task" --localedir) || return 1
  gettext_dir=$(echo "$dirs" | sed -n 1p)
  echo "gettext looks for asab-1.0 in $gettext_dir, for other domains in $(echo "$dirs" | sed -n 2p)"
}

# The dynamic loader that the installed programs start with.
ask_loader () {
  ldso=$(ldd "$tmp/installed-task" | sed -n 's|^[[:space:]]*\(/[^ ]*ld[^ ]*\.so[^ ]*\) (0x.*|\1|p' | head -n 1)
  echo "dynamic loader: $ldso"
  [ -n "$ldso" ] && [ -x "$ldso" ]
}

installed_paths_looked_up () {
  "$PYTHON" "$here/check-install-paths.py" "$dest" "$ldso" "$gettext_dir" $GJS
}

find_overrides () {
  overrides=$(find "$dest" -path '*/gi/overrides/Asab.py' -type f | head -n 1)
  if [ -z "$overrides" ]; then
    echo "no gi/overrides/Asab.py in the installed tree"
    return 1
  fi
  # The folder above gi/overrides/ goes on PYTHONPATH.
  site_dir=$(dirname "$(dirname "$(dirname "$overrides")")")
  echo "overrides: $overrides, on PYTHONPATH: $site_dir"
}

run_python () {
  installed "$PYTHON" "$py_source" "$installed_typelib_dir" "$overrides"
}

readme_python_example () {
  extract python "$tmp/readme.py" && run_expecting "" "$PYTHON" "$tmp/readme.py"
}

readme_js_example () {
  extract js "$tmp/readme.js" && run_expecting "greet: done" "$GJS" -m "$tmp/readme.js"
}

vala_example () {
  (cd "$tmp" && installed "$VALAC" --vapidir "$installed_vapi_dir" --pkg asab-1.0 \
     -X -w -o "$tmp/hello-vala" "$SOURCE_ROOT/examples/hello.vala") &&
  run_expecting "task1 done" "$tmp/hello-vala"
}

step "meson install --destdir, from a stand-in for the build directory" install_into_destdir
step "the build's install log is left alone, for ninja uninstall" log_untouched
step "the $LIBRARY library and asab-1.0.pc are installed" library_installed
step "pkg-config finds the installed asab-1.0" relocate_pkg_config
step "asab-1.0.pc requires GLib $GLIB_VERSION" glib_versions_required
step "a program compiles against the installed headers and library" \
  compile_program "$c_source" "$tmp/installed-task"
step "the program runs a task with the installed library" run_program
step "the README's C example builds and runs" readme_c_example

if [ "$PREFIX" != "$RECOMMENDED_PREFIX" ]; then
  skip "every installed file lies where its user looks" \
    "prefix $PREFIX, not $RECOMMENDED_PREFIX: see the README for the variables it needs"
elif [ -z "$PYTHON" ]; then
  skip "every installed file lies where its user looks" "no Python with PyGObject to ask"
else
  step "gettext says where it looks for the library's messages" ask_gettext
  step "ldd names the dynamic loader" ask_loader
  step "every installed file lies where its user looks" installed_paths_looked_up
fi

if [ "$HAVE_GIR" != true ]; then
  skip "the GIR and the typelib are installed" "introspection is disabled"
elif [ "$LIBRARY" = static ]; then
  skip "the GIR and the typelib are installed" "a typelib needs a shared library"
else
  step "the GIR and the typelib are installed" \
    files_installed "$installed_gir" "$installed_typelib_dir/Asab-1.0.typelib"
  if [ -z "$PYTHON" ]; then
    skip "Python runs a task with the installed typelib and overrides" "no Python with PyGObject"
  else
    step "the installed overrides are found" find_overrides
    step "Python runs a task with the installed typelib and overrides" run_python
    step "the README's Python example runs" readme_python_example
  fi
  if [ -z "$GJS" ]; then
    skip "the README's JavaScript example runs" "no gjs"
  else
    step "the README's JavaScript example runs" readme_js_example
  fi
  if [ "$HAVE_VAPI" != true ] || [ -z "$VALAC" ]; then
    skip "examples/hello.vala builds with the installed vapi and runs" "no Vala bindings or no valac"
  else
    step "examples/hello.vala builds with the installed vapi and runs" vala_example
  fi
fi

if [ "$HAVE_DOCS" != true ]; then
  skip "the reference manual is installed" "the manual is not built, or not before the tests"
else
  step "the reference manual is installed" \
    files_installed "$installed_docs/index.html" "$installed_docs/class.TaskService.html" \
      "$installed_docs/overview.html" "$installed_docs/asab-1.0.devhelp2"
fi

steps_done
