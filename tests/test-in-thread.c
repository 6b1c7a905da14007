/* test-in-thread.c: schedule_in_thread(), blocking work on a worker thread
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

typedef struct
{
  GThread *context_thread;
  GThread *ran_on;
  GThread *destroyed_on;
} ThreadProbe;

static void
blocking_work (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  ThreadProbe *probe = user_data;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;

  probe->ran_on = g_thread_self ();

  /* Real blocking I/O, which would stall the context. */
  file = g_file_new_tmp ("asab-test-XXXXXX", &stream, &error);
  g_assert_no_error (error);
  g_file_delete (file, cancellable, &error);
  g_assert_no_error (error);

  g_task_return_boolean (task, TRUE);
}

static void
probe_thread_destroy (gpointer data)
{
  ThreadProbe *probe = data;

  probe->destroyed_on = g_thread_self ();
}

static void
test_in_thread_runs_on_worker (Fixture       *f,
                               gconstpointer  data)
{
  ThreadProbe probe = { g_thread_self (), NULL, NULL };

  asab_task_service_schedule_in_thread (f->service, "blocking", blocking_work, &probe,
                                        probe_thread_destroy);
  test_iterate_until (f->context, f->n_done == 1);

  g_assert_nonnull (probe.ran_on);
  g_assert_true (probe.ran_on != probe.context_thread);
  g_assert_true (probe.destroyed_on == probe.context_thread);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
}

static void
test_in_thread_failure (Fixture       *f,
                        gconstpointer  data)
{
  asab_task_service_schedule_in_thread (f->service, "denied", fail_in_thread, NULL, NULL);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_failed, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "not allowed"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("schedule_in_thread() runs the function on a worker thread and ends the task on "
                  "the context's");

  g_test_add ("/task-service/in-thread/runs-on-worker", Fixture, NULL,
              fixture_setup, test_in_thread_runs_on_worker, fixture_teardown);
  g_test_add ("/task-service/in-thread/failure", Fixture, NULL,
              fixture_setup, test_in_thread_failure, fixture_teardown);

  return g_test_run ();
}
