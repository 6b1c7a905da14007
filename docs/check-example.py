#!/usr/bin/env python3
# check-example.py: runs an example program and compares what it prints on
# standard output with what the documentation says it prints.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-example.py --expect LINE [--expect LINE...] -- COMMAND [ARG...]

import argparse
import subprocess
import sys

TIMEOUT_SECONDS = 20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--expect', action='append', default=[], metavar='LINE',
                        help='a line of the expected standard output, in order')
    parser.add_argument('command', nargs='+')
    options = parser.parse_args()

    try:
        result = subprocess.run(options.command, stdout=subprocess.PIPE,
                                timeout=TIMEOUT_SECONDS, text=True, check=False)
    except subprocess.TimeoutExpired:
        print(f'{options.command[0]}: did not exit within {TIMEOUT_SECONDS} s', file=sys.stderr)
        return 1

    lines = result.stdout.splitlines()
    ok = True
    if result.returncode != 0:
        print(f'{options.command[0]}: exit status {result.returncode}', file=sys.stderr)
        ok = False
    if lines != options.expect:
        print('standard output differs from the documented output', file=sys.stderr)
        print('expected:', *[f'  {line}' for line in options.expect], sep='\n', file=sys.stderr)
        print('got:', *[f'  {line}' for line in lines], sep='\n', file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
