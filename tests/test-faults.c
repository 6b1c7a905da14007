/* test-faults.c: tasks and callers that misbehave, and the invariant
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-ledger.h"
#include "test-util.h"

/* Whatever a task or its caller does, every accepted task gets exactly one
 * "task-done" and every destroy notify runs exactly once: each test keeps a
 * ledger of its tasks, and checks it at the end.
 */

#define PLANNED_FAILURE "planned failure"

typedef struct
{
  GMainContext *context;
  /* The test's own reference, and the service while it lives. */
  AsabTaskService *owned;
  AsabTaskService *service;
  TestLedger *ledger;

  /* Tasks that their function keeps, for the test to complete. */
  GPtrArray *held;
} Fixture;

static Fixture *
slot_fixture (TestSlot *slot)
{
  return slot->ledger->user_data;
}

/* With @watch, the ledger records "task-done" and "task-failed" itself. */
static void
fixture_init_full (Fixture  *f,
                   guint     capacity,
                   gboolean  watch)
{
  memset (f, 0, sizeof *f);
  f->context = test_context_new ();
  f->owned = asab_task_service_new (NULL);
  f->service = f->owned;
  f->ledger = test_ledger_new (f->service, capacity);
  f->ledger->user_data = f;
  f->held = g_ptr_array_new_with_free_func (g_object_unref);

  if (watch)
    test_ledger_watch (f->ledger);
}

static void
fixture_init (Fixture *f,
              guint    capacity)
{
  fixture_init_full (f, capacity, TRUE);
}

/* Drops the test's reference if it still has it, and waits for the service
 * to go: nothing else may keep it once every task has ended.
 */
static void
fixture_release_service (Fixture *f)
{
  g_clear_object (&f->owned);
  test_iterate_until (f->context, test_ledger_finalized (f->ledger));
  f->service = NULL;
}

static void
fixture_clear (Fixture *f)
{
  g_assert_cmpuint (f->held->len, ==, 0);
  g_ptr_array_unref (f->held);
  fixture_release_service (f);
  test_ledger_free (f->ledger);
  test_context_free (f->context);
}

static guint
count_accepted (Fixture *f)
{
  return g_atomic_int_get (&f->ledger->n_accepted);
}

/* Task bodies; the user data is the task's slot. */

static void
body_succeed (GTask        *task,
              GCancellable *cancellable,
              gpointer      data)
{
  TestSlot *slot = data;

  g_atomic_int_inc (&slot->n_runs);
  g_task_return_boolean (task, TRUE);
}

static void
body_fail (GTask        *task,
           GCancellable *cancellable,
           gpointer      data)
{
  TestSlot *slot = data;

  g_atomic_int_inc (&slot->n_runs);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, PLANNED_FAILURE);
}

/* Keeps the task for the test to complete, and ignores cancellation. */
static void
body_hold (GTask        *task,
           GCancellable *cancellable,
           gpointer      data)
{
  TestSlot *slot = data;

  g_assert_true (g_thread_self () == slot->ledger->context_thread);
  slot->n_runs++;
  g_ptr_array_add (slot_fixture (slot)->held, g_object_ref (task));
}

static void
complete_held (Fixture *f)
{
  g_autoptr(GPtrArray) held = g_steal_pointer (&f->held);

  f->held = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < held->len; i++)
    g_task_return_boolean (g_ptr_array_index (held, i), TRUE);
}

/* Ends when its cancellable is cancelled, from whichever thread. The handler
 * is disconnected when the GTask goes, so that nothing holds it in a cycle.
 */
static void
body_wait_cancel (GTask        *task,
                  GCancellable *cancellable,
                  gpointer      data)
{
  TestSlot *slot = data;

  g_atomic_int_inc (&slot->n_runs);
  test_task_return_on_cancel (task, cancellable);
}

/* Threads that the test lets go when it is ready. */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint n_waiting;
  gboolean open;
} Gate;

static Gate gate;

static void
gate_reset (void)
{
  g_mutex_lock (&gate.lock);
  gate.n_waiting = 0;
  gate.open = FALSE;
  g_mutex_unlock (&gate.lock);
}

static void
gate_pass (void)
{
  g_mutex_lock (&gate.lock);
  gate.n_waiting++;
  g_cond_broadcast (&gate.cond);
  while (!gate.open)
    g_cond_wait (&gate.cond, &gate.lock);
  gate.n_waiting--;
  g_mutex_unlock (&gate.lock);
}

/* Waits, at most 10 s, for @n threads to be waiting at the gate. */
static void
gate_wait_for (guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&gate.lock);
  while (gate.n_waiting < n)
    if (!g_cond_wait_until (&gate.cond, &gate.lock, deadline))
      g_error ("Timed out waiting for %u threads at the gate (%u there)", n, gate.n_waiting);
  g_mutex_unlock (&gate.lock);
}

static void
gate_open (void)
{
  g_mutex_lock (&gate.lock);
  gate.open = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.lock);
}

/* Runs on a worker thread until the gate opens. */
static void
body_thread_gated (GTask        *task,
                   GCancellable *cancellable,
                   gpointer      data)
{
  TestSlot *slot = data;

  g_assert_true (g_thread_self () != slot->ledger->context_thread);
  g_atomic_int_inc (&slot->n_runs);
  gate_pass ();
  g_task_return_boolean (task, TRUE);
}

static const char *
find_warning (const char *needle)
{
  guint n = test_captured_count (G_LOG_LEVEL_WARNING);

  for (guint i = 0; i < n; i++)
    {
      CapturedLog *log = test_captured_nth (G_LOG_LEVEL_WARNING, i);

      if (strstr (log->message, needle) != NULL)
        return log->message;
    }

  return NULL;
}

/* 1. A function that never completes its task */

typedef struct
{
  GError *error;
  gboolean done;
  gint64 elapsed;
  gint64 start;
} StopResult;

static void
stop_result_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  StopResult *stop = user_data;

  g_assert_false (stop->done);
  asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, &stop->error);
  stop->done = TRUE;
  stop->elapsed = g_get_monotonic_time () - stop->start;
}

