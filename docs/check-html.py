#!/usr/bin/env python3
# check-html.py: checks the reference manual that gi-docgen generated: the
# pages a reader starts from are there and say what they must, and no link
# between the generated files is broken.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-html.py DOCS_DIR PROJECT_URL HEADER...
#
# PROJECT_URL is where the "View source" links lead; the HEADERs are the
# version headers, each of whose macros the manual must document.
#
# Prints TAP.

import html
import html.parser
import os
import re
import sys
import urllib.parse

DEFINE_RE = re.compile(r'^\s*#\s*define\s+(ASAB_[A-Z0-9_]+)', re.MULTILINE)
UNDEF_RE = re.compile(r'^\s*#\s*undef\s+(ASAB_[A-Z0-9_]+)', re.MULTILINE)
CODE_BLOCK_RE = re.compile(r'<div class="codehilite"><pre>(.*?)</pre></div>', re.DOTALL)
TAG_RE = re.compile(r'<[^>]*>')


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ('href', 'src') and value:
                self.targets.append(value)


def local_links(path):
    parser = Links()
    with open(path, encoding='utf-8') as f:
        parser.feed(f.read())
    for target in parser.targets:
        url = urllib.parse.urlsplit(target)
        if url.scheme or url.netloc or not url.path:
            continue  # another site, javascript:, or an anchor in the page
        yield target, urllib.parse.unquote(url.path)


class Checks:
    def __init__(self, docs_dir):
        self.docs_dir = docs_dir
        self.n = 0
        self.failed = 0

    def read(self, name):
        with open(os.path.join(self.docs_dir, name), encoding='utf-8') as f:
            return f.read()

    def check(self, description, function):
        self.n += 1
        try:
            problems = function()
        except OSError as e:
            problems = [str(e)]
        if problems:
            self.failed += 1
            print(f'not ok {self.n} - {description}')
            for problem in problems:
                print(f'# {problem}')
        else:
            print(f'ok {self.n} - {description}')

    def page_says(self, name, *needles):
        text = self.read(name)
        return [f'{name} lacks {needle!r}' for needle in needles if needle not in text]


def main(argv):
    if len(argv) < 4:
        print(f'usage: {argv[0]} DOCS_DIR PROJECT_URL HEADER...', file=sys.stderr)
        return 2
    project_url = argv[2]
    headers = argv[3:]

    checks = Checks(argv[1])

    checks.check('the index leads to the class and the pages', lambda: checks.page_says(
        'index.html',
        'href="class.TaskService.html"',
        'href="overview.html"',
        'href="javascript.html"',
        'href="versioning.html"',
    ))
    checks.check('the index lists the dependencies and where the project lives', lambda: checks.page_says(
        'index.html',
        'href="https://docs.gtk.org/gobject/"',
        'href="https://docs.gtk.org/gio/"',
        f'href="{project_url}"',
    ))
    checks.check("a symbol's page links to its source", lambda: checks.page_says(
        'class.TaskService.html',
        f'href="{project_url}/blob/main/src/asab-task-service.c#L',
    ))
    checks.check('the JavaScript page shows the pattern for async functions', lambda: checks.page_says(
        'javascript.html',
        'gjs -m',
        'scheduleAsync',
        'return_error_if_cancelled',
    ))

    def macros_documented():
        macros = set()
        for header in headers:
            with open(header, encoding='utf-8') as f:
                text = f.read()
            # A macro that the header undefines again is its own business.
            macros.update(set(DEFINE_RE.findall(text)) - set(UNDEF_RE.findall(text)))
        text = ''
        for name in os.listdir(checks.docs_dir):
            if name.endswith('.html'):
                text += checks.read(name)
        problems = [f'no page names {macro}' for macro in sorted(macros)
                    if not re.search(rf'\b{macro}\b', text)]
        if len(macros) < 10:
            problems.append(f'only {len(macros)} macros found in {", ".join(headers)}')
        return problems

    checks.check('the manual documents every macro of the version headers', macros_documented)
    checks.check('the class page documents AsabTaskService', lambda: checks.page_says(
        'class.TaskService.html',
        'AsabTaskService',
        'Runs fire-and-forget background tasks',
        'href="method.TaskService.schedule_full.html"',
        'href="method.TaskService.stop_async.html"',
        'href="signal.TaskService.task-done.html"',
        'href="property.TaskService.max-concurrent.html"',
    ))
    checks.check('the signal page documents task-done', lambda: checks.page_says(
        'signal.TaskService.task-done.html',
        'TaskService.task_done!',
    ))
    checks.check('the overview maps ASAB to this API', lambda: checks.page_says(
        'overview.html',
        '<table>',
        'TaskService.task_done!',
        'href="signal.TaskService.task-done.html"',
        'href="method.TaskService.schedule_full.html"',
        'href="method.TaskService.schedule_threadsafe.html"',
        'href="method.TaskService.run_forever.html"',
        'href="method.TaskService.stop_async.html"',
        'pending and incomplete tasks',
    ))

    def examples_shown():
        page = checks.read('overview.html')
        blocks = CODE_BLOCK_RE.findall(page)
        code = [html.unescape(TAG_RE.sub('', block)) for block in blocks]
        problems = []
        for language, needle in (('C', 'asab_task_service_schedule_full (service, "greet"'),
                                 ('Python', "service.schedule(greet('world'), nap(0.1), fail())"),
                                 ('JavaScript', "service.schedule('greet', greet);")):
            if not any(needle in block for block in code):
                problems.append(f'no code block of overview.html shows the {language} example: {needle!r}')
        return problems

    checks.check('the overview shows the examples in C, Python and JavaScript', examples_shown)
    checks.check('the Devhelp book leads to the overview and the class', lambda: checks.page_says(
        'asab-1.0.devhelp2',
        'link="overview.html"',
        'link="class.TaskService.html"',
    ))

    def links_resolve():
        broken = []
        n_pages = 0
        for name in sorted(os.listdir(checks.docs_dir)):
            if not name.endswith('.html'):
                continue
            n_pages += 1
            for target, path in local_links(os.path.join(checks.docs_dir, name)):
                problem = f'{name}: {target} is missing'
                if not os.path.exists(os.path.join(checks.docs_dir, path)) and problem not in broken:
                    broken.append(problem)
        if n_pages < 10:
            broken.append(f'only {n_pages} pages')
        return broken

    checks.check('every link between the pages leads to a page', links_resolve)

    print(f'1..{checks.n}')
    return 1 if checks.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
