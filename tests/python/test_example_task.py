# test_example_task.py: runs examples/task.py, ASAB's TaskService example
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import sys

EXAMPLES_DIR = os.environ.get('ASAB_EXAMPLES_DIR',
                              os.path.join(os.path.dirname(__file__), '..', '..', 'examples'))


def test_task_prints_what_asab_prints_and_exits_when_the_tasks_have_ended():
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES_DIR, 'task.py')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=30)

    assert result.returncode == 0, result.stderr
    # The three coroutines run concurrently: all start, then all end.
    assert result.stdout.splitlines() == [
        'Your tasks are scheduled. Meanwhile, take a deep breath and make yourself comfortable.',
        'Task 1 started.',
        'Task 2 started.',
        'Task 3 started.',
        'Task 1 is complete.',
        'Task 2 is complete.',
    ]
    # Task 3's failure, logged once with its traceback, from the coroutine on.
    assert result.stderr.count('Traceback (most recent call last):') == 1
    assert ('Task “MyApplication.task3” (4) failed: '
            'Exception: An exception occurred during Task 3.\n') in result.stderr
    assert 'in task3\n    raise Exception("An exception occurred during Task 3.")' in result.stderr
    assert 'Asab-WARNING' not in result.stderr
    assert 'never awaited' not in result.stderr
