# Asab.py: PyGObject overrides for the Asab namespace
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Python calls for Asab.TaskService.

With these overrides a task is an ordinary Python callable, and the
arguments after it are passed to it::

    def fetch(task, cancellable, path):
        Gio.File.new_for_path(path).load_contents_async(
            cancellable, on_loaded, task)

    service = Asab.TaskService()
    task_id = service.schedule(fetch, '/etc/hostname', name='fetch')

* ``schedule(func, *args, name=None)``,
  ``schedule_threadsafe(func, *args, name=None)`` and
  ``run_forever(func, *args, name=None)`` call
  ``func(task, cancellable, *args)`` on the service's main context. func
  completes the Gio.Task ``task`` (``task.return_boolean(True)``,
  ``task.return_error(error)``...), at once or later, from the callback of
  an asynchronous call.
* ``schedule_in_thread(func, *args, name=None)`` calls
  ``func(cancellable, *args)`` on a worker thread. Its return value is the
  task's result, collected and discarded; an exception is its failure.

Each returns the task's id, or 0 when the service refused the task.

An exception that escapes func fails the task, unless func had already
completed it: a GLib.Error keeps its domain, code and message, any other
exception becomes a Gio.IOErrorEnum.FAILED error whose message is
``"ExceptionType: message"``. The traceback is logged as a warning on the
``Asab`` Python logger, except for cancellations. Once the binding has
failed a task that way, a result that func gives it later, from a
callback, is ignored.

To know whether func completed its task before raising, the Gio.Task given
to func is a Gio.Task whose return methods record that they were called;
calling ``Gio.Task.return_boolean(task, ...)`` goes around that
bookkeeping.
"""

import logging
import threading

from gi.module import get_introspection_module
from gi.overrides import override
from gi.repository import Gio, GLib

Asab = get_introspection_module('Asab')

__all__ = []

logger = logging.getLogger('Asab')

_schedule = Asab.TaskService.schedule
_schedule_threadsafe = Asab.TaskService.schedule_threadsafe
_schedule_in_thread = Asab.TaskService.schedule_in_thread
_run_forever = Asab.TaskService.run_forever

# Looked up once: a method of a PyGObject class costs a microsecond to
# look up on the class.
_task_return_boolean = Gio.Task.return_boolean
_task_return_error = Gio.Task.return_error
_task_return_int = Gio.Task.return_int
_task_return_pointer = Gio.Task.return_pointer
_task_return_value = Gio.Task.return_value
_task_return_error_if_cancelled = Gio.Task.return_error_if_cancelled


# Knowing who completed a task
#
# GTask has no public way to tell that it has a result before its callback
# has run, which happens an iteration later when the task was cancelled or
# returned from another thread. So the Gio.Task that a task function gets
# has a class whose return methods record the completion, as its state: the
# class changes from _RunningTask to _ReturnedTask when func returns the
# task, or to _FailedTask when the binding fails it after func raised. One
# assignment per task, where wrapping each return method of each task cost a
# third of the time of a trivial task. To GObject these classes are Gio.Task
# itself: PyGObject registers no GType for a class of an override module.

_completion_lock = threading.Lock()


def _tracked_return(task, method, args):
    with _completion_lock:
        state = task.__class__
        if state is _RunningTask:
            task.__class__ = _ReturnedTask
    if state is _FailedTask:
        logger.debug('%s: ignored %s(): the task failed when its function raised',
                     _describe(task), method.__name__)
        return None
    # A second return by func itself goes through: GLib reports it.
    try:
        return method(task, *args)
    except BaseException:
        # The arguments were refused, the task was not returned.
        if state is _RunningTask:
            with _completion_lock:
                task.__class__ = _RunningTask
        raise


class _RunningTask(Gio.Task):
    """A task that its function has, and has not returned."""

    def return_boolean(self, result):
        # _tracked_return(), inline for the most common return.
        with _completion_lock:
            state = self.__class__
            if state is _RunningTask:
                self.__class__ = _ReturnedTask
        if state is _FailedTask:
            return _tracked_return(self, _task_return_boolean, (result,))
        try:
            return _task_return_boolean(self, result)
        except BaseException:
            if state is _RunningTask:
                with _completion_lock:
                    self.__class__ = _RunningTask
            raise

    def return_error(self, *args):
        return _tracked_return(self, _task_return_error, args)

    def return_int(self, *args):
        return _tracked_return(self, _task_return_int, args)

    def return_pointer(self, *args):
        return _tracked_return(self, _task_return_pointer, args)

    def return_value(self, *args):
        return _tracked_return(self, _task_return_value, args)

    def return_error_if_cancelled(self):
        cancellable = self.get_cancellable()
        if cancellable is None or not cancellable.is_cancelled():
            return False
        with _completion_lock:
            state = self.__class__
            if state is _RunningTask:
                self.__class__ = _ReturnedTask
        if state is _FailedTask:
            return True
        returned = _task_return_error_if_cancelled(self)
        if not returned and state is _RunningTask:
            with _completion_lock:
                self.__class__ = _RunningTask
        return returned


class _ReturnedTask(Gio.Task):
    """A task that its function has returned."""


class _FailedTask(_RunningTask):
    """A task that the binding has failed: its function's later returns are ignored."""


