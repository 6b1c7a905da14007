#!/usr/bin/python3
# hello.py: ASAB's TaskService example, in Python
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""ASAB's TaskService example, with GLib instead of asyncio.

The original schedules three coroutines on the application's TaskService:

    class MyApp(asab.Application):
        async def main(self):
            asab.Application.TaskService.schedule(
                self.task1(),
                self.task2(),
                self.task3(),
            )

Here each coroutine is a task function that starts a timer, the GLib
counterpart of `await asyncio.sleep()`, and completes its Gio.Task when the
timer fires. The three tasks run concurrently: task2 ends first and task1
last. task3 fails; the service writes that failure to the log, as ASAB does,
and reports it in task-done. (An exception that escapes a task function
fails its task too.)

Run it from a build tree with `meson devenv -C BUILDDIR /usr/bin/python3
examples/hello.py`.
"""

import sys

import gi
gi.require_version('Asab', '1.0')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Asab, Gio, GLib  # noqa: E402


def sleep_then(task, delay_ms, wake):
    """Calls wake(task) after delay_ms, on the task's main context."""
    def on_timeout(*args):
        wake(task)
        return GLib.SOURCE_REMOVE

    source = GLib.timeout_source_new(delay_ms)
    source.set_callback(on_timeout)
    source.attach(task.get_context())


def succeed(task):
    if not task.return_error_if_cancelled():
        task.return_boolean(True)


def fail(task):
    if not task.return_error_if_cancelled():
        task.return_error(GLib.Error.new_literal(
            Gio.io_error_quark(), 'something went wrong in %s' % task.get_name(),
            Gio.IOErrorEnum.FAILED))


def task1(task, cancellable):
    sleep_then(task, 300, succeed)


def task2(task, cancellable):
    sleep_then(task, 100, succeed)


def task3(task, cancellable):
    sleep_then(task, 200, fail)


def main():
    loop = GLib.MainLoop()
    service = Asab.TaskService()
    tasks = [task1, task2, task3]
    n_done = 0

    def stopped(service, result):
        try:
            service.stop_finish(result)
        except GLib.Error as error:
            print('stop: %s' % error.message, file=sys.stderr)
        loop.quit()

    def task_done(service, task, error):
        nonlocal n_done
        if error is None:
            print('%s done' % task.get_name())
        else:
            print('%s failed: %s' % (task.get_name(), error.message))
        n_done += 1
        if n_done == len(tasks):
            service.stop_async(None, stopped)

    service.connect('task-done', task_done)
    for func in tasks:
        service.schedule(func, name=func.__name__)

    loop.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
