# test_in_thread.py: schedule_in_thread(), blocking work on a worker thread
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import subprocess
import sys
import textwrap
import threading
import weakref

from asabtest import StrRaises, asab_records, is_cancelled, is_failed, iterate_until, TIMEOUT


def test_func_runs_on_a_worker_thread_with_its_arguments(context, service, events):
    calls = []

    def work(cancellable, a, b):
        calls.append((threading.get_ident(), cancellable, a, b))

    task_id = service.schedule_in_thread(work, 'a', b'b', name='worker')

    assert task_id > 0
    iterate_until(context, lambda: events.done, 'task-done')
    [(thread, cancellable, a, b)] = calls
    assert thread != threading.get_ident()
    assert cancellable is events.done[0].task.get_cancellable()
    assert (a, b) == ('a', b'b')
    assert [(ended.name, ended.error) for ended in events.done] == [('worker', None)]


def test_return_value_is_collected_and_discarded(context, service, events):
    class Result:
        pass

    results = []

    def work(cancellable):
        result = Result()
        results.append(weakref.ref(result))
        return result

    service.schedule_in_thread(work, name='returns')
    iterate_until(context, lambda: events.done, 'task-done')
    gc.collect()

    assert events.done[0].error is None
    [result] = results
    assert result() is None


def test_exception_fails_the_task_and_is_logged_once(context, service, events, caplog, glib_log):
    def work(cancellable):
        raise ValueError('boom')

    task_id = service.schedule_in_thread(work, name='raises')
    iterate_until(context, lambda: events.done, 'task-done')

    assert is_failed(events.done[0].error, 'ValueError: boom')
    assert is_failed(events.failed[0].error, 'ValueError: boom')
    assert glib_log.warnings() == []
    [record] = asab_records(caplog)
    assert record.getMessage() == 'Task “raises” (%d) failed: ValueError: boom' % task_id
    assert record.exc_info[0] is ValueError
    assert 'in work' in caplog.text


def test_cancel_reaches_the_worker(context, service, events, caplog):
    started = threading.Event()
    seen = []

    def work(cancellable):
        cancelled = threading.Event()
        handler = cancellable.connect(lambda *args: cancelled.set())
        started.set()
        try:
            seen.append(cancelled.wait(TIMEOUT))
            # Blocking GIO calls raise the cancellation as a GLib.Error.
            cancellable.set_error_if_cancelled()
        finally:
            cancellable.disconnect(handler)

    task_id = service.schedule_in_thread(work, name='interrupted')
    iterate_until(context, started.is_set, 'the worker to start')
    assert service.cancel(task_id)
    iterate_until(context, lambda: events.done, 'task-done')

    assert seen == [True]
    assert is_cancelled(events.done[0].error)
    assert events.failed == []
    assert [r for r in caplog.records if r.name == 'Asab'] == []


def test_exception_whose_str_raises_fails_the_task(context, service, events, caplog):
    def work(cancellable):
        raise StrRaises()

    service.schedule_in_thread(work, name='unprintable')
    iterate_until(context, lambda: events.done, 'task-done')

    # Not a success.
    assert is_failed(events.done[0].error, 'StrRaises: <exception str() failed>')
    assert [r.exc_info[0] for r in asab_records(caplog)] == [StrRaises]


def test_sys_exit_fails_the_task_and_the_program_goes_on():
    # PyGObject would call Py_Exit() on the worker thread, which blocks
    # there for ever: in a child process, so that a hang fails the test.
    script = textwrap.dedent('''
        import sys
        import gi
        gi.require_version('Asab', '1.0')
        from gi.repository import Asab, GLib

        context = GLib.MainContext.default()
        service = Asab.TaskService()
        done = []
        service.connect('task-done', lambda s, task, error: done.append(error))

        def work(cancellable):
            sys.exit(7)

        service.schedule_in_thread(work, name='exits')
        while not done:
            context.iteration(True)
        print('task-done:', done[0].message, flush=True)
        service.stop()
        print('stopped', service.props.n_running, service.props.n_queued, flush=True)
    ''')
    result = subprocess.run([sys.executable, '-c', script], timeout=30,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['task-done: SystemExit: 7', 'stopped 0 0']
    # Logged once, as a failure.
    assert result.stderr.count('Task “exits” (1) failed: SystemExit: 7') == 1
    assert 'Asab-WARNING' not in result.stderr
