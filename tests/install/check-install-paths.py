#!/usr/bin/env python3
# check-install-paths.py: checks that every file of an installed tree lies
# where the program that looks for it looks, asking each program: the
# dynamic loader, pkg-config, GObject-Introspection as PyGObject and GJS
# use it, PyGObject for its overrides, gettext, valac and GLib.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-install-paths.py DESTDIR LDSO GETTEXT_DIR [GJS]
#
# DESTDIR holds the tree that `meson install --destdir` made; each file
# DESTDIR/x is checked as the installed /x. LDSO is the dynamic loader of
# the programs; GETTEXT_DIR the folder where gettext looks for the
# library's messages, as the installed library told it; GJS is gjs, when
# there is one. Run with the Python that has PyGObject. Prints one line a
# file and exits 1 if a file lies where nothing looks for it.

import os
import re
import subprocess
import sys

# The search paths of the system as it is, not as the test's environment
# would change them.
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ('GI_TYPELIB_PATH', 'PYTHONPATH', 'XDG_DATA_DIRS', 'LD_LIBRARY_PATH',
                          'PKG_CONFIG_PATH', 'PKG_CONFIG_LIBDIR')}


def run(*command):
    return subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True,
                          env=CLEAN_ENV).stdout


def loader_dirs(ldso):
    """The folders that the dynamic loader searches without ld.so.cache,
    hence without ldconfig."""
    return [line.split()[0] for line in run(ldso, '--help').splitlines()
            if line.strip().endswith('(system search path)')]


def python_answer(code):
    return run(sys.executable, '-I', '-c', code).strip()


def typelib_dirs_pygobject():
    return python_answer('import gi; gi.require_version("GIRepository", "2.0"); '
                         'from gi.repository import GIRepository; '
                         'print("\\n".join(GIRepository.Repository.get_search_path()))').splitlines()


def typelib_dirs_gjs(gjs):
    code = ('const GIRepository = imports.gi.GIRepository; '
            'print(GIRepository.Repository.get_search_path().join("\\n"));')
    return run(gjs, '-c', code).splitlines()


def pkg_config_var(module, variable):
    return run('pkg-config', f'--variable={variable}', module).strip()


def main(argv):
    if len(argv) not in (4, 5):
        print(f'usage: {argv[0]} DESTDIR LDSO GETTEXT_DIR [GJS]', file=sys.stderr)
        return 2
    destdir, ldso, gettext_dir = argv[1:4]
    gjs = argv[4] if len(argv) == 5 else None

    installed = []
    for root, _dirs, files in os.walk(destdir):
        for name in files:
            installed.append('/' + os.path.relpath(os.path.join(root, name), destdir))

    # Each kind of file: who looks for it, and the folders it looks in, or
    # for folders of documentation, the folders under which it looks.
    looked_up = []

    def where(pattern, who, dirs, under=False):
        looked_up.append((re.compile(pattern), who, [os.path.normpath(d) for d in dirs], under))

    pc_path = pkg_config_var('pkg-config', 'pc_path').split(':')
    where(r'/libasab-1\.0\.so\.\d+(\.\d+)*$', 'the dynamic loader, without ldconfig',
          loader_dirs(ldso))
    where(r'/pkgconfig/asab-1\.0\.pc$', 'pkg-config', pc_path)

    # The linker and the compiler look where asab-1.0.pc says.
    pc = [path for path in installed if path.endswith('/asab-1.0.pc')]
    if pc:
        pc_file = destdir + pc[0]
        pc_vars = dict(re.findall(r'^(\w+)=(.*)$', open(pc_file, encoding='utf-8').read(), re.M))
        expand = lambda value: re.sub(r'\$\{(\w+)\}', lambda m: expand(pc_vars[m.group(1)]), value)
        where(r'/libasab-1\.0\.(so|a)$', 'the linker, by asab-1.0.pc\'s Libs',
              [expand(pc_vars['libdir'])])
        where(r'/asab-1\.0/[\w-]+\.h$', 'the compiler, by asab-1.0.pc\'s Cflags',
              [expand(pc_vars['includedir']) + '/asab-1.0'])

    where(r'/Asab-1\.0\.typelib$', 'GObject-Introspection for PyGObject',
          typelib_dirs_pygobject())
    if gjs:
        where(r'/Asab-1\.0\.typelib$', 'GObject-Introspection for GJS', typelib_dirs_gjs(gjs))
    where(r'/Asab-1\.0\.gir$', 'g-ir-scanner and g-ir-compiler of other projects',
          [pkg_config_var('gobject-introspection-1.0', 'girdir')])
    where(r'/gi/overrides/Asab\.py$', 'PyGObject (gi._overridesdir)',
          [python_answer('import gi; print(gi._overridesdir)')])
    where(r'/LC_MESSAGES/asab-1\.0\.mo$', 'gettext, for the library\'s domain',
          [gettext_dir], under=True)
    if any(path.endswith('.vapi') for path in installed):
        where(r'/asab-1\.0\.(vapi|deps)$', 'valac (vapigen.pc\'s vapidir)',
              [pkg_config_var('vapigen', 'vapidir')])
    # Devhelp looks for books in the doc folder of each of GLib's system
    # data folders.
    data_dirs = python_answer('from gi.repository import GLib; '
                              'print("\\n".join(GLib.get_system_data_dirs()))').splitlines()
    where(r'/doc/asab-1\.0/', 'Devhelp (GLib\'s system data folders)',
          [os.path.join(d, 'doc', 'asab-1.0') for d in data_dirs], under=True)

    problems = 0
    for path in sorted(installed):
        folder = os.path.dirname(path)
        claims = [(who, dirs, under) for pattern, who, dirs, under in looked_up
                  if pattern.search(path)]
        if not claims:
            print(f'not looked for: {path}')
            problems += 1
        for who, dirs, under in claims:
            if under:
                found = any(folder == d or folder.startswith(d + '/') for d in dirs)
            else:
                found = folder in dirs
            if found:
                print(f'ok: {path} ({who})')
            else:
                print(f'not found: {path}: {who} looks in {":".join(dirs)}')
                problems += 1

    if not installed:
        print(f'nothing is installed in {destdir}')
        problems += 1
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
