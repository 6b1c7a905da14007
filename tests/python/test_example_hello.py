# test_example_hello.py: runs examples/hello.py
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import sys

EXAMPLES_DIR = os.environ.get('ASAB_EXAMPLES_DIR',
                              os.path.join(os.path.dirname(__file__), '..', '..', 'examples'))


def test_hello_prints_task_done_lines_and_stops():
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES_DIR, 'hello.py')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=30)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'task2 done',
        'task3 failed: something went wrong in task3',
        'task1 done',
    ]
    # The failure is also logged, as ASAB does.
    assert 'Asab-WARNING' in result.stderr
    assert 'Task “task3” (3) failed: something went wrong in task3' in result.stderr
