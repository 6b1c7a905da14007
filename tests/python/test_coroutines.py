# test_coroutines.py: coroutines as tasks, as ASAB's TaskService takes them
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import gc
import logging
import threading
import weakref

import pytest

from asabtest import (Events, Gio, GLib, asab_records, is_cancelled, is_closed, is_failed,
                      iterate_ready, no_unawaited_coroutines, run_until)


class Recorder:
    """Coroutines that record what they see."""

    def __init__(self):
        self.seen = []

    async def finishes(self, label):
        self.seen.append((label, 'started', asyncio.get_running_loop(), threading.get_ident()))
        await asyncio.sleep(0)
        self.seen.append((label, 'finished'))

    async def waits(self, label):
        self.seen.append((label, 'started'))
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            self.seen.append((label, 'cancelled'))
            raise

    def labels(self, what):
        return [entry[0] for entry in self.seen if entry[1] == what]


def test_schedule_one_coroutine_returns_its_id_and_runs_it_on_the_loop(
        loop, loop_service, loop_events, glib_log, caplog):
    recorder = Recorder()

    task_id = loop_service.schedule(recorder.finishes('a'))

    assert isinstance(task_id, int) and task_id > 0
    assert recorder.seen == [], 'the coroutine ran inside schedule()'
    run_until(loop, lambda: loop_events.done, 'task-done')

    [started, finished] = recorder.seen
    assert started[:2] == ('a', 'started')
    assert started[2] is loop
    assert started[3] == threading.get_ident()
    assert finished == ('a', 'finished')
    [(name, error, task)] = loop_events.done
    assert error is None
    assert isinstance(task, Gio.Task)
    assert task.get_source_object() is loop_service
    assert loop_events.failed == []
    assert glib_log.warnings() == []
    assert asab_records(caplog) == []


def test_schedule_several_returns_their_ids_in_argument_order(loop, loop_service, loop_events):
    recorder = Recorder()

    ids = loop_service.schedule(recorder.waits('a'), recorder.waits('b'), recorder.waits('c'))

    assert isinstance(ids, tuple) and len(ids) == 3
    assert len(set(ids)) == 3 and all(task_id > 0 for task_id in ids)
    run_until(loop, lambda: len(recorder.labels('started')) == 3, 'three coroutines to start')
    assert recorder.labels('started') == ['a', 'b', 'c']

    # The second id is the second coroutine's.
    assert loop_service.cancel(ids[1])
    run_until(loop, lambda: loop_events.done, 'task-done of the cancelled task')
    assert recorder.labels('cancelled') == ['b']
    assert [ended.name for ended in loop_events.done] == ['Recorder.waits']
    assert is_cancelled(loop_events.done[0].error)


def test_schedule_threadsafe_takes_coroutines_from_other_threads(loop, loop_service, loop_events):
    recorder = Recorder()
    ids = []

    def schedule_from_thread():
        ids.append(loop_service.schedule_threadsafe(recorder.finishes('one'),
                                                    recorder.finishes('two')))

    thread = threading.Thread(target=schedule_from_thread)
    thread.start()
    thread.join()
    run_until(loop, lambda: len(loop_events.done) == 2, 'both task-done')

    [(first, second)] = ids
    assert first > 0 and second > 0
    assert recorder.labels('finished') == ['one', 'two']
    # They ran on the service's context and its loop, not on the caller's thread.
    assert {(entry[2], entry[3]) for entry in recorder.seen if entry[1] == 'started'} == {
        (loop, threading.get_ident())}
    assert all(ended.error is None for ended in loop_events.done)


def test_schedule_threadsafe_one_coroutine_from_the_context_thread(loop, loop_service, loop_events):
    recorder = Recorder()

    task_id = loop_service.schedule_threadsafe(recorder.finishes('here'), name='here')

    assert isinstance(task_id, int) and task_id > 0
    run_until(loop, lambda: loop_events.done, 'task-done')
    assert [(ended.name, ended.error) for ended in loop_events.done] == [('here', None)]


