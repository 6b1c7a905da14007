# test_schedule.py: scheduling tasks from Python, task-done and task-failed
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import threading

import pytest

from asabtest import Asab, Events, Gio, GLib, Held, iterate_ready, iterate_until


def test_func_runs_later_on_the_service_context_with_its_arguments(context, service, events):
    calls = []

    def func(task, cancellable, *args):
        source = GLib.main_current_source()
        calls.append({
            'args': args,
            'task': task,
            'cancellable': cancellable,
            'context': source.get_context() if source is not None else None,
            'thread': threading.get_ident(),
        })
        task.return_boolean(True)

    task_id = service.schedule(func, 1, 'two', [3], name='with-args')

    assert task_id > 0
    assert calls == [], 'func ran inside schedule()'

    iterate_until(context, lambda: events.done, 'task-done')
    [call] = calls
    assert call['args'] == (1, 'two', [3])
    assert call['context'] == context
    assert call['thread'] == threading.get_ident()
    assert isinstance(call['task'], Gio.Task)
    assert call['task'].get_source_object() is service
    assert call['task'].get_name() == 'with-args'
    assert call['task'].get_cancellable() is call['cancellable']
    # task-done gets the same Python object, with what func attached to it.
    assert events.done[0].task is call['task']


def test_ids_are_positive_and_unique(context, service, events):
    def func(task, cancellable):
        task.return_boolean(True)

    ids = [service.schedule(func) for i in range(20)]

    assert all(task_id > 0 for task_id in ids)
    assert len(set(ids)) == len(ids)
    iterate_until(context, lambda: len(events.done) == 20, 'every task-done')


def test_task_done_without_error(context, service, events, glib_log):
    def func(task, cancellable):
        task.return_boolean(True)

    service.schedule(func, name='fine')
    iterate_until(context, lambda: events.done, 'task-done')

    [(name, error, task)] = events.done
    assert name == 'fine'
    assert error is None
    assert events.failed == []
    assert glib_log.warnings() == []


def test_task_done_with_returned_error(context, service, events, glib_log):
    def func(task, cancellable):
        task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'disk on fire',
                                                 Gio.IOErrorEnum.NO_SPACE))

    task_id = service.schedule(func, name='writer')
    iterate_until(context, lambda: events.done, 'task-done')

    [(name, error, task)] = events.done
    assert name == 'writer'
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NO_SPACE)
    assert error.message == 'disk on fire'
    [(failed_name, failed_error, failed_task)] = events.failed
    assert failed_task is task
    assert failed_error.message == 'disk on fire'
    assert glib_log.warnings() == ['Task “writer” (%d) failed: disk on fire' % task_id]


def test_task_failed_handler_keeps_failure_out_of_log(context, service, glib_log):
    events = Events(service, keep_failures_out_of_log=True)

    def func(task, cancellable):
        task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'quietly',
                                                 Gio.IOErrorEnum.FAILED))

    service.schedule(func, name='quiet')
    iterate_until(context, lambda: events.done, 'task-done')

    assert [ended.error.message for ended in events.failed] == ['quietly']
    assert [ended.error.message for ended in events.done] == ['quietly']
    assert glib_log.warnings() == []


def test_task_completed_later_from_a_gio_callback(context, service, events, tmp_path):
    path = tmp_path / 'hello.txt'
    path.write_bytes(b'hello from a file')
    loaded = []

    def on_loaded(file, result, task):
        ok, contents, etag = file.load_contents_finish(result)
        loaded.append(contents)
        task.return_boolean(True)

    def func(task, cancellable, file):
        file.load_contents_async(cancellable, on_loaded, task)

    service.schedule(func, Gio.File.new_for_path(os.fspath(path)), name='load')
    iterate_until(context, lambda: service.props.n_running == 1, 'the task to start')
    assert events.done == []

    iterate_until(context, lambda: events.done, 'task-done')
    assert loaded == [b'hello from a file']
    assert events.done[0].error is None
    assert service.props.n_running == 0


def test_unnamed_task(context, service, events, glib_log):
    def func(task, cancellable):
        task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'no name',
                                                 Gio.IOErrorEnum.FAILED))

    task_id = service.schedule(func)
    iterate_until(context, lambda: events.done, 'task-done')

    assert events.done[0].name is None
    assert glib_log.warnings() == ['Unnamed task (%d) failed: no name' % task_id]


def test_func_must_be_callable(context, service, events):
    with pytest.raises(TypeError, match=r'or a callback func\(task, cancellable, \*args\): got str'):
        service.schedule('not a function')

    assert service.props.n_queued == 0
    iterate_ready(context)
    assert events.done == []


