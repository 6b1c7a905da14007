/* test-stop.c: stop(), stop_async() and stop_finish()
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GError **error = user_data;
  gboolean ok;

  ok = asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, error);
  g_assert_true (ok == (*error == NULL));
  if (ok)
    *error = g_error_new_literal (G_IO_ERROR, 0, "ok");
}

static void
test_stop_cancels (Fixture       *f,
                   gconstpointer  data)
{
  GError *result = NULL;

  asab_task_service_set_max_concurrent (f->service, 2);

  for (guint i = 0; i < 2; i++)
    asab_task_service_schedule_full (f->service, NULL, wait_for_cancel, f, count_destroy);
  for (guint i = 0; i < 3; i++)
    asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy);
  test_iterate_until (f->context, f->n_called == 2);

  asab_task_service_stop_async (f->service, NULL, stopped_cb, &result);
  test_iterate_until (f->context, result != NULL);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);

  g_assert_cmpuint (f->n_done, ==, 5);
  g_assert_cmpuint (f->n_done_cancelled, ==, 5);
  g_assert_cmpuint (f->n_destroyed, ==, 5);
  g_assert_cmpuint (f->n_called, ==, 2);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
}

static void
ignore_cancel (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  GTask **slot = user_data;

  *slot = g_object_ref (task);
}

static void
test_stop_timeout (Fixture       *f,
                   gconstpointer  data)
{
  GTask *stubborn = NULL;
  GError *result = NULL;
  gint64 start;

  asab_task_service_set_stop_timeout (f->service, 100);
  asab_task_service_set_max_concurrent (f->service, 1);

  asab_task_service_schedule (f->service, ignore_cancel, &stubborn);
  asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy);
  test_iterate_until (f->context, stubborn != NULL);

  start = g_get_monotonic_time ();
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &result);
  test_iterate_until (f->context, result != NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  g_assert_error (result, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&result);

  /* ASAB's form, with the exact numbers: the queued task has ended. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "1+0 pending and incomplete tasks");
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);

  /* The stubborn task still gets its task-done when it ends. */
  g_task_return_boolean (stubborn, TRUE);
  g_object_unref (stubborn);
  test_iterate_until (f->context, f->n_done == 2);
}

static void
test_stop_timeout_counts_queued (Fixture       *f,
                                 gconstpointer  data)
{
  GTask *stubborn = NULL;

  asab_task_service_set_stop_timeout (f->service, 50);

  /* Stopped in transit: the hand-off has not run when the timer fires. */
  asab_task_service_schedule (f->service, ignore_cancel, &stubborn);
  test_iterate_until (f->context, stubborn != NULL);
  asab_task_service_stop (f->service, NULL, NULL);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "1+0 pending and incomplete tasks");

  g_task_return_boolean (stubborn, TRUE);
  g_object_unref (stubborn);
  test_iterate_until (f->context, f->n_done == 1);
}

static void
test_stop_own_timeout (Fixture       *f,
                       gconstpointer  data)
{
  GTask *stubborn = NULL;
  GError *patient = NULL, *hasty = NULL;
  gint64 start;

  asab_task_service_schedule (f->service, ignore_cancel, &stubborn);
  test_iterate_until (f->context, stubborn != NULL);

  /* Each stop waits as long as its own timeout says, counted from its
   * call: a later, shorter stop is not held up by an earlier one. */
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &patient);
  asab_task_service_set_stop_timeout (f->service, 50);
  start = g_get_monotonic_time ();
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &hasty);
  test_iterate_until (f->context, hasty != NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_error (hasty, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_null (patient);

  /* The first still waits, and completes when the task ends. */
  g_task_return_boolean (stubborn, TRUE);
  g_object_unref (stubborn);
  test_iterate_until (f->context, patient != NULL);
  g_assert_error (patient, G_IO_ERROR, 0);
  g_clear_error (&patient);
  g_clear_error (&hasty);
}

static void
test_stop_twice (Fixture       *f,
                 gconstpointer  data)
{
  GError *first = NULL, *second = NULL;

  asab_task_service_schedule (f->service, wait_for_cancel, f);
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &first);
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &second);
  test_iterate_until (f->context, first != NULL && second != NULL);
  g_assert_error (first, G_IO_ERROR, 0);
  g_assert_error (second, G_IO_ERROR, 0);
  g_clear_error (&first);
  g_clear_error (&second);

  asab_task_service_stop (f->service, NULL, NULL);
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &first);
  test_iterate_until (f->context, first != NULL);
  g_assert_error (first, G_IO_ERROR, 0);
  g_clear_error (&first);
  g_assert_cmpuint (f->n_done, ==, 1);
}

static void
test_stop_empty (Fixture       *f,
                 gconstpointer  data)
{
  asab_task_service_stop (f->service, NULL, NULL);
  g_assert_cmpuint (asab_task_service_schedule (f->service, complete_now, f), ==, 0);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
}

static void
test_stop_in_transit (Fixture       *f,
                      gconstpointer  data)
{
  g_assert_true (g_main_context_acquire (f->context));
  asab_task_service_schedule_threadsafe (f->service, NULL, complete_now, f, count_destroy);
  asab_task_service_stop (f->service, NULL, NULL);
  g_main_context_release (f->context);

  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpuint (f->n_called, ==, 0);
}

