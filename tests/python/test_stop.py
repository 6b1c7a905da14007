# test_stop.py: stop(), stop_async() and stop_finish()
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading
import weakref

import pytest

from asabtest import GLib, Gio, Held, ends_when_cancelled, is_cancelled, iterate_until


def finish_stop(results):
    def on_stopped(service, result):
        try:
            results.append(service.stop_finish(result))
        except GLib.Error as error:
            results.append(error)

    return on_stopped


def test_stop_ends_queued_tasks_and_cancels_running_ones(context, service, events):
    held = Held()
    service.props.max_concurrent = 1

    def running(task, cancellable):
        held.started.append(('running', task, cancellable))
        ends_when_cancelled(task, cancellable)

    service.schedule(running, name='running')
    service.schedule(held.func, 'queued', name='queued')
    iterate_until(context, lambda: held.started, 'the first task to start')

    service.stop()

    assert held.labels() == ['running']
    assert sorted(ended.name for ended in events.done) == ['queued', 'running']
    assert all(is_cancelled(ended.error) for ended in events.done)
    assert (service.props.n_running, service.props.n_queued) == (0, 0)


def test_schedule_after_stop_is_refused(context, service, events, glib_log):
    service.stop()

    class Func:
        def __call__(self, task, cancellable):
            raise AssertionError('a refused task ran')

    func = Func()
    func_ref = weakref.ref(func)
    task_id = service.schedule(func, name='late')
    del func

    assert task_id == 0
    assert func_ref() is None
    assert glib_log.warnings() == ['The task service has been stopped: task “late” was refused']


def test_schedule_threadsafe_after_stop_is_refused_on_the_calling_thread(context, service, glib_log):
    service.stop()
    results = []

    def schedule():
        class Func:
            def __call__(self, task, cancellable):
                raise AssertionError('a refused task ran')

        func = Func()
        func_ref = weakref.ref(func)
        results.append(service.schedule_threadsafe(func, name='late'))
        del func
        results.append(func_ref())

    thread = threading.Thread(target=schedule)
    thread.start()
    thread.join()

    assert results == [0, None]
    assert glib_log.warnings() == ['The task service has been stopped: task “late” was refused']


def test_stop_async_completes_when_every_task_has_ended(context, service, events):
    service.schedule(ends_when_cancelled, name='cancellable')
    iterate_until(context, lambda: service.props.n_running == 1, 'the task to start')
    results = []

    service.stop_async(None, finish_stop(results))
    iterate_until(context, lambda: results, 'the stop to complete')

    assert results == [True]
    assert is_cancelled(events.done[0].error)


def test_stop_times_out_on_a_task_that_ignores_cancellation(context, service, events, glib_log):
    held = Held()
    service.props.stop_timeout = 50
    service.schedule(held.func, 'stubborn', name='stubborn')
    iterate_until(context, lambda: held.started, 'the task to start')
    results = []

    service.stop_async(None, finish_stop(results))
    iterate_until(context, lambda: results, 'the stop to time out')

    [error] = results
    assert isinstance(error, GLib.Error)
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
    assert error.message == '1+0 pending and incomplete tasks'
    assert glib_log.warnings() == ['1+0 pending and incomplete tasks']
    assert events.done == []

    # The task still gets its task-done when it ends later.
    held.task('stubborn').return_boolean(True)
    iterate_until(context, lambda: events.done, 'task-done')
    assert is_cancelled(events.done[0].error)


def test_stop_from_a_task_function_waits_for_the_other_tasks_only(context, service, events,
                                                                   glib_log):
    service.schedule(ends_when_cancelled, name='other')
    iterate_until(context, lambda: service.props.n_running == 1, 'the first task to start')
    service.props.stop_timeout = 300

    def stopper(task, cancellable):
        task.return_boolean(True)
        service.stop()

    service.schedule(stopper, name='stopper')
    iterate_until(context, lambda: events.done_named('stopper'), 'task-done of the stopper')

    assert is_cancelled(events.done_named('other')[0].error)
    assert service.schedule(ends_when_cancelled, name='late') == 0
    assert glib_log.warnings() == ['The task service has been stopped: task “late” was refused']
    assert events.done_named('stopper')[0].error is None


def test_stop_of_an_idle_service_completes_at_once(context, service):
    results = []

    service.stop_async(None, finish_stop(results))
    iterate_until(context, lambda: results, 'the stop to complete')

    assert results == [True]
