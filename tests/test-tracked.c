/* test-tracked.c: schedule_task() and schedule_source(): GTasks and GSources the service tracks
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

/* schedule_task() */

typedef struct
{
  gboolean callback_ran;
  gboolean callback_ok;
  Fixture *f;
} OwnCallback;

static void
own_callback (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  OwnCallback *own = user_data;
  g_autoptr(GError) error = NULL;

  /* It runs before the service's task-done. */
  g_assert_cmpuint (own->f->n_done, ==, 0);
  own->callback_ran = TRUE;
  own->callback_ok = g_task_propagate_boolean (G_TASK (result), &error);
}

static void
test_gtask_tracked (Fixture       *f,
                    gconstpointer  data)
{
  OwnCallback own = { FALSE, FALSE, NULL };
  g_autoptr(GTask) task = NULL;
  guint64 id;

  own.f = f;

  task = g_task_new (NULL, NULL, own_callback, &own);
  id = asab_task_service_schedule_task (f->service, task);
  g_assert_cmpuint (id, >, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);

  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 0);

  g_task_return_boolean (task, TRUE);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_true (own.callback_ran);
  g_assert_true (own.callback_ok);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
  g_assert_true (g_ptr_array_index (f->done_tasks, 0) == (gpointer) task);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
  g_assert_false (asab_task_service_cancel (f->service, id));
}

static void
test_gtask_failure (Fixture       *f,
                    gconstpointer  data)
{
  OwnCallback own = { FALSE, FALSE, NULL };
  g_autoptr(GTask) task = NULL;
  const GError *error;

  own.f = f;

  task = g_task_new (NULL, NULL, own_callback, &own);
  asab_task_service_schedule_task (f->service, task);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY, "busy");
  test_iterate_until (f->context, f->n_done == 1);

  g_assert_true (own.callback_ran);
  g_assert_false (own.callback_ok);
  g_assert_cmpuint (f->n_done_failed, ==, 1);
  error = g_ptr_array_index (f->done_errors, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  /* The owner reports its own failure. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
}

static void
own_cancelled_cb (GCancellable *cancellable,
                  GTask        *task)
{
  g_task_return_error_if_cancelled (task);
}

static void
test_gtask_cancelled_at_stop (Fixture       *f,
                              gconstpointer  data)
{
  OwnCallback own = { FALSE, FALSE, NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = NULL;

  own.f = f;

  task = g_task_new (NULL, cancellable, own_callback, &own);
  g_cancellable_connect (cancellable, G_CALLBACK (own_cancelled_cb), task, NULL);
  asab_task_service_schedule_task (f->service, task);

  asab_task_service_stop (f->service, NULL, NULL);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_true (own.callback_ran);
}

/* schedule_source() */

static gboolean
tick_three_times (gpointer data)
{
  guint *n = data;

  return ++(*n) < 3 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
test_source_ends_on_remove (Fixture       *f,
                            gconstpointer  data)
{
  guint n_ticks = 0;
  GSource *source;
  guint64 id;

  source = g_timeout_source_new (1);
  g_source_set_name (source, "ticker");
  g_source_set_callback (source, tick_three_times, &n_ticks, NULL);
  id = asab_task_service_schedule_source (f->service, source);
  g_assert_cmpuint (id, >, 0);
  g_assert_true (g_source_get_context (source) == f->context);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);

  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (n_ticks, ==, 3);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f->done_tasks, 0)), ==, "ticker");
  g_assert_false (asab_task_service_cancel (f->service, id));
}

static gboolean
tick_forever (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
test_source_ends_on_destroy (Fixture       *f,
                             gconstpointer  data)
{
  GSource *source;

  source = g_timeout_source_new (1);
  g_source_set_callback (source, tick_forever, NULL, NULL);
  asab_task_service_schedule_source (f->service, g_source_ref (source));
  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 0);

  g_source_destroy (source);
  g_source_unref (source);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
}

static gpointer
destroy_source_in_thread (gpointer data)
{
  g_source_destroy (data);

  return NULL;
}

static void
test_source_destroyed_from_thread (Fixture       *f,
                                   gconstpointer  data)
{
  GSource *source;

  source = g_timeout_source_new_seconds (3600);
  asab_task_service_schedule_source (f->service, g_source_ref (source));
  g_thread_join (g_thread_new ("destroyer", destroy_source_in_thread, source));
  g_source_unref (source);

  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
}

static void
test_source_cancel_destroys (Fixture       *f,
                             gconstpointer  data)
{
  GSource *source;
  guint64 id;

  source = g_timeout_source_new_seconds (3600);
  id = asab_task_service_schedule_source (f->service, g_source_ref (source));
  g_assert_true (asab_task_service_cancel (f->service, id));
  g_assert_true (g_source_is_destroyed (source));
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_source_unref (source);
}

static void
test_source_stop_destroys (Fixture       *f,
                           gconstpointer  data)
{
  GSource *source;

  source = g_timeout_source_new_seconds (3600);
  asab_task_service_schedule_source (f->service, g_source_ref (source));
  asab_task_service_stop (f->service, NULL, NULL);
  g_assert_true (g_source_is_destroyed (source));
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_source_unref (source);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("schedule_task() and schedule_source() track a caller's GTask or GSource as a "
                  "task until it completes or is destroyed, and cancel it at stop");

  g_test_add ("/task-service/gtask/tracked", Fixture, NULL,
              fixture_setup, test_gtask_tracked, fixture_teardown);
  g_test_add ("/task-service/gtask/failure", Fixture, NULL,
              fixture_setup, test_gtask_failure, fixture_teardown);
  g_test_add ("/task-service/gtask/cancelled-at-stop", Fixture, NULL,
              fixture_setup, test_gtask_cancelled_at_stop, fixture_teardown);

  g_test_add ("/task-service/source/ends-on-remove", Fixture, NULL,
              fixture_setup, test_source_ends_on_remove, fixture_teardown);
  g_test_add ("/task-service/source/ends-on-destroy", Fixture, NULL,
              fixture_setup, test_source_ends_on_destroy, fixture_teardown);
  g_test_add ("/task-service/source/destroyed-from-thread", Fixture, NULL,
              fixture_setup, test_source_destroyed_from_thread, fixture_teardown);
  g_test_add ("/task-service/source/cancel-destroys", Fixture, NULL,
              fixture_setup, test_source_cancel_destroys, fixture_teardown);
  g_test_add ("/task-service/source/stop-destroys", Fixture, NULL,
              fixture_setup, test_source_stop_destroys, fixture_teardown);

  return g_test_run ();
}
