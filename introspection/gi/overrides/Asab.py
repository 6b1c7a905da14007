# Asab.py: PyGObject overrides for the Asab namespace
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Python calls for Asab.TaskService.

Tasks are what ASAB's TaskService takes: coroutines, asyncio Futures and
asyncio Tasks, run on the asyncio event loop that runs on the service's
main context::

    async def fetch(path):
        ...

    service = Asab.TaskService()
    task_id = service.schedule(fetch('/etc/hostname'))
    first_id, second_id = service.schedule(fetch('/a'), fetch('/b'))
    service.run_forever(serve)        # serve is an async function

The callback form of the C API works as well: a task function is an
ordinary Python callable, and the arguments after it are passed to it::

    def fetch(task, cancellable, path):
        Gio.File.new_for_path(path).load_contents_async(
            cancellable, on_loaded, task)

    task_id = service.schedule(fetch, '/etc/hostname', name='fetch')

Coroutines, Futures and Tasks
-----------------------------

* ``schedule(*tasks, name=None)`` and ``schedule_threadsafe(*tasks,
  name=None)`` take one or more coroutine objects, ``asyncio.Future``\\ s and
  ``asyncio.Task``\\ s. A coroutine is wrapped in an asyncio Task when the
  service starts it, so ``max-concurrent`` and ``max-queued`` apply to it; a
  Future or Task given here runs already, and the service tracks it until
  it is done.
* ``run_forever(*async_functions, name=None)`` calls each async function
  with no arguments, and calls it again, with the service's back-off, each
  time its coroutine returns or raises.

Each returns the task's id, or 0 when the service refused it, and a tuple
of ids, in the order of the arguments, for several tasks. A refused
coroutine is closed; a refused Future or Task is left as it is.

