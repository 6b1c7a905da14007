#!/usr/bin/python3
# task.py: ASAB's TaskService example, ported to Asab.TaskService
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""ASAB's own examples/task.py, with as few changes as the API allows.

Three coroutines in one schedule() call run concurrently on the asyncio
event loop of the application's main context; the third raises, and the
service logs its failure with the traceback. The application is a
Gio.Application, which the service holds while it has tasks: it exits when
the three have ended, where ASAB's runs until it is interrupted.

The changes: the application is a Gio.Application with an
Asab.TaskService, main() is scheduled from the "activate" signal, and the
asyncio event loop is PyGObject's (3.50 and later) or gbulb's.

Run it from a build tree with `meson devenv -C BUILDDIR /usr/bin/python3
examples/task.py`.
"""

import asyncio
import sys

import gi
gi.require_version('Asab', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Asab, Gio  # noqa: E402


class MyApplication(Gio.Application):
    def __init__(self):
        super().__init__(application_id='org.asab.examples.Task',
                         flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.TaskService = Asab.TaskService.new_for_application(self)

    def do_activate(self):
        self.TaskService.schedule(self.main())

    async def main(self):
        print("Your tasks are scheduled. Meanwhile, take a deep breath and make yourself comfortable.")
        self.TaskService.schedule(
            self.task1(),
            self.task2(),
            self.task3(),  # throws Exception
        )

    async def task1(self):
        print("Task 1 started.")
        await asyncio.sleep(5.0)
        print("Task 1 is complete.")

    async def task2(self):
        print("Task 2 started.")
        await asyncio.sleep(5.0)
        print("Task 2 is complete.")

    async def task3(self):
        print("Task 3 started.")
        await asyncio.sleep(5.0)
        raise Exception("An exception occurred during Task 3.")


def run(app):
    """Runs app with asyncio's event loop on GLib's main context."""
    try:
        from gi.events import GLibEventLoopPolicy
    except ImportError:
        # PyGObject before 3.50: Debian's python3-gbulb.
        GLibEventLoopPolicy = None

    if GLibEventLoopPolicy is not None:
        asyncio.set_event_loop_policy(GLibEventLoopPolicy())
        return app.run(sys.argv)

    import gbulb
    gbulb.install()
    asyncio.new_event_loop().run_forever(application=app, argv=sys.argv)
    return 0


if __name__ == '__main__':
    app = MyApplication()
    sys.exit(run(app))