static void
test_never_completes_stop_async (void)
{
  Fixture f;
  StopResult stop = { 0 };
  TestSlot *queued[2];
  TestSlot *worker;
  const char *warning;

  fixture_init (&f, 16);
  gate_reset ();
  asab_task_service_set_stop_timeout (f.service, 100);
  asab_task_service_set_max_concurrent (f.service, 4);

  /* Three that ignore cancellation, one that blocks a worker thread, and
   * two that wait behind them for a slot. */
  for (guint i = 0; i < 3; i++)
    test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_hold);
  worker = test_ledger_schedule (f.ledger, f.service, TEST_WAY_IN_THREAD, body_thread_gated);
  queued[0] = test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed);
  queued[1] = test_ledger_schedule (f.ledger, f.service, TEST_WAY_THREADSAFE, body_succeed);
  test_iterate_until (f.context, f.held->len == 3);
  gate_wait_for (1);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 4);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 2);

  stop.start = g_get_monotonic_time ();
  asab_task_service_stop_async (f.service, NULL, stop_result_cb, &stop);
  test_iterate_until (f.context, stop.done);
  g_assert_cmpint (stop.elapsed, >=, 100 * 1000);

  /* ASAB's form, with the numbers of tasks still running and queued: the
   * queued ones ended as cancelled, the four others did not end. */
  g_assert_error (stop.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (stop.error->message, ==, "4+0 pending and incomplete tasks");
  warning = find_warning ("pending and incomplete tasks");
  g_assert_cmpstr (warning, ==, "4+0 pending and incomplete tasks");
  g_assert_cmpint (queued[0]->n_done, ==, 1);
  g_assert_cmpint (queued[1]->n_done, ==, 1);
  g_assert_cmpint (queued[0]->result, ==, TEST_RESULT_CANCELLED);
  g_assert_cmpint (queued[0]->n_runs + queued[1]->n_runs, ==, 0);
  g_assert_cmpint (f.ledger->n_done, ==, 2);

  /* They still end, once, when they do end. */
  complete_held (&f);
  gate_open ();
  test_iterate_until (f.context, f.ledger->n_done == 6);
  g_assert_cmpint (worker->n_done, ==, 1);
  test_ledger_assert_all_ended (f.ledger);
  g_clear_error (&stop.error);

  fixture_clear (&f);
}

static void
test_never_completes_stop_sync (void)
{
  Fixture f;
  gint64 start;

  fixture_init (&f, 8);
  asab_task_service_set_stop_timeout (f.service, 50);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_hold);
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_THREADSAFE, body_hold);
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_wait_cancel);
  test_iterate_until (f.context, f.held->len == 2);

  start = g_get_monotonic_time ();
  asab_task_service_stop (f.service, NULL, NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);
  g_assert_cmpstr (find_warning ("pending"), ==, "2+0 pending and incomplete tasks");
  g_assert_cmpint (f.ledger->n_done, ==, 1);

  complete_held (&f);
  test_iterate_until (f.context, f.ledger->n_done == 3);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

/* The stop ends every queued task at once, as cancelled. When it then gives
 * up on a task that still runs, the tasks that it has ended itself are not
 * "pending and incomplete", even while their "task-done" is still to come.
 */
static gpointer
schedule_many_threadsafe (gpointer data)
{
  Fixture *f = data;

  for (guint i = 0; i < 2000; i++)
    g_assert_cmpuint (test_ledger_schedule (f->ledger, f->service, TEST_WAY_THREADSAFE, body_succeed)->id, >, 0);

  return NULL;
}

static void
test_never_completes_ended_not_pending (void)
{
  Fixture f;
  StopResult stop = { 0 };

  fixture_init (&f, 2048);
  asab_task_service_set_stop_timeout (f.service, 1);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_hold);
  test_iterate_until (f.context, f.held->len == 1);
  g_thread_join (g_thread_new ("producer", schedule_many_threadsafe, &f));
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 2000);

  asab_task_service_stop_async (f.service, NULL, stop_result_cb, &stop);
  test_iterate_until (f.context, stop.done);
  g_assert_error (stop.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (stop.error->message, ==, "1+0 pending and incomplete tasks");

  complete_held (&f);
  test_iterate_until (f.context, f.ledger->n_done == 2001);
  for (guint i = 1; i < 2001; i++)
    g_assert_cmpint (f.ledger->slots[i].result, ==, TEST_RESULT_CANCELLED);
  test_ledger_assert_all_ended (f.ledger);
  g_clear_error (&stop.error);

  fixture_clear (&f);
}

/* 2. A function that completes its task twice */

static void
body_complete_twice (GTask        *task,
                     GCancellable *cancellable,
                     gpointer      data)
{
  TestSlot *slot = data;

  slot->n_runs++;
  g_task_return_boolean (task, TRUE);
  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*ever_returned*");
  g_task_return_boolean (task, TRUE);
  g_test_assert_expected_messages ();
}

static void
body_fail_then_succeed (GTask        *task,
                        GCancellable *cancellable,
                        gpointer      data)
{
  TestSlot *slot = data;

  slot->n_runs++;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, PLANNED_FAILURE);
  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*ever_returned*");
  g_task_return_boolean (task, TRUE);
  g_test_assert_expected_messages ();
}

static void
body_thread_complete_twice (GTask        *task,
                            GCancellable *cancellable,
                            gpointer      data)
{
  TestSlot *slot = data;

  g_atomic_int_inc (&slot->n_runs);
  g_task_return_boolean (task, TRUE);
  /* Not an error: GLib would leak it, refusing the second completion. */
  g_task_return_boolean (task, FALSE);
}

/* Completes at once, and keeps the task to complete it again later. */
static void
body_succeed_and_keep (GTask        *task,
                       GCancellable *cancellable,
                       gpointer      data)
{
  TestSlot *slot = data;

  slot->n_runs++;
  g_ptr_array_add (slot_fixture (slot)->held, g_object_ref (task));
  g_task_return_boolean (task, TRUE);
}

static void
test_double_complete_in_func (void)
{
  Fixture f;
  TestSlot *slot;

  fixture_init (&f, 4);

  slot = test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_complete_twice);
  test_iterate_until (f.context, f.ledger->n_done == 1);
  test_iterate_pending (f.context);

  g_assert_cmpint (slot->result, ==, TEST_RESULT_OK);
  g_assert_cmpint (slot->n_runs, ==, 1);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static void