A task that is not given a ``name`` is named after its coroutine's
``__qualname__`` (after an asyncio Task's ``get_name()``), so that the log
says which coroutine failed.

The event loop is the one that runs on the service's GLib.MainContext:
PyGObject's ``gi.events.GLibEventLoopPolicy`` (PyGObject 3.50 and later),
or gbulb's (``gbulb.install()``). Importing Asab installs no event loop
policy; when no such loop is found, scheduling a coroutine raises a
RuntimeError and closes the coroutine. From a thread that does not run the
service's context, the loop is looked up when the task starts, and the
task fails with that error if there is none. Run the loop with its own
``run_forever()`` or ``run_until_complete()`` (with gbulb,
``run_forever(application=app)`` runs a Gio.Application), as asyncio code
needs a running loop.

A coroutine that returns ends its task with success, its value collected
and discarded. One that raises fails it (see below). ``cancel(id)`` and
stopping the service cancel the asyncio Task: the coroutine gets a
CancelledError, and the task ends cancelled (``Gio.IOErrorEnum.CANCELLED``),
which is not a failure. A coroutine that has not started when its task is
cancelled is closed; a Future or Task is cancelled. A Future that ends with
an exception fails its task.

Inside a coroutine, stop the service with ``stop_async()``: ``stop()``
iterates the main context, which would run other coroutines while this one
is still running.

Callbacks
---------

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

An async function, a generator function or a generator given where a
callback or a coroutine belongs is a TypeError that says what to write
instead.

Failures
--------

An exception that escapes a coroutine or a task function fails the task,
unless the function had already completed it: a GLib.Error keeps its
domain, code and message, any other exception becomes a
``Gio.IOErrorEnum.FAILED`` error whose message is
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

import asyncio
import collections.abc
import contextvars
import inspect
import logging
import sys
import threading
import types

from gi.module import get_introspection_module
from gi.overrides import override
from gi.repository import Gio, GLib, GObject

try:
    from gi import events as _gi_events     # PyGObject >= 3.50
except ImportError:
    _gi_events = None

Asab = get_introspection_module('Asab')

__all__ = []

logger = logging.getLogger('Asab')

# What schedule() gets when it gets nothing.
_NOTHING = object()

_schedule = Asab.TaskService.schedule
_schedule_threadsafe = Asab.TaskService.schedule_threadsafe
_schedule_in_thread = Asab.TaskService.schedule_in_thread
_run_forever = Asab.TaskService.run_forever
_schedule_for_object = Asab.TaskService.schedule_for_object
_set_progress = Asab.TaskService.set_progress
_stop = Asab.TaskService.stop

# The Gio.Task of the coroutine or worker function that runs, for
# set_progress() without one.
_current_task = contextvars.ContextVar('asab_current_task', default=None)

# Looked up once: a method of a PyGObject class costs a microsecond to
# look up on the class.
_task_return_boolean = Gio.Task.return_boolean
_task_return_error = Gio.Task.return_error
_task_return_int = Gio.Task.return_int
_task_return_pointer = Gio.Task.return_pointer
_task_return_value = Gio.Task.return_value
_task_return_error_if_cancelled = Gio.Task.return_error_if_cancelled


# The asyncio event loop of a main context

def _runs_on(loop, context):
    # gbulb's loops and PyGObject's both keep their GLib.MainContext there.
    loop_context = getattr(loop, '_context', None)
    return (isinstance(loop_context, GLib.MainContext) and loop_context == context and
            not loop.is_closed())


def _policy_loop(context):
    """The loop that the installed event loop policy has for context, if any."""
    policy = asyncio.get_event_loop_policy()
    if _gi_events is not None and isinstance(policy, _gi_events.GLibEventLoopPolicy):
        return policy.get_event_loop_for_context(context)

    # Only look for gbulb when the program has imported it.
    gbulb = sys.modules.get('gbulb')
    if gbulb is not None and isinstance(policy, gbulb.GLibEventLoopPolicy):
        if context == GLib.MainContext.default():
            return policy.get_default_loop()
        try:
            return policy.get_event_loop()
        except RuntimeError:
            # No loop for this thread.
            return None

    return None


def _setup_hint():
    if _gi_events is not None:
        return 'call asyncio.set_event_loop_policy(gi.events.GLibEventLoopPolicy()) first'
    return ('call gbulb.install() first (Debian: python3-gbulb), and run the loop with '
            'loop.run_forever() or loop.run_until_complete()')


def _lookup_loop(context):
    loop = asyncio._get_running_loop()
    if loop is not None and _runs_on(loop, context):
        return loop
    loop = _policy_loop(context)
    if loop is not None and _runs_on(loop, context):
        return loop
    return None


def _no_loop_error():
    return RuntimeError('No asyncio event loop runs on the main context of this '
                        'Asab.TaskService: to schedule coroutines, %s.' % _setup_hint())


def _runs_context(context):
    """Whether the calling thread is the one that iterates context."""
    if context.is_owner():
        return True
    thread_default = GLib.MainContext.get_thread_default()
    if thread_default is not None:
        return thread_default == context
    return (context == GLib.MainContext.default() and
            threading.current_thread() is threading.main_thread())


def _loop_for(service):
    """The asyncio event loop that runs on the service's main context.

    None when another thread calls: the event loops of gbulb's policy belong
    to threads, so the task looks for it when it starts, on the context's
    own thread.
    """
    context = service.get_context()
    loop = _lookup_loop(context)
    if loop is None and _runs_context(context):
        raise _no_loop_error()
    return loop


def _check_future_loop(service, future):
    if not _runs_on(future.get_loop(), service.get_context()):
        raise RuntimeError('The event loop of %r does not run on the main context of this '
                           'Asab.TaskService: create it on the loop that does.' % (future,))


# What was given as a task

_CODE_FLAGS_NOT_A_CALLBACK = (inspect.CO_COROUTINE | inspect.CO_GENERATOR |
                              inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE)


def _function_kind(func):
    """'async function', 'generator function' or None for other callables."""
    code = getattr(func, '__code__', None)
    if code is None:
        # functools.partial, callable objects, builtins.
        if asyncio.iscoroutinefunction(func):
            return 'async function'
        if inspect.isasyncgenfunction(func):
            return 'async generator function'
        if inspect.isgeneratorfunction(func):
            return 'generator function'
        code = getattr(getattr(type(func), '__call__', None), '__code__', None)
        if code is None:
            return None
    flags = code.co_flags
    if not flags & _CODE_FLAGS_NOT_A_CALLBACK:
        # Marked as one, as unittest.mock.AsyncMock is.
        return 'async function' if asyncio.iscoroutinefunction(func) else None
    if flags & inspect.CO_COROUTINE:
        return 'async function'
    if flags & inspect.CO_ASYNC_GENERATOR:
        return 'async generator function'
    return 'generator function'


def _function_name(func):
    return getattr(func, '__qualname__', None) or getattr(func, '__name__', None) or repr(func)


def _check_callback(func, method):
    """Refuses what would never complete a task if it were called as a callback."""
    kind = _function_kind(func)
    if kind is None:
        return
    name = _function_name(func)
    if kind == 'async function':
        raise TypeError('%s() got the async function %s itself: schedule a call of it, '
                        '%s(%s()), or pass it to run_forever()' % (method, name, method, name))
    raise TypeError('%s() got the %s %s, which would return a generator without running: '
                    'write an async function and %s(%s()), or a callback '
                    'func(task, cancellable, *args) that completes its task'
                    % (method, kind, name, method, name))


def _check_thread_function(func):
    kind = _function_kind(func)
    if kind is None:
        return
    name = _function_name(func)
    raise TypeError('schedule_in_thread() runs a plain function, func(cancellable, *args), on '
                    'a worker thread, and got the %s %s: schedule a coroutine of an async '
                    'function on the event loop with schedule(%s()), or give '
                    'schedule_in_thread() a plain function' % (kind, name, name))


def _is_coroutine(obj):
    # Not asyncio.iscoroutine(), which takes generators too before Python 3.12.
    return (inspect.iscoroutine(obj) or
            (isinstance(obj, collections.abc.Coroutine) and not inspect.isgenerator(obj)))


def _close_coroutines(tasks):
    for task in tasks:
        if _is_coroutine(task):
            task.close()


def _awaitable_error(task, method):
    """The TypeError for what schedule() cannot take as a coroutine, Future or Task."""
    if inspect.isgenerator(task) or inspect.isasyncgen(task):
        return TypeError('%s() got a generator, %s, which is not a task: write an async '
                         'function and %s(f())' % (method, _function_name(task), method))
    if callable(task):
        kind = _function_kind(task)
        if kind == 'async function':
            return TypeError('%s() got the async function %s itself among coroutines: '
                             'write %s()' % (method, _function_name(task), _function_name(task)))
        return TypeError('%s() takes a callback only as its first argument, '
                         'func(task, cancellable, *args), and otherwise coroutines, asyncio '
                         'Futures and Tasks: got %r' % (method, task))
    return TypeError('%s() takes coroutines, asyncio Futures and Tasks, or a callback '
                     'func(task, cancellable, *args): got %s' % (method, type(task).__name__))


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
        # _tracked_return(), inline for the most common return; and without
        # a with statement, whose look-ups cost more than the lock.
        _completion_lock.acquire()
        state = self.__class__
        if state is _RunningTask:
            self.__class__ = _ReturnedTask
        _completion_lock.release()
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


def _never_runs(result):
    return inspect.iscoroutine(result) or inspect.isgenerator(result) or inspect.isasyncgen(result)


# The task bodies, which the service calls

# The bodies keep the task object they get until the service lets them go,
# after task-done: task-done then gets the same object, rather than a new
# one, which costs more to make.

class _TaskFunc:
    """Runs func(task, cancellable, *args) on the service's context."""

    __slots__ = ('_func', '_args', '_id', '_task')

    def __init__(self, func, args):
        self._func = func
        self._args = args
        self._id = 0

    def __call__(self, task, cancellable):
        self._task = task
        task.__class__ = _RunningTask
        try:
            args = self._args
            if args:
                result = self._func(task, cancellable, *args)
            else:
                result = self._func(task, cancellable)
        except BaseException as exc:
            _end_with_exception(task, exc, self._id)
            if _must_raise(exc):
                raise
            return
        if result is not None and _never_runs(result):
            # A lambda or a wrapper that calls an async function.
            result.close()
            _end_with_exception(task, TypeError(
                'the task function returned %r, which never runs: schedule the coroutine '
                'itself, schedule(coroutine)' % (result,)), self._id, 'returned a coroutine')


class _ThreadFunc:
    """Runs func(cancellable, *args) on a worker thread, and completes the task."""

    __slots__ = ('_func', '_args', '_id', '_task')

    def __init__(self, func, args):
        self._func = func
        self._args = args
        self._id = 0

    def __call__(self, task, cancellable):
        self._task = task
        token = _current_task.set(task)
        try:
            # The result is collected and discarded, as ASAB does.
            result = self._func(cancellable, *self._args)
        except BaseException as exc:
            # SystemExit included: as in a threading.Thread, it ends the
            # function, not the program, which never raises it here.
            _fail(task, exc, self._id)
            return
        finally:
            _current_task.reset(token)
        if result is not None and _never_runs(result):
            result.close()
            _fail(task, TypeError('the thread function returned %r, which never runs: '
                                  'schedule the coroutine itself, schedule(coroutine)'
                                  % (result,)), self._id)
            return
        _task_return_boolean(task, True)


class _AsyncioTask:
    """What a coroutine task and a Future task share: cancellation."""

    __slots__ = ('_loop', '_name', '_id', '_thread', '_cancellable', '_handler')

    def __init__(self, loop, name):
        self._loop = loop
        self._name = name
        self._id = 0
        self._handler = 0

    def _watch_cancellable(self, cancellable):
        self._thread = threading.get_ident()
        self._cancellable = cancellable
        # Calls _on_cancelled() at once if it is cancelled already.
        self._handler = cancellable.connect(self._on_cancelled)

    def _unwatch_cancellable(self):
        handler, self._handler = self._handler, 0
        if handler:
            self._cancellable.disconnect(handler)
        self._cancellable = None

    def _on_cancelled(self, *args):
        # On the thread that cancels: the context's, or any other.
        if threading.get_ident() == self._thread:
            self._cancel()
            return
        try:
            self._loop.call_soon_threadsafe(self._cancel)
        except RuntimeError:
            # The loop is closed, and runs nothing any more: stop() will
            # report the task as pending.
            pass


class _CoroutineTask(_AsyncioTask):
    """Runs a coroutine in an asyncio Task from when the service starts it."""

    __slots__ = ('_coro', '_atask', '_started', '_cancel_pending', '_task')

    def __init__(self, coro, loop, name):
        super().__init__(loop, name)
        self._coro = coro
        self._atask = None

    def __del__(self):
        # Still here when the service lets the task go: it never started.
        coro = self._coro
        if coro is not None:
            self._coro = None
            coro.close()

    def accept(self):
        pass

    def refuse(self):
        coro, self._coro = self._coro, None
        coro.close()

    def __call__(self, task, cancellable):
        coro, self._coro = self._coro, None
        self._start(task, cancellable, coro)

    def _start(self, task, cancellable, coro):
        self._task = task
        self._started = False
        self._cancel_pending = False
        run = self._run(task, cancellable, coro)
        try:
            if self._loop is None:
                # Scheduled from another thread: the loop is this thread's.
                self._loop = _lookup_loop(task.get_context())
                if self._loop is None:
                    raise _no_loop_error()
            self._atask = self._loop.create_task(run, name=self._name)
        except BaseException as exc:
            # No loop, or a closed one.
            run.close()
            coro.close()
            _fail(task, exc, self._id)
            if _must_raise(exc):
                raise
            return
        self._watch_cancellable(cancellable)

    def _cancel(self):
        if not self._started:
            # Cancelling the asyncio Task now would throw into _run() before
            # its first line: it sees the cancellation when it starts.
            self._cancel_pending = True
            return
        atask = self._atask
        if atask is not None:
            atask.cancel()

    async def _run(self, task, cancellable, coro):
        self._started = True
        # In the asyncio Task's own context: the coroutine's, and only its.
        _current_task.set(task)
        try:
            if self._cancel_pending:
                coro.close()
                raise asyncio.CancelledError()
            await coro
        except asyncio.CancelledError:
            self._unwatch_cancellable()
            _return_cancelled(task)
        except BaseException as exc:
            self._unwatch_cancellable()
            _fail(task, exc, self._id)
            if _must_raise(exc):
                raise
        else:
            self._unwatch_cancellable()
            _task_return_boolean(task, True)
        finally:
            self._atask = None


class _ForeverTask(_CoroutineTask):
    """Calls an async function for each run of a run_forever() task."""

    __slots__ = ('_function',)

    def __init__(self, function, loop, name):
        super().__init__(None, loop, name)
        self._function = function

    def __call__(self, task, cancellable):
        try:
            coro = self._function()
        except BaseException as exc:
            _fail(task, exc, self._id)
            if _must_raise(exc):
                raise
            return
        if not _is_coroutine(coro):
            _fail(task, TypeError('%s() returned %r, not a coroutine'
                                  % (_function_name(self._function), coro)), self._id)
            return
        self._start(task, cancellable, coro)


class _FutureTask(_AsyncioTask):
    """Tracks an asyncio Future or Task until it is done."""

    __slots__ = ('_future', '_task', '_accepted')

    def __init__(self, future, name):
        super().__init__(future.get_loop(), name)
        self._future = future
        self._accepted = False

    def __del__(self):
        # Still not done when the service lets the task go: it was
        # cancelled before it started.
        if self._accepted and not self._future.done():
            try:
                self._loop.call_soon_threadsafe(self._future.cancel)
            except RuntimeError:
                pass

    def accept(self):
        self._accepted = True

    def refuse(self):
        # The caller keeps it as it is.
        pass

    def __call__(self, task, cancellable):
        self._task = task
        try:
            self._future.add_done_callback(self._on_done)
        except BaseException as exc:
            # A closed loop.
            _fail(task, exc, self._id)
            return
        self._watch_cancellable(cancellable)

    def _cancel(self):
        self._future.cancel()

    def _on_done(self, future):
        task = self._task
        self._unwatch_cancellable()
        if future.cancelled():
            _return_cancelled(task)
            return
        exc = future.exception()
        if exc is None:
            # The result is collected and discarded, as ASAB does.
            _task_return_boolean(task, True)
        else:
            _fail(task, exc, self._id)


# The service

def _awaitable_name(task):
    if asyncio.isfuture(task):
        get_name = getattr(task, 'get_name', None)
        return get_name() if get_name is not None else None
    return getattr(task, '__qualname__', None)


def _schedule_awaitables(service, method, tasks, name, method_name):
    bodies = []
    try:
        for task in tasks:
            if not (_is_coroutine(task) or asyncio.isfuture(task)):
                raise _awaitable_error(task, method_name)
        loop = found = None
        for task in tasks:
            task_name = name if name is not None else _awaitable_name(task)
            if asyncio.isfuture(task):
                _check_future_loop(service, task)
                bodies.append(_FutureTask(task, task_name))
            else:
                if not found:
                    loop, found = _loop_for(service), True
                bodies.append(_CoroutineTask(task, loop, task_name))
    except BaseException:
        # Nothing was scheduled: no coroutine is left to warn that it was
        # never awaited.
        for body in bodies:
            body.refuse()
        _close_coroutines(tasks)
        raise

    ids = []
    for body in bodies:
        task_id = method(service, body._name, body)
        if task_id == 0:
            body.refuse()
        else:
            body.accept()
        body._id = task_id
        ids.append(task_id)
    return ids[0] if len(ids) == 1 else tuple(ids)


def _schedule_callback(service, method, method_name, func, args, name):
    _check_callback(func, method_name)
    body = _TaskFunc(func, args)
    body._id = task_id = method(service, name, body)
    return task_id


def _schedule_for(owner):
    def schedule_for_owner(service, name, body):
        return _schedule_for_object(service, owner, name, body)
    return schedule_for_owner


def _schedule_any(service, method, method_name, first, rest, name):
    if first is _NOTHING:
        raise TypeError('%s() needs a task: coroutines, asyncio Futures and Tasks, or a '
                        'callback func(task, cancellable, *args)' % method_name)
    if callable(first):
        return _schedule_callback(service, method, method_name, first, rest, name)
    return _schedule_awaitables(service, method, (first,) + rest, name, method_name)


@override
class TaskService(Asab.TaskService):
    """Runs fire-and-forget background tasks on a GLib.MainContext.

    ``Asab.TaskService()`` runs them on the thread-default main context of
    the calling thread; ``Asab.TaskService(context=context)`` on another.
    """

    def schedule(self, first=_NOTHING, *rest, name=None, owner=None):
        """Schedules coroutines, asyncio Futures and Tasks, or a callback.

        ``schedule(coro, ...)`` runs each coroutine in an asyncio Task on the
        event loop of the service's context, and tracks each Future and
        Task. ``schedule(func, *args)`` calls ``func(task, cancellable,
        *args)`` on the service's context; func completes the Gio.Task
        ``task``, now or later. An exception that escapes a coroutine or func
        fails its task. ``name`` names the task in logs and in
        ``task.get_name()``; by default a coroutine's task is named after its
        ``__qualname__``. With ``owner``, a GObject, each task is cancelled
        when the owner is disposed or finalized (a window that closes), as
        ``schedule_for_object()`` does; the service holds no reference to it.

        Returns the task's id, or 0 if the service refused it; a tuple of
        ids for several tasks.
        """
        if owner is not None:
            if not isinstance(owner, GObject.Object):
                raise TypeError('owner must be a GObject.Object, not %s' % type(owner).__name__)
            return _schedule_any(self, _schedule_for(owner), 'schedule', first, rest, name)
        # A plain function first, as the callback form: the busiest path.
        if (type(first) is types.FunctionType and
                not first.__code__.co_flags & _CODE_FLAGS_NOT_A_CALLBACK):
            body = _TaskFunc(first, rest)
            body._id = task_id = _schedule(self, name, body)
            return task_id
        return _schedule_any(self, _schedule, 'schedule', first, rest, name)

    def schedule_threadsafe(self, first=_NOTHING, *rest, name=None):
        """Schedules like schedule(), from any thread.

        Tasks scheduled from one thread start in the order in which they
        were scheduled; coroutines and callbacks run on the service's
        context.

        Returns the task's id, or 0 if the service refused it; a tuple of
        ids for several tasks.
        """
        return _schedule_any(self, _schedule_threadsafe, 'schedule_threadsafe', first, rest,
                             name)

    def run_forever(self, *functions, name=None):
        """Runs async functions, or a callback, again each time they end.

        ``run_forever(async_fn, ...)`` calls each async function with no
        arguments and runs its coroutine on the asyncio event loop of the
        service's context; ``run_forever(func, *args)`` calls
        ``func(task, cancellable, *args)`` with a new Gio.Task for each run.
        cancel() with the returned id, or stopping the service, ends it for
        good.

        Returns the task's id, the same for every run, or 0 if the service
        refused it; a tuple of ids for several async functions.
        """
        if not functions:
            raise TypeError('run_forever() needs an async function, or a callback '
                            'func(task, cancellable, *args)')
        first = functions[0]
        if _is_coroutine(first):
            first.close()
            raise TypeError('run_forever() calls an async function for each run, and got a '
                            'coroutine, which runs once: write run_forever(%s), without '
                            'the parentheses, or schedule(%s())'
                            % (first.__qualname__, first.__qualname__))
        if not callable(first):
            raise TypeError('run_forever() takes async functions, or a callback '
                            'func(task, cancellable, *args): got %s' % type(first).__name__)
        kind = _function_kind(first)
        if kind is None:
            return _schedule_callback(self, _run_forever, 'run_forever',
                                      first, functions[1:], name)
        if kind != 'async function':
            raise TypeError('run_forever() got the %s %s, which would return a generator '
                            'without running: write an async function, or a callback '
                            'func(task, cancellable, *args) that completes its task'
                            % (kind, _function_name(first)))

        for function in functions:
            if not callable(function) or _function_kind(function) != 'async function':
                raise TypeError('run_forever() takes async functions, called with no '
                                'arguments, or one callback and its arguments: got %r '
                                'after the async function %s'
                                % (function, _function_name(first)))
        loop = _loop_for(self)
        ids = []
        for function in functions:
            task_name = name if name is not None else _function_name(function)
            body = _ForeverTask(function, loop, task_name)
            body._id = task_id = _run_forever(self, task_name, body)
            ids.append(task_id)
        return ids[0] if len(ids) == 1 else tuple(ids)

    def set_progress(self, *args):
        """set_progress(fraction, status=None), or set_progress(task, fraction, status=None).

        Tells how far a task has got, for the items of get_tasks(): fraction
        from 0 to 1, or a negative number when unknown, and what the task is
        doing, in a few words. From a coroutine, a run of an async forever
        function or a schedule_in_thread() function, the task is the one
        running; a callback passes the Gio.Task it got. Callable from any
        thread, as often as the work goes.
        """
        if args and isinstance(args[0], Gio.Task):
            task, rest = args[0], args[1:]
        else:
            task, rest = _current_task.get(), args
            if task is None:
                raise RuntimeError('set_progress(fraction) without a task works in a coroutine '
                                   'or a schedule_in_thread() function of the service; a '
                                   'callback passes its task: set_progress(task, fraction)')
        if not 1 <= len(rest) <= 2:
            raise TypeError('set_progress() takes a fraction and an optional status')
        _set_progress(self, task, rest[0], rest[1] if len(rest) == 2 else None)

    def stop(self, cancellable=None):
        """Stops the service, as stop_async() does, and waits for it.

        Returns True when every task has ended; raises GLib.Error with
        Gio.IOErrorEnum.TIMED_OUT when some were still pending after
        stop-timeout, or Gio.IOErrorEnum.CANCELLED when cancellable ended the
        wait (the stop goes on).
        """
        return _stop(self, cancellable)

    def schedule_in_thread(self, func, *args, name=None):
        """Runs func(cancellable, *args) on a worker thread.

        Its return value is the task's result, collected and discarded; an
        exception that escapes it, SystemExit included, fails the task.

        Returns the task's id, or 0 if the service refused it.
        """
        if not callable(func):
            raise TypeError('schedule_in_thread() takes a function, func(cancellable, *args), '
                            'not %s' % type(func).__name__)
        _check_thread_function(func)
        body = _ThreadFunc(func, args)
        body._id = task_id = _schedule_in_thread(self, name, body)
        return task_id


__all__.append('TaskService')
