// test-task-service.js: AsabTaskService as GJS sees it, through the typelib
//
// Copyright 2026 The asab-glib authors
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run by `meson test --suite gjs` with the build tree's typelib and library:
//
//   GI_TYPELIB_PATH=BUILDDIR/introspection LD_LIBRARY_PATH=BUILDDIR/src \
//     gjs -m tests/gjs/test-task-service.js
//
// Prints TAP and exits non-zero when a test fails. JavaScript functions run
// on the main thread only, so schedule_in_thread() and schedule_threadsafe()
// from other threads are the C and Python tests' business.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Asab from 'gi://Asab?version=1.0';
import System from 'system';

const WAIT_TIMEOUT_MS = 5000;

class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

function assert(condition, message) {
    if (!condition)
        throw new AssertionError(message);
}

function assertEqual(actual, expected, what) {
    if (actual !== expected)
        throw new AssertionError(`${what}: expected ${expected}, got ${actual}`);
}

function assertError(error, domain, code, what) {
    assert(error instanceof GLib.Error, `${what}: expected a GLib.Error, got ${error}`);
    assert(error.matches(domain, code),
        `${what}: expected error code ${code}, got ${error.code}: ${error.message}`);
}

// Iterates the default main context until condition() holds; fails after a
// bound instead of hanging the test run.
function iterateUntil(what, condition, timeoutMs = WAIT_TIMEOUT_MS) {
    const context = GLib.MainContext.default();
    let timedOut = false;
    const timeoutId = GLib.timeout_add(GLib.PRIORITY_DEFAULT, timeoutMs, () => {
        timedOut = true;
        return GLib.SOURCE_REMOVE;
    });

    while (!condition() && !timedOut)
        context.iteration(true);

    if (!timedOut)
        GLib.source_remove(timeoutId);
    assert(condition(), `timed out after ${timeoutMs} ms waiting for ${what}`);
}

// Iterates until nothing is pending, to show that something did not happen.
function iterateIdle() {
    const context = GLib.MainContext.default();
    while (context.pending())
        context.iteration(false);
}

// Records every task-done emission as {name, error}.
function recordTaskDone(service) {
    const done = [];
    service.connect('task-done', (_service, task, error) => {
        done.push({name: task.get_name(), error});
    });
    return done;
}

// Calls func after ms milliseconds on the default main context.
function later(ms, func) {
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        func();
        return GLib.SOURCE_REMOVE;
    });
}

// A task function that ends only when its task is cancelled.
function untilCancelled(task, cancellable) {
    cancellable.connect(() => task.return_error_if_cancelled());
}

const tests = [];
let services = [];

function test(name, func) {
    tests.push({name, func});
}

// A service for one test, stopped once the test is over.
function newService() {
    const service = new Asab.TaskService();
    services.push(service);
    return service;
}

test('/task-service/schedule/success', () => {
    const service = newService();
    const done = recordTaskDone(service);
    let ran = null;

    const id = service.schedule('one', (task, cancellable) => {
        ran = {task, cancellable, nRunning: service.n_running};
        task.return_boolean(true);
    });

    assert(id > 0, `schedule() returned ${id}, not an id`);
    assertEqual(ran, null, 'the function ran inside schedule()');
    assertEqual(service.n_queued, 1, 'n-queued after schedule()');

    iterateUntil('task-done', () => done.length === 1);

    assert(ran.task instanceof Gio.Task, 'the function got no Gio.Task');
    assert(ran.cancellable instanceof Gio.Cancellable, 'the function got no Gio.Cancellable');
    assertEqual(ran.task.get_name(), 'one', 'the task\'s name');
    assertEqual(ran.task.get_source_object(), service, 'the task\'s source object');
    assertEqual(ran.task.get_cancellable(), ran.cancellable, 'the task\'s cancellable');
    assertEqual(ran.nRunning, 1, 'n-running while the function runs');
    assertEqual(done[0].name, 'one', 'the name given to task-done');
    assertEqual(done[0].error, null, 'the error given to task-done for a success');
    assertEqual(service.n_running, 0, 'n-running at the end');
});

test('/task-service/schedule/ids', () => {
    const service = newService();
    const done = recordTaskDone(service);
    const ids = [];

    for (let i = 0; i < 3; i++)
        ids.push(service.schedule(`task${i}`, task => task.return_boolean(true)));

    iterateUntil('three task-done', () => done.length === 3);

    assertEqual(new Set(ids).size, 3, `ids ${ids} are not distinct`);
    assert(ids.every(id => id > 0), `ids ${ids} are not all above 0`);
    assertEqual(done.map(d => d.name).join(' '), 'task0 task1 task2', 'the order of task-done');
});

test('/task-service/schedule/completes-later', () => {
    const service = newService();
    const done = recordTaskDone(service);
    let completed = false;

    service.schedule('later', task => {
        later(20, () => {
            completed = true;
            task.return_boolean(true);
        });
    });

    iterateUntil('task-done', () => done.length === 1);

    assert(completed, 'task-done came before the task was completed');
    assertEqual(done[0].error, null, 'the error given to task-done');
});