test_double_complete_fail_then_succeed (void)
{
  Fixture f;
  TestSlot *slot;

  fixture_init (&f, 4);

  slot = test_ledger_schedule (f.ledger, f.service, TEST_WAY_THREADSAFE, body_fail_then_succeed);
  test_iterate_until (f.context, f.ledger->n_done == 1);
  test_iterate_pending (f.context);

  /* The first completion counts, and is reported once. */
  g_assert_cmpint (slot->result, ==, TEST_RESULT_FAILED);
  g_assert_cmpint (slot->n_failed, ==, 1);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static void
test_double_complete_in_thread (void)
{
  Fixture f;
  TestSlot *slot;

  fixture_init (&f, 4);

  /* The second completion is on the worker thread. */
  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*ever_returned*");
  slot = test_ledger_schedule (f.ledger, f.service, TEST_WAY_IN_THREAD, body_thread_complete_twice);
  test_iterate_until (f.context, f.ledger->n_done == 1);
  g_test_assert_expected_messages ();
  test_iterate_pending (f.context);

  g_assert_cmpint (slot->result, ==, TEST_RESULT_OK);
  g_assert_cmpint (slot->n_failed, ==, 0);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static void
test_double_complete_after_end (void)
{
  Fixture f;
  g_autoptr(GTask) task = NULL;

  fixture_init (&f, 4);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed_and_keep);
  test_iterate_until (f.context, f.ledger->n_done == 1);
  task = g_ptr_array_steal_index (f.held, 0);

  /* Long after the task has ended and its slot was freed. */
  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*ever_returned*");
  g_task_return_boolean (task, TRUE);
  g_test_assert_expected_messages ();
  test_iterate_pending (f.context);
  g_assert_cmpint (f.ledger->n_done, ==, 1);
  test_ledger_assert_all_ended (f.ledger);

  g_clear_object (&task);
  fixture_clear (&f);
}

/* 3. Handlers that re-enter the service */

typedef enum
{
  ACTION_SCHEDULE,
  ACTION_CANCEL,
  ACTION_STOP,
  ACTION_STOP_ASYNC,
  ACTION_UNREF,
} Action;

typedef struct
{
  const char *path;
  const char *signal;
  Action action;
} ReentryCase;

typedef struct
{
  Fixture f;
  const ReentryCase *test;
  guint n_actions;
  TestSlot *forever;
  gint64 stop_elapsed;
  StopResult stop;
} Reentry;

/* How many times a handler re-enters; stopping and unreferencing happen
 * once. */
#define N_REENTRIES 3

static void
reenter (Reentry         *r,
         AsabTaskService *service,
         TestSlot        *own)
{
  Fixture *f = &r->f;
  gboolean in_task_failed = g_str_equal (r->test->signal, "task-failed");
  gboolean own_is_live;
  gint64 start;

  if (r->n_actions >= N_REENTRIES)
    return;
  r->n_actions++;

  switch (r->test->action)
    {
    case ACTION_SCHEDULE:
      g_assert_cmpuint (test_ledger_schedule (f->ledger, service, TEST_WAY_SCHEDULE, body_succeed)->id, >, 0);
      g_assert_cmpuint (test_ledger_schedule (f->ledger, service, TEST_WAY_THREADSAFE, body_fail)->id, >, 0);
      break;

    case ACTION_CANCEL:
      /* A task that has ended has left; a forever task that failed is still
       * there until it has ended for good. */
      own_is_live = in_task_failed && own == r->forever;
      g_assert_true (asab_task_service_cancel (service, own->id) == own_is_live);
      for (int i = 0; i < g_atomic_int_get (&f->ledger->n_slots); i++)
        if (&f->ledger->slots[i] != own && f->ledger->slots[i].id > 0 && f->ledger->slots[i].n_done == 0)
          asab_task_service_cancel (service, f->ledger->slots[i].id);
      break;

    case ACTION_STOP:
      r->n_actions = N_REENTRIES;
      start = g_get_monotonic_time ();
      asab_task_service_stop (service, NULL, NULL);
      r->stop_elapsed = g_get_monotonic_time () - start;
      g_assert_cmpuint (test_ledger_schedule (f->ledger, service, TEST_WAY_SCHEDULE, body_succeed)->id, ==, 0);
      break;

    case ACTION_STOP_ASYNC:
      r->n_actions = N_REENTRIES;
      r->stop.start = g_get_monotonic_time ();
      asab_task_service_stop_async (service, NULL, stop_result_cb, &r->stop);
      g_assert_cmpuint (test_ledger_schedule (f->ledger, service, TEST_WAY_THREADSAFE, body_succeed)->id, ==, 0);
      break;

    case ACTION_UNREF:
      r->n_actions = N_REENTRIES;
      g_clear_object (&f->owned);
      /* The tasks keep it alive, and it keeps working. */
      g_assert_cmpuint (test_ledger_schedule (f->ledger, service, TEST_WAY_SCHEDULE, body_succeed)->id, >, 0);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
reentry_on_task_done (AsabTaskService *service,
                      GTask           *task,
                      const GError    *error,
                      Reentry         *r)
{
  TestSlot *slot = test_ledger_record_done (r->f.ledger, task, error);

  if (g_str_equal (r->test->signal, "task-done"))
    reenter (r, service, slot);
}

static gboolean
reentry_on_task_failed (AsabTaskService *service,
                        GTask           *task,
                        const GError    *error,
                        Reentry         *r)
{
  TestSlot *slot = test_ledger_record_failed (r->f.ledger, task, error);

  if (g_str_equal (r->test->signal, "task-failed"))
    reenter (r, service, slot);

  return TRUE;
}

static void
test_reentry (gconstpointer data)
{
  Reentry r = { 0 };
  Fixture *f = &r.f;
  TestSlot *waiting[2];
  guint n_finite;

  r.test = data;
  fixture_init_full (f, 64, FALSE);
  g_signal_connect (f->service, "task-done", G_CALLBACK (reentry_on_task_done), &r);
  g_signal_connect (f->service, "task-failed", G_CALLBACK (reentry_on_task_failed), &r);
  asab_task_service_set_max_concurrent (f->service, 4);
  asab_task_service_set_stop_timeout (f->service, 1500);

  /* Tasks in every state when the handlers run: succeeding, failing,
   * waiting for a cancellation, queued behind the limit, in transit, on a
   * worker thread, and one that fails and restarts forever. */
  r.forever = test_ledger_schedule (f->ledger, f->service, TEST_WAY_FOREVER, body_fail);
  for (guint i = 0; i < 2; i++)
    waiting[i] = test_ledger_schedule (f->ledger, f->service, TEST_WAY_SCHEDULE, body_wait_cancel);
  for (guint i = 0; i < 3; i++)
    {
      test_ledger_schedule (f->ledger, f->service, TEST_WAY_SCHEDULE, body_succeed);
      test_ledger_schedule (f->ledger, f->service, TEST_WAY_SCHEDULE, body_fail);
    }
  test_ledger_schedule (f->ledger, f->service, TEST_WAY_THREADSAFE, body_succeed);
  test_ledger_schedule (f->ledger, f->service, TEST_WAY_THREADSAFE, body_fail);
  test_ledger_schedule (f->ledger, f->service, TEST_WAY_IN_THREAD, body_fail);
  n_finite = 9;

  /* The limit leaves one slot to the others: let those end, then end the
   * rest. */
  test_iterate_until (f->context, g_atomic_int_get (&f->ledger->n_done) >= (int) n_finite ||
                                  r.n_actions == N_REENTRIES);
  if (!test_ledger_finalized (f->ledger))
    for (guint i = 0; i < (guint) g_atomic_int_get (&f->ledger->n_slots); i++)
      if (f->ledger->slots[i].id > 0 && f->ledger->slots[i].n_done == 0)
        asab_task_service_cancel (f->service, f->ledger->slots[i].id);
  test_iterate_until (f->context, (guint) g_atomic_int_get (&f->ledger->n_done) == count_accepted (f));
  test_iterate_pending (f->context);

  g_assert_cmpuint (r.n_actions, >, 0);
  test_ledger_assert_all_ended (f->ledger);
  g_assert_cmpint (waiting[0]->result, ==, TEST_RESULT_CANCELLED);
  g_assert_cmpint (waiting[1]->result, ==, TEST_RESULT_CANCELLED);

  switch (r.test->action)
    {
    case ACTION_SCHEDULE:
      g_assert_cmpuint (count_accepted (f), ==, 12 + 2 * N_REENTRIES);
      break;
    case ACTION_CANCEL:
      break;
    case ACTION_STOP:
      /* Every task could end at once: the stop had nothing to wait for. */
      g_assert_null (find_warning ("pending"));
      g_assert_cmpint (r.stop_elapsed, <, G_USEC_PER_SEC);
      break;
    case ACTION_STOP_ASYNC:
      test_iterate_until (f->context, r.stop.done);
      g_assert_no_error (r.stop.error);
      g_assert_cmpint (r.stop.elapsed, <, G_USEC_PER_SEC);
      break;
    case ACTION_UNREF:
      g_assert_null (f->owned);
      break;
    default:
      g_assert_not_reached ();
    }

  fixture_clear (f);
}

static const ReentryCase reentry_cases[] = {
  { "/faults/reentry/task-done/schedule", "task-done", ACTION_SCHEDULE },
  { "/faults/reentry/task-done/cancel", "task-done", ACTION_CANCEL },
  { "/faults/reentry/task-done/stop", "task-done", ACTION_STOP },
  { "/faults/reentry/task-done/stop-async", "task-done", ACTION_STOP_ASYNC },
  { "/faults/reentry/task-done/unref", "task-done", ACTION_UNREF },
  { "/faults/reentry/task-failed/schedule", "task-failed", ACTION_SCHEDULE },
  { "/faults/reentry/task-failed/cancel", "task-failed", ACTION_CANCEL },
  { "/faults/reentry/task-failed/stop", "task-failed", ACTION_STOP },
  { "/faults/reentry/task-failed/stop-async", "task-failed", ACTION_STOP_ASYNC },
  { "/faults/reentry/task-failed/unref", "task-failed", ACTION_UNREF },
};

/* stop() from a function that has completed its own task. */
static void
body_succeed_then_stop (GTask        *task,
                        GCancellable *cancellable,
                        gpointer      data)
{
  TestSlot *slot = data;
  gint64 start;

  slot->n_runs++;
  g_task_return_boolean (task, TRUE);

  start = g_get_monotonic_time ();
  asab_task_service_stop (g_task_get_source_object (task), NULL, NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

static void
test_reentry_func_stop (void)
{
  Fixture f;

  fixture_init (&f, 8);
  asab_task_service_set_stop_timeout (f.service, 1500);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed_then_stop);
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_wait_cancel);
  test_iterate_until (f.context, f.ledger->n_done == 2);
  g_assert_null (find_warning ("pending"));
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

/* Handlers that schedule, cancel or stop from inside the dispatch, each
 * once. */
typedef struct
{
  Fixture *f;
  guint n_scheduled;
  guint64 victim;
  gboolean stop;
  gint64 stopped_after;
} Reenterer;

static void
reenter_on_done (AsabTaskService *service,
                 GTask           *task,
                 const GError    *error,
                 Reenterer       *r)
{
  if (r->n_scheduled < 3)
    {
      r->n_scheduled++;
      g_assert_cmpuint (test_ledger_schedule (r->f->ledger, service, TEST_WAY_SCHEDULE,
                                              body_succeed)->id, >, 0);
    }

  if (r->victim != 0)
    {
      g_assert_true (asab_task_service_cancel (service, r->victim));
      r->victim = 0;
    }

  if (r->stop)
    {
      gint64 start = g_get_monotonic_time ();

      r->stop = FALSE;
      asab_task_service_stop (service, NULL, NULL);
      r->stopped_after = g_get_monotonic_time () - start;
    }
}

static void
test_reentry_schedule_cancel (void)
{
  Fixture f;
  Reenterer r = { &f, 0, 0, FALSE, 0 };

  fixture_init (&f, 8);
  g_signal_connect (f.service, "task-done", G_CALLBACK (reenter_on_done), &r);

  r.victim = test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_wait_cancel)->id;
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed);
  test_iterate_until (f.context, f.ledger->n_done == 5);
  g_assert_cmpuint (test_ledger_count (f.ledger, TEST_RESULT_CANCELLED), ==, 1);
  g_assert_cmpuint (test_ledger_count (f.ledger, TEST_RESULT_OK), ==, 4);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static void
test_reentry_stop_in_task_done (void)
{
  Fixture f;
  Reenterer r = { &f, 3, 0, FALSE, 0 };

  fixture_init (&f, 16);
  asab_task_service_set_max_concurrent (f.service, 1);
  g_signal_connect (f.service, "task-done", G_CALLBACK (reenter_on_done), &r);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE_NO_DESTROY, body_succeed);
  for (guint i = 0; i < 10; i++)
    test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed);
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_wait_cancel);
  r.stop = TRUE;

  test_iterate_until (f.context, f.ledger->n_done == 12);
  /* Stopped from inside the dispatcher: it did not sit out the timeout. */
  g_assert_cmpint (r.stopped_after, <, 1000 * 1000);
  g_assert_cmpuint (test_ledger_count (f.ledger, TEST_RESULT_CANCELLED), ==, 11);
  g_assert_cmpint (f.ledger->n_destroyed, ==, 11);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static gboolean
reenter_on_failed (AsabTaskService *service,
                   GTask           *task,
                   const GError    *error,
                   Reenterer       *r)
{
  test_ledger_record_failed (r->f->ledger, task, error);
  r->n_scheduled++;
  test_ledger_schedule (r->f->ledger, service, TEST_WAY_SCHEDULE, body_succeed);
  asab_task_service_stop_async (service, NULL, NULL, NULL);

  return TRUE;
}

static void
test_reentry_in_task_failed (void)
{
  Fixture f;
  Reenterer r = { &f, 0, 0, FALSE, 0 };

  fixture_init_full (&f, 8, FALSE);
  g_signal_connect (f.service, "task-done", G_CALLBACK (test_ledger_on_task_done), f.ledger);
  g_signal_connect (f.service, "task-failed", G_CALLBACK (reenter_on_failed), &r);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_fail);
  test_iterate_until (f.context, f.ledger->n_done == 2);
  g_assert_cmpuint (r.n_scheduled, ==, 1);
  g_assert_cmpuint (test_ledger_count (f.ledger, TEST_RESULT_FAILED), ==, 1);
  g_assert_cmpuint (test_ledger_count (f.ledger, TEST_RESULT_CANCELLED), ==, 1);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static void
unref_on_done (AsabTaskService *service,
               GTask           *task,
               const GError    *error,
               Fixture         *f)
{
  g_clear_object (&f->owned);
}

static void
test_reentry_unref_in_task_done (void)
{
  Fixture f;

  fixture_init (&f, 4);
  g_signal_connect (f.service, "task-done", G_CALLBACK (unref_on_done), &f);

  /* The test's reference goes in the first task-done; the task that still
   * runs keeps the service, which goes when that one ends. */
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed);
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_hold);
  test_iterate_until (f.context, f.ledger->n_done == 1);
  g_assert_null (f.owned);
  g_assert_false (test_ledger_finalized (f.ledger));

  complete_held (&f);
  test_iterate_until (f.context, test_ledger_finalized (f.ledger));
  g_assert_cmpint (f.ledger->n_destroyed, ==, 2);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

