# test_limits.py: max-concurrent and max-queued
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import weakref

from asabtest import Held, iterate_ready, iterate_until


def test_max_concurrent_holds_tasks_back_in_order(context, service, events):
    held = Held()
    service.props.max_concurrent = 2
    for label in 'abcde':
        service.schedule(held.func, label, name=label)

    iterate_until(context, lambda: len(held.started) == 2, 'two tasks to start')
    iterate_ready(context)
    assert held.labels() == ['a', 'b']
    assert (service.props.n_running, service.props.n_queued) == (2, 3)

    held.task('b').return_boolean(True)
    iterate_until(context, lambda: len(held.started) == 3, 'a third task to start')
    iterate_ready(context)
    assert held.labels() == ['a', 'b', 'c']
    assert (service.props.n_running, service.props.n_queued) == (2, 2)

    for label in 'acde':
        iterate_until(context, lambda: label in held.labels(), 'task %s to start' % label)
        held.task(label).return_boolean(True)
    iterate_until(context, lambda: len(events.done) == 5, 'every task-done')

    assert [ended.name for ended in events.done] == ['b', 'a', 'c', 'd', 'e']


def test_raising_max_concurrent_starts_waiting_tasks(context, service, events):
    held = Held()
    service.props.max_concurrent = 1
    for label in 'abc':
        service.schedule(held.func, label)
    iterate_until(context, lambda: held.started, 'a task to start')
    iterate_ready(context)
    assert held.labels() == ['a']

    service.props.max_concurrent = 0
    iterate_until(context, lambda: len(held.started) == 3, 'the waiting tasks to start')

    assert held.labels() == ['a', 'b', 'c']
    for label in 'abc':
        held.task(label).return_boolean(True)
    iterate_until(context, lambda: len(events.done) == 3, 'every task-done')


def test_max_queued_refuses_beyond_the_limit(context, service, events, glib_log):
    held = Held()
    service.props.max_queued = 2

    class Refused:
        def __call__(self, task, cancellable):
            raise AssertionError('a refused task ran')

    refused = Refused()
    refused_ref = weakref.ref(refused)
    first = service.schedule(held.func, 'a', name='a')
    second = service.schedule(held.func, 'b', name='b')
    third = service.schedule(refused, name='c')
    del refused

    assert first > 0 and second > 0
    assert third == 0
    # Refused at once: the function has been released already.
    assert refused_ref() is None
    assert glib_log.warnings() == [
        'The task queue is full: task “c” was refused '
        '(limit 2, 0 more refused since the last warning)'
    ]

    iterate_until(context, lambda: len(held.started) == 2, 'the accepted tasks to start')
    for label in 'ab':
        held.task(label).return_boolean(True)
    iterate_until(context, lambda: len(events.done) == 2, 'task-done of the accepted tasks')
    assert sorted(ended.name for ended in events.done) == ['a', 'b']
