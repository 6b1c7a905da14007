// test-in-thread.js: schedule_in_thread() from GJS
//
// Copyright 2026 The asab-glib authors
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS runs JavaScript on the main thread only: given a JavaScript function,
// schedule_in_thread() cannot run it on a worker thread. GJS says so with a
// critical and does not call the function; the task then fails as any task
// whose function returned without completing it, instead of hanging or
// passing for a success. Run without G_DEBUG=fatal-criticals: the critical
// is GJS's own, and expected.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Asab from 'gi://Asab?version=1.0';
import System from 'system';

const loop = new GLib.MainLoop(null, false);
const service = new Asab.TaskService();
let ran = false;
let result = null;

service.connect('task-done', (_service, task, error) => {
    result = {name: task.get_name(), error};
    loop.quit();
});
const id = service.schedule_in_thread('in-thread', task => {
    ran = true;
    task.return_boolean(true);
});
GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5000, () => {
    loop.quit();
    return GLib.SOURCE_REMOVE;
});
loop.run();

const checks = [
    ['the call returned an id', id > 0],
    ['the task ended', result !== null],
    ['the JavaScript function did not run', !ran],
    ['the task failed', result?.error?.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED) === true],
    ['with the message of a function that did not complete its task',
        result?.error?.message === 'The function returned without completing its task'],
];
checks.forEach(([what, ok], index) => print(`${ok ? 'ok' : 'not ok'} ${index + 1} - ${what}`));
print(`1..${checks.length}`);
System.exit(checks.every(([, ok]) => ok) ? 0 : 1);
