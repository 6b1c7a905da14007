#!/usr/bin/env python3
# check-packaging.py: checks what a distribution packager reads besides the
# build: the licence text, the release notes, the DOAP description, and
# that `meson dist` ships them.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-packaging.py SOURCE_ROOT BUILD_ROOT PROJECT_URL LICENCE
#
# MESON is the meson command; LICENCE is the one meson.build declares. The
# version and the description come from `meson introspect --projectinfo`
# and the generated asab-1.0.pc. `meson dist` archives what is committed.
# Prints TAP.

import json
import os
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET

DOAP = '{http://usefulinc.com/ns/doap#}'
RDF = '{http://www.w3.org/1999/02/22-rdf-syntax-ns#}'
# DOAP's name for the LGPL, of any version; the version is COPYING's.
DOAP_LGPL = 'http://usefulinc.com/doap/licenses/lgpl'
SPDX_RE = re.compile(r'SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)')
SOURCE_SUFFIXES = ('.c', '.h', '.in', '.py', '.js', '.vala', '.sh', '.md', '.build')
SHIPPED = ('COPYING', 'NEWS', 'asab-glib.doap', 'README.md')


class Checks:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, description, function):
        self.n += 1
        try:
            problems = function()
        except (OSError, subprocess.CalledProcessError, ET.ParseError, KeyError) as e:
            problems = [str(e)]
        if problems:
            self.failed += 1
            print(f'not ok {self.n} - {description}')
            for problem in problems:
                print(f'# {problem}')
        else:
            print(f'ok {self.n} - {description}')

    def skip(self, description, reason):
        self.n += 1
        print(f'ok {self.n} - {description} # SKIP {reason}')


def main(argv):
    if len(argv) != 5:
        print(f'usage: {argv[0]} SOURCE_ROOT BUILD_ROOT PROJECT_URL LICENCE', file=sys.stderr)
        return 2
    source_root, build_root, project_url, licence = argv[1:]
    meson = os.environ['MESON']

    info = json.loads(subprocess.run([meson, 'introspect', '--projectinfo', build_root],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout)
    version = info['version']
    checks = Checks()

    def read(name):
        with open(os.path.join(source_root, name), encoding='utf-8') as f:
            return f.read()

    def copying_is_the_licence():
        text = read('COPYING')
        problems = []
        if licence != 'LGPL-2.1-or-later':
            problems.append(f'meson.build declares {licence}, not LGPL-2.1-or-later')
        for needle in ('GNU LESSER GENERAL PUBLIC LICENSE', 'Version 2.1, February 1999',
                       'TERMS AND CONDITIONS FOR COPYING, DISTRIBUTION AND MODIFICATION',
                       'END OF TERMS AND CONDITIONS'):
            if needle not in text:
                problems.append(f'COPYING lacks {needle!r}')
        return problems

    def sources_declare_the_licence():
        problems = []
        n_declared = 0
        for root, dirs, files in os.walk(source_root):
            dirs[:] = [d for d in dirs if not d.startswith(('.', '_build', 'subprojects'))]
            for name in files:
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding='utf-8', errors='replace') as f:
                    declared = SPDX_RE.findall(f.read())
                n_declared += bool(declared)
                problems += [f'{os.path.relpath(path, source_root)} declares {d}'
                             for d in declared if d != licence]
        if n_declared < 20:
            problems.append(f'only {n_declared} files declare a licence')
        return problems

    def news_names_this_version():
        first = read('NEWS').splitlines()[0]
        if not re.match(rf'Overview of changes in asab-glib {re.escape(version)}\b', first):
            return [f'the first entry of NEWS is {first!r}, not version {version}']
        return []

    def doap_describes_the_project():
        doap = ET.parse(os.path.join(source_root, 'asab-glib.doap')).getroot()
        pc = read_pc()
        problems = []
        expected = {
            'name': 'asab-glib',
            'shortdesc': pc['Description'],
            'programming-language': 'C',
        }
        for tag, value in expected.items():
            element = doap.find(DOAP + tag)
            if element is None or element.text.strip() != value:
                problems.append(f'<{tag}> is not {value!r}')
        for tag, value in (('homepage', project_url), ('license', DOAP_LGPL),
                           ('bug-database', project_url + '/issues')):
            element = doap.find(DOAP + tag)
            if element is None or element.get(RDF + 'resource') != value:
                problems.append(f'<{tag}> does not lead to {value}')
        browse = doap.find(f'{DOAP}repository/{DOAP}GitRepository/{DOAP}browse')
        if browse is None or browse.get(RDF + 'resource') != project_url:
            problems.append(f'the repository is not {project_url}')
        if pc.get('URL') != project_url:
            problems.append(f'asab-1.0.pc says URL {pc.get("URL")}, not {project_url}')
        return problems

    def read_pc():
        with open(os.path.join(build_root, 'meson-private', 'asab-1.0.pc'), encoding='utf-8') as f:
            return dict(re.findall(r'^([\w.]+):\s*(.*)$', f.read(), re.M))

    def dist_ships_them():
        subprocess.run([meson, 'dist', '-C', build_root, '--no-tests', '--allow-dirty',
                        '--formats', 'xztar'], stdout=sys.stderr, stderr=sys.stderr, check=True)
        tarball = os.path.join(build_root, 'meson-dist', f'{info["descriptive_name"]}-{version}.tar.xz')
        with tarfile.open(tarball) as tar:
            names = {name.split('/', 1)[1] for name in tar.getnames() if '/' in name}
        return [f'{tarball} lacks {name}' for name in SHIPPED if name not in names]

    checks.check('COPYING is the LGPL 2.1 that meson.build declares', copying_is_the_licence)
    checks.check('every source file declares that licence', sources_declare_the_licence)
    checks.check(f'NEWS begins with version {version}', news_names_this_version)
    checks.check('asab-glib.doap describes the project as asab-1.0.pc does',
                 doap_describes_the_project)
    if os.path.isdir(os.path.join(source_root, '.git')) or \
       os.path.isfile(os.path.join(source_root, '.git')):
        checks.check('meson dist ships COPYING, NEWS and the DOAP file', dist_ships_them)
    else:
        checks.skip('meson dist ships COPYING, NEWS and the DOAP file', 'not a git checkout')

    print(f'1..{checks.n}')
    return 1 if checks.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
