# installed-task.py: runs one task through the installed Asab-1.0 typelib
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-install.sh runs it with /usr/bin/python3 (PyGObject), with
# GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing into the installed tree only.
# Arguments: the folder of the installed typelib, and the installed
# gi/overrides/Asab.py or an empty string when none was installed. With the
# overrides it uses their schedule(func, *args, name=None), without them the
# introspected schedule(name, func, user_data).

import os
import sys

import gi

gi.require_version('Asab', '1.0')
from gi.repository import Asab, GLib  # noqa: E402

TIMEOUT_SECONDS = 10


def fail(message):
    print(f'installed-task.py: {message}', file=sys.stderr)
    sys.exit(1)


def main(typelib_dir, override_file):
    typelib = gi.Repository.get_default().get_typelib_path('Asab')
    if os.path.dirname(os.path.realpath(typelib)) != os.path.realpath(typelib_dir):
        fail(f'the Asab typelib was loaded from {typelib}, not from {typelib_dir}')

    if override_file:
        import gi.overrides.Asab as overrides
        if os.path.realpath(overrides.__file__) != os.path.realpath(override_file):
            fail(f'the Asab overrides were loaded from {overrides.__file__}, not {override_file}')

    done = []
    ran = []

    def run(task, cancellable, *args):
        ran.append(args)
        task.return_boolean(True)

    def on_task_done(service, task, error):
        done.append((task.get_name(), error))

    service = Asab.TaskService()
    service.connect('task-done', on_task_done)
    if override_file:
        task_id = service.schedule(run, 'argument', name='installed')
        expected_args = ('argument',)
    else:
        task_id = service.schedule('installed', run, None)
        expected_args = (None,)
    if task_id == 0:
        fail('the task was refused')

    timed_out = []

    def time_out():
        timed_out.append(True)
        return GLib.SOURCE_REMOVE

    stopped = []

    def on_stopped(service, result):
        service.stop_finish(result)
        stopped.append(True)

    GLib.timeout_add_seconds(TIMEOUT_SECONDS, time_out)
    context = GLib.MainContext.default()
    while not done and not timed_out:
        context.iteration(True)
    service.stop_async(None, on_stopped)
    while not stopped and not timed_out:
        context.iteration(True)

    if done != [('installed', None)]:
        fail(f'task-done reported {done}, not one success of task “installed”')
    if ran != [expected_args]:
        fail(f'the task function got the extra arguments {ran}, not {[expected_args]}')

    print(f'installed-task.py: task {task_id} done, '
          f'{"with" if override_file else "without"} the overrides')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        fail('usage: installed-task.py TYPELIB_DIR OVERRIDE_FILE|""')
    main(sys.argv[1], sys.argv[2])