/* 4. The last reference dropped while other threads still use it */

typedef struct
{
  Fixture *f;
  AsabTaskService *service;
  guint n_tasks;
  guint32 seed;
} Producer;

static int n_producers_done;

/* Schedules with its own reference, which it drops when it is done; cancels
 * what waits for a cancellation a little later, from this thread. */
static gpointer
produce (gpointer data)
{
  Producer *p = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (p->seed);
  TestSlot *waiting[8] = { NULL };
  guint n_waiting = 0;

  for (guint i = 0; i < p->n_tasks; i++)
    {
      guint32 pick = g_rand_int_range (rand, 0, 10);
      AsabTaskFunc body = pick < 6 ? body_succeed : pick < 9 ? body_fail : body_wait_cancel;
      TestSlot *slot = test_ledger_schedule (p->f->ledger, p->service, TEST_WAY_THREADSAFE, body);

      g_assert_cmpuint (slot->id, >, 0);
      if (body != body_wait_cancel)
        continue;

      if (n_waiting == G_N_ELEMENTS (waiting))
        {
          asab_task_service_cancel (p->service, waiting[0]->id);
          memmove (waiting, waiting + 1, sizeof waiting[0] * (n_waiting - 1));
          n_waiting--;
        }
      waiting[n_waiting++] = slot;
    }

  for (guint i = 0; i < n_waiting; i++)
    g_assert_true (asab_task_service_cancel (p->service, waiting[i]->id));

  g_clear_object (&p->service);
  g_atomic_int_inc (&n_producers_done);

  return NULL;
}

