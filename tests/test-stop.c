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

/* stop() from the cancelled handler of a task that a stop's sweep cancels:
 * the inner stop goes on with the sweep instead of waiting for the tasks
 * that the sweep has yet to cancel. */
typedef struct
{
  Fixture *f;
  gboolean stopped_in_handler;
  gboolean inner_ok;
  GError *inner_error;
} SweepStop;

static void
stop_in_cancelled_handler (GCancellable *cancellable,
                           SweepStop    *sweep)
{
  if (sweep->stopped_in_handler)
    return;

  sweep->stopped_in_handler = TRUE;
  sweep->inner_ok = asab_task_service_stop (sweep->f->service, NULL, &sweep->inner_error);
}

static void
end_then_stop_on_cancel (GTask        *task,
                         GCancellable *cancellable,
                         gpointer      user_data)
{
  SweepStop *sweep = user_data;

  sweep->f->n_called++;
  /* Connected first: the task has ended when the stop is called. */
  test_task_return_on_cancel (task, cancellable);
  g_signal_connect (cancellable, "cancelled", G_CALLBACK (stop_in_cancelled_handler), sweep);
}

static void
sweep_stop_destroy (gpointer data)
{
  SweepStop *sweep = data;

  sweep->f->n_destroyed++;
}

static void
test_stop_from_cancelled_handler (Fixture       *f,
                                  gconstpointer  data)
{
  SweepStop sweep = { f, FALSE, FALSE, NULL };
  g_autoptr(GError) error = NULL;
  gint64 start;
  gboolean ok;

  /* Every task ends as soon as it is cancelled: neither stop may time out,
   * whichever task the sweep cancels first. */
  asab_task_service_set_stop_timeout (f->service, 5000);
  for (guint i = 0; i < 3; i++)
    asab_task_service_schedule_full (f->service, NULL, end_then_stop_on_cancel, &sweep,
                                     sweep_stop_destroy);
  test_iterate_until (f->context, f->n_called == 3);

  start = g_get_monotonic_time ();
  ok = asab_task_service_stop (f->service, NULL, &error);
  g_test_message ("stop() took %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_true (sweep.stopped_in_handler);
  g_assert_no_error (sweep.inner_error);
  g_assert_true (sweep.inner_ok);

  g_assert_cmpuint (f->n_done, ==, 3);
  g_assert_cmpuint (f->n_done_cancelled, ==, 3);
  g_assert_cmpuint (f->n_destroyed, ==, 3);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
}

/* What stop() returns: FALSE with G_IO_ERROR_TIMED_OUT exactly when
 * stop_finish() fails for the same tasks. */
typedef enum
{
  SCENARIO_EMPTY,
  SCENARIO_ENDS_ON_CANCEL,
  SCENARIO_STUBBORN,
  N_SCENARIOS
} StopScenario;

static void
hold_in_array (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  GPtrArray *held = user_data;

  g_ptr_array_add (held, g_object_ref (task));
}

static void
complete_all_held (GPtrArray *held)
{
  for (guint i = 0; i < held->len; i++)
    g_task_return_boolean (g_ptr_array_index (held, i), TRUE);
  g_ptr_array_set_size (held, 0);
}

static void
scenario_schedule (AsabTaskService *service,
                   StopScenario     scenario,
                   Fixture         *f,
                   GPtrArray       *stubborn)
{
  guint n_running = 0;

  asab_task_service_set_stop_timeout (service, 50);
  switch (scenario)
    {
    case SCENARIO_EMPTY:
      break;
    case SCENARIO_STUBBORN:
      asab_task_service_schedule (service, hold_in_array, stubborn);
      n_running++;
      G_GNUC_FALLTHROUGH;
    case SCENARIO_ENDS_ON_CANCEL:
      asab_task_service_schedule (service, wait_for_cancel, f);
      n_running++;
      break;
    case N_SCENARIOS:
    default:
      g_assert_not_reached ();
    }
  test_iterate_until (f->context, asab_task_service_get_n_running (service) == n_running);
}

static void
test_stop_result (Fixture       *f,
                  gconstpointer  data)
{
  for (StopScenario scenario = 0; scenario < N_SCENARIOS; scenario++)
    {
      g_autoptr(AsabTaskService) by_async = asab_task_service_new (NULL);
      g_autoptr(AsabTaskService) by_stop = asab_task_service_new (NULL);
      g_autoptr(GPtrArray) stubborn = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GError) error = NULL;
      GError *async_error = NULL;
      gboolean async_ok, ok;

      g_signal_connect (by_async, "task-done", G_CALLBACK (fixture_on_task_done), f);
      g_signal_connect (by_stop, "task-done", G_CALLBACK (fixture_on_task_done), f);
      scenario_schedule (by_async, scenario, f, stubborn);
      asab_task_service_stop_async (by_async, NULL, stopped_cb, &async_error);
      test_iterate_until (f->context, async_error != NULL);
      /* stopped_cb() leaves a code 0 error for a success. */
      async_ok = g_error_matches (async_error, G_IO_ERROR, 0);

      scenario_schedule (by_stop, scenario, f, stubborn);
      ok = asab_task_service_stop (by_stop, NULL, &error);

      g_test_message ("scenario %d: stop_finish() %s, stop() %s", scenario,
                      async_ok ? "succeeded" : async_error->message,
                      ok ? "succeeded" : error->message);
      g_assert_true (ok == async_ok);
      g_assert_true (ok == (scenario != SCENARIO_STUBBORN));
      if (ok)
        g_assert_no_error (error);
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
          g_assert_error (async_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
          g_assert_cmpstr (error->message, ==, async_error->message);
          g_assert_cmpstr (error->message, ==, "1+0 pending and incomplete tasks");
        }
      g_clear_error (&async_error);

      /* The stubborn tasks end later, and are reported then. */
      complete_all_held (stubborn);
      test_iterate_until (f->context, asab_task_service_get_n_running (by_async) == 0 &&
                                      asab_task_service_get_n_running (by_stop) == 0);
    }

  g_assert_cmpuint (f->n_done_cancelled, ==, 6);
}

