# test_forever.py: run_forever()
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio

from asabtest import (asab_records, ends_when_cancelled, is_cancelled, is_failed, iterate_ready,
                      iterate_until, run_until)


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


# Async functions, as ASAB's run_forever() takes them

class Server:
    def __init__(self):
        self.runs = 0
        self.cancelled = 0

    async def serve(self):
        self.runs += 1
        await asyncio.sleep(0)

    async def serve_until_cancelled(self):
        self.runs += 1
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def serve_twice(self):
        # Returns, then waits in its second run.
        if self.runs == 0:
            self.runs += 1
            return
        await self.serve_until_cancelled()

    async def crash(self):
        self.runs += 1
        raise ValueError('boom')


def test_run_forever_calls_the_async_function_again_until_cancelled(loop, loop_service,
                                                                    loop_events):
    server = Server()

    task_id = loop_service.run_forever(server.serve)

    assert isinstance(task_id, int) and task_id > 0
    run_until(loop, lambda: server.runs >= 3, 'three runs')
    assert loop_events.done == []
    assert loop_service.cancel(task_id)
    run_until(loop, lambda: loop_events.done, 'task-done')
    runs = server.runs
    iterate_ready(loop._context)

    [(name, error, task)] = loop_events.done
    assert name == 'Server.serve'
    assert is_cancelled(error)
    assert server.runs == runs
    assert not loop_service.cancel(task_id)


def test_run_forever_cancel_throws_cancelled_error_into_the_running_coroutine(
        loop, loop_service, loop_events, caplog):
    server = Server()
    task_id = loop_service.run_forever(server.serve_until_cancelled, name='server')
    run_until(loop, lambda: server.runs == 1, 'the first run')

    loop_service.cancel(task_id)
    run_until(loop, lambda: loop_events.done, 'task-done')

    assert (server.runs, server.cancelled) == (1, 1)
    assert [(ended.name, is_cancelled(ended.error)) for ended in loop_events.done] == [
        ('server', True)]
    assert loop_events.failed == []
    assert asab_records(caplog) == []


def test_run_forever_restarts_after_an_exception_and_logs_each_once(loop, loop_service,
                                                                    loop_events, caplog, glib_log):
    server = Server()
    task_id = loop_service.run_forever(server.crash)
    run_until(loop, lambda: len(loop_events.failed) >= 3, 'three failures')

    assert server.runs >= 3
    assert all(is_failed(failed.error, 'ValueError: boom') for failed in loop_events.failed)
    records = asab_records(caplog)
    assert [r.getMessage() for r in records[:3]] == [
        'Task “Server.crash” (%d) failed: ValueError: boom' % task_id] * 3
    assert all(r.exc_info[0] is ValueError for r in records)
    assert glib_log.warnings() == []
    loop_service.cancel(task_id)
    run_until(loop, lambda: loop_events.done, 'task-done')


def test_run_forever_several_async_functions(loop, loop_service, loop_events):
    first, second = Server(), Server()

    ids = loop_service.run_forever(first.serve_twice, second.serve_twice)

    assert isinstance(ids, tuple) and len(ids) == 2 and 0 not in ids
    run_until(loop, lambda: first.runs == 2 and second.runs == 2, 'two runs of each')
    loop_service.stop()

    assert (first.cancelled, second.cancelled) == (1, 1)
    assert [ended.name for ended in loop_events.done] == ['Server.serve_twice'] * 2
    assert all(is_cancelled(ended.error) for ended in loop_events.done)


def test_run_forever_ended_by_stop(loop, loop_service, loop_events, glib_log):
    server = Server()
    loop_service.run_forever(server.serve_until_cancelled)
    run_until(loop, lambda: server.runs == 1, 'the first run')

    loop_service.stop()

    assert (server.runs, server.cancelled) == (1, 1)
    assert len(loop_events.done) == 1 and is_cancelled(loop_events.done[0].error)
    assert glib_log.warnings() == []


def test_run_forever_refused_after_stop(loop, loop_service):
    loop_service.stop()
    server = Server()

    assert loop_service.run_forever(server.serve) == 0
    assert loop_service.run_forever(server.serve, server.crash) == (0, 0)
    assert server.runs == 0
