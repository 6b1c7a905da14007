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

/* g_task_set_return_on_cancel() in the function: the task still ends only
 * once the function has returned. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean started;
  gboolean released;
  /* Any thread, atomic. */
  int returned;
  int n_destroyed;
  int n_destroyed_before_return;
} Blocker;

static void
block_until_released (GTask        *task,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  Blocker *blocker = user_data;

  g_task_set_return_on_cancel (task, TRUE);

  g_mutex_lock (&blocker->lock);
  blocker->started = TRUE;
  g_cond_broadcast (&blocker->cond);
  while (!blocker->released)
    g_cond_wait (&blocker->cond, &blocker->lock);
  g_mutex_unlock (&blocker->lock);

  g_task_return_boolean (task, TRUE);
  g_atomic_int_set (&blocker->returned, TRUE);
}

static void
blocker_destroy (gpointer data)
{
  Blocker *blocker = data;

  if (!g_atomic_int_get (&blocker->returned))
    g_atomic_int_inc (&blocker->n_destroyed_before_return);
  g_atomic_int_inc (&blocker->n_destroyed);
}

static gboolean
blocker_started (Blocker *blocker)
{
  gboolean started;

  g_mutex_lock (&blocker->lock);
  started = blocker->started;
  g_mutex_unlock (&blocker->lock);

  return started;
}

static void
test_in_thread_return_on_cancel (Fixture       *f,
                                 gconstpointer  data)
{
  Blocker blocker = { 0 };
  guint64 id;

  g_mutex_init (&blocker.lock);
  g_cond_init (&blocker.cond);

  id = asab_task_service_schedule_in_thread (f->service, "blocked", block_until_released, &blocker,
                                             blocker_destroy);
  test_iterate_until (f->context, blocker_started (&blocker));

  /* Whatever GLib would do on its own for a return-on-cancel task, the
   * function is still running: nothing ends, nothing is freed. */
  g_assert_true (asab_task_service_cancel (f->service, id));
  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 0);
  g_assert_cmpint (g_atomic_int_get (&blocker.n_destroyed), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);

  g_mutex_lock (&blocker.lock);
  blocker.released = TRUE;
  g_cond_broadcast (&blocker.cond);
  g_mutex_unlock (&blocker.lock);

  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpint (g_atomic_int_get (&blocker.n_destroyed), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&blocker.n_destroyed_before_return), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);

  g_mutex_clear (&blocker.lock);
  g_cond_clear (&blocker.cond);
}

/* A function that returns without completing its GTask */

static void
return_without_completing (GTask        *task,
                           GCancellable *cancellable,
                           gpointer      user_data)
{
  int *n_calls = user_data;

  g_atomic_int_inc (n_calls);
}

static void
test_in_thread_returns_without_completing (Fixture       *f,
                                           gconstpointer  data)
{
  int n_calls = 0;
  guint64 id;
  g_autofree char *expected = NULL;
  const GError *error;
  CapturedLog *log;

  id = asab_task_service_schedule_in_thread (f->service, "forgetful", return_without_completing,
                                             &n_calls, NULL);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpint (g_atomic_int_get (&n_calls), ==, 1);

  /* A failure, not a success, and logged like any other. */
  g_assert_cmpuint (f->n_done_failed, ==, 1);
  error = g_ptr_array_index (f->done_errors, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "The function returned without completing its task");

  expected = g_strdup_printf ("Task “forgetful” (%" G_GUINT64_FORMAT ") failed: "
                              "The function returned without completing its task", id);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  log = test_captured_nth (G_LOG_LEVEL_WARNING, 0);
  g_assert_cmpstr (log->message, ==, expected);
  g_assert_cmpstr (log->task_name, ==, "forgetful");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("schedule_in_thread() runs the function on a worker thread and ends the task on "
                  "the context's, once the function has returned; a function that returns without "
                  "completing its task fails it");

  g_test_add ("/task-service/in-thread/runs-on-worker", Fixture, NULL,
              fixture_setup, test_in_thread_runs_on_worker, fixture_teardown);
  g_test_add ("/task-service/in-thread/failure", Fixture, NULL,
              fixture_setup, test_in_thread_failure, fixture_teardown);
  g_test_add ("/task-service/in-thread/return-on-cancel", Fixture, NULL,
              fixture_setup, test_in_thread_return_on_cancel, fixture_teardown);
  g_test_add ("/task-service/in-thread/returns-without-completing", Fixture, NULL,
              fixture_setup, test_in_thread_returns_without_completing, fixture_teardown);

  return g_test_run ();
}
