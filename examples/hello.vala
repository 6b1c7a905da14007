// hello.vala: ASAB's TaskService example, in Vala
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
// Here each coroutine is a lambda that starts a timer, the counterpart of
// `await asyncio.sleep()`, and completes its GLib.Task when the timer fires.
// The three tasks run concurrently: task2 ends first and task1 last. task3
// fails; the service writes that failure to the log, as ASAB does, and
// reports it in task_done. It prints:
//
//     task2 done
//     task3 failed: something went wrong in task3
//     task1 done
//
// Against the installed library:
//
//     valac --pkg asab-1.0 hello.vala && ./hello

// The body of a "coroutine" that sleeps: ends @task after @delay_ms, with
// an error if @fail, unless the task has been cancelled by then.
void sleep_then (GLib.Task task, uint delay_ms, bool fail) {
    GLib.Timeout.add (delay_ms, () => {
        if (task.return_error_if_cancelled ()) {
            return GLib.Source.REMOVE;
        }
        if (fail) {
            task.return_error (new GLib.IOError.FAILED ("something went wrong in %s",
                                                        task.get_name ()));
        } else {
            task.return_boolean (true);
        }
        return GLib.Source.REMOVE;
    });
}

int main () {
    var loop = new GLib.MainLoop ();
    var service = new Asab.TaskService (null);
    uint n_done = 0;
    int status = 0;

    service.task_done.connect ((task, error) => {
        if (error == null) {
            print ("%s done\n", task.get_name ());
        } else {
            print ("%s failed: %s\n", task.get_name (), error.message);
        }

        if (++n_done < 3) {
            return;
        }

        service.stop_async.begin (null, (obj, result) => {
            try {
                service.stop_async.end (result);
            } catch (GLib.Error e) {
                printerr ("stop: %s\n", e.message);
                status = 1;
            }
            loop.quit ();
        });
    });

    service.schedule_full ("task1", (task) => sleep_then (task, 300, false));
    service.schedule_full ("task2", (task) => sleep_then (task, 100, false));
    service.schedule_full ("task3", (task) => sleep_then (task, 200, true));

    loop.run ();

    return status;
}
