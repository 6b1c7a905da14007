# test_tasks.py: the task list, progress, and tasks tied to an object, from Python
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import threading

from asabtest import Asab, Gio, GLib, ends_when_cancelled, is_cancelled, iterate_until, run_until


def items(tasks):
    return [tasks.get_item(i) for i in range(tasks.get_n_items())]


class Shadow:
    """Applies every items-changed of a list to a shadow list, and compares."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.items = items(tasks)
        self.threads = set()
        tasks.connect('items-changed', self._changed)

    def _changed(self, tasks, position, removed, added):
        self.threads.add(threading.get_ident())
        self.items[position:position + removed] = [tasks.get_item(position + i)
                                                   for i in range(added)]
        assert self.items == items(tasks)

    def names(self):
        return [info.props.name for info in self.items]


def test_get_tasks_lists_callbacks_in_order_and_ends_them(context, service, events):
    tasks = service.get_tasks()
    shadow = Shadow(tasks)
    held = []

    assert isinstance(tasks, Gio.ListModel)
    assert tasks.get_item_type() == Asab.TaskInfo.__gtype__
    service.schedule(lambda task, cancellable: held.append(task), name='held')
    service.schedule(lambda task, cancellable: task.return_boolean(True), name='quick')

    assert shadow.names() == ['held', 'quick']
    first = shadow.items[0]
    assert first.props.state == Asab.TaskState.QUEUED
    assert first.props.kind == Asab.TaskKind.FUNCTION
    assert first.props.started_at == 0
    assert first.props.progress == -1

    iterate_until(context, lambda: len(events.done) == 1 and held, 'the quick task to end')
    assert shadow.names() == ['held']
    assert first.props.state == Asab.TaskState.RUNNING
    assert first.props.started_at > 0

    # A callback passes its task.
    service.set_progress(held[0], 0.5, 'halfway')
    iterate_until(context, lambda: first.props.status is not None, 'the progress')
    assert (first.props.progress, first.props.status) == (0.5, 'halfway')

    assert first.cancel()
    iterate_until(context, lambda: first.props.state == Asab.TaskState.CANCELLING,
                  'the cancellation to show')
    held[0].return_error_if_cancelled()
    iterate_until(context, lambda: len(events.done) == 2, 'the held task to end')
    assert shadow.items == []
    assert shadow.threads == {threading.get_ident()}


def test_coroutines_are_listed_by_name_and_report_progress_without_a_task(
        loop, loop_service, loop_events):
    tasks = loop_service.get_tasks()
    shadow = Shadow(tasks)
    seen = []

    async def copy_files():
        loop_service.set_progress(0.25, 'a quarter')
        await asyncio.sleep(0)
        seen.append(shadow.items[0].props.status)
        loop_service.set_progress(1.0, 'done')

    loop_service.schedule(copy_files())
    assert shadow.names() == ['test_coroutines_are_listed_by_name_and_report_progress_without_a_task'
                              '.<locals>.copy_files']
    info = shadow.items[0]
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert seen == ['a quarter']
    assert (info.props.progress, info.props.status) == (1.0, 'done')
    assert shadow.items == []


def test_a_thread_function_reports_progress_without_a_task(context, service, events):
    tasks = service.get_tasks()
    reports = []

    def checksum(cancellable):
        for i in range(1, 101):
            service.set_progress(i / 100, '%d %%' % i)

    info_holder = []
    service.schedule_in_thread(checksum, name='checksum')
    info_holder.append(tasks.get_item(0))
    info_holder[0].connect('notify::progress', lambda info, pspec: reports.append(info.props.progress))
    iterate_until(context, lambda: events.done, 'task-done')

    [(name, error, task)] = events.done
    assert error is None
    assert reports and reports[-1] == 1.0
    assert reports == sorted(reports)
    assert info_holder[0].props.status == '100 %'


def test_set_progress_without_a_task_outside_a_task_says_what_to_do(service):
    try:
        service.set_progress(0.5)
    except RuntimeError as error:
        assert 'set_progress(task, fraction)' in str(error)
    else:
        raise AssertionError('set_progress() without a task did not raise')


def test_owner_cancels_a_callback_and_a_coroutine_when_it_goes(loop, loop_service, loop_events):
    owner = Gio.SimpleAction(name='window')
    started = []

    def waits(task, cancellable):
        started.append('callback')
        ends_when_cancelled(task, cancellable)

    async def sleeps():
        started.append('coroutine')
        await asyncio.sleep(3600)

    loop_service.schedule(waits, name='callback', owner=owner)
    loop_service.schedule(sleeps(), owner=owner)
    run_until(loop, lambda: len(started) == 2, 'both tasks to start')

    owner.run_dispose()
    run_until(loop, lambda: len(loop_events.done) == 2, 'both tasks to end')
    assert all(is_cancelled(error) for name, error, task in loop_events.done)


def test_owner_that_outlives_its_task_is_left_alone(context, service, events):
    owner = Gio.SimpleAction(name='window')

    service.schedule(lambda task, cancellable: task.return_boolean(True), owner=owner)
    iterate_until(context, lambda: events.done, 'task-done')

    [(name, error, task)] = events.done
    assert error is None


def test_owner_must_be_a_gobject(service):
    try:
        service.schedule(lambda task, cancellable: None, owner='a window')
    except TypeError as error:
        assert 'GObject' in str(error)
    else:
        raise AssertionError('a string was taken for an owner')


def test_stop_returns_true_or_raises_timed_out(context):
    service = Asab.TaskService()
    held = []
    service.schedule(lambda task, cancellable: held.append(task), name='stubborn')
    iterate_until(context, lambda: held, 'the task to start')
    service.props.stop_timeout = 50

    try:
        service.stop()
    except GLib.Error as error:
        assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
    else:
        raise AssertionError('stop() did not time out')

    held[0].return_boolean(True)
    iterate_until(context, lambda: service.props.n_running == 0, 'the task to end')
    assert service.stop() is True