#define N_PRODUCERS 4
#define N_TASKS_PER_PRODUCER 5000

static void
test_last_unref_producers (void)
{
  Fixture f;
  Producer producers[N_PRODUCERS];
  GThread *threads[N_PRODUCERS];

  fixture_init (&f, N_PRODUCERS * N_TASKS_PER_PRODUCER);
  g_atomic_int_set (&n_producers_done, 0);

  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i] = (Producer) { &f, g_object_ref (f.service), N_TASKS_PER_PRODUCER, 1000 + i };
      threads[i] = g_thread_new ("producer", produce, &producers[i]);
    }

  /* The test's own reference goes while the producers are at work. */
  g_clear_object (&f.owned);

  test_iterate_until (f.context, g_atomic_int_get (&n_producers_done) == N_PRODUCERS &&
                                 g_atomic_int_get (&f.ledger->n_done) == N_PRODUCERS * N_TASKS_PER_PRODUCER);
  for (guint i = 0; i < N_PRODUCERS; i++)
    g_thread_join (threads[i]);

  /* With every task ended and every producer gone, so is the service. */
  test_iterate_until (f.context, test_ledger_finalized (f.ledger));
  test_ledger_assert_all_ended (f.ledger);
  g_test_message ("%d tasks from %d threads, %d failed", f.ledger->n_done, N_PRODUCERS, f.ledger->n_failed);

  fixture_clear (&f);
}

