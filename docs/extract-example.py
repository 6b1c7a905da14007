#!/usr/bin/env python3
# extract-example.py: writes out the example program of one language that a
# Markdown page shows, so that the build compiles it and the tests run it.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: extract-example.py PAGE.md LANGUAGE OUTPUT
#
# The page must have exactly one fenced code block in LANGUAGE (```c,
# ```python, ```js): the complete program. Other snippets use other
# languages or inline code; a JavaScript snippet that is not the program is
# a ```javascript block, highlighted the same.

import re
import sys

FENCE_RE = re.compile(r'^```\s*(?P<language>[\w+-]*)\s*$')


def code_blocks(lines):
    language = None
    block = []
    for number, line in enumerate(lines, start=1):
        match = FENCE_RE.match(line)
        if language is None:
            if match:
                language = match.group('language') or 'plain'
                start = number
                block = []
        elif match and match.group('language') == '':
            yield language, start, block
            language = None
        else:
            block.append(line)
    if language is not None:
        raise SystemExit(f'line {start}: the ```{language} block is not closed')


def main(argv):
    if len(argv) != 4:
        raise SystemExit(f'usage: {argv[0]} PAGE.md LANGUAGE OUTPUT')
    page, wanted, output = argv[1:]

    with open(page, encoding='utf-8') as f:
        lines = f.read().splitlines()

    found = [(start, block) for language, start, block in code_blocks(lines)
             if language == wanted]
    if len(found) != 1:
        where = ', '.join(f'line {start}' for start, _ in found) or 'none'
        raise SystemExit(f'{page}: expected one ```{wanted} block, found {len(found)} ({where})')

    start, block = found[0]
    with open(output, 'w', encoding='utf-8') as f:
        if wanted == 'c':
            # The compiler's messages then point into the page.
            f.write(f'#line {start + 1} "{page}"\n')
        else:
            comment = '//' if wanted == 'js' else '#'
            f.write(f'{comment} Extracted from {page}, line {start}.\n')
        f.write('\n'.join(block))
        f.write('\n')


if __name__ == '__main__':
    main(sys.argv)