/* A cancellable that ends stop()'s wait, not the stop */

typedef struct
{
  GCancellable *wait;
  GPtrArray *stubborn;
  GThread *thread;
} WaitCanceller;

static gpointer
cancel_wait (gpointer data)
{
  WaitCanceller *canceller = data;

  g_cancellable_cancel (canceller->wait);

  return NULL;
}

/* Once the stop has cancelled the tasks, another thread cancels the wait,
 * and may still be inside g_cancellable_cancel() when the wait ends (GLib
 * before 2.81 leaks a GCancellableSource freed then: GLib issue 2309). */
static void
cancel_wait_from_thread (GCancellable  *cancellable,
                         WaitCanceller *canceller)
{
  canceller->thread = g_thread_new ("canceller", cancel_wait, canceller);
}

static void
hold_until_swept (GTask        *task,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  WaitCanceller *canceller = user_data;

  g_ptr_array_add (canceller->stubborn, g_object_ref (task));
  g_signal_connect (cancellable, "cancelled", G_CALLBACK (cancel_wait_from_thread), canceller);
}

#define LONG_STOP_TIMEOUT_MS 10000

static void
test_stop_cancel_wait (Fixture       *f,
                       gconstpointer  data)
{
  WaitCanceller canceller = { 0 };
  g_autoptr(GError) error = NULL;
  GError *result = NULL;
  gint64 start, took;
  gboolean ok;

  canceller.wait = g_cancellable_new ();
  canceller.stubborn = g_ptr_array_new_with_free_func (g_object_unref);

  asab_task_service_set_stop_timeout (f->service, LONG_STOP_TIMEOUT_MS);
  asab_task_service_set_max_concurrent (f->service, 1);
  asab_task_service_schedule (f->service, hold_until_swept, &canceller);
  asab_task_service_schedule_full (f->service, "queued", complete_now, f, count_destroy);
  test_iterate_until (f->context, canceller.stubborn->len == 1);

  start = g_get_monotonic_time ();
  ok = asab_task_service_stop (f->service, canceller.wait, &error);
  took = g_get_monotonic_time () - start;
  g_test_message ("stop() took %" G_GINT64_FORMAT " ms", took / 1000);

  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (took, <, LONG_STOP_TIMEOUT_MS * 1000);

  /* The stop goes on: the queued task has ended without running, the
   * stubborn one is cancelled and still counted, nothing is accepted. */
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_called, ==, 0);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (g_ptr_array_index (canceller.stubborn, 0))));
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);
  g_assert_cmpuint (asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy), ==, 0);
  g_assert_cmpuint (f->n_destroyed, ==, 2);
  /* The refusal's warning; no timeout was reported. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_null (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "pending"));

  /* A new stop completes when the stubborn task ends. */
  asab_task_service_stop_async (f->service, NULL, stopped_cb, &result);
  test_iterate_pending (f->context);
  g_assert_null (result);
  complete_all_held (canceller.stubborn);
  test_iterate_until (f->context, result != NULL);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);
  g_assert_cmpuint (f->n_done_cancelled, ==, 2);

  g_thread_join (canceller.thread);
  g_ptr_array_unref (canceller.stubborn);
  g_object_unref (canceller.wait);
}

/* stop() from a thread that cannot own the context: it waits while the
 * owner ends the tasks and completes the stop. */
typedef struct
{
  AsabTaskService *service;
  gboolean ok;
  GError *error;
  /* Any thread, atomic. */
  int n_ended;
  int n_ended_at_return;
  int returned;
} OtherThreadStop;

static void
count_ended (AsabTaskService *service,
             GTask           *task,
             const GError    *error,
             OtherThreadStop *stop)
{
  g_atomic_int_inc (&stop->n_ended);
}

static gpointer
stop_in_thread (gpointer data)
{
  OtherThreadStop *stop = data;

  g_assert_false (g_main_context_is_owner (asab_task_service_get_context (stop->service)));
  stop->ok = asab_task_service_stop (stop->service, NULL, &stop->error);
  g_atomic_int_set (&stop->n_ended_at_return, g_atomic_int_get (&stop->n_ended));
  g_atomic_int_set (&stop->returned, TRUE);

  return NULL;
}