static void
test_last_unref_workers (void)
{
  Fixture f;
  const guint n_workers = 6;

  fixture_init (&f, 16);
  gate_reset ();

  for (guint i = 0; i < n_workers; i++)
    test_ledger_schedule (f.ledger, f.service, TEST_WAY_IN_THREAD, body_thread_gated);
  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_wait_cancel);
  test_iterate_until (f.context, asab_task_service_get_n_running (f.service) == n_workers + 1);
  gate_wait_for (n_workers);

  /* Dropped while every worker is inside its function. */
  g_clear_object (&f.owned);
  g_assert_false (test_ledger_finalized (f.ledger));
  g_assert_true (asab_task_service_cancel (f.service, f.ledger->slots[n_workers].id));

  gate_open ();
  test_iterate_until (f.context, g_atomic_int_get (&f.ledger->n_done) == (int) n_workers + 1);
  test_iterate_until (f.context, test_ledger_finalized (f.ledger));
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

/* 5. A context that nobody iterates for a while */

/* A payload that stands for what a caller hands over with each task. */
typedef struct
{
  TestSlot *slot;
  char bytes[256];
} Payload;

static int n_payloads;
static int max_payloads;

static void
payload_free (gpointer data)
{
  Payload *payload = data;
  int n = g_atomic_int_add (&n_payloads, -1);

  g_assert_cmpint (n, >, 0);
  test_slot_destroy (payload->slot);
  g_free (payload);
}

static void
body_payload (GTask        *task,
              GCancellable *cancellable,
              gpointer      data)
{
  Payload *payload = data;

  body_succeed (task, cancellable, payload->slot);
}

static gpointer
produce_payloads (gpointer data)
{
  Producer *p = data;

  for (guint i = 0; i < p->n_tasks; i++)
    {
      Payload *payload = g_new0 (Payload, 1);
      TestSlot *slot = test_slot_new (p->f->ledger, TEST_WAY_THREADSAFE);
      int n, max;

      payload->slot = slot;
      n = g_atomic_int_add (&n_payloads, 1) + 1;
      do
        max = g_atomic_int_get (&max_payloads);
      while (n > max && !g_atomic_int_compare_and_exchange (&max_payloads, max, n));

      /* A refusal gives the payload back at once, on this thread. */
      test_slot_schedule_full (slot, p->service, body_payload, payload, payload_free);
    }

  return NULL;
}

static void
produce_unattended (Fixture *f,
                    guint    n_per_thread)
{
  Producer producers[N_PRODUCERS];
  GThread *threads[N_PRODUCERS];

  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i] = (Producer) { f, f->service, n_per_thread, i };
      threads[i] = g_thread_new ("producer", produce_payloads, &producers[i]);
    }
  for (guint i = 0; i < N_PRODUCERS; i++)
    g_thread_join (threads[i]);
}

static void
test_unattended_accepts_all (void)
{
  Fixture f;
  const guint n_per_thread = 5000;
  const guint n = N_PRODUCERS * n_per_thread;

  fixture_init (&f, n);
  g_atomic_int_set (&n_payloads, 0);
  g_atomic_int_set (&max_payloads, 0);

  /* Held, and not iterated. */
  g_assert_true (g_main_context_acquire (f.context));
  produce_unattended (&f, n_per_thread);

  /* Nothing dropped, nothing run: every task waits, with its payload, and
   * the context has one hand-off to run besides the service's own source. */
  g_assert_cmpuint (count_accepted (&f), ==, n);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, n);
  g_assert_cmpint (f.ledger->n_destroyed, ==, 0);
  g_assert_cmpint (g_atomic_int_get (&n_payloads), ==, (int) n);
  g_assert_cmpuint (test_count_sources (f.context), ==, 2);
  g_main_context_release (f.context);

  test_iterate_until (f.context, g_atomic_int_get (&f.ledger->n_done) == (int) n);
  g_assert_cmpint (g_atomic_int_get (&n_payloads), ==, 0);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

static void
test_unattended_max_queued (void)
{
  Fixture f;
  const guint n_per_thread = 5000;
  const guint limit = 1000;

  fixture_init (&f, 2 * N_PRODUCERS * n_per_thread);
  g_atomic_int_set (&n_payloads, 0);
  g_atomic_int_set (&max_payloads, 0);
  asab_task_service_set_max_queued (f.service, limit);

  g_assert_true (g_main_context_acquire (f.context));
  produce_unattended (&f, n_per_thread);

  /* Exactly the limit is accepted; every other call was told, and gave its
   * payload back, so no more than the limit was ever held. */
  g_assert_cmpuint (count_accepted (&f), ==, limit);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, limit);
  g_assert_cmpint (f.ledger->n_destroyed, ==, N_PRODUCERS * n_per_thread - limit);
  g_assert_cmpint (g_atomic_int_get (&n_payloads), ==, (int) limit);
  g_assert_cmpint (g_atomic_int_get (&max_payloads), <=, (int) limit + N_PRODUCERS);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (find_warning ("full"));
  g_main_context_release (f.context);

  test_iterate_until (f.context, g_atomic_int_get (&f.ledger->n_done) == (int) limit);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 0);

  /* With the queue drained, calls are accepted again. */
  produce_unattended (&f, limit / N_PRODUCERS);
  test_iterate_until (f.context, g_atomic_int_get (&f.ledger->n_done) == (int) (2 * limit));
  g_assert_cmpint (g_atomic_int_get (&n_payloads), ==, 0);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

/* 6. Cancelling from another thread at the wrong moment */

/* A forever task restarts with a new GTask. Another thread that cancels it
 * while the context thread is between dropping the old GTask and storing
 * the new one must still end it. The old GTask's task data is freed at that
 * very moment: that is where this test has the other thread cancel.
 */
typedef struct
{
  Fixture *f;
  TestSlot *slot;
  GMutex lock;
  GCond cond;
  gboolean requested;
  gboolean answered;
  gboolean cancelled;
} RestartRace;

static gpointer
restart_race_cancel (gpointer data)
{
  RestartRace *race = data;
  gboolean cancelled;

  g_mutex_lock (&race->lock);
  while (!race->requested)
    g_cond_wait (&race->cond, &race->lock);
  g_mutex_unlock (&race->lock);

  cancelled = asab_task_service_cancel (race->f->service, race->slot->id);

  g_mutex_lock (&race->lock);
  race->answered = TRUE;
  race->cancelled = cancelled;
  g_cond_broadcast (&race->cond);
  g_mutex_unlock (&race->lock);

  return NULL;
}

static void
restart_race_run_over (gpointer data)
{
  RestartRace *race = data;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&race->lock);
  if (!race->requested)
    {
      race->requested = TRUE;
      g_cond_broadcast (&race->cond);
      while (!race->answered)
        if (!g_cond_wait_until (&race->cond, &race->lock, deadline))
          g_error ("The cancelling thread did not return");
    }
  g_mutex_unlock (&race->lock);
}

