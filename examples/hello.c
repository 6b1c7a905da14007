/* hello.c: ASAB's TaskService example, in C
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original schedules three coroutines on the application's
 * TaskService:
 *
 *     class MyApp(asab.Application):
 *         async def main(self):
 *             asab.Application.TaskService.schedule(
 *                 self.task1(),
 *                 self.task2(),
 *                 self.task3(),
 *             )
 *
 * Here each coroutine is an AsabTaskFunc that starts a timer, the C
 * counterpart of `await asyncio.sleep()`, and completes its GTask when the
 * timer fires. The three tasks run concurrently: task2 ends first and
 * task1 last. task3 fails; the service writes that failure to the log, as
 * ASAB does, and reports it in task-done.
 */

#include <asab.h>

#include <locale.h>

typedef struct
{
  GMainLoop *loop;
  guint n_tasks;
  guint n_done;
} Hello;

/* The body of a "coroutine" that sleeps: completes @task after @delay_ms
 * with @wake, unless the task has been cancelled by then.
 */
static void
sleep_then (GTask       *task,
            guint        delay_ms,
            GSourceFunc  wake)
{
  g_autoptr(GSource) timeout = g_timeout_source_new (delay_ms);

  /* The source holds a reference on the task, and runs on its context. */
  g_task_attach_source (task, timeout, wake);
}

static gboolean
succeed (gpointer user_data)
{
  GTask *task = user_data;

  if (!g_task_return_error_if_cancelled (task))
    g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

static gboolean
fail (gpointer user_data)
{
  GTask *task = user_data;

  if (!g_task_return_error_if_cancelled (task))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "something went wrong in %s", g_task_get_name (task));

  return G_SOURCE_REMOVE;
}

static void
task1 (GTask        *task,
       GCancellable *cancellable,
       gpointer      user_data)
{
  sleep_then (task, 300, succeed);
}

static void
task2 (GTask        *task,
       GCancellable *cancellable,
       gpointer      user_data)
{
  sleep_then (task, 100, succeed);
}

static void
task3 (GTask        *task,
       GCancellable *cancellable,
       gpointer      user_data)
{
  sleep_then (task, 200, fail);
}

static void
service_stopped (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Hello *hello = user_data;
  g_autoptr(GError) error = NULL;

  if (!asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, &error))
    g_printerr ("stop: %s\n", error->message);

  g_main_loop_quit (hello->loop);
}

static void
task_done (AsabTaskService *service,
           GTask           *task,
           const GError    *error,
           gpointer         user_data)
{
  Hello *hello = user_data;

  if (error == NULL)
    g_print ("%s done\n", g_task_get_name (task));
  else
    g_print ("%s failed: %s\n", g_task_get_name (task), error->message);

  if (++hello->n_done == hello->n_tasks)
    asab_task_service_stop_async (service, NULL, service_stopped, hello);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);
  Hello hello = { .loop = loop, .n_tasks = 3 };

  setlocale (LC_ALL, "");

  g_signal_connect (service, "task-done", G_CALLBACK (task_done), &hello);

  asab_task_service_schedule_full (service, "task1", task1, NULL, NULL);
  asab_task_service_schedule_full (service, "task2", task2, NULL, NULL);
  asab_task_service_schedule_full (service, "task3", task3, NULL, NULL);

  g_main_loop_run (loop);

  return 0;
}