static void
test_stop_from_other_thread (Fixture       *f,
                             gconstpointer  data)
{
  gboolean with_stubborn = GPOINTER_TO_INT (data);
  g_autoptr(GPtrArray) stubborn = g_ptr_array_new_with_free_func (g_object_unref);
  OtherThreadStop stop = { f->service, FALSE, NULL, 0, 0, FALSE };
  guint n_running = with_stubborn ? 3 : 2;
  GThread *thread;

  /* Running tasks that end when cancelled, perhaps one that does not, and
   * a queued one behind them. */
  g_signal_connect (f->service, "task-done", G_CALLBACK (count_ended), &stop);
  asab_task_service_set_stop_timeout (f->service, 200);
  asab_task_service_set_max_concurrent (f->service, n_running);
  asab_task_service_schedule_full (f->service, NULL, wait_for_cancel, f, count_destroy);
  asab_task_service_schedule_full (f->service, NULL, wait_for_cancel, f, count_destroy);
  if (with_stubborn)
    asab_task_service_schedule (f->service, hold_in_array, stubborn);
  asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy);
  test_iterate_until (f->context, asab_task_service_get_n_running (f->service) == n_running);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 1);

  /* This thread keeps running the context while the other one stops. */
  thread = g_thread_new ("stopper", stop_in_thread, &stop);
  test_iterate_until (f->context, g_atomic_int_get (&stop.returned));
  g_thread_join (thread);

  /* The stop returned once the owner had ended every task it could. */
  g_assert_cmpint (stop.n_ended_at_return, ==, 3);
  g_assert_cmpuint (f->n_done_cancelled, ==, 3);
  g_assert_cmpuint (f->n_destroyed, ==, 3);
  g_assert_cmpuint (f->n_called, ==, 2);
  if (!with_stubborn)
    {
      g_assert_no_error (stop.error);
      g_assert_true (stop.ok);
      g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
      return;
    }

  g_assert_false (stop.ok);
  g_assert_error (stop.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (stop.error->message, ==, "1+0 pending and incomplete tasks");
  g_clear_error (&stop.error);

  complete_all_held (stubborn);
  test_iterate_until (f->context, f->n_done == 4);
  g_assert_cmpuint (f->n_done_cancelled, ==, 4);
}

/* Another thread stops the service while this one, which holds the
 * context, schedules: each call is accepted, and then ends, or is refused,
 * and nothing is read without the lock that another thread writes. */
typedef struct
{
  AsabTaskService *service;
  int go;
} ConcurrentStopper;

static gpointer
stop_when_told (gpointer data)
{
  ConcurrentStopper *stopper = data;

  while (!g_atomic_int_get (&stopper->go))
    g_thread_yield ();
  asab_task_service_stop_async (stopper->service, NULL, NULL, NULL);

  return NULL;
}

static void
test_stop_while_scheduling (Fixture       *f,
                            gconstpointer  data)
{
  ConcurrentStopper stopper = { f->service, 0 };
  GThread *thread = g_thread_new ("stopper", stop_when_told, &stopper);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint n_accepted = 0, n_calls = 0;

  /* Scheduling on, until the other thread's stop shows. */
  f->forget_tasks = TRUE;
  g_atomic_int_set (&stopper.go, 1);
  while (g_get_monotonic_time () < deadline)
    {
      n_calls++;
      if (asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy) == 0)
        break;
      n_accepted++;
    }
  g_thread_join (thread);
  g_test_message ("%u accepted before the stop showed", n_accepted);
  g_assert_cmpuint (n_calls, ==, n_accepted + 1);

  /* From then on, every call is refused; what was accepted ends once. */
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy), ==, 0);
  test_iterate_until (f->context, f->n_done == n_accepted);
  g_assert_cmpuint (f->n_destroyed, ==, n_calls + 100);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service) +
                    asab_task_service_get_n_queued (f->service), ==, 0);
  test_capture_logs_clear ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("stop() ends queued tasks, cancels running ones, waits up to its timeout, and "
                  "refuses what comes after; dropping the last reference loses no task; stop() "
                  "reports what stop_finish() would, from any thread, and its cancellable ends "
                  "only the wait");

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
  g_test_add ("/task-service/stop/from-cancelled-handler", Fixture, NULL,
              fixture_setup, test_stop_from_cancelled_handler, fixture_teardown);
  g_test_add ("/task-service/stop/result", Fixture, NULL,
              fixture_setup, test_stop_result, fixture_teardown);
  g_test_add ("/task-service/stop/cancel-wait", Fixture, NULL,
              fixture_setup, test_stop_cancel_wait, fixture_teardown);
  g_test_add ("/task-service/stop/from-other-thread", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_stop_from_other_thread, fixture_teardown);
  g_test_add ("/task-service/stop/from-other-thread-timeout", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_stop_from_other_thread, fixture_teardown);
  g_test_add ("/task-service/stop/while-scheduling", Fixture, NULL,
              fixture_setup, test_stop_while_scheduling, fixture_teardown);

  return g_test_run ();
}
