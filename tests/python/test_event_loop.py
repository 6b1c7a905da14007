# test_event_loop.py: which asyncio event loop runs a service's coroutines
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import importlib
import subprocess
import sys
import textwrap
import threading

import pytest

from asabtest import (Asab, Events, GLib, Held, TIMEOUT, asab_records, is_closed, is_failed,
                      iterate_until, no_unawaited_coroutines, run_until)

try:
    importlib.import_module('gi.events')
    SETUP_HINT = 'gi.events.GLibEventLoopPolicy'
except ImportError:
    SETUP_HINT = r'gbulb.install\(\)'


async def nothing():
    pass


def test_importing_asab_installs_no_event_loop_policy():
    script = textwrap.dedent('''
        import asyncio
        import sys
        import gi
        gi.require_version('Asab', '1.0')
        from gi.repository import Asab

        Asab.TaskService
        assert 'gi.overrides.Asab' in sys.modules
        print(asyncio.events._event_loop_policy, 'gbulb' in sys.modules)
    ''')
    result = subprocess.run([sys.executable, '-c', script], timeout=30,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['None', 'False']


def test_without_a_loop_schedule_raises_and_closes_the_coroutine(context, service, events):
    with no_unawaited_coroutines():
        coro = nothing()
        with pytest.raises(RuntimeError, match='No asyncio event loop runs on the main '
                                               'context of this Asab.TaskService: .*%s'
                           % SETUP_HINT):
            service.schedule(coro)
        assert is_closed(coro)
        del coro

    assert (service.props.n_queued, service.props.n_running) == (0, 0)


def test_without_a_loop_every_coroutine_of_the_call_is_closed(context, service):
    with no_unawaited_coroutines():
        coros = [nothing(), nothing()]
        with pytest.raises(RuntimeError):
            service.schedule(*coros)
        assert all(is_closed(coro) for coro in coros)
        del coros


def test_without_a_loop_run_forever_raises(context, service):
    with pytest.raises(RuntimeError, match='No asyncio event loop runs'):
        service.run_forever(nothing)
    assert (service.props.n_queued, service.props.n_running) == (0, 0)


def test_a_plain_asyncio_loop_is_not_a_loop_of_the_context(context, service):
    # asyncio's own loop does not run on any GLib.MainContext.
    async def main():
        with no_unawaited_coroutines():
            coro = nothing()
            with pytest.raises(RuntimeError, match='No asyncio event loop runs'):
                service.schedule(coro)
            assert is_closed(coro)
            del coro

    asyncio.run(main())


def test_a_loop_on_another_context_is_not_used(loop, context):
    # This thread runs both contexts; the loop runs on the test's.
    other_context = GLib.MainContext.new()
    other_context.push_thread_default()
    try:
        other = Asab.TaskService()
        with no_unawaited_coroutines():
            with pytest.raises(RuntimeError, match='No asyncio event loop runs'):
                other.schedule(nothing())
    finally:
        other_context.pop_thread_default()


def test_the_running_loop_is_found_without_a_policy(context):
    gbulb = importlib.import_module('gbulb')
    loop = gbulb.GLibEventLoop(context=context)
    service = Asab.TaskService()
    events = Events(service)
    ran_on = []

    async def work():
        ran_on.append(asyncio.get_running_loop())

    async def main():
        done = asyncio.get_running_loop().create_future()
        service.connect('task-done', lambda *args: done.set_result(None))
        service.schedule(work())
        await done

    try:
        loop.run_until_complete(asyncio.wait_for(main(), TIMEOUT))
    finally:
        service.stop()
        loop.close()

    assert ran_on == [loop]
    assert events.done[0].error is None


def test_gbulb_default_loop_runs_the_coroutines_of_a_service_on_the_default_context():
    gbulb = importlib.import_module('gbulb')
    policy = gbulb.GLibEventLoopPolicy()
    asyncio.set_event_loop_policy(policy)
    try:
        service = Asab.TaskService.new(GLib.MainContext.default())
        events = Events(service)
        ran_on = []

        async def work():
            ran_on.append(asyncio.get_running_loop())

        # Before the program has asked for the loop.
        service.schedule(work(), name='on-default')
        loop = policy.get_default_loop()
        run_until(loop, lambda: events.done_named('on-default'), 'task-done')
    finally:
        asyncio.set_event_loop_policy(None)

    assert ran_on == [loop]
    assert events.done[0].error is None
    service.stop()
    loop.close()


def test_schedule_threadsafe_from_a_thread_finds_the_loop_when_the_task_starts(
        loop, loop_service, loop_events):
    # The loop of gbulb's policy belongs to the thread that runs the
    # context: from another thread, it is found when the task starts.
    ran_on = []

    async def work():
        ran_on.append((asyncio.get_running_loop(), threading.get_ident()))

    def from_thread():
        loop_service.schedule_threadsafe(work())
        loop_service.run_forever(work)

    thread = threading.Thread(target=from_thread)
    thread.start()
    thread.join()
    run_until(loop, lambda: len(ran_on) >= 3, 'the coroutine and two forever runs')

    assert set(ran_on) == {(loop, threading.get_ident())}
    assert loop_events.done[0].error is None


def test_from_a_thread_without_a_loop_the_task_fails_and_its_coroutine_is_closed(
        context, service, events, caplog):
    coros = []

    def from_thread():
        coros.append(nothing())
        coros.append(service.schedule_threadsafe(coros[0], name='no-loop'))

    with no_unawaited_coroutines():
        thread = threading.Thread(target=from_thread)
        thread.start()
        thread.join()
        coro, task_id = coros
        assert task_id > 0
        iterate_until(context, lambda: events.done, 'task-done')
        assert is_closed(coro)
        del coro, coros

    assert is_failed(events.done[0].error, events.done[0].error.message)
    assert events.done[0].error.message.startswith(
        'RuntimeError: No asyncio event loop runs on the main context')
    [record] = asab_records(caplog)
    assert record.getMessage().startswith('Task “no-loop” (%d) failed: RuntimeError' % task_id)


def test_a_loop_closed_before_the_task_starts_fails_it(loop, loop_service, loop_events):
    held = Held()
    loop_service.props.max_concurrent = 1

    with no_unawaited_coroutines():
        coro = nothing()
        loop_service.schedule(held.func, 'first')
        loop_service.schedule(coro, name='after-close')
        run_until(loop, lambda: held.started, 'the first task to start')
        loop.close()
        held.task('first').return_boolean(True)
        iterate_until(loop._context, lambda: len(loop_events.done) == 2, 'both task-done')
        assert is_closed(coro)
        del coro

    assert loop_events.done[1].name == 'after-close'
    assert is_failed(loop_events.done[1].error, 'RuntimeError: Event loop is closed')