def _fail_running(task, error):
    """Fails the task with error unless its function gave it a result first.

    Returns True when it did.
    """
    with _completion_lock:
        if task.__class__ is not _RunningTask:
            return False
        task.__class__ = _FailedTask
    Gio.Task.return_error(task, error)
    return True


def _describe(task):
    name = task.get_name() if task is not None else None
    if name is None:
        return 'Unnamed task'
    return 'Task “%s”' % name


def _error_from_exception(exc):
    if isinstance(exc, GLib.Error):
        return exc
    text = str(exc)
    message = '%s: %s' % (type(exc).__name__, text) if text else type(exc).__name__
    return GLib.Error.new_literal(Gio.io_error_quark(), message, Gio.IOErrorEnum.FAILED)


def _is_cancellation(exc):
    return (isinstance(exc, GLib.Error) and
            exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))


def _log_exception(task, exc, after_completion):
    if _is_cancellation(exc):
        return
    if after_completion:
        message = '%s raised an exception after it had completed its task'
    else:
        message = '%s raised an exception'
    logger.warning(message, _describe(task), exc_info=exc)


def _check_callable(func):
    if not callable(func):
        raise TypeError('func must be callable, not %s' % type(func).__name__)


class _TaskFunc:
    """Runs func(task, cancellable, *args) on the service's context."""

    __slots__ = ('_func', '_args', '__weakref__')

    def __init__(self, func, args):
        _check_callable(func)
        self._func = func
        self._args = args

    def __call__(self, task, cancellable):
        task.__class__ = _RunningTask
        try:
            self._func(task, cancellable, *self._args)
        except BaseException as exc:
            failed = _fail_running(task, _error_from_exception(exc))
            if not isinstance(exc, Exception):
                raise
            _log_exception(task, exc, after_completion=not failed)


class _ThreadFunc:
    """Runs func(cancellable, *args) on a worker thread, and completes the task."""

    __slots__ = ('_func', '_args', '__weakref__')

    def __init__(self, func, args):
        _check_callable(func)
        self._func = func
        self._args = args

    def __call__(self, task, cancellable):
        try:
            # The result is collected and discarded, as ASAB does.
            self._func(cancellable, *self._args)
        except BaseException as exc:
            task.return_error(_error_from_exception(exc))
            if not isinstance(exc, Exception):
                raise
            _log_exception(task, exc, after_completion=False)
        else:
            task.return_boolean(True)


@override
class TaskService(Asab.TaskService):
    """Runs fire-and-forget background tasks on a GLib.MainContext.

    ``Asab.TaskService()`` runs them on the thread-default main context of
    the calling thread; ``Asab.TaskService(context=context)`` on another.
    """

    def schedule(self, func, *args, name=None):
        """Schedules func(task, cancellable, *args) on the service's context.

        func completes the Gio.Task ``task``, now or later; an exception that
        escapes it fails the task. ``name`` names the task in logs and in
        ``task.get_name()``.

        Returns the task's id, or 0 if the service refused the task.
        """
        return _schedule(self, name, _TaskFunc(func, args))

    def schedule_threadsafe(self, func, *args, name=None):
        """Schedules func(task, cancellable, *args) like schedule(), from any thread.

        Tasks scheduled from one thread start in the order in which they were
        scheduled; func runs on the service's context.

        Returns the task's id, or 0 if the service refused the task.
        """
        return _schedule_threadsafe(self, name, _TaskFunc(func, args))

    def run_forever(self, func, *args, name=None):
        """Runs func(task, cancellable, *args) again each time its task ends.

        Each run gets a new Gio.Task; cancel() with the returned id, or
        stopping the service, ends it for good.

        Returns the task's id, the same for every run, or 0 if the service
        refused the task.
        """
        return _run_forever(self, name, _TaskFunc(func, args))

    def schedule_in_thread(self, func, *args, name=None):
        """Runs func(cancellable, *args) on a worker thread.

        Its return value is the task's result, collected and discarded; an
        exception that escapes it fails the task.

        Returns the task's id, or 0 if the service refused the task.
        """
        return _schedule_in_thread(self, name, _ThreadFunc(func, args))


__all__.append('TaskService')