def test_task_is_named_after_the_coroutine(loop, loop_service, loop_events):
    recorder = Recorder()

    async def local():
        pass

    loop_service.schedule(recorder.finishes('a'), local())
    run_until(loop, lambda: len(loop_events.done) == 2, 'both task-done')

    assert sorted(ended.name for ended in loop_events.done) == [
        'Recorder.finishes',
        'test_task_is_named_after_the_coroutine.<locals>.local',
    ]


def test_given_name_names_every_task_of_the_call(loop, loop_service, loop_events):
    names = []

    async def named():
        names.append(asyncio.current_task().get_name())

    loop_service.schedule(named(), named(), name='worker')
    run_until(loop, lambda: len(loop_events.done) == 2, 'both task-done')

    assert [ended.name for ended in loop_events.done] == ['worker', 'worker']
    # The asyncio Task that runs it has the same name.
    assert names == ['worker', 'worker']


def test_returned_value_is_collected_and_discarded(loop, loop_service, loop_events):
    class Result:
        pass

    results = []

    async def returns():
        result = Result()
        results.append(weakref.ref(result))
        return result

    loop_service.schedule(returns())
    run_until(loop, lambda: loop_events.done, 'task-done')
    gc.collect()

    assert loop_events.done[0].error is None
    [result] = results
    assert result() is None


def test_exception_fails_the_task_and_is_logged_once_with_its_traceback(
        loop, loop_service, loop_events, glib_log, caplog):
    async def crashes():
        await asyncio.sleep(0)
        raise ValueError('boom')

    task_id = loop_service.schedule(crashes())
    run_until(loop, lambda: loop_events.done, 'task-done')

    [(name, error, task)] = loop_events.done
    assert name == 'test_exception_fails_the_task_and_is_logged_once_with_its_traceback.' \
        '<locals>.crashes'
    assert is_failed(error, 'ValueError: boom')
    assert is_failed(loop_events.failed[0].error, 'ValueError: boom')
    # Once: on the Python logger, with the traceback, in place of the
    # library's warning.
    assert glib_log.warnings() == []
    [record] = asab_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == 'Task “%s” (%d) failed: ValueError: boom' % (name, task_id)
    assert record.exc_info[0] is ValueError
    assert (record.asab_task_id, record.asab_task_name) == (task_id, name)
    assert "raise ValueError('boom')" in caplog.text
    assert 'in crashes' in caplog.text
    # The traceback starts in the coroutine, not in the binding.
    assert 'gi/overrides/Asab.py' not in caplog.text


def test_glib_error_keeps_its_domain_code_and_message(loop, loop_service, loop_events):
    async def not_found():
        raise GLib.Error.new_literal(Gio.io_error_quark(), 'no such thing',
                                     Gio.IOErrorEnum.NOT_FOUND)

    loop_service.schedule(not_found())
    run_until(loop, lambda: loop_events.done, 'task-done')

    error = loop_events.done[0].error
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
    assert error.message == 'no such thing'


def test_cancel_throws_cancelled_error_into_the_coroutine(
        loop, loop_service, loop_events, glib_log, caplog):
    recorder = Recorder()
    task_id = loop_service.schedule(recorder.waits('w'))
    run_until(loop, lambda: recorder.labels('started'), 'the coroutine to start')

    assert loop_service.cancel(task_id)
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert recorder.labels('cancelled') == ['w']
    assert is_cancelled(loop_events.done[0].error)
    # A cancellation is not a failure.
    assert loop_events.failed == []
    assert glib_log.warnings() == []
    assert asab_records(caplog) == []
    assert not loop_service.cancel(task_id)


def test_cancel_from_another_thread(loop, loop_service, loop_events):
    recorder = Recorder()
    task_id = loop_service.schedule(recorder.waits('w'))
    run_until(loop, lambda: recorder.labels('started'), 'the coroutine to start')

    results = []
    canceller = threading.Thread(target=lambda: results.append(loop_service.cancel(task_id)))
    canceller.start()
    canceller.join()
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert results == [True]
    assert recorder.labels('cancelled') == ['w']
    assert is_cancelled(loop_events.done[0].error)


