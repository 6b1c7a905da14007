/* test-tracked.c: schedule_task() and schedule_source(): GTasks and GSources the service tracks
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-ledger.h"
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

/* cancel() cancels the GTask's own cancellable, which other work may
 * share: one cancellable for a window, say. */
static void
note_gtask_result (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (g_task_propagate_boolean (G_TASK (result), error));
}

static void
test_gtask_cancel_shared_cancellable (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GCancellable) shared = g_cancellable_new ();
  g_autoptr(GTask) tracked = NULL;
  g_autoptr(GTask) other = NULL;
  g_autoptr(GError) tracked_error = NULL;
  g_autoptr(GError) other_error = NULL;
  guint64 id;

  tracked = g_task_new (NULL, shared, note_gtask_result, &tracked_error);
  other = g_task_new (NULL, shared, note_gtask_result, &other_error);
  test_task_return_on_cancel (tracked, shared);
  test_task_return_on_cancel (other, shared);

  /* Only one of them is the service's. */
  id = asab_task_service_schedule_task (f->service, tracked);
  g_assert_true (asab_task_service_cancel (f->service, id));
  g_assert_true (g_cancellable_is_cancelled (shared));

  test_iterate_until (f->context, f->n_done == 1 && other_error != NULL);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_error (tracked_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_error (other_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* schedule_task() from a thread that cannot own the context: handed over,
 * also when it completes or is cancelled on its way. */
typedef enum
{
  ON_THE_WAY_NOTHING,
  ON_THE_WAY_COMPLETED,
  ON_THE_WAY_CANCELLED,
  N_ON_THE_WAY
} OnTheWay;

typedef struct
{
  AsabTaskService *service;
  GTask *task;
  OnTheWay on_the_way;
  guint64 id;
  gboolean cancelled;
} FromThread;

static gpointer
schedule_task_in_thread (gpointer data)
{
  FromThread *from = data;

  from->id = asab_task_service_schedule_task (from->service, from->task);
  if (from->on_the_way == ON_THE_WAY_CANCELLED)
    from->cancelled = asab_task_service_cancel (from->service, from->id);

  return NULL;
}

static void
test_gtask_from_other_thread (Fixture       *f,
                              gconstpointer  data)
{
  TestLedger *ledger = test_ledger_new (f->service, N_ON_THE_WAY);

  test_ledger_watch (ledger);

  for (OnTheWay on_the_way = 0; on_the_way < N_ON_THE_WAY; on_the_way++)
    {
      TestSlot *slot = test_slot_new (ledger, TEST_WAY_GTASK);
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GTask) task = test_slot_task_new (slot, cancellable);
      FromThread from = { f->service, task, on_the_way, 0, FALSE };

      test_task_return_on_cancel (task, cancellable);

      /* This thread holds the context and does not run it meanwhile. */
      g_thread_join (g_thread_new ("scheduler", schedule_task_in_thread, &from));
      g_assert_true (test_slot_scheduled (slot, from.id));
      g_assert_cmpuint (asab_task_service_get_n_running (f->service) +
                        asab_task_service_get_n_queued (f->service), ==, 1);
      g_assert_cmpint (slot->n_done, ==, 0);

      switch (on_the_way)
        {
        case ON_THE_WAY_NOTHING:
          test_iterate_pending (f->context);
          g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);
          g_assert_cmpint (slot->n_done, ==, 0);
          g_task_return_boolean (task, TRUE);
          break;
        case ON_THE_WAY_COMPLETED:
          g_task_return_boolean (task, TRUE);
          break;
        case ON_THE_WAY_CANCELLED:
          g_assert_true (from.cancelled);
          g_assert_true (g_cancellable_is_cancelled (cancellable));
          break;
        case N_ON_THE_WAY:
        default:
          g_assert_not_reached ();
        }

      test_iterate_until (f->context, slot->n_done == 1);
      g_assert_cmpint (slot->result, ==,
                       on_the_way == ON_THE_WAY_CANCELLED ? TEST_RESULT_CANCELLED : TEST_RESULT_OK);
    }

  /* The GTasks the fixture kept go, and with them the last references. */
  g_ptr_array_set_size (f->done_tasks, 0);
  test_ledger_assert_all_ended (ledger);
  test_ledger_free (ledger);
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

/* schedule_source() from a thread that cannot own the context: handed
 * over and attached by the owner, or, cancelled on its way, never
 * attached. */
typedef struct
{
  AsabTaskService *service;
  GSource *source;
  gboolean cancel;
  guint64 id;
  gboolean attached_on_return;
  gboolean cancelled;
} SourceFromThread;

static gpointer
schedule_source_in_thread (gpointer data)
{
  SourceFromThread *from = data;

  from->id = asab_task_service_schedule_source (from->service, g_source_ref (from->source));
  from->attached_on_return = g_source_get_context (from->source) != NULL;
  if (from->cancel)
    from->cancelled = asab_task_service_cancel (from->service, from->id);

  return NULL;
}

static void
test_source_from_other_thread (Fixture       *f,
                               gconstpointer  data)
{
  gboolean cancel = GPOINTER_TO_INT (data);
  TestLedger *ledger = test_ledger_new (f->service, 1);
  TestSlot *slot = test_slot_new (ledger, TEST_WAY_SOURCE);
  SourceFromThread from = { f->service, test_slot_source_new (slot, 2), cancel, 0, FALSE, FALSE };

  test_ledger_watch (ledger);

  /* This thread holds the context and does not run it meanwhile. */
  g_thread_join (g_thread_new ("scheduler", schedule_source_in_thread, &from));
  g_assert_true (test_slot_scheduled (slot, from.id));
  g_assert_false (from.attached_on_return);
  g_assert_true (from.cancelled == cancel);
  g_assert_null (g_source_get_context (from.source));
  g_assert_cmpuint (asab_task_service_get_n_running (f->service) +
                    asab_task_service_get_n_queued (f->service), ==, 1);

  test_iterate_until (f->context, slot->n_done == 1);
  if (cancel)
    {
      /* It ended without ever being attached. */
      g_assert_cmpint (slot->result, ==, TEST_RESULT_CANCELLED);
      g_assert_cmpint (slot->n_runs, ==, 0);
      g_assert_false (g_source_is_destroyed (from.source));
      g_assert_null (g_source_get_context (from.source));
    }
  else
    {
      /* Attached here; it ran until it removed itself. */
      g_assert_cmpint (slot->result, ==, TEST_RESULT_OK);
      g_assert_cmpint (slot->n_runs, ==, 2);
      g_assert_true (g_source_get_context (from.source) == f->context);
      g_assert_true (g_source_is_destroyed (from.source));
    }
  g_assert_cmpint (slot->n_destroyed, ==, 0);

  /* Its task has ended: the last reference is this one. */
  g_source_unref (from.source);
  g_ptr_array_set_size (f->done_tasks, 0);
  test_ledger_assert_all_ended (ledger);
  test_ledger_free (ledger);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("schedule_task() and schedule_source() track a caller's GTask or GSource as a "
                  "task until it completes or is destroyed, and cancel it at stop; from another "
                  "thread they hand it over to the context's thread");

  g_test_add ("/task-service/gtask/tracked", Fixture, NULL,
              fixture_setup, test_gtask_tracked, fixture_teardown);
  g_test_add ("/task-service/gtask/failure", Fixture, NULL,
              fixture_setup, test_gtask_failure, fixture_teardown);
  g_test_add ("/task-service/gtask/cancelled-at-stop", Fixture, NULL,
              fixture_setup, test_gtask_cancelled_at_stop, fixture_teardown);
  g_test_add ("/task-service/gtask/cancel-shared-cancellable", Fixture, NULL,
              fixture_setup, test_gtask_cancel_shared_cancellable, fixture_teardown);
  g_test_add ("/task-service/gtask/from-other-thread", Fixture, NULL,
              fixture_setup, test_gtask_from_other_thread, fixture_teardown);
  g_test_add ("/task-service/gtask/from-other-thread-default-context", Fixture, NULL,
              fixture_setup_default_context, test_gtask_from_other_thread, fixture_teardown);

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
  g_test_add ("/task-service/source/from-other-thread", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_source_from_other_thread, fixture_teardown);
  g_test_add ("/task-service/source/cancelled-in-transit", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_source_from_other_thread, fixture_teardown);
  /* The thread has no thread-default context, and the global default one
   * is the service's: it is still not the thread that owns it. */
  g_test_add ("/task-service/source/from-other-thread-default-context", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup_default_context, test_source_from_other_thread, fixture_teardown);
  g_test_add ("/task-service/source/cancelled-in-transit-default-context", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup_default_context, test_source_from_other_thread, fixture_teardown);

  return g_test_run ();
}
