# test_forever.py: run_forever()
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from asabtest import (asab_records, ends_when_cancelled, is_cancelled, is_failed, iterate_ready,
                      iterate_until)


def test_run_forever_restarts_until_cancelled_then_ends_once(context, service, events):
    runs = []

    def func(task, cancellable, label):
        runs.append((label, task))
        task.return_boolean(True)

    task_id = service.run_forever(func, 'tick', name='ticker')
    assert task_id > 0
    iterate_until(context, lambda: len(runs) >= 3, 'three runs')

    assert events.done == []
    assert {label for label, task in runs} == {'tick'}
    # Each run has a GTask of its own, with the same name.
    assert len({id(task) for label, task in runs}) == len(runs)
    assert {task.get_name() for label, task in runs} == {'ticker'}

    assert service.cancel(task_id)
    iterate_until(context, lambda: events.done, 'task-done')
    n_runs = len(runs)
    iterate_ready(context)

    assert len(events.done) == 1
    assert events.done[0].name == 'ticker'
    assert is_cancelled(events.done[0].error)
    assert len(runs) == n_runs
    assert not service.cancel(task_id)
    assert (service.props.n_running, service.props.n_queued) == (0, 0)


def test_run_forever_reports_each_failure_and_restarts(context, service, events, caplog,
                                                       glib_log):
    runs = []

    def func(task, cancellable):
        runs.append(task)
        raise ValueError('boom')

    task_id = service.run_forever(func, name='crashy')
    iterate_until(context, lambda: len(events.failed) >= 3, 'three failures')

    assert events.done == []
    assert all(is_failed(failed.error, 'ValueError: boom') for failed in events.failed)
    # Each failure logged once, on the Python logger.
    assert [r.getMessage() for r in asab_records(caplog)][:3] == [
        'Task “crashy” (%d) failed: ValueError: boom' % task_id] * 3
    assert glib_log.warnings() == []

    assert service.cancel(task_id)
    iterate_until(context, lambda: events.done, 'task-done')
    assert len(events.done) == 1


def test_run_forever_running_task_is_cancelled_by_stop(context, service, events):
    runs = []

    def func(task, cancellable):
        runs.append(task)
        ends_when_cancelled(task, cancellable)

    service.run_forever(func, name='server')
    iterate_until(context, lambda: runs, 'the first run')

    service.stop()

    assert len(runs) == 1
    assert len(events.done) == 1
    assert is_cancelled(events.done[0].error)