def test_default_constructor_uses_the_thread_default_context(context):
    service = Asab.TaskService()

    assert service.get_context() == context
    assert service.props.context == context
    assert service.get_application() is None


def test_new_runs_tasks_on_the_given_context(context):
    other = GLib.MainContext.new()
    other.push_thread_default()
    try:
        service = Asab.TaskService.new(other)
        events = Events(service)

        def func(task, cancellable):
            task.return_boolean(GLib.main_current_source().get_context() == other)

        service.schedule(func)
        iterate_until(other, lambda: events.done, 'task-done')
    finally:
        other.pop_thread_default()

    assert service.get_context() == other
    assert events.done[0].error is None


def test_properties(service):
    props = service.props

    assert (props.max_concurrent, props.max_queued, props.stop_timeout) == (0, 0, 5000)
    assert (props.n_running, props.n_queued) == (0, 0)

    notified = []
    service.connect('notify', lambda service, pspec: notified.append(pspec.name))
    props.max_concurrent = 3
    service.set_max_queued(7)
    props.stop_timeout = 250
    props.max_concurrent = 3

    assert (service.get_max_concurrent(), props.max_queued, service.get_stop_timeout()) == (3, 7, 250)
    assert notified == ['max-concurrent', 'max-queued', 'stop-timeout']


def test_n_running_and_n_queued_follow_the_tasks(context, service, events):
    held = Held()
    changes = []
    service.connect('notify::n-running', lambda s, p: changes.append(('n-running', s.props.n_running)))
    service.connect('notify::n-queued', lambda s, p: changes.append(('n-queued', s.props.n_queued)))
    service.props.max_concurrent = 1

    service.schedule(held.func, 'a')
    service.schedule(held.func, 'b')
    assert (service.props.n_running, service.props.n_queued) == (0, 2)

    iterate_until(context, lambda: held.labels() == ['a'], 'the first task to start')
    assert (service.props.n_running, service.props.n_queued) == (1, 1)

    held.task('a').return_boolean(True)
    iterate_until(context, lambda: held.labels() == ['a', 'b'], 'the second task to start')
    assert (service.props.n_running, service.props.n_queued) == (1, 0)

    held.task('b').return_boolean(True)
    iterate_until(context, lambda: len(events.done) == 2, 'both task-done')
    assert (service.props.n_running, service.props.n_queued) == (0, 0)

    assert changes == [('n-running', 1), ('n-queued', 1), ('n-queued', 0), ('n-running', 0)]


def test_get_default_runs_tasks_on_the_global_default_context():
    service = Asab.TaskService.get_default()
    default_context = GLib.MainContext.default()
    events = Events(service)
    contexts = []

    def func(task, cancellable):
        contexts.append(GLib.main_current_source().get_context())
        task.return_boolean(True)

    service.schedule(func, name='on-default')
    iterate_until(default_context, lambda: events.done_named('on-default'), 'task-done')

    assert Asab.TaskService.get_default() is service
    assert service.get_context() == default_context
    assert contexts == [default_context]


def test_new_for_application_holds_the_application_and_stops_with_it():
    app = Gio.Application(application_id='org.asab.PythonTests',
                          flags=Gio.ApplicationFlags.NON_UNIQUE)
    service = Asab.TaskService.new_for_application(app)
    events = Events(service)
    order = []

    def sleep_then_succeed(task, cancellable):
        def wake(*args):
            order.append('task completed')
            task.return_boolean(True)
            return GLib.SOURCE_REMOVE

        source = GLib.timeout_source_new(50)
        source.set_callback(wake)
        source.attach(task.get_context())

    def on_activate(app):
        # Without the service's hold, run() would return after this handler.
        service.schedule(sleep_then_succeed, name='background')

    app.connect('activate', on_activate)
    status = app.run([])
    order.append('run returned')

    assert status == 0
    assert order == ['task completed', 'run returned']
    assert [(ended.name, ended.error) for ended in events.done] == [('background', None)]
    assert service.get_application() is app
    assert service.get_context() == GLib.MainContext.default()
    # The application's shutdown has stopped the service.
    assert service.schedule(sleep_then_succeed, name='too late') == 0


@pytest.mark.parametrize('method', ['schedule', 'schedule_threadsafe'])
def test_task_completes_on_a_service_context_that_is_not_thread_default(method):
    # The context is iterated, as with g_main_context_iteration(), but never
    # pushed as the thread-default one.
    context = GLib.MainContext.new()
    service = Asab.TaskService.new(context)
    events = Events(service)

    getattr(service, method)(lambda task, cancellable: task.return_boolean(True))
    iterate_until(context, lambda: events.done, 'task-done', timeout=0.5)

    assert events.done[0].error is None