test('/task-service/failure/error', () => {
    const service = newService();
    const done = recordTaskDone(service);
    const order = [];
    let failedError = null;

    service.connect('task-failed', (_service, _task, error) => {
        order.push('task-failed');
        failedError = error;
        // Taken over: keeps the expected failure out of the log.
        return true;
    });
    service.connect('task-done', () => order.push('task-done'));

    service.schedule('broken', task => {
        task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED, 'boom'));
    });

    iterateUntil('task-done', () => done.length === 1);

    assertEqual(done[0].name, 'broken', 'the name given to task-done');
    assertError(done[0].error, Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED, 'task-done');
    assertEqual(done[0].error.message, 'boom', 'the message given to task-done');
    assertError(failedError, Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED, 'task-failed');
    assertEqual(order.join(' '), 'task-failed task-done', 'the order of the signals');
});

test('/task-service/failure/does-not-stop-others', () => {
    const service = newService();
    const done = recordTaskDone(service);

    service.connect('task-failed', () => true);
    service.schedule('bad', task => {
        task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'bad'));
    });
    service.schedule('good', task => later(10, () => task.return_boolean(true)));

    iterateUntil('two task-done', () => done.length === 2);

    assertEqual(done.map(d => `${d.name}:${d.error ? d.error.message : 'ok'}`).join(' '),
        'bad:bad good:ok', 'the results');
});

test('/task-service/cancel/queued', () => {
    const service = newService();
    const done = recordTaskDone(service);
    let victimRan = false;
    let blocker = null;

    service.max_concurrent = 1;
    service.schedule('blocker', task => {
        blocker = task;
    });
    const victimId = service.schedule('victim', () => {
        victimRan = true;
    });

    iterateUntil('the blocker to start', () => blocker !== null);
    assertEqual(service.n_queued, 1, 'n-queued with one task waiting');

    assert(service.cancel(victimId), 'cancel() of a queued task returned false');
    iterateUntil('task-done of the victim', () => done.length === 1);

    assertEqual(done[0].name, 'victim', 'the cancelled task');
    assertError(done[0].error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'task-done');
    assert(!service.cancel(victimId), 'cancel() of an ended task returned true');

    blocker.return_boolean(true);
    iterateUntil('task-done of the blocker', () => done.length === 2);
    iterateIdle();
    assert(!victimRan, 'the function of a task cancelled before it started ran');
});

test('/task-service/cancel/running', () => {
    const service = newService();
    const done = recordTaskDone(service);
    let started = false;

    const id = service.schedule('running', (task, cancellable) => {
        started = true;
        untilCancelled(task, cancellable);
    });

    iterateUntil('the task to start', () => started);
    iterateIdle();
    assertEqual(done.length, 0, 'task-done emissions before cancel()');

    assert(service.cancel(id), 'cancel() of a running task returned false');
    iterateUntil('task-done', () => done.length === 1);

    assertError(done[0].error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'task-done');
    assert(!service.cancel(id), 'cancel() of an ended task returned true');
    assert(!service.cancel(id + 1000), 'cancel() of an unknown id returned true');
});

test('/task-service/max-concurrent', () => {
    const service = newService();
    const done = recordTaskDone(service);
    const notified = [];
    let running = 0;
    let mostRunning = 0;
    let mostNRunning = 0;

    service.connect('notify::max-concurrent', () => notified.push(service.max_concurrent));
    service.max_concurrent = 2;
    assertEqual(service.get_max_concurrent(), 2, 'get_max_concurrent()');
    assertEqual(notified.join(' '), '2', 'notify::max-concurrent');

    for (let i = 0; i < 6; i++) {
        service.schedule(`limited${i}`, task => {
            running++;
            mostRunning = Math.max(mostRunning, running);
            mostNRunning = Math.max(mostNRunning, service.n_running);
            later(10, () => {
                running--;
                task.return_boolean(true);
            });
        });
    }

    iterateUntil('six task-done', () => done.length === 6);

    assertEqual(mostRunning, 2, 'the most tasks that ran at once');
    assertEqual(mostNRunning, 2, 'the highest n-running');
    assertEqual(done.map(d => d.name).join(' '),
        'limited0 limited1 limited2 limited3 limited4 limited5', 'the order of task-done');
    assert(done.every(d => d.error === null), 'a limited task failed');
});

test('/task-service/run-forever/restarts', () => {
    const service = newService();
    const done = recordTaskDone(service);
    const tasks = new Set();
    let runs = 0;

    // The same JavaScript function, called again for every run.
    const id = service.run_forever('forever', task => {
        runs++;
        tasks.add(task);
        task.return_boolean(true);
    });

    iterateUntil('three runs', () => runs >= 3);
    assertEqual(done.length, 0, 'task-done emissions while the task runs forever');
    assertEqual(tasks.size, runs, 'distinct Gio.Tasks for the runs');

    assert(service.cancel(id), 'cancel() of a forever task returned false');
    iterateUntil('task-done', () => done.length === 1);
    const runsAtEnd = runs;
    iterateIdle();

    assertEqual(done[0].name, 'forever', 'the name given to task-done');
    assertEqual(runs, runsAtEnd, 'runs after task-done');
});

