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
  task's result, collected and discarded; an exception, SystemExit
  included, is its failure.

Each returns the task's id, or 0 when the service refused the task.

An exception that escapes func fails the task, unless func had already
completed it: a GLib.Error keeps its domain, code and message, any other
exception becomes a Gio.IOErrorEnum.FAILED error whose message is
``"ExceptionType: message"``. As for any failure, unless a task-failed
handler returns True, it is logged once: here as a warning on the ``Asab``
Python logger, with the traceback, in place of the library's own warning.
Cancellations are not logged. Once the binding has failed a task that way,
a result that func gives it later, from a callback, is ignored.

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


def _fail_running(task, exc, task_id):
    """Fails the task with exc unless its function gave it a result first.

    Returns True when it did.
    """
    with _completion_lock:
        if task.__class__ is not _RunningTask:
            return False
        task.__class__ = _FailedTask
    _fail(task, exc, task_id)
    return True


# Failures

def _describe(task):
    name = task.get_name() if task is not None else None
    if name is None:
        return 'Unnamed task'
    return 'Task “%s”' % name


def _exception_message(exc):
    try:
        text = str(exc)
    except BaseException:
        # As the traceback module says it.
        text = '<exception str() failed>'
    name = type(exc).__name__
    return '%s: %s' % (name, text) if text else name


def _failed_error(message):
    # A C string would end at a NUL.
    return GLib.Error.new_literal(Gio.io_error_quark(), message.replace('\0', '\\0'),
                                  Gio.IOErrorEnum.FAILED)


def _error_from_exception(exc):
    if isinstance(exc, GLib.Error):
        return exc
    return _failed_error(_exception_message(exc))


def _is_cancellation(exc):
    return (isinstance(exc, GLib.Error) and
            exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))


def _return_cancelled(task):
    if not task.return_error_if_cancelled():
        # Cancelled through asyncio rather than by the service.
        _task_return_error(task, GLib.Error.new_literal(
            Gio.io_error_quark(), 'Operation was cancelled', Gio.IOErrorEnum.CANCELLED))


def _fail(task, exc, task_id):
    """Fails the task with exc, which its task-failed logs unless a handler takes it over."""
    if not _is_cancellation(exc):
        _watch_failures(task.get_source_object())
        # Before the return: from a worker thread, task-failed may come at once.
        task._asab_failure = (exc, task_id)
    _task_return_error(task, _error_from_exception(exc))


_watch_lock = threading.Lock()


def _watch_failures(service):
    """Connects the binding's logging to the service's task-failed, once.

    After the handlers of the service's users: if one returns True, the
    failure is theirs, and nothing is logged.
    """
    with _watch_lock:
        if service.__dict__.get('_asab_watches_failures'):
            return
        service.connect_after('task-failed', _on_task_failed)
        # Which also keeps this wrapper, and the flag, as long as the service.
        service._asab_watches_failures = True


def _user_traceback(exc):
    """The traceback of exc without the binding's frames on top."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return tb if tb is not None else exc.__traceback__


def _on_task_failed(service, task, error):
    failure = task.__dict__.pop('_asab_failure', None)
    if failure is None:
        # Not an exception: the library logs it.
        return False
    exc, task_id = failure
    name = task.get_name()
    exc_info = (type(exc), exc, _user_traceback(exc))
    extra = {'asab_task_id': task_id, 'asab_task_name': name}
    # The library's own words for a failure, in place of its warning.
    if task_id == 0:
        # From another thread, schedule_threadsafe() has not returned yet.
        logger.warning('%s failed: %s', _describe(task), error.message,
                       exc_info=exc_info, extra=extra)
    elif name is None:
        logger.warning('Unnamed task (%d) failed: %s', task_id, error.message,
                       exc_info=exc_info, extra=extra)
    else:
        logger.warning('Task “%s” (%d) failed: %s', name, task_id, error.message,
                       exc_info=exc_info, extra=extra)
    return True


def _must_raise(exc):
    """Whether exc goes on once its task has failed.

    KeyboardInterrupt and SystemExit do, on the main thread. On another
    thread, PyGObject would call Py_Exit() on it, which never returns there:
    like a threading.Thread, the task ends and the program goes on.
    """
    return (not isinstance(exc, Exception) and
            threading.current_thread() is threading.main_thread())


def _end_with_exception(task, exc, task_id, what='raised an exception'):
    if _fail_running(task, exc, task_id) or _is_cancellation(exc):
        return
    logger.warning('%s %s after it had completed its task', _describe(task), what,
                   exc_info=(type(exc), exc, _user_traceback(exc)))


def _check_callable(func):
    if not callable(func):
        raise TypeError('func must be callable, not %s' % type(func).__name__)


class _TaskFunc:
    """Runs func(task, cancellable, *args) on the service's context."""

    __slots__ = ('_func', '_args', '_id')

    def __init__(self, func, args):
        _check_callable(func)
        self._func = func
        self._args = args
        self._id = 0

    def __call__(self, task, cancellable):
        task.__class__ = _RunningTask
        try:
            self._func(task, cancellable, *self._args)
        except BaseException as exc:
            _end_with_exception(task, exc, self._id)
            if _must_raise(exc):
                raise


class _ThreadFunc:
    """Runs func(cancellable, *args) on a worker thread, and completes the task."""

    __slots__ = ('_func', '_args', '_id')

    def __init__(self, func, args):
        _check_callable(func)
        self._func = func
        self._args = args
        self._id = 0

    def __call__(self, task, cancellable):
        try:
            # The result is collected and discarded, as ASAB does.
            self._func(cancellable, *self._args)
        except BaseException as exc:
            # SystemExit included: as in a threading.Thread, it ends the
            # function, not the program, which never raises it here.
            _fail(task, exc, self._id)
            return
        _task_return_boolean(task, True)


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
        body = _TaskFunc(func, args)
        body._id = task_id = _schedule(self, name, body)
        return task_id

    def schedule_threadsafe(self, func, *args, name=None):
        """Schedules func(task, cancellable, *args) like schedule(), from any thread.

        Tasks scheduled from one thread start in the order in which they were
        scheduled; func runs on the service's context.

        Returns the task's id, or 0 if the service refused the task.
        """
        body = _TaskFunc(func, args)
        body._id = task_id = _schedule_threadsafe(self, name, body)
        return task_id

    def run_forever(self, func, *args, name=None):
        """Runs func(task, cancellable, *args) again each time its task ends.

        Each run gets a new Gio.Task; cancel() with the returned id, or
        stopping the service, ends it for good.

        Returns the task's id, the same for every run, or 0 if the service
        refused the task.
        """
        body = _TaskFunc(func, args)
        body._id = task_id = _run_forever(self, name, body)
        return task_id

    def schedule_in_thread(self, func, *args, name=None):
        """Runs func(cancellable, *args) on a worker thread.

        Its return value is the task's result, collected and discarded; an
        exception that escapes it, SystemExit included, fails the task.

        Returns the task's id, or 0 if the service refused the task.
        """
        body = _ThreadFunc(func, args)
        body._id = task_id = _schedule_in_thread(self, name, body)
        return task_id


__all__.append('TaskService')
