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

To know whether func completed its task before raising, the return methods
of the Gio.Task given to func are wrapped on that Python object (the same
object that task-done receives); calling the unwrapped
``Gio.Task.return_boolean(task, ...)`` goes around that bookkeeping.
"""

import functools
import logging
import threading
import weakref

from gi.module import get_introspection_module
from gi.overrides import override
from gi.repository import Gio, GLib

Asab = get_introspection_module('Asab')

__all__ = []

logger = logging.getLogger('Asab')

# The Gio.Task methods that give a task its result, for Python.
_RETURN_METHODS = tuple((name, getattr(Gio.Task, name)) for name in (
    'return_boolean',
    'return_error',
    'return_int',
    'return_pointer',
    'return_value',
))

_BY_FUNC = 1
_BY_BINDING = 2


class _Completion:
    """Knows who gave a task its result: func, or the binding when func raised.

    GTask has no public way to tell that it has a result before its callback
    has run, which happens an iteration later when the task was cancelled or
    returned from another thread. So the return methods of the Python object
    that func receives record the completion before they forward it.
    """

    __slots__ = ('_lock', '_by')

    def __init__(self, task):
        self._lock = threading.Lock()
        self._by = None

        # Bound with functools.partial, which costs little per task: these
        # are set on every task. A weak reference, since the partials live
        # in the task's own __dict__.
        task_ref = weakref.ref(task)
        for name, method in _RETURN_METHODS:
            setattr(task, name, functools.partial(_tracked_return, self, task_ref, method))
        task.return_error_if_cancelled = functools.partial(_tracked_return_if_cancelled,
                                                           self, task_ref)

    def claim(self):
        """Records that func returns the task; gives who had returned it before."""
        with self._lock:
            by = self._by
            if by is None:
                self._by = _BY_FUNC
            return by

    def unclaim(self):
        with self._lock:
            self._by = None

    def fail(self, task, error):
        """Fails the task with error unless func gave it a result first.

        Returns True when it did.
        """
        with self._lock:
            if self._by is not None:
                return False
            self._by = _BY_BINDING
        Gio.Task.return_error(task, error)
        return True


def _tracked_return(completion, task_ref, method, *args, **kwargs):
    previous = completion.claim()
    if previous == _BY_BINDING:
        logger.debug('%s: ignored %s(): the task failed when its function raised',
                     _describe(task_ref()), method.__name__)
        return None
    # A second return by func itself goes through: GLib reports it.
    try:
        return method(task_ref(), *args, **kwargs)
    except BaseException:
        # The arguments were refused, the task was not returned.
        if previous is None:
            completion.unclaim()
        raise


def _tracked_return_if_cancelled(completion, task_ref):
    task = task_ref()
    cancellable = task.get_cancellable()
    if cancellable is None or not cancellable.is_cancelled():
        return False
    previous = completion.claim()
    if previous == _BY_BINDING:
        return True
    returned = Gio.Task.return_error_if_cancelled(task)
    if not returned and previous is None:
        completion.unclaim()
    return returned


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
        completion = _Completion(task)
        try:
            self._func(task, cancellable, *self._args)
        except BaseException as exc:
            failed = completion.fail(task, _error_from_exception(exc))
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
        return super().schedule(name, _TaskFunc(func, args))

    def schedule_threadsafe(self, func, *args, name=None):
        """Schedules func(task, cancellable, *args) like schedule(), from any thread.

        Tasks scheduled from one thread start in the order in which they were
        scheduled; func runs on the service's context.

        Returns the task's id, or 0 if the service refused the task.
        """
        return super().schedule_threadsafe(name, _TaskFunc(func, args))

    def run_forever(self, func, *args, name=None):
        """Runs func(task, cancellable, *args) again each time its task ends.

        Each run gets a new Gio.Task; cancel() with the returned id, or
        stopping the service, ends it for good.

        Returns the task's id, the same for every run, or 0 if the service
        refused the task.
        """
        return super().run_forever(name, _TaskFunc(func, args))

    def schedule_in_thread(self, func, *args, name=None):
        """Runs func(cancellable, *args) on a worker thread.

        Its return value is the task's result, collected and discarded; an
        exception that escapes it fails the task.

        Returns the task's id, or 0 if the service refused the task.
        """
        return super().schedule_in_thread(name, _ThreadFunc(func, args))


__all__.append('TaskService')