def test_cancel_from_the_coroutine_itself(loop, loop_service, loop_events):
    ids = []
    seen = []

    async def cancels_itself():
        loop_service.cancel(ids[0])
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            seen.append('cancelled')
            raise
        seen.append('not cancelled')

    ids.append(loop_service.schedule(cancels_itself()))
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert seen == ['cancelled']
    assert is_cancelled(loop_events.done[0].error)


def test_coroutine_that_ignores_the_cancellation_still_ends_cancelled(loop, loop_service,
                                                                      loop_events):
    recorder = Recorder()

    async def shrugs():
        try:
            await recorder.waits('w')
        except asyncio.CancelledError:
            pass
        return 'done anyway'

    task_id = loop_service.schedule(shrugs())
    run_until(loop, lambda: recorder.labels('started'), 'the coroutine to start')
    loop_service.cancel(task_id)
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert is_cancelled(loop_events.done[0].error)
    assert loop_events.failed == []


def test_coroutine_cancelled_through_asyncio_ends_cancelled(loop, loop_service, loop_events,
                                                            caplog):
    async def cancelled_by_asyncio():
        asyncio.current_task().cancel()
        await asyncio.sleep(0)

    loop_service.schedule(cancelled_by_asyncio())
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert is_cancelled(loop_events.done[0].error)
    assert loop_events.failed == []
    assert asab_records(caplog) == []


def test_stop_cancels_running_coroutines(loop, loop_service, loop_events, glib_log):
    recorder = Recorder()
    loop_service.schedule(recorder.waits('a'), recorder.waits('b'))
    run_until(loop, lambda: len(recorder.labels('started')) == 2, 'both coroutines to start')

    loop_service.stop()

    assert recorder.labels('cancelled') == ['a', 'b']
    assert len(loop_events.done) == 2
    assert all(is_cancelled(ended.error) for ended in loop_events.done)
    # No "pending tasks" warning: each ended within the stop.
    assert glib_log.warnings() == []


def test_stop_async_from_a_coroutine(loop, loop_service, loop_events, glib_log):
    recorder = Recorder()
    stopped = []

    async def stopper():
        future = asyncio.get_running_loop().create_future()
        loop_service.stop_async(None, lambda service, result: future.set_result(
            service.stop_finish(result)))
        stopped.append(await future)

    loop_service.schedule(recorder.waits('w'))
    run_until(loop, lambda: recorder.labels('started'), 'the coroutine to start')
    loop.run_until_complete(stopper())

    assert stopped == [True]
    assert recorder.labels('cancelled') == ['w']
    assert is_cancelled(loop_events.done[0].error)
    assert glib_log.warnings() == []


def test_max_concurrent_holds_coroutines_back(loop, loop_service, loop_events):
    recorder = Recorder()
    loop_service.props.max_concurrent = 1

    first, second = loop_service.schedule(recorder.waits('a'), recorder.finishes('b'))
    run_until(loop, lambda: recorder.labels('started'), 'the first coroutine to start')
    iterate_ready(loop._context)

    assert recorder.labels('started') == ['a']
    assert loop_service.props.n_queued == 1
    loop_service.cancel(first)
    run_until(loop, lambda: len(loop_events.done) == 2, 'both task-done')
    assert recorder.labels('finished') == ['b']


def test_queued_coroutine_cancelled_before_it_starts_is_closed(loop, loop_service, loop_events):
    recorder = Recorder()
    loop_service.props.max_concurrent = 1

    with no_unawaited_coroutines():
        queued = recorder.finishes('queued')
        first, second = loop_service.schedule(recorder.waits('a'), queued)
        run_until(loop, lambda: recorder.labels('started'), 'the first coroutine to start')
        assert loop_service.cancel(second)
        run_until(loop, lambda: loop_events.done, 'task-done of the queued task')

        assert is_closed(queued)
        del queued

    assert is_cancelled(loop_events.done[0].error)
    assert recorder.labels('started') == ['a']


