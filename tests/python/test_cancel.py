# test_cancel.py: cancel() on queued, running and ended tasks
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from asabtest import Held, ends_when_cancelled, is_cancelled, iterate_ready, iterate_until


def test_cancel_a_queued_task_ends_it_without_running_it(context, service, events):
    held = Held()
    service.props.max_concurrent = 1
    service.schedule(held.func, 'first', name='first')
    queued_id = service.schedule(held.func, 'second', name='second')
    iterate_until(context, lambda: held.started, 'the first task to start')

    assert service.cancel(queued_id)
    iterate_until(context, lambda: events.done_named('second'), 'task-done of the queued task')
    held.task('first').return_boolean(True)
    iterate_until(context, lambda: events.done_named('first'), 'task-done of the first task')
    iterate_ready(context)

    assert held.labels() == ['first']
    assert is_cancelled(events.done_named('second')[0].error)
    assert events.done_named('first')[0].error is None
    assert events.failed == []


def test_cancel_a_running_task_cancels_its_cancellable(context, service, events, glib_log):
    started = []

    def func(task, cancellable):
        started.append(cancellable)
        ends_when_cancelled(task, cancellable)

    task_id = service.schedule(func, name='running')
    iterate_until(context, lambda: started, 'the task to start')
    assert not started[0].is_cancelled()

    assert service.cancel(task_id)
    assert started[0].is_cancelled()
    iterate_until(context, lambda: events.done, 'task-done')

    assert is_cancelled(events.done[0].error)
    # A cancellation is not a failure.
    assert events.failed == []
    assert glib_log.warnings() == []


def test_cancel_an_unknown_or_ended_task_returns_false(context, service, events):
    def func(task, cancellable):
        task.return_boolean(True)

    task_id = service.schedule(func)
    iterate_until(context, lambda: events.done, 'task-done')

    assert not service.cancel(task_id)
    assert not service.cancel(task_id + 1000)
    assert events.done[0].error is None
