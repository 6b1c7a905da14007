#!/usr/bin/env python3
# check-version-macros.py: compiles small programs against <asab.h> to show
# that the version macros steer the compiler as documented: deprecation
# warnings from ASAB_VERSION_MIN_REQUIRED, availability warnings from
# ASAB_VERSION_MAX_ALLOWED, and errors for settings that contradict each
# other.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-version-macros.py CC
#
# CC is the compiler command, one word or several separated by spaces. The
# flags come from `pkg-config --cflags asab-1.0`: meson test points
# PKG_CONFIG_PATH at the build tree's meson-uninstalled folder. Prints TAP.

import os
import shlex
import subprocess
import sys
import tempfile

# Declarations as a later version's header would write them, and calls to
# them.
DEPRECATED_PROGRAM = '''
#include <asab.h>

ASAB_DEPRECATED_IN_1_0 void asab_test_old (void);
ASAB_DEPRECATED_IN_1_0_FOR (asab_test_new) void asab_test_older (void);

void asab_test_old (void) {}
void asab_test_older (void) {}

int
main (void)
{
  asab_test_old ();
  asab_test_older ();
  return 0;
}
'''

UNAVAILABLE_PROGRAM = '''
#include <asab.h>

ASAB_UNAVAILABLE (1, 1) void asab_test_future (void);

void asab_test_future (void) {}

int
main (void)
{
  asab_test_future ();
  return 0;
}
'''

# The whole 1.0 API with MIN_REQUIRED and MAX_ALLOWED at 1.0: no warning.
API_1_0_PROGRAM = '''
#include <asab.h>

_Static_assert (ASAB_VERSION_MIN_REQUIRED == ASAB_VERSION_1_0, "MIN_REQUIRED");
_Static_assert (ASAB_VERSION_MAX_ALLOWED == ASAB_VERSION_1_0, "MAX_ALLOWED");

int
main (void)
{
  AsabTaskService *service = asab_task_service_new (NULL);
  guint64 id = asab_task_service_schedule_full (service, "x", NULL, NULL, NULL);

  g_object_unref (service);
  return (int) id + (asab_check_version (1, 0, 0) != NULL) + (int) asab_get_major_version ();
}
'''

# Only <asab.h>, for the settings that the header refuses.
EMPTY_PROGRAM = '''
#include <asab.h>

int
main (void)
{
  return 0;
}
'''

# MIN_REQUIRED newer than these headers: MAX_ALLOWED follows it.
MAX_FOLLOWS_MIN_PROGRAM = '''
#include <asab.h>

_Static_assert (ASAB_VERSION_MAX_ALLOWED == ASAB_VERSION_MIN_REQUIRED, "MAX_ALLOWED follows");

int
main (void)
{
  return 0;
}
'''


class Checks:
    def __init__(self, cc, cflags, tmpdir):
        self.cc = cc
        self.cflags = cflags
        self.tmpdir = tmpdir
        self.n = 0
        self.failed = 0

    def compile(self, program, defines):
        source = os.path.join(self.tmpdir, f'program{self.n}.c')
        with open(source, 'w', encoding='utf-8') as f:
            f.write(program)
        command = (self.cc + ['-c', '-Wall', '-Wdeprecated-declarations'] + self.cflags +
                   [f'-D{define}' for define in defines] +
                   ['-o', os.path.join(self.tmpdir, f'program{self.n}.o'), source])
        # The C locale: ASCII quotes in the diagnostics.
        env = dict(os.environ, LC_ALL='C', LANGUAGE='C')
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, check=False, env=env)
        return result.returncode, result.stdout

    def check(self, description, program, defines, compiles, needles=(), clean=False):
        """Compiles program with the given -D defines: it must compile or
        not, its diagnostics must contain each needle, and with clean, there
        must be no diagnostics at all."""
        self.n += 1
        status, output = self.compile(program, defines)
        problems = []
        if compiles and status != 0:
            problems.append('it did not compile')
        if not compiles and status == 0:
            problems.append('it compiled')
        for needle in needles:
            if needle not in output:
                problems.append(f'the compiler did not say {needle!r}')
        if clean and output.strip():
            problems.append('the compiler said something')
        if problems:
            self.failed += 1
            print(f'not ok {self.n} - {description}')
            for problem in problems:
                print(f'# {problem}')
            for line in output.splitlines():
                print(f'#   {line}')
        else:
            print(f'ok {self.n} - {description}')


def main(argv):
    if len(argv) != 2:
        print(f'usage: {argv[0]} CC', file=sys.stderr)
        return 2
    cc = shlex.split(argv[1])
    cflags = shlex.split(subprocess.run(['pkg-config', '--cflags', 'asab-1.0'],
                                        stdout=subprocess.PIPE, text=True,
                                        check=True).stdout)

    with tempfile.TemporaryDirectory() as tmpdir:
        checks = Checks(cc, cflags, tmpdir)

        checks.check('API deprecated in 1.0 warns by default, naming its replacement',
                      DEPRECATED_PROGRAM, [], compiles=True,
                      needles=["'asab_test_old' is deprecated", 'asab_test_new'])
        checks.check('API deprecated in 1.0 warns with MIN_REQUIRED at 1.0',
                      DEPRECATED_PROGRAM, ['ASAB_VERSION_MIN_REQUIRED=ASAB_VERSION_1_0'],
                      compiles=True, needles=["'asab_test_old' is deprecated"])
        checks.check('ASAB_DISABLE_DEPRECATION_WARNINGS silences deprecations',
                      DEPRECATED_PROGRAM, ['ASAB_DISABLE_DEPRECATION_WARNINGS'],
                      compiles=True, clean=True)
        checks.check('API of a version after MAX_ALLOWED warns that it is not available yet',
                      UNAVAILABLE_PROGRAM, [], compiles=True,
                      needles=["'asab_test_future' is deprecated", 'Not available before 1.1'])
        checks.check('the 1.0 API builds without a warning at MIN_REQUIRED = MAX_ALLOWED = 1.0',
                      API_1_0_PROGRAM,
                      ['ASAB_VERSION_MIN_REQUIRED=ASAB_VERSION_1_0',
                       'ASAB_VERSION_MAX_ALLOWED=ASAB_VERSION_1_0'],
                      compiles=True, clean=True)
        checks.check('MIN_REQUIRED older than the first version is refused',
                      EMPTY_PROGRAM, ['ASAB_VERSION_MIN_REQUIRED=ASAB_ENCODE_VERSION(0,9,0)'],
                      compiles=False,
                      needles=['ASAB_VERSION_MIN_REQUIRED must be >= ASAB_VERSION_1_0'])
        checks.check('MAX_ALLOWED older than MIN_REQUIRED is refused',
                      EMPTY_PROGRAM,
                      ['ASAB_VERSION_MIN_REQUIRED=ASAB_ENCODE_VERSION(1,2,0)',
                       'ASAB_VERSION_MAX_ALLOWED=ASAB_VERSION_1_0'],
                      compiles=False,
                      needles=['ASAB_VERSION_MAX_ALLOWED must be >= ASAB_VERSION_MIN_REQUIRED'])
        checks.check('MAX_ALLOWED follows a MIN_REQUIRED newer than the headers',
                      MAX_FOLLOWS_MIN_PROGRAM,
                      ['ASAB_VERSION_MIN_REQUIRED=ASAB_ENCODE_VERSION(1,2,0)'],
                      compiles=True, clean=True)

    print(f'1..{checks.n}')
    return 1 if checks.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
