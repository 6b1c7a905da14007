# test_lifetime.py: when the binding releases a task's function and arguments
#
# The binding frees a scope-notified closure in its destroy notify, which the
# service calls once the task has ended, never while the function runs.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import logging
import weakref

from asabtest import Asab, Events, Gio, is_cancelled, iterate_until


class Argument:
    pass


class CompletesAtOnce:
    """A task function that completes its task before it returns."""

    def __init__(self):
        self.calls = 0

    def __call__(self, task, cancellable, argument):
        task.return_boolean(True)
        # Still running after its task has completed, with its closure.
        self.calls += 1
        argument.used = True


def test_closure_released_after_synchronous_completion(context, service, events):
    argument = Argument()
    func = CompletesAtOnce()
    func_ref, argument_ref = weakref.ref(func), weakref.ref(argument)
    service.schedule(func, argument)
    del argument

    assert argument_ref() is not None
    iterate_until(context, lambda: events.done, 'task-done')

    assert func.calls == 1
    del func
    assert func_ref() is None, 'the function outlived its task'
    assert argument_ref() is None, 'the argument outlived its task'
    assert events.done[0].error is None


def test_closure_kept_while_the_task_runs(context, service, events):
    tasks = []

    class Holds:
        def __call__(self, task, cancellable, argument):
            tasks.append(task)

    argument = Argument()
    func = Holds()
    func_ref, argument_ref = weakref.ref(func), weakref.ref(argument)
    service.schedule(func, argument)
    del func, argument
    iterate_until(context, lambda: tasks, 'the task to start')
    gc.collect()

    assert func_ref() is not None and argument_ref() is not None

    tasks[0].return_boolean(True)
    iterate_until(context, lambda: events.done, 'task-done')
    assert func_ref() is None and argument_ref() is None


def test_closure_released_after_an_exception(context, service, events, caplog):
    # A logging handler that keeps records keeps the traceback, and with it
    # the function's frame: keep the warning out of the records here.
    caplog.set_level(logging.CRITICAL, logger='Asab')

    class Raises:
        def __call__(self, task, cancellable, argument):
            raise ValueError('boom')

    argument = Argument()
    func = Raises()
    func_ref, argument_ref = weakref.ref(func), weakref.ref(argument)
    service.schedule(func, argument)
    del func, argument
    iterate_until(context, lambda: events.done, 'task-done')

    assert func_ref() is None and argument_ref() is None


def test_closure_released_after_a_thread_task(context, service, events):
    class Work:
        def __call__(self, cancellable, argument):
            return argument

    argument = Argument()
    func = Work()
    func_ref, argument_ref = weakref.ref(func), weakref.ref(argument)
    service.schedule_in_thread(func, argument)
    del func, argument
    iterate_until(context, lambda: events.done, 'task-done')

    assert func_ref() is None and argument_ref() is None


def test_forever_closure_kept_across_runs_and_released_when_cancelled(context, service, events):
    runs = []

    class Tick:
        def __call__(self, task, cancellable, argument):
            runs.append(task)
            task.return_boolean(True)

    argument = Argument()
    func = Tick()
    func_ref, argument_ref = weakref.ref(func), weakref.ref(argument)
    task_id = service.run_forever(func, argument)
    del func, argument
    iterate_until(context, lambda: len(runs) >= 2, 'two runs')

    assert func_ref() is not None and argument_ref() is not None

    service.cancel(task_id)
    iterate_until(context, lambda: events.done, 'task-done')
    assert is_cancelled(events.done[0].error)
    assert func_ref() is None and argument_ref() is None


def test_service_finalized_after_its_last_task(context):
    service = Asab.TaskService()
    events = Events(service)
    finalized = []
    service.weak_ref(lambda: finalized.append(True))
    tasks = []

    service.schedule(lambda task, cancellable: tasks.append(task))
    del service
    iterate_until(context, lambda: tasks, 'the task to start')
    gc.collect()

    # The running task keeps the service alive.
    assert finalized == []

    tasks.pop().return_boolean(True)
    iterate_until(context, lambda: events.done, 'task-done')
    events.done.clear()
    gc.collect()
    assert finalized == [True]


def test_task_given_to_func_is_a_gio_task_released_with_its_gtask(context, service, events):
    # The binding gives the task object a class of its own, to know whether
    # func completed the task; to GObject it stays a GTask, freed as usual.
    seen = []
    finalized = []

    def func(task, cancellable):
        seen.append((isinstance(task, Gio.Task), type(task).__gtype__, task.get_name()))
        task.weak_ref(lambda: finalized.append(True))
        task.return_boolean(True)

    service.schedule(func, name='plain')
    iterate_until(context, lambda: events.done, 'task-done')

    assert seen == [(True, Gio.Task.__gtype__, 'plain')]
    assert isinstance(events.done[0].task, Gio.Task)
    assert finalized == []
    events.done.clear()
    gc.collect()
    assert finalized == [True]
