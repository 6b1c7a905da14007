# test_threads.py: schedule_threadsafe() and cancel() from Python threads
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading
import time

from asabtest import Asab, GLib, Held, ends_when_cancelled, is_cancelled, iterate_until

N_THREADS = 4
N_TASKS_PER_THREAD = 50


def test_schedule_threadsafe_from_several_threads_keeps_each_thread_order(context, service, events):
    main_thread = threading.get_ident()
    ran = []            # (thread index, sequence number, thread that ran it)
    ids = [[] for i in range(N_THREADS)]
    start = threading.Barrier(N_THREADS)

    def record(task, cancellable, index, sequence):
        ran.append((index, sequence, threading.get_ident()))
        task.return_boolean(True)

    def schedule_from_thread(index):
        start.wait(timeout=5)
        for sequence in range(N_TASKS_PER_THREAD):
            ids[index].append(service.schedule_threadsafe(record, index, sequence,
                                                          name='t%d-%d' % (index, sequence)))

    threads = [threading.Thread(target=schedule_from_thread, args=(index,))
               for index in range(N_THREADS)]
    for thread in threads:
        thread.start()
    # The context runs while the threads are still scheduling.
    total = N_THREADS * N_TASKS_PER_THREAD
    iterate_until(context, lambda: len(events.done) == total, 'every task-done')
    for thread in threads:
        thread.join()

    all_ids = [task_id for thread_ids in ids for task_id in thread_ids]
    assert len(set(all_ids)) == total and 0 not in all_ids
    for index in range(N_THREADS):
        assert [sequence for i, sequence, t in ran if i == index] == list(range(N_TASKS_PER_THREAD))
    assert {t for i, sequence, t in ran} == {main_thread}
    assert all(ended.error is None for ended in events.done)


def test_schedule_threadsafe_from_the_context_thread(context, service, events):
    held = Held()

    task_id = service.schedule_threadsafe(held.func, 'here', name='same-thread')

    assert task_id > 0
    assert held.started == []
    iterate_until(context, lambda: held.started, 'the task to start')
    held.task('here').return_boolean(True)
    iterate_until(context, lambda: events.done, 'task-done')
    assert [(ended.name, ended.error) for ended in events.done] == [('same-thread', None)]


def test_cancel_from_another_thread(context, service, events):
    started = []

    def func(task, cancellable):
        started.append(task)
        ends_when_cancelled(task, cancellable)

    task_id = service.schedule(func, name='cancelled-elsewhere')
    iterate_until(context, lambda: started, 'the task to start')

    results = []
    canceller = threading.Thread(target=lambda: results.append(service.cancel(task_id)))
    canceller.start()
    canceller.join()

    assert results == [True]
    iterate_until(context, lambda: events.done, 'task-done')
    assert is_cancelled(events.done[0].error)


def test_schedule_from_threads_on_the_default_context_loses_nothing():
    """Threads that call schedule() on a service of the default context, while
    a main loop runs it: every call is handed over, none is lost."""
    context = GLib.MainContext.default()
    service = Asab.TaskService()
    assert service.props.context == context
    n_threads, n_per_thread = 2, 20000
    done = []
    accepted = []
    lock = threading.Lock()

    service.connect('task-done', lambda service, task, error: done.append(error))

    def produce():
        ids = [service.schedule(lambda task, cancellable: task.return_boolean(True))
               for i in range(n_per_thread)]
        with lock:
            accepted.extend(ids)

    loop = GLib.MainLoop.new(context, False)
    threads = [threading.Thread(target=produce) for i in range(n_threads)]
    for thread in threads:
        thread.start()

    def check():
        if len(done) == n_threads * n_per_thread or time.monotonic() > deadline:
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    deadline = time.monotonic() + 60
    GLib.timeout_add(10, check)
    loop.run()
    for thread in threads:
        thread.join()

    assert len(accepted) == n_threads * n_per_thread and all(accepted)
    assert len(set(accepted)) == len(accepted)
    assert len(done) == n_threads * n_per_thread and not any(done)
    assert service.props.n_running == 0 and service.props.n_queued == 0
