# test_type_errors.py: what is not a task is a TypeError that says what to write
#
# An async function or a generator function where a callback or a coroutine
# belongs would be a task that hangs, or one that "succeeds" without running
# its body: the call refuses it at once.
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import functools

import pytest

from asabtest import (asab_records, is_closed, is_failed, iterate_until,
                      no_unawaited_coroutines, run_until)


async def fetch():
    pass


def lines():
    yield 1


async def agen():
    yield 1


class AsyncCallable:
    async def __call__(self, task, cancellable):
        pass


def nothing_scheduled(service):
    return (service.props.n_queued, service.props.n_running) == (0, 0)


@pytest.mark.parametrize('method', ['schedule', 'schedule_threadsafe'])
@pytest.mark.parametrize('func', [fetch, functools.partial(fetch), AsyncCallable()],
                         ids=['function', 'partial', 'callable object'])
def test_async_function_itself_says_to_call_it(context, service, method, func):
    with pytest.raises(TypeError, match=r'%s\(\) got the async function .* itself: schedule a '
                                        r'call of it, %s\(.*\(\)\)' % (method, method)):
        getattr(service, method)(func)
    assert nothing_scheduled(service)


def test_async_function_message_names_it(context, service):
    with pytest.raises(TypeError) as raised:
        service.schedule(fetch)
    assert str(raised.value) == ('schedule() got the async function fetch itself: schedule a '
                                 'call of it, schedule(fetch()), or pass it to run_forever()')


@pytest.mark.parametrize('method', ['schedule', 'schedule_threadsafe', 'run_forever'])
@pytest.mark.parametrize('func, kind', [(lines, 'generator function'),
                                        (agen, 'async generator function')])
def test_generator_function_is_refused(context, service, method, func, kind):
    with pytest.raises(TypeError, match=r'%s\(\) got the %s %s, which would return a generator '
                                        r'without running' % (method, kind, func.__name__)):
        getattr(service, method)(func)
    assert nothing_scheduled(service)


@pytest.mark.parametrize('func, kind', [(fetch, 'async function'),
                                        (lines, 'generator function'),
                                        (agen, 'async generator function')])
def test_schedule_in_thread_takes_a_plain_function(context, service, func, kind):
    with pytest.raises(TypeError, match=r'schedule_in_thread\(\) runs a plain function, '
                                        r'func\(cancellable, \*args\), on a worker thread, and '
                                        r'got the %s %s' % (kind, func.__name__)):
        service.schedule_in_thread(func)
    assert nothing_scheduled(service)


def test_run_forever_takes_the_function_not_a_coroutine(context, service):
    with no_unawaited_coroutines():
        coro = fetch()
        with pytest.raises(TypeError, match=r'write run_forever\(fetch\), without the '
                                            r'parentheses, or schedule\(fetch\(\)\)'):
            service.run_forever(coro)
        assert is_closed(coro)
        del coro
    assert nothing_scheduled(service)


def test_run_forever_does_not_mix_async_functions_and_arguments(context, service):
    with pytest.raises(TypeError, match=r"run_forever\(\) takes async functions, called with no "
                                        r"arguments, or one callback and its arguments: got 'x'"):
        service.run_forever(fetch, 'x')
    assert nothing_scheduled(service)


def test_generator_is_not_a_task(context, service):
    with pytest.raises(TypeError, match=r'schedule\(\) got a generator, lines, which is not a '
                                        r'task'):
        service.schedule(lines())
    assert nothing_scheduled(service)


def test_a_refused_argument_closes_every_coroutine_of_the_call(context, service):
    with no_unawaited_coroutines():
        coro = fetch()
        with pytest.raises(TypeError, match=r"schedule\(\) takes coroutines, asyncio Futures and "
                                            r"Tasks, or a callback .*: got str"):
            service.schedule(coro, 'not a task')
        assert is_closed(coro)
        del coro
    assert nothing_scheduled(service)


def test_async_function_among_coroutines_says_to_call_it(context, service):
    with no_unawaited_coroutines():
        coro = fetch()
        with pytest.raises(TypeError, match=r'schedule\(\) got the async function fetch itself '
                                            r'among coroutines: write fetch\(\)'):
            service.schedule(coro, fetch)
        assert is_closed(coro)
        del coro


def test_callback_that_returns_a_coroutine_fails_its_task(context, service, events, caplog):
    # A wrapper that the checks cannot see through.
    with no_unawaited_coroutines():
        service.schedule(lambda task, cancellable: fetch(), name='wrapper')
        iterate_until(context, lambda: events.done, 'task-done')

    error = events.done[0].error
    assert is_failed(error, error.message)
    assert error.message.startswith('TypeError: the task function returned <coroutine object '
                                    'fetch at ')
    assert error.message.endswith('which never runs: schedule the coroutine itself, '
                                  'schedule(coroutine)')
    assert [r.exc_info[0] for r in asab_records(caplog)] == [TypeError]


def test_thread_function_that_returns_a_coroutine_fails_its_task(context, service, events):
    with no_unawaited_coroutines():
        service.schedule_in_thread(lambda cancellable: fetch(), name='wrapper')
        iterate_until(context, lambda: events.done, 'task-done')

    assert events.done[0].error.message.startswith(
        'TypeError: the thread function returned <coroutine object fetch at ')


def test_forever_function_that_returns_no_coroutine_fails_each_run(loop, loop_service,
                                                                   loop_events):
    calls = []

    def looks_async():
        calls.append(True)

    # Marked as a coroutine function, as unittest.mock marks its AsyncMock
    # on this Python.
    looks_async._is_coroutine = asyncio.coroutines._is_coroutine
    task_id = loop_service.run_forever(looks_async)
    run_until(loop, lambda: len(loop_events.failed) >= 2, 'two failed runs')
    loop_service.cancel(task_id)

    assert len(calls) >= 2
    assert loop_events.failed[0].error.message == (
        'TypeError: test_forever_function_that_returns_no_coroutine_fails_each_run.<locals>.'
        'looks_async() returned None, not a coroutine')