test('/task-service/stop/completes', () => {
    const service = newService();
    const done = recordTaskDone(service);
    let stopped = null;

    service.schedule('waiting', untilCancelled);
    iterateUntil('the task to start', () => service.n_running === 1);

    service.stop_async(null, (source, result) => {
        try {
            stopped = {ok: source.stop_finish(result), doneBefore: done.length};
        } catch (e) {
            stopped = {error: e};
        }
    });
    iterateUntil('the stop', () => stopped !== null);

    assertEqual(stopped.error, undefined, 'stop_finish() threw');
    assertEqual(stopped.ok, true, 'stop_finish()');
    assertEqual(stopped.doneBefore, 1, 'task-done emissions before the stop completed');
    assertError(done[0].error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'task-done');

    const refusedId = service.schedule('too-late', task => task.return_boolean(true));
    assertEqual(refusedId, 0, 'schedule() after the stop');
});

test('/task-service/stop/timeout', () => {
    const service = newService();
    let stopError = null;

    service.stop_timeout = 50;
    // Ignores its cancellation: the stop has to give up on it.
    service.schedule('stubborn', () => {});
    iterateUntil('the task to start', () => service.n_running === 1);

    service.stop_async(null, (source, result) => {
        try {
            source.stop_finish(result);
            stopError = 'stop_finish() did not throw';
        } catch (e) {
            stopError = e;
        }
    });
    iterateUntil('the stop to time out', () => stopError !== null);

    assertError(stopError, Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT, 'stop_finish()');
    assertEqual(stopError.message, '1+0 pending and incomplete tasks', 'the message of stop_finish()');
});

test('/task-service/tasks/list', () => {
    const service = newService();
    const done = recordTaskDone(service);
    const tasks = service.get_tasks();
    const changes = [];
    tasks.connect('items-changed', (_model, position, removed, added) => {
        changes.push({position, removed, added});
    });
    let held = null;

    service.schedule('held', task => {
        held = task;
    });
    service.schedule('quick', task => task.return_boolean(true));

    assertEqual(tasks.get_n_items(), 2, 'items after two schedule() calls');
    const first = tasks.get_item(0);
    assert(first instanceof Asab.TaskInfo, `the item is not an Asab.TaskInfo: ${first}`);
    assertEqual(first.name, 'held', 'the first item');
    assertEqual(tasks.get_item(1).name, 'quick', 'the second item');
    assertEqual(first.state, Asab.TaskState.QUEUED, 'state before the start');
    assertEqual(first.kind, Asab.TaskKind.FUNCTION, 'kind');
    assertEqual(first.progress, -1, 'progress while unknown');

    iterateUntil('the quick task to end', () => done.length === 1 && held !== null);
    assertEqual(tasks.get_n_items(), 1, 'items once the quick task ended');
    assertEqual(first.state, Asab.TaskState.RUNNING, 'state once started');
    assert(first.started_at > 0, `started-at is ${first.started_at}`);

    // Progress comes on the context, coalesced.
    const notified = [];
    first.connect('notify::progress', info => notified.push(info.progress));
    service.set_progress(held, 0.25, 'a quarter');
    service.set_progress(held, 0.75, 'three quarters');
    iterateUntil('the progress', () => first.status !== null);
    assertEqual(first.progress, 0.75, 'progress');
    assertEqual(first.status, 'three quarters', 'status');
    assertEqual(notified.length, 1, 'progress notifications for two calls in one iteration');

    assert(first.cancel(), 'cancel() of a live task');
    iterateUntil('the cancellation to show', () => first.state === Asab.TaskState.CANCELLING);
    held.return_error_if_cancelled();
    iterateUntil('the held task to end', () => done.length === 2);
    assertEqual(tasks.get_n_items(), 0, 'items at the end');
    assertEqual(changes.length, 4, 'items-changed emissions: two added, two removed');
});

test('/task-service/for-object/owner-goes', () => {
    const service = newService();
    const done = recordTaskDone(service);
    let owner = new Gio.SimpleAction({name: 'owner'});
    let started = false;

    service.schedule_for_object(owner, 'owned', (task, cancellable) => {
        started = true;
        untilCancelled(task, cancellable);
    });
    iterateUntil('the owned task to start', () => started);

    owner.run_dispose();
    owner = null;
    iterateUntil('the owned task to end', () => done.length === 1);
    assertError(done[0].error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'task-done');
});

let failures = 0;
tests.forEach(({name, func}, index) => {
    try {
        func();
        print(`ok ${index + 1} - ${name}`);
    } catch (e) {
        failures++;
        print(`not ok ${index + 1} - ${name}`);
        for (const line of `${e}\n${e.stack ?? ''}`.trim().split('\n'))
            print(`# ${line}`);
    } finally {
        for (const service of services) {
            // Bounds the wait for a task that a failed test left running.
            service.stop_timeout = 100;
            try {
                service.stop(null);
            } catch (e) {
                if (!e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT))
                    throw e;
            }
        }
        services = [];
    }
});
print(`1..${tests.length}`);

System.exit(failures > 0 ? 1 : 0);
