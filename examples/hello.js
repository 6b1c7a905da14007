#!/usr/bin/env -S gjs -m
// hello.js: ASAB's TaskService example, in GJS
//
// Copyright 2026 The asab-glib authors
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original schedules three coroutines on the application's
// TaskService:
//
//     class MyApp(asab.Application):
//         async def main(self):
//             asab.Application.TaskService.schedule(
//                 self.task1(),
//                 self.task2(),
//                 self.task3(),
//             )
//
// Here each coroutine is a function that starts a timer, the counterpart of
// `await asyncio.sleep()`, and completes its Gio.Task when the timer fires.
// The three tasks run concurrently: task2 ends first and task1 last. task3
// fails; the service writes that failure to the log, as ASAB does, and
// reports it in task-done. It prints:
//
//     task2 done
//     task3 failed: something went wrong in task3
//     task1 done
//
// From the build tree:
//
//     GI_TYPELIB_PATH=BUILDDIR/introspection LD_LIBRARY_PATH=BUILDDIR/src \
//       gjs -m examples/hello.js

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Asab from 'gi://Asab?version=1.0';
import System from 'system';

// The body of a "coroutine" that sleeps: completes task after delayMs with
// wake(task), unless the task has been cancelled by then.
function sleepThen(task, delayMs, wake) {
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, delayMs, () => {
        if (!task.return_error_if_cancelled())
            wake(task);
        return GLib.SOURCE_REMOVE;
    });
}

function succeed(task) {
    task.return_boolean(true);
}

// A JavaScript exception would not complete the task: a failing task
// completes it with its error.
function fail(task) {
    task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED,
        `something went wrong in ${task.get_name()}`));
}

function task1(task, _cancellable) {
    sleepThen(task, 300, succeed);
}

function task2(task, _cancellable) {
    sleepThen(task, 100, succeed);
}

function task3(task, _cancellable) {
    sleepThen(task, 200, fail);
}

const loop = new GLib.MainLoop(null, false);
const service = new Asab.TaskService();
const tasks = {task1, task2, task3};
let nDone = 0;
let status = 0;

service.connect('task-done', (_service, task, error) => {
    if (error === null)
        print(`${task.get_name()} done`);
    else
        print(`${task.get_name()} failed: ${error.message}`);

    if (++nDone < Object.keys(tasks).length)
        return;

    service.stop_async(null, (_source, result) => {
        try {
            service.stop_finish(result);
        } catch (e) {
            printerr(`stop: ${e.message}`);
            status = 1;
        }
        loop.quit();
    });
});

for (const [name, func] of Object.entries(tasks))
    service.schedule(name, func);

loop.run();

System.exit(status);