static void
body_forever_once (GTask        *task,
                   GCancellable *cancellable,
                   gpointer      data)
{
  RestartRace *race = data;

  race->slot->n_runs++;
  g_task_set_task_data (task, race, restart_race_run_over);
  g_task_return_boolean (task, TRUE);
}

static void
slot_destroy_race (gpointer data)
{
  RestartRace *race = data;

  test_slot_destroy (race->slot);
}

static void
test_forever_cancel_during_restart (void)
{
  Fixture f;
  RestartRace race = { 0 };
  GThread *thread;

  fixture_init (&f, 4);
  race.f = &f;
  race.slot = test_slot_new (f.ledger, TEST_WAY_FOREVER);
  g_mutex_init (&race.lock);
  g_cond_init (&race.cond);
  thread = g_thread_new ("canceller", restart_race_cancel, &race);

  g_assert_cmpuint (test_slot_schedule_full (race.slot, f.service, body_forever_once, &race,
                                             slot_destroy_race), >, 0);

  /* The first run ends, the task restarts, and is cancelled meanwhile. */
  test_iterate_until (f.context, race.answered);
  g_thread_join (thread);
  g_assert_true (race.cancelled);

  /* A cancelled forever task is not started again, and ends as cancelled. */
  test_iterate_until (f.context, f.ledger->n_done == 1 || race.slot->n_runs > 1);
  g_assert_cmpint (race.slot->n_runs, ==, 1);
  g_assert_cmpint (race.slot->result, ==, TEST_RESULT_CANCELLED);
  test_ledger_assert_all_ended (f.ledger);

  g_mutex_clear (&race.lock);
  g_cond_clear (&race.cond);
  fixture_clear (&f);
}

/* A GSource's id is handed out before the source is attached, and another
 * thread may cancel that id in between: the source must still end, once,
 * and a cancel that came before the attach keeps it from being attached.
 *
 * The other threads run one request at a time and the test waits for each
 * on a condition, so that no thread spins while another needs the CPU:
 * under valgrind, which runs one thread at a time, a spinning thread can
 * starve the context's thread for seconds on a busy machine. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  const char *name;
  GThreadFunc func;
  gpointer data;
  guint n_posted;
  guint n_done;
  gboolean quit;
} OtherThread;

static gpointer
other_thread_main (gpointer data)
{
  OtherThread *other = data;
  guint n_seen = 0;

  g_mutex_lock (&other->lock);
  for (;;)
    {
      GThreadFunc func;
      gpointer func_data;

      while (!other->quit && other->n_posted == n_seen)
        g_cond_wait (&other->cond, &other->lock);
      if (other->quit)
        break;
      n_seen = other->n_posted;
      func = other->func;
      func_data = other->data;
      g_mutex_unlock (&other->lock);

      func (func_data);

      g_mutex_lock (&other->lock);
      other->n_done = n_seen;
      g_cond_broadcast (&other->cond);
    }
  g_mutex_unlock (&other->lock);

  return NULL;
}

static void
other_thread_start (OtherThread *other,
                    const char  *name)
{
  memset (other, 0, sizeof *other);
  g_mutex_init (&other->lock);
  g_cond_init (&other->cond);
  other->name = name;
  other->thread = g_thread_new (name, other_thread_main, other);
}

/* Has the other thread call @func, and returns at once. */
static void
other_thread_post (OtherThread *other,
                   GThreadFunc  func,
                   gpointer     data)
{
  g_mutex_lock (&other->lock);
  g_assert_cmpuint (other->n_done, ==, other->n_posted);
  other->func = func;
  other->data = data;
  other->n_posted++;
  g_cond_broadcast (&other->cond);
  g_mutex_unlock (&other->lock);
}

/* Waits, at most 10 s, until the other thread has returned from @func. */
static void
other_thread_wait (OtherThread *other)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&other->lock);
  while (other->n_done != other->n_posted)
    if (!g_cond_wait_until (&other->cond, &other->lock, deadline))
      g_error ("Timed out waiting for the thread \"%s\"", other->name);
  g_mutex_unlock (&other->lock);
}

static void
other_thread_stop (OtherThread *other)
{
  g_mutex_lock (&other->lock);
  other->quit = TRUE;
  g_cond_broadcast (&other->cond);
  g_mutex_unlock (&other->lock);
  g_thread_join (other->thread);
  g_mutex_clear (&other->lock);
  g_cond_clear (&other->cond);
}

typedef struct
{
  AsabTaskService *service;
  GSource *source;
  guint64 id;
  guint n_tries;
  gboolean cancelled;
} SourceRequest;

static gpointer
schedule_source_there (gpointer data)
{
  SourceRequest *req = data;

  req->id = asab_task_service_schedule_source (req->service, g_source_ref (req->source));

  return NULL;
}

/* Tries to cancel the id, a bounded number of times, until it is live. */
static gpointer
cancel_there (gpointer data)
{
  SourceRequest *req = data;

  req->cancelled = FALSE;
  for (guint i = 0; i < req->n_tries && !req->cancelled; i++)
    req->cancelled = asab_task_service_cancel (req->service, req->id);

  return NULL;
}

/* Whether the source was ever attached: a source that the service ends
 * before attaching it is not destroyed, and has no context. */
static gboolean
source_was_attached (GSource *source)
{
  return g_source_is_destroyed (source) || g_source_get_context (source) != NULL;
}

#define N_HANDED_OVER_SOURCES 100

/* From a thread that cannot own the context, the source is handed over and
 * waits for the context's thread to attach it: a cancel from a third
 * thread lands in that window every time, since the context does not run
 * until it has. */
