# test_exceptions.py: a Python exception that escapes a task function
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import logging
import os
import subprocess
import sys
import textwrap
import threading

from asabtest import (Asab, Events, Gio, GLib, StrRaises, asab_records, is_cancelled, is_failed,
                      iterate_ready, iterate_until)


def raise_boom(task, cancellable):
    raise ValueError('boom')


def test_exception_fails_the_task_with_its_type_and_message(context, service, events):
    task_id = service.schedule(raise_boom, name='raiser')
    iterate_until(context, lambda: events.done, 'task-done')

    [(name, error, task)] = events.done
    assert name == 'raiser'
    assert is_failed(error, 'ValueError: boom')
    [(failed_name, failed_error, failed_task)] = events.failed
    assert is_failed(failed_error, 'ValueError: boom')
    assert task_id > 0
    assert service.props.n_running == 0


def test_failure_is_logged_once_with_its_traceback(context, service, events, caplog, glib_log):
    task_id = service.schedule(raise_boom, name='raiser')
    iterate_until(context, lambda: events.done, 'task-done')

    # On the Python logger, in place of the library's warning.
    assert glib_log.warnings() == []
    [record] = asab_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == 'Task “raiser” (%d) failed: ValueError: boom' % task_id
    assert (record.asab_task_id, record.asab_task_name) == (task_id, 'raiser')
    assert record.exc_info[0] is ValueError
    assert "raise ValueError('boom')" in caplog.text
    assert 'in raise_boom' in caplog.text
    # The traceback starts in the task function, not in the binding.
    assert 'gi/overrides/Asab.py' not in caplog.text
    assert caplog.text.count('Traceback') == 1


def test_unnamed_failure_is_logged_with_the_library_words(context, service, events, caplog):
    task_id = service.schedule(raise_boom)
    iterate_until(context, lambda: events.done, 'task-done')

    [record] = asab_records(caplog)
    assert record.getMessage() == 'Unnamed task (%d) failed: ValueError: boom' % task_id


def test_task_failed_handler_that_returns_true_keeps_the_failure_out_of_every_log(
        context, service, caplog, glib_log):
    events = Events(service, keep_failures_out_of_log=True)

    service.schedule(raise_boom, name='handled')
    iterate_until(context, lambda: events.done, 'task-done')

    assert [ended.error.message for ended in events.failed] == ['ValueError: boom']
    assert asab_records(caplog) == []
    assert glib_log.warnings() == []


def test_task_failed_handler_that_returns_false_leaves_the_log_to_the_binding(
        context, service, events, caplog, glib_log):
    # events' handler returns False, and was connected first.
    later_handler_calls = []
    service.connect('task-failed', lambda *args: later_handler_calls.append(args) or False)

    service.schedule(raise_boom, name='logged')
    iterate_until(context, lambda: events.done, 'task-done')

    assert len(later_handler_calls) == 1
    assert len(asab_records(caplog)) == 1
    assert glib_log.warnings() == []


def test_returned_error_is_still_logged_by_the_library(context, service, events, caplog, glib_log):
    # Not an exception: no traceback, the library's own warning.
    def func(task, cancellable):
        task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'plain failure',
                                                 Gio.IOErrorEnum.FAILED))

    task_id = service.schedule(raise_boom, name='raiser')
    other_id = service.schedule(func, name='returner')
    iterate_until(context, lambda: len(events.done) == 2, 'both task-done')

    assert glib_log.warnings() == ['Task “returner” (%d) failed: plain failure' % other_id]
    assert [r.getMessage() for r in asab_records(caplog)] == [
        'Task “raiser” (%d) failed: ValueError: boom' % task_id]


def test_exception_without_a_message(context, service, events):
    class Oops(Exception):
        pass

    def func(task, cancellable):
        raise Oops()

    service.schedule(func)
    iterate_until(context, lambda: events.done, 'task-done')

    assert is_failed(events.done[0].error, 'Oops')


def test_exception_after_synchronous_completion_keeps_the_result(context, service, events, caplog):
    # G_DEBUG=fatal-criticals: a second return would abort the test.
    def func(task, cancellable):
        task.return_boolean(True)
        raise RuntimeError('too late')

    service.schedule(func, name='late')
    iterate_until(context, lambda: events.done, 'task-done')
    iterate_ready(context)

    assert [(ended.name, ended.error) for ended in events.done] == [('late', None)]
    assert events.failed == []
    [record] = [r for r in caplog.records if r.name == 'Asab']
    assert record.getMessage() == 'Task “late” raised an exception after it had completed its task'
    assert record.exc_info[0] is RuntimeError


def test_exception_after_completion_from_another_thread_keeps_the_result(context, service, events):
    # The GTask's callback is still pending when func raises: only the
    # binding's own bookkeeping knows the task has its result.
    completed_when_raising = []

    def func(task, cancellable):
        returner = threading.Thread(target=task.return_boolean, args=(True,))
        returner.start()
        returner.join()
        completed_when_raising.append(task.get_completed())
        raise RuntimeError('after the thread returned the task')

    service.schedule(func, name='threaded-return')
    iterate_until(context, lambda: events.done, 'task-done')
    iterate_ready(context)

    assert completed_when_raising == [False]
    assert [(ended.name, ended.error) for ended in events.done] == [('threaded-return', None)]


def test_exception_after_cancelled_completion_keeps_the_result(context, service, events, caplog):
    # A cancelled GTask also completes an iteration later.
    returned = []

    def func(task, cancellable):
        cancellable.cancel()
        returned.append(task.return_error_if_cancelled())
        returned.append(task.get_completed())
        raise RuntimeError('after return_error_if_cancelled()')

    service.schedule(func, name='cancelled-return')
    iterate_until(context, lambda: events.done, 'task-done')
    iterate_ready(context)

    assert returned == [True, False]
    assert len(events.done) == 1
    assert is_cancelled(events.done[0].error)
    assert [r.exc_info[0] for r in caplog.records if r.name == 'Asab'] == [RuntimeError]