def test_stop_closes_queued_coroutines(loop, loop_service, loop_events):
    recorder = Recorder()
    loop_service.props.max_concurrent = 1

    with no_unawaited_coroutines():
        queued = recorder.finishes('queued')
        loop_service.schedule(recorder.waits('a'), queued)
        run_until(loop, lambda: recorder.labels('started'), 'the first coroutine to start')
        loop_service.stop()

        assert is_closed(queued)
        del queued

    assert len(loop_events.done) == 2
    assert all(is_cancelled(ended.error) for ended in loop_events.done)


def test_coroutine_cancelled_before_its_first_step_is_closed(loop, loop_service, loop_events):
    # Started, its asyncio Task created, and cancelled before the Task's first
    # step: the coroutine never runs and is closed.
    recorder = Recorder()
    ids = []
    starts = []

    def cancel_at_once(service, pspec):
        if service.props.n_running and ids and not starts:
            starts.append(service.cancel(ids[0]))

    handler = loop_service.connect('notify::n-running', cancel_at_once)
    with no_unawaited_coroutines():
        coro = recorder.finishes('never')
        ids.append(loop_service.schedule(coro))
        run_until(loop, lambda: loop_events.done, 'task-done')
        assert is_closed(coro)
        del coro
    loop_service.disconnect(handler)

    assert starts == [True]
    assert recorder.seen == []
    assert is_cancelled(loop_events.done[0].error)


def test_schedule_after_stop_is_refused_and_closes_the_coroutine(loop, loop_service, glib_log):
    loop_service.stop()

    with no_unawaited_coroutines():
        coro = Recorder().finishes('late')
        task_id = loop_service.schedule(coro, name='late')

        assert task_id == 0
        assert is_closed(coro)
        del coro

    assert glib_log.warnings() == ['The task service has been stopped: task “late” was refused']


def test_several_refused_after_stop_are_all_closed(loop, loop_service, glib_log):
    loop_service.stop()

    with no_unawaited_coroutines():
        coros = [Recorder().finishes(label) for label in 'abc']
        ids = loop_service.schedule(*coros)

        assert ids == (0, 0, 0)
        assert all(is_closed(coro) for coro in coros)
        del coros


def test_beyond_max_queued_is_refused_and_closed(loop, loop_service, loop_events, glib_log):
    recorder = Recorder()
    loop_service.props.max_queued = 1

    with no_unawaited_coroutines():
        refused = recorder.finishes('refused')
        ids = loop_service.schedule(recorder.finishes('accepted'), refused)

        assert ids[0] > 0 and ids[1] == 0
        assert is_closed(refused)
        del refused

    run_until(loop, lambda: loop_events.done, 'task-done of the accepted task')
    assert recorder.labels('finished') == ['accepted']


def test_coroutines_and_callbacks_on_one_service(loop, loop_service, loop_events):
    recorder = Recorder()

    def callback(task, cancellable):
        task.return_boolean(True)

    loop_service.schedule(callback, name='callback')
    loop_service.schedule(recorder.finishes('coro'), name='coroutine')
    run_until(loop, lambda: len(loop_events.done) == 2, 'both task-done')

    assert sorted(ended.name for ended in loop_events.done) == ['callback', 'coroutine']
    assert all(ended.error is None for ended in loop_events.done)


def test_coroutine_keeps_the_service_alive(loop, context):
    # The service is only referenced by the coroutine's task.
    from asabtest import Asab
    done = []

    async def work():
        await asyncio.sleep(0)
        done.append(True)

    service = Asab.TaskService()
    events = Events(service)
    service.schedule(work())
    service_ref = weakref.ref(service)
    del service
    gc.collect()
    run_until(loop, lambda: events.done, 'task-done')

    assert done == [True]
    assert events.done[0].error is None
    del events
    gc.collect()
    assert service_ref() is None


@pytest.mark.parametrize('method', ['schedule', 'schedule_threadsafe'])
def test_no_task_is_a_type_error(loop, loop_service, method):
    with pytest.raises(TypeError, match=r'%s\(\) needs a task' % method):
        getattr(loop_service, method)()
