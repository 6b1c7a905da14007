# test_futures.py: asyncio Futures and Tasks as tasks, as ASAB's TaskService takes them
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio

import pytest

from asabtest import (Asab, Events, GLib, asab_records, is_cancelled, is_failed,
                      iterate_ready, run_until)


def test_future_resolved_with_a_result_succeeds(loop, loop_service, loop_events, caplog):
    future = loop.create_future()

    task_id = loop_service.schedule(future)

    assert isinstance(task_id, int) and task_id > 0
    run_until(loop, lambda: loop_service.props.n_running == 1, 'the task to start')
    assert loop_events.done == []
    future.set_result('ignored')
    run_until(loop, lambda: loop_events.done, 'task-done')

    [(name, error, task)] = loop_events.done
    # A Future has no name.
    assert name is None
    assert error is None
    assert asab_records(caplog) == []


def test_future_resolved_with_an_exception_fails_the_task(loop, loop_service, loop_events,
                                                          caplog, glib_log):
    future = loop.create_future()
    task_id = loop_service.schedule(future, name='future')
    run_until(loop, lambda: loop_service.props.n_running == 1, 'the task to start')

    future.set_exception(ValueError('boom'))
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert is_failed(loop_events.done[0].error, 'ValueError: boom')
    assert is_failed(loop_events.failed[0].error, 'ValueError: boom')
    assert glib_log.warnings() == []
    [record] = asab_records(caplog)
    assert record.getMessage() == 'Task “future” (%d) failed: ValueError: boom' % task_id
    assert record.exc_info[0] is ValueError


def test_asyncio_task_is_tracked_and_named_by_its_name(loop, loop_service, loop_events):
    async def work():
        await asyncio.sleep(0)
        return 42

    atask = loop.create_task(work(), name='fetcher')
    loop_service.schedule(atask)
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert [(ended.name, ended.error) for ended in loop_events.done] == [('fetcher', None)]
    assert atask.result() == 42


def test_failed_asyncio_task_fails_the_task_with_its_traceback(loop, loop_service, loop_events,
                                                               caplog):
    async def crashes():
        await asyncio.sleep(0)
        raise KeyError('missing')

    loop_service.schedule(loop.create_task(crashes(), name='crashes'))
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert is_failed(loop_events.done[0].error, "KeyError: 'missing'")
    [record] = asab_records(caplog)
    assert record.exc_info[0] is KeyError
    assert 'in crashes' in caplog.text


def test_cancel_cancels_the_asyncio_task(loop, loop_service, loop_events, caplog):
    seen = []

    async def waits():
        try:
            await loop.create_future()
        except asyncio.CancelledError:
            seen.append('cancelled')
            raise

    atask = loop.create_task(waits())
    task_id = loop_service.schedule(atask)
    run_until(loop, lambda: loop_service.props.n_running == 1, 'the task to start')

    assert loop_service.cancel(task_id)
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert seen == ['cancelled']
    assert atask.cancelled()
    assert is_cancelled(loop_events.done[0].error)
    assert loop_events.failed == []
    assert asab_records(caplog) == []


def test_future_cancelled_elsewhere_ends_the_task_cancelled(loop, loop_service, loop_events):
    future = loop.create_future()
    loop_service.schedule(future)
    run_until(loop, lambda: loop_service.props.n_running == 1, 'the task to start')

    future.cancel()
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert is_cancelled(loop_events.done[0].error)
    assert loop_events.failed == []


def test_future_done_before_its_task_starts(loop, loop_service, loop_events):
    future = loop.create_future()
    future.set_result(None)

    loop_service.schedule(future)
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert loop_events.done[0].error is None


def test_queued_future_cancelled_before_it_starts_is_cancelled(loop, loop_service, loop_events):
    loop_service.props.max_concurrent = 1
    first, second = loop.create_future(), loop.create_future()
    first_id, second_id = loop_service.schedule(first, second)
    run_until(loop, lambda: loop_service.props.n_running == 1, 'the first task to start')
    iterate_ready(loop._context)

    assert loop_service.cancel(second_id)
    run_until(loop, lambda: second.done(), 'the queued Future to be cancelled')

    assert second.cancelled()
    assert not first.done()
    assert [ended.name for ended in loop_events.done] == [None]
    assert is_cancelled(loop_events.done[0].error)


def test_stop_cancels_running_and_queued_futures(loop, loop_service, loop_events):
    loop_service.props.max_concurrent = 1
    running, queued = loop.create_future(), loop.create_future()
    loop_service.schedule(running, queued)
    run_until(loop, lambda: loop_service.props.n_running == 1, 'the first task to start')

    loop_service.stop()
    run_until(loop, lambda: queued.done(), 'the queued Future to be cancelled')

    assert running.cancelled() and queued.cancelled()
    assert len(loop_events.done) == 2
    assert all(is_cancelled(ended.error) for ended in loop_events.done)


def test_refused_future_is_left_to_its_caller(loop, loop_service):
    loop_service.stop()
    future = loop.create_future()

    assert loop_service.schedule(future) == 0
    loop.run_until_complete(asyncio.sleep(0))
    assert not future.done()
    future.cancel()


def test_coroutines_and_futures_in_one_call(loop, loop_service, loop_events):
    async def coroutine():
        pass

    future = loop.create_future()
    ids = loop_service.schedule(coroutine(), future)

    assert isinstance(ids, tuple) and len(ids) == 2 and 0 not in ids
    run_until(loop, lambda: loop_events.done, 'the coroutine task-done')
    future.set_result(None)
    run_until(loop, lambda: len(loop_events.done) == 2, 'both task-done')
    assert [ended.name for ended in loop_events.done] == [
        'test_coroutines_and_futures_in_one_call.<locals>.coroutine', None]


def test_future_of_a_loop_on_another_context_is_refused(loop, loop_service, loop_events):
    # A service on another context than the Future's loop.
    other_context = GLib.MainContext.new()
    other = Asab.TaskService.new(other_context)
    other_events = Events(other)
    future = loop.create_future()

    with pytest.raises(RuntimeError, match='does not run on the main context'):
        other.schedule(future)

    assert other.props.n_queued == 0
    assert other_events.done == []
    assert not future.done()
    future.cancel()