def test_exception_after_starting_async_work_fails_the_task_once(context, service, events):
    pending = []

    def func(task, cancellable):
        def finish_later(*args):
            # The task has failed already: this result is ignored.
            task.return_boolean(True)
            pending.remove(source)
            return GLib.SOURCE_REMOVE

        source = GLib.idle_source_new()
        source.set_callback(finish_later)
        source.attach(task.get_context())
        pending.append(source)
        raise ValueError('boom')

    service.schedule(func, name='half-started')
    iterate_until(context, lambda: events.done and not pending, 'task-done and the late return')
    iterate_ready(context)

    assert len(events.done) == 1
    assert is_failed(events.done[0].error, 'ValueError: boom')


def test_glib_error_is_passed_on_unchanged(context, service, events, tmp_path):
    raised = []

    def func(task, cancellable):
        try:
            Gio.File.new_for_path(str(tmp_path / 'missing')).read(cancellable)
        except GLib.Error as error:
            raised.append((error.domain, error.code, error.message))
            raise

    service.schedule(func, name='reader')
    iterate_until(context, lambda: events.done, 'task-done')

    error = events.done[0].error
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
    assert [(error.domain, error.code, error.message)] == raised


def test_cancellation_error_ends_the_task_as_cancelled_without_traceback(
        context, service, events, caplog, glib_log):
    def func(task, cancellable):
        cancellable.cancel()
        cancellable.set_error_if_cancelled()

    service.schedule(func, name='cancels-itself')
    iterate_until(context, lambda: events.done, 'task-done')

    assert is_cancelled(events.done[0].error)
    assert events.failed == []
    assert [r for r in caplog.records if r.name == 'Asab'] == []
    assert glib_log.warnings() == []


def test_bad_return_arguments_fail_the_task(context, service, events):
    def func(task, cancellable):
        task.return_error('not a GLib.Error')

    service.schedule(func, name='bad-return')
    iterate_until(context, lambda: events.done, 'task-done')

    error = events.done[0].error
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED)
    assert error.message.startswith('TypeError: ')


def test_second_return_by_func_itself_is_still_reported():
    # The binding ignores only the returns that come after it failed a task;
    # a function that returns its task twice gets GLib's critical, as in C.
    script = textwrap.dedent('''
        import gi
        gi.require_version('Asab', '1.0')
        from gi.repository import Asab, GLib

        context = GLib.MainContext.default()
        service = Asab.TaskService()
        done = []
        service.connect('task-done', lambda *args: done.append(args))

        def func(task, cancellable):
            task.return_boolean(True)
            task.return_boolean(True)

        service.schedule(func)
        while not done:
            context.iteration(True)
    ''')
    env = dict(os.environ)
    env.pop('G_DEBUG', None)
    result = subprocess.run([sys.executable, '-c', script], env=env, timeout=30,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    assert result.returncode == 0, result.stderr
    assert 'CRITICAL' in result.stderr
    assert 'g_task_return_boolean' in result.stderr


def test_exception_whose_str_raises_still_fails_the_task(context, service, events, caplog):
    def func(task, cancellable):
        raise StrRaises()

    task_id = service.schedule(func, name='unprintable')
    iterate_until(context, lambda: events.done, 'task-done')

    assert is_failed(events.done[0].error, 'StrRaises: <exception str() failed>')
    [record] = asab_records(caplog)
    assert record.getMessage() == ('Task “unprintable” (%d) failed: '
                                   'StrRaises: <exception str() failed>' % task_id)
    assert record.exc_info[0] is StrRaises
    # stop() has nothing left to wait for.
    assert (service.props.n_running, service.props.n_queued) == (0, 0)


def test_exception_with_a_nul_in_its_message_fails_the_task(context, service, events):
    def func(task, cancellable):
        raise ValueError('before\0after')

    service.schedule(func)
    iterate_until(context, lambda: events.done, 'task-done')

    assert is_failed(events.done[0].error, 'ValueError: before\\0after')


def run_script(script, timeout=30):
    env = dict(os.environ)
    return subprocess.run([sys.executable, '-c', textwrap.dedent(script)], env=env,
                          timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def test_sys_exit_on_the_main_thread_fails_the_task_and_exits():
    # As sys.exit() does in any GLib callback of PyGObject on the main
    # thread: the program ends with its status.
    result = run_script('''
        import sys
        import gi
        gi.require_version('Asab', '1.0')
        from gi.repository import Asab, GLib

        service = Asab.TaskService()
        service.connect('task-failed', lambda s, task, error: print(error.message, flush=True))

        def func(task, cancellable):
            sys.exit(7)

        service.schedule(func)
        while True:
            GLib.MainContext.default().iteration(True)
    ''')

    assert result.returncode == 7, result.stderr


def test_sys_exit_on_a_context_of_another_thread_fails_the_task_only(service):
    # The service's context runs on a threading.Thread: sys.exit() in a task
    # there ends the task, as it would end that thread, not the program.
    context = GLib.MainContext.new()
    other = Asab.TaskService.new(context)
    events = Events(other)
    ran = []

    def func(task, cancellable):
        ran.append(threading.get_ident())
        sys.exit(7)

    def run_context():
        context.push_thread_default()
        try:
            other.schedule(func, name='exits')
            iterate_until(context, lambda: events.done, 'task-done')
        finally:
            context.pop_thread_default()

    thread = threading.Thread(target=run_context)
    thread.start()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert len(ran) == 1 and ran[0] != threading.get_ident()
    assert is_failed(events.done[0].error, 'SystemExit: 7')
