/* test-failure.c: a task that fails: task-failed and the warning
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

static void
test_failure_logged (Fixture       *f,
                     gconstpointer  data)
{
  guint64 id;
  CapturedLog *log;
  g_autofree char *id_str = NULL;
  const GError *error;

  id = asab_task_service_schedule_full (f->service, "doomed", fail_now, f, NULL);
  id_str = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
  test_iterate_until (f->context, f->n_done == 1);

  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  log = test_captured_nth (G_LOG_LEVEL_WARNING, 0);
  g_assert_cmpstr (log->task_name, ==, "doomed");
  g_assert_cmpstr (log->task_id, ==, id_str);
  g_assert_nonnull (strstr (log->message, "doomed"));
  g_assert_nonnull (strstr (log->message, id_str));
  g_assert_nonnull (strstr (log->message, "no such thing"));

  g_assert_cmpuint (f->n_done_failed, ==, 1);
  error = g_ptr_array_index (f->done_errors, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_failure_unnamed (Fixture       *f,
                      gconstpointer  data)
{
  guint64 id;
  g_autofree char *id_str = NULL;
  CapturedLog *log;

  id = asab_task_service_schedule (f->service, fail_now, f);
  id_str = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
  test_iterate_until (f->context, f->n_done == 1);

  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  log = test_captured_nth (G_LOG_LEVEL_WARNING, 0);
  g_assert_cmpstr (log->task_id, ==, id_str);
  g_assert_cmpstr (log->task_name, ==, "");
  g_assert_nonnull (strstr (log->message, "no such thing"));
}

static gboolean
take_failure (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              gpointer         user_data)
{
  guint *n = user_data;

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  (*n)++;

  return TRUE;
}

static gboolean
decline_failure (AsabTaskService *service,
                 GTask           *task,
                 const GError    *error,
                 gpointer         user_data)
{
  guint *n = user_data;

  (*n)++;

  return FALSE;
}

static void
test_failure_taken_over (Fixture       *f,
                         gconstpointer  data)
{
  guint n_failed = 0;
  gulong handler;

  handler = g_signal_connect (f->service, "task-failed", G_CALLBACK (take_failure), &n_failed);
  asab_task_service_schedule (f->service, fail_now, f);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (n_failed, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
  g_assert_cmpuint (f->n_done_failed, ==, 1);
  g_signal_handler_disconnect (f->service, handler);

  g_signal_connect (f->service, "task-failed", G_CALLBACK (decline_failure), &n_failed);
  asab_task_service_schedule (f->service, fail_now, f);
  test_iterate_until (f->context, f->n_done == 2);
  g_assert_cmpuint (n_failed, ==, 2);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
}

static void
test_failure_not_on_cancel (Fixture       *f,
                            gconstpointer  data)
{
  guint n_failed = 0;
  guint64 id;

  g_signal_connect (f->service, "task-failed", G_CALLBACK (decline_failure), &n_failed);

  id = asab_task_service_schedule (f->service, wait_for_cancel, f);
  test_iterate_until (f->context, f->n_called == 1);
  g_assert_true (asab_task_service_cancel (f->service, id));
  test_iterate_until (f->context, f->n_done == 1);

  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (n_failed, ==, 0);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("A failed task is logged with its name and id, unless a task-failed handler takes "
                  "it over; a cancelled one is not a failure");

  g_test_add ("/task-service/failure/logged", Fixture, NULL,
              fixture_setup, test_failure_logged, fixture_teardown);
  g_test_add ("/task-service/failure/unnamed", Fixture, NULL,
              fixture_setup, test_failure_unnamed, fixture_teardown);
  g_test_add ("/task-service/failure/taken-over", Fixture, NULL,
              fixture_setup, test_failure_taken_over, fixture_teardown);
  g_test_add ("/task-service/failure/not-on-cancel", Fixture, NULL,
              fixture_setup, test_failure_not_on_cancel, fixture_teardown);

  return g_test_run ();
}