static void
test_source_cancelled_before_attach (void)
{
  Fixture f;
  OtherThread producer, guesser;
  guint64 last_id = 0;

  fixture_init (&f, N_HANDED_OVER_SOURCES);
  other_thread_start (&producer, "producer");
  other_thread_start (&guesser, "guesser");

  for (guint i = 0; i < N_HANDED_OVER_SOURCES; i++)
    {
      TestSlot *slot = test_slot_new (f.ledger, TEST_WAY_SOURCE);
      SourceRequest req = { f.service, test_slot_source_new (slot, 1), 0, 1, FALSE };

      other_thread_post (&producer, schedule_source_there, &req);
      other_thread_wait (&producer);
      g_assert_true (test_slot_scheduled (slot, req.id));
      g_assert_cmpuint (req.id, >, last_id);
      last_id = req.id;

      /* Cancelled twice, from two threads: the second relies on the
       * first's request. */
      other_thread_post (&guesser, cancel_there, &req);
      other_thread_wait (&guesser);
      g_assert_true (req.cancelled);
      g_assert_true (asab_task_service_cancel (f.service, req.id));

      test_iterate_until (f.context, slot->n_done == 1);
      g_assert_cmpint (slot->result, ==, TEST_RESULT_CANCELLED);
      g_assert_cmpint (slot->n_runs, ==, 0);
      g_assert_false (source_was_attached (req.source));
      g_source_unref (req.source);
      g_assert_cmpint (slot->n_destroyed, ==, 1);
    }

  other_thread_stop (&producer);
  other_thread_stop (&guesser);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

#define N_RACING_SOURCES 20000
#define N_GUESSES 1000

/* On the context's thread the id is in the table a moment before the
 * source is attached: another thread that guesses the next id races for
 * that moment, and may land before the attach, after it, or not at all. */
static void
test_source_attach_race (void)
{
  Fixture f;
  OtherThread guesser;
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  guint n_landed = 0, n_before_attach = 0;
  guint64 last_id = 0;

  fixture_init (&f, N_RACING_SOURCES);
  other_thread_start (&guesser, "guesser");

  while (g_get_monotonic_time () < end && (guint) f.ledger->n_slots < N_RACING_SOURCES)
    {
      TestSlot *slot = test_slot_new (f.ledger, TEST_WAY_SOURCE);
      SourceRequest req = { f.service, test_slot_source_new (slot, 0), 0, N_GUESSES, FALSE };

      /* Ids are handed out in order: the other thread tries the next. */
      req.id = last_id + 1;
      other_thread_post (&guesser, cancel_there, &req);
      test_slot_scheduled (slot, asab_task_service_schedule_source (f.service, g_source_ref (req.source)));
      g_assert_cmpuint (slot->id, ==, last_id + 1);
      last_id = slot->id;
      g_assert_true (asab_task_service_cancel (f.service, slot->id));
      other_thread_wait (&guesser);

      test_iterate_until (f.context, slot->n_done == 1);
      g_assert_cmpint (slot->result, ==, TEST_RESULT_CANCELLED);
      n_landed += req.cancelled;
      n_before_attach += !source_was_attached (req.source);
      g_source_unref (req.source);
      g_assert_cmpint (slot->n_destroyed, ==, 1);
    }

  other_thread_stop (&guesser);
  g_test_message ("%d sources: the other thread cancelled %u, %u of them before the attach",
                  f.ledger->n_slots, n_landed, n_before_attach);
  g_assert_cmpuint (n_before_attach, <=, n_landed);
  test_ledger_assert_all_ended (f.ledger);

  fixture_clear (&f);
}

/* 7. Cancelling the wait for a stop */

static void
test_stop_cancel_wait (void)
{
  Fixture f;
  StopResult stop = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  fixture_init (&f, 4);
  asab_task_service_set_stop_timeout (f.service, 1500);

  test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_hold);
  test_iterate_until (f.context, f.held->len == 1);

  asab_task_service_stop_async (f.service, cancellable, stop_result_cb, &stop);
  test_iterate_pending (f.context);
  g_assert_false (stop.done);

  /* Cancelling the wait ends the wait, not the stop. */
  stop.start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  test_iterate_until (f.context, stop.done);
  g_assert_error (stop.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (stop.elapsed, <, G_USEC_PER_SEC);
  g_assert_cmpuint (test_ledger_schedule (f.ledger, f.service, TEST_WAY_SCHEDULE, body_succeed)->id, ==, 0);

  complete_held (&f);
  test_iterate_until (f.context, f.ledger->n_done == 1);
  test_ledger_assert_all_ended (f.ledger);
  g_clear_error (&stop.error);

  fixture_clear (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("Tasks and callers that misbehave: every accepted task still gets one "
                  "task-done, every destroy notify runs once");

  g_test_add_func ("/faults/never-completes/stop-async", test_never_completes_stop_async);
  g_test_add_func ("/faults/never-completes/stop-sync", test_never_completes_stop_sync);
  g_test_add_func ("/faults/never-completes/ended-not-pending", test_never_completes_ended_not_pending);

  g_test_add_func ("/faults/double-complete/in-func", test_double_complete_in_func);
  g_test_add_func ("/faults/double-complete/fail-then-succeed", test_double_complete_fail_then_succeed);
  g_test_add_func ("/faults/double-complete/in-thread", test_double_complete_in_thread);
  g_test_add_func ("/faults/double-complete/after-end", test_double_complete_after_end);

  for (gsize i = 0; i < G_N_ELEMENTS (reentry_cases); i++)
    g_test_add_data_func (reentry_cases[i].path, &reentry_cases[i], test_reentry);
  g_test_add_func ("/faults/reentry/func/stop", test_reentry_func_stop);
  g_test_add_func ("/task-service/reentry/schedule-cancel", test_reentry_schedule_cancel);
  g_test_add_func ("/task-service/reentry/stop-in-task-done", test_reentry_stop_in_task_done);
  g_test_add_func ("/task-service/reentry/task-failed", test_reentry_in_task_failed);
  g_test_add_func ("/task-service/reentry/unref-in-task-done", test_reentry_unref_in_task_done);

  g_test_add_func ("/faults/last-unref/producers", test_last_unref_producers);
  g_test_add_func ("/faults/last-unref/workers", test_last_unref_workers);

  g_test_add_func ("/faults/unattended/accepts-all", test_unattended_accepts_all);
  g_test_add_func ("/faults/unattended/max-queued", test_unattended_max_queued);

  g_test_add_func ("/faults/cancel/forever-during-restart", test_forever_cancel_during_restart);
  g_test_add_func ("/faults/cancel/source-before-attach", test_source_cancelled_before_attach);
  g_test_add_func ("/faults/cancel/source-attach-race", test_source_attach_race);

  g_test_add_func ("/faults/stop/cancel-wait", test_stop_cancel_wait);

  return g_test_run ();
}
