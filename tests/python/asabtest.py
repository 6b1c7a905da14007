# asabtest.py: helpers for the Python tests of Asab.TaskService
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import contextlib
import gc
import os
import re
import time
import warnings
from collections import namedtuple

import gi
gi.require_version('Asab', '1.0')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Asab, Gio, GLib  # noqa: E402

import pytest  # noqa: E402

__all__ = [
    'Asab', 'Gio', 'GLib',
    'TIMEOUT', 'iterate_until', 'iterate_ready', 'run_until', 'is_cancelled', 'is_failed',
    'Events', 'GLibLog', 'Held', 'ends_when_cancelled', 'asab_records',
    'no_unawaited_coroutines', 'is_closed', 'StrRaises',
]

# The bound on any wait for asynchronous work, in seconds.
TIMEOUT = 5.0


def iterate_until(context, condition, what, timeout=TIMEOUT):
    """Iterates context until condition() is true, or fails the test."""
    deadline = time.monotonic() + timeout
    # Wakes a blocking iteration up now and then, so the bound is checked.
    wakeup = GLib.timeout_source_new(20)
    wakeup.set_callback(lambda *args: GLib.SOURCE_CONTINUE)
    wakeup.attach(context)
    try:
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail('timed out after %g s waiting for %s' % (timeout, what))
            context.iteration(True)
    finally:
        wakeup.destroy()


class _Until(GLib.Source):
    """Stops an asyncio loop in the first iteration of its context in which condition() holds."""

    def __init__(self, condition, loop):
        super().__init__()
        self._condition = condition
        self._loop = loop

    def prepare(self):
        return self._condition(), -1

    def check(self):
        return self._condition()

    def dispatch(self, callback, args):
        self._loop.stop()
        return GLib.SOURCE_CONTINUE


def run_until(loop, condition, what, timeout=TIMEOUT):
    """Runs the asyncio loop until condition() is true, or fails the test.

    Coroutines need the loop to run, not only its context to be iterated:
    asyncio.sleep() and others ask for the running loop.
    """
    deadline = time.monotonic() + timeout
    context = loop._context
    until = _Until(condition, loop)
    until.attach(context)
    # Wakes the loop up now and then, so the bound is checked.
    wakeup = GLib.timeout_source_new(20)
    wakeup.set_callback(lambda *args: loop.stop() or GLib.SOURCE_CONTINUE)
    wakeup.attach(context)
    try:
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail('timed out after %g s waiting for %s' % (timeout, what))
            loop.run_forever()
    finally:
        wakeup.destroy()
        until.destroy()


def iterate_ready(context, limit=1000):
    """Dispatches what is ready now, without blocking; returns how many iterations did something."""
    n = 0
    while n < limit and context.iteration(False):
        n += 1
    return n


def is_cancelled(error):
    return error is not None and error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)


def is_failed(error, message):
    """Whether error is the G_IO_ERROR_FAILED error that an exception becomes."""
    return (error is not None and
            error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED) and
            error.message == message)


Ended = namedtuple('Ended', 'name error task')


class Events:
    """Records task-done and task-failed, as a user of the service sees them."""

    def __init__(self, service, keep_failures_out_of_log=False):
        self.done = []
        self.failed = []
        self._keep_out = keep_failures_out_of_log
        service.connect('task-done', self._on_done)
        service.connect('task-failed', self._on_failed)

    def _on_done(self, service, task, error):
        self.done.append(Ended(task.get_name(), error, task))

    def _on_failed(self, service, task, error):
        self.failed.append(Ended(task.get_name(), error, task))
        return self._keep_out

    def done_named(self, name):
        return [ended for ended in self.done if ended.name == name]


class GLibLog:
    """The library's warnings, as GLib's default log writer prints them on stderr."""

    _WARNING = re.compile(r'Asab-WARNING \*\*: [0-9:.]+: (.*)$', re.MULTILINE)

    def __init__(self, capfd):
        self._capfd = capfd
        self._stderr = ''

    def warnings(self):
        self._stderr += self._capfd.readouterr().err
        return self._WARNING.findall(self._stderr)


class Held:
    """Task functions that record their calls and leave their tasks running."""

    def __init__(self):
        self.started = []   # (label, task, cancellable), in the order they ran

    def func(self, task, cancellable, label):
        self.started.append((label, task, cancellable))

    def labels(self):
        return [label for label, task, cancellable in self.started]

    def task(self, label):
        for started_label, task, cancellable in self.started:
            if started_label == label:
                return task
        raise KeyError(label)


def ends_when_cancelled(task, cancellable):
    """A task function whose task ends when it is cancelled, as I/O does.

    It reads from a pipe that never gets any data: only cancellation ends
    the read, and the task fails with the read's error.
    """
    read_fd, write_fd = os.pipe()
    stream = Gio.UnixInputStream.new(read_fd, True)

    def on_read(stream, result, write_fd):
        os.close(write_fd)
        try:
            stream.read_bytes_finish(result)
        except GLib.Error as error:
            task.return_error(error)
        else:
            task.return_boolean(True)

    stream.read_bytes_async(1, GLib.PRIORITY_DEFAULT, cancellable, on_read, write_fd)


class StrRaises(Exception):
    """An exception whose str() raises."""

    def __str__(self):
        raise RuntimeError('str() of this exception raises')


def asab_records(caplog):
    """The records of the override's Python logger."""
    return [record for record in caplog.records if record.name == 'Asab']


def is_closed(coro):
    return coro.cr_frame is None


@contextlib.contextmanager
def no_unawaited_coroutines():
    """Fails the test if a coroutine is collected without having been awaited or closed.

    Python warns about such a coroutine when it is collected: drop every
    reference to the coroutines inside the with block.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        yield
        gc.collect()
    unawaited = [str(w.message) for w in caught if 'was never awaited' in str(w.message)]
    assert unawaited == []