static void
test_stop_last_unref (Fixture       *f,
                      gconstpointer  data)
{
  AsabTaskService *service;
  GTask *held = NULL;

  /* Dropping the last reference loses no task. */
  service = f->service;
  g_object_add_weak_pointer (G_OBJECT (service), (gpointer *) &f->service);
  asab_task_service_schedule_full (service, NULL, complete_later, f, count_destroy);
  asab_task_service_schedule_full (service, NULL, hold_task, &held, NULL);
  asab_task_service_schedule_threadsafe (service, NULL, complete_now, f, count_destroy);
  g_object_unref (service);
  g_assert_nonnull (f->service);

  test_iterate_until (f->context, f->n_done == 2);
  g_assert_nonnull (f->service);
  g_assert_cmpuint (f->n_destroyed, ==, 2);

  g_task_return_boolean (held, TRUE);
  g_object_unref (held);
  test_iterate_until (f->context, f->n_done == 3);

  /* The GTasks kept by the task-done handler hold the service, as their
   * source object; once they go, nothing else does. */
  g_ptr_array_set_size (f->done_tasks, 0);
  test_iterate_until (f->context, f->service == NULL);
}

static void
return_true (GTask        *task,
             GCancellable *cancellable,
             gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

static gpointer
schedule_then_let_go (gpointer data)
{
  AsabTaskService *service = data;

  for (guint i = 0; i < 100; i++)
    asab_task_service_schedule_threadsafe (service, NULL, return_true, NULL, NULL);
  g_object_unref (service);

  return NULL;
}

static void
test_stop_last_unref_in_transit (Fixture       *f,
                                 gconstpointer  data)
{
  f->forget_tasks = TRUE;
  g_object_add_weak_pointer (G_OBJECT (f->service), (gpointer *) &f->service);

  /* Tasks handed over from another thread have no GTask yet, and every
   * reference but the hand-off's is gone: the tasks still keep the service
   * alive until they have ended. */
  g_assert_true (g_main_context_acquire (f->context));
  g_thread_join (g_thread_new ("producer", schedule_then_let_go, g_object_ref (f->service)));
  g_object_unref (f->service);
  g_assert_nonnull (f->service);
  g_main_context_release (f->context);

  test_iterate_until (f->context, f->service == NULL);
  g_assert_cmpuint (f->n_done_ok, ==, 100);
}

static void
test_stop_run_dispose (Fixture       *f,
                       gconstpointer  data)
{
  asab_task_service_set_max_concurrent (f->service, 1);

  /* One running, one queued behind it. */
  asab_task_service_schedule_full (f->service, NULL, wait_for_cancel, f, count_destroy);
  asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy);
  test_iterate_until (f->context, f->n_called == 1);

  /* Disposing stops first, so every task ends; handlers are gone after. */
  g_object_run_dispose (G_OBJECT (f->service));
  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_destroyed, ==, 2);
  g_assert_cmpuint (f->n_done_cancelled, ==, 2);
  g_assert_cmpuint (f->n_called, ==, 1);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 0);
}

typedef struct
{
  Fixture *f;
  gint64 stop_took;
} Stopper;

static void
complete_then_stop (GTask        *task,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  Stopper *stopper = user_data;
  gint64 start = g_get_monotonic_time ();

  g_task_return_boolean (task, TRUE);
  asab_task_service_stop (stopper->f->service, NULL, NULL);
  stopper->stop_took = g_get_monotonic_time () - start;
}

static void
test_stop_from_task_func (Fixture       *f,
                          gconstpointer  data)
{
  Stopper stopper = { f, 0 };

  asab_task_service_set_stop_timeout (f->service, 2000);

  /* The task has completed when it stops the service: the stop does not
   * wait for it, and its success stands. */
  asab_task_service_schedule (f->service, complete_then_stop, &stopper);
  asab_task_service_schedule_full (f->service, NULL, wait_for_cancel, f, count_destroy);
  test_iterate_until (f->context, f->n_done == 2);

  g_assert_cmpint (stopper.stop_took, <, 1000 * 1000);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("stop() ends queued tasks, cancels running ones, waits up to its timeout, and "
                  "refuses what comes after; dropping the last reference loses no task");

  g_test_add ("/task-service/stop/cancels", Fixture, NULL,
              fixture_setup, test_stop_cancels, fixture_teardown);
  g_test_add ("/task-service/stop/timeout", Fixture, NULL,
              fixture_setup, test_stop_timeout, fixture_teardown);
  g_test_add ("/task-service/stop/timeout-counts", Fixture, NULL,
              fixture_setup, test_stop_timeout_counts_queued, fixture_teardown);
  g_test_add ("/task-service/stop/twice", Fixture, NULL,
              fixture_setup, test_stop_twice, fixture_teardown);
  g_test_add ("/task-service/stop/own-timeout", Fixture, NULL,
              fixture_setup, test_stop_own_timeout, fixture_teardown);
  g_test_add ("/task-service/stop/empty", Fixture, NULL,
              fixture_setup, test_stop_empty, fixture_teardown);
  g_test_add ("/task-service/stop/in-transit", Fixture, NULL,
              fixture_setup, test_stop_in_transit, fixture_teardown);
  g_test_add ("/task-service/stop/last-unref", Fixture, NULL,
              fixture_setup, test_stop_last_unref, fixture_teardown);
  g_test_add ("/task-service/stop/last-unref-in-transit", Fixture, NULL,
              fixture_setup, test_stop_last_unref_in_transit, fixture_teardown);
  g_test_add ("/task-service/stop/run-dispose", Fixture, NULL,
              fixture_setup, test_stop_run_dispose, fixture_teardown);
  g_test_add ("/task-service/stop/from-task-func", Fixture, NULL,
              fixture_setup, test_stop_from_task_func, fixture_teardown);

  return g_test_run ();
}
