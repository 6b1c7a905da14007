/* test-schedule.c: a new service, scheduling a function, and how the tasks start
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

/* A new service, on its context */

static void
test_new_thread_default (void)
{
  GMainContext *context = test_context_new ();
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);
  g_autoptr(AsabTaskService) other = NULL;
  g_autoptr(GMainContext) explicit_context = g_main_context_new ();

  g_assert_true (asab_task_service_get_context (service) == context);

  other = asab_task_service_new (explicit_context);
  g_assert_true (asab_task_service_get_context (other) == explicit_context);

  g_clear_object (&service);
  g_clear_object (&other);
  test_context_free (context);
}

/* The service's context, iterated by a thread that has not pushed it as
 * its thread-default context. */
typedef struct
{
  GMainContext *context;
  Fixture *f;
  gboolean quit;
  guint n_right_context;
} Iterator;

static void
check_context (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  Iterator *it = user_data;

  if (g_task_get_context (task) == it->context)
    it->n_right_context++;
  g_task_return_boolean (task, TRUE);
}

static void
count_done_plain (AsabTaskService *service,
                  GTask           *task,
                  const GError    *error,
                  gpointer         data)
{
  guint *n = data;

  /* Two succeed; the forever task ends when the service stops. */
  if (error != NULL)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  (*n)++;
}

static void
test_context_not_thread_default (void)
{
  GMainContext *context = test_context_new ();
  g_autoptr(GMainContext) other = g_main_context_new ();
  g_autoptr(AsabTaskService) service = asab_task_service_new (other);
  Iterator it = { other, NULL, FALSE, 0 };
  guint n_done = 0;

  g_signal_connect (service, "task-done", G_CALLBACK (count_done_plain), &n_done);

  /* This thread runs `other` without making it its thread-default. */
  g_assert_true (g_main_context_acquire (other));
  asab_task_service_schedule (service, check_context, &it);
  asab_task_service_schedule_threadsafe (service, NULL, check_context, &it, NULL);
  asab_task_service_run_forever (service, NULL, check_context, &it, NULL);
  test_iterate_until (other, it.n_right_context >= 4);
  asab_task_service_stop (service, NULL, NULL);
  g_main_context_release (other);

  g_assert_cmpuint (n_done, ==, 3);
  g_assert_cmpuint (it.n_right_context, >=, 4);

  g_clear_object (&service);
  test_context_free (context);
}

/* get_default(), from any thread */

static gpointer
get_default_in_thread (gpointer data)
{
  return asab_task_service_get_default ();
}

static void
test_default_from_threads (void)
{
  GThread *threads[8];
  AsabTaskService *service;

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("get-default", get_default_in_thread, NULL);

  service = asab_task_service_get_default ();
  g_assert_true (ASAB_IS_TASK_SERVICE (service));
  g_assert_true (asab_task_service_get_context (service) == g_main_context_default ());

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (g_thread_join (threads[i]) == (gpointer) service);
}

/* Properties */

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  guint *n = data;

  (*n)++;
}

static void
test_properties (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GApplication) application = NULL;
  guint max = 99, timeout = 0, n_running = 99, n_queued = 99;
  guint n_notify_running = 0, n_notify_queued = 0;

  g_object_get (f->service,
                "context", &context,
                "application", &application,
                "max-concurrent", &max,
                "stop-timeout", &timeout,
                "n-running", &n_running,
                "n-queued", &n_queued,
                NULL);
  g_assert_true (context == f->context);
  g_assert_null (application);
  g_assert_cmpuint (max, ==, 0);
  g_assert_cmpuint (timeout, ==, 5000);
  g_assert_cmpuint (n_running, ==, 0);
  g_assert_cmpuint (n_queued, ==, 0);
  g_assert_true (asab_task_service_get_context (f->service) == f->context);

  g_object_set (f->service, "max-concurrent", 3, "stop-timeout", 250, NULL);
  g_assert_cmpuint (asab_task_service_get_max_concurrent (f->service), ==, 3);
  g_assert_cmpuint (asab_task_service_get_stop_timeout (f->service), ==, 250);

  /* Counts are notified once per dispatch, not once per task. */
  g_signal_connect (f->service, "notify::n-running", G_CALLBACK (count_notify), &n_notify_running);
  g_signal_connect (f->service, "notify::n-queued", G_CALLBACK (count_notify), &n_notify_queued);
  for (guint i = 0; i < 100; i++)
    asab_task_service_schedule (f->service, complete_later, f);
  g_assert_cmpuint (n_notify_queued, ==, 0);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (n_notify_queued, ==, 1);
  g_assert_cmpuint (n_notify_running, ==, 1);
  test_iterate_until (f->context, f->n_done == 100);
  g_assert_cmpuint (n_notify_running, >=, 2);
  g_assert_cmpuint (n_notify_running, <, 50);
}

/* Scheduling a function */

static void
check_not_cancelled (GTask        *task,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  g_task_return_boolean (task, TRUE);
}

static void
test_schedule_runs_later (Fixture       *f,
                          gconstpointer  data)
{
  guint64 id1, id2;

  id1 = asab_task_service_schedule (f->service, complete_now, f);
  id2 = asab_task_service_schedule (f->service, complete_now, f);
  g_assert_cmpuint (id1, >, 0);
  g_assert_cmpuint (id2, >, 0);
  g_assert_cmpuint (id1, !=, id2);
  g_assert_cmpuint (f->n_called, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 2);

  test_iterate_until (f->context, f->n_done == 2);
  g_assert_cmpuint (f->n_called, ==, 2);
  g_assert_cmpuint (f->n_done_ok, ==, 2);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
}

static void
check_gtask (GTask        *task,
             GCancellable *cancellable,
             gpointer      user_data)
{
  Fixture *f = user_data;

  g_assert_true (g_task_get_source_object (task) == (gpointer) f->service);
  g_assert_cmpstr (g_task_get_name (task), ==, "checked");
  g_assert_true (G_IS_CANCELLABLE (cancellable));
  g_assert_true (g_task_get_cancellable (task) == cancellable);
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  g_assert_true (g_task_get_context (task) == f->context);
  g_assert_true (g_main_context_is_owner (f->context));
  f->n_called++;
  g_task_return_boolean (task, TRUE);
}

static void
test_schedule_gtask (Fixture       *f,
                     gconstpointer  data)
{
  asab_task_service_schedule_full (f->service, "checked", check_gtask, f, count_destroy);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_called, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f->done_tasks, 0)), ==, "checked");
}

static void
test_schedule_complete_later (Fixture       *f,
                              gconstpointer  data)
{
  asab_task_service_schedule_full (f->service, "later", complete_later, f, count_destroy);
  test_iterate_until (f->context, f->n_called == 1);
  g_assert_cmpuint (f->n_done, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);

  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
}

static guint n_results_freed;

static void
result_free (gpointer data)
{
  n_results_freed++;
  g_free (data);
}

static void
return_pointer (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_task_return_pointer (task, g_strdup ("a result nobody reads"), result_free);
}

static void
test_schedule_result_freed (Fixture       *f,
                            gconstpointer  data)
{
  n_results_freed = 0;

  asab_task_service_schedule (f->service, return_pointer, NULL);
  asab_task_service_schedule (f->service, return_pointer, NULL);
  test_iterate_until (f->context, f->n_done == 2);

  /* task-done's handler above holds the GTasks; dropping them frees the
   * results, which the service never propagated. */
  g_ptr_array_set_size (f->done_tasks, 0);
  g_assert_cmpuint (n_results_freed, ==, 2);
}

static void
test_schedule_unique_ids (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree guint64 *ids = g_new (guint64, 5000);

  /* Ids stay unique while many tasks come and go, some of them long-lived. */
  for (guint round = 0; round < 5; round++)
    {
      for (guint i = 0; i < 1000; i++)
        {
          guint64 id = i % 7 == 0
            ? asab_task_service_schedule (f->service, complete_later, f)
            : asab_task_service_schedule (f->service, complete_now, f);

          ids[round * 1000 + i] = id;
          g_assert_cmpuint (id, >, 0);
          g_assert_false (g_hash_table_contains (seen, &ids[round * 1000 + i]));
          g_hash_table_add (seen, &ids[round * 1000 + i]);
        }
      test_iterate_until (f->context, f->n_done >= (round + 1) * 1000 - 200);
    }

  test_iterate_until (f->context, f->n_done == 5000);
}

static void
count_cancelled (GCancellable *cancellable,
                 gpointer      data)
{
  guint *n = data;

  (*n)++;
}

typedef struct
{
  Fixture *f;
  guint n_stale;
  GCancellable *seen[2];
} Leftover;

static void
leave_handler (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  Leftover *l = user_data;

  /* Connected and never disconnected. */
  g_signal_connect (cancellable, "cancelled", G_CALLBACK (count_cancelled), &l->n_stale);
  l->seen[0] = cancellable;
  g_task_return_boolean (task, TRUE);
}

static void
note_cancellable (GTask        *task,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  Leftover *l = user_data;

  l->seen[1] = cancellable;
  wait_for_cancel (task, cancellable, l->f);
}

static void
test_schedule_fresh_cancellable (Fixture       *f,
                                 gconstpointer  data)
{
  Leftover l = { f, 0, { NULL, NULL } };
  guint64 id;

  f->forget_tasks = TRUE;

  /* Nobody keeps the first task: its cancellable could be reused, but a
   * handler left on it must never see the next task's cancellation. */
  asab_task_service_schedule (f->service, leave_handler, &l);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_nonnull (l.seen[0]);

  id = asab_task_service_schedule (f->service, note_cancellable, &l);
  test_iterate_until (f->context, f->n_called == 1);
  asab_task_service_cancel (f->service, id);
  test_iterate_until (f->context, f->n_done == 2);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (l.n_stale, ==, 0);
}

static void
test_schedule_many_unkept (Fixture       *f,
                           gconstpointer  data)
{
  f->forget_tasks = TRUE;

  /* Tasks nobody keeps, so that the service can recycle what they used;
   * each still starts with a cancellable that is not cancelled. */
  for (guint round = 0; round < 4; round++)
    {
      for (guint i = 0; i < 500; i++)
        asab_task_service_schedule (f->service, check_not_cancelled, f);
      if (round % 2 == 1)
        {
          guint64 id = asab_task_service_schedule (f->service, wait_for_cancel, f);

          test_iterate_until (f->context, f->n_called == (round + 1) * 500 + (round + 1) / 2);
          asab_task_service_cancel (f->service, id);
        }
      test_iterate_until (f->context, f->n_done == (round + 1) * 500 + (round + 1) / 2);
    }
  g_assert_cmpuint (f->n_done_ok, ==, 2000);
  g_assert_cmpuint (f->n_done_cancelled, ==, 2);
}

/* Starting: one source, and no wake-ups while nothing progresses */

static void
test_dispatch_one_source (Fixture       *f,
                          gconstpointer  data)
{
  guint n_sources;
  GTask *held[50] = { NULL };

  n_sources = test_count_sources (f->context);
  g_assert_cmpuint (n_sources, ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    asab_task_service_schedule (f->service, hold_task, &held[i]);
  g_assert_cmpuint (test_count_sources (f->context), ==, 1);
  g_main_context_iteration (f->context, FALSE);
  g_assert_nonnull (held[G_N_ELEMENTS (held) - 1]);
  g_assert_cmpuint (test_count_sources (f->context), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      g_task_return_boolean (held[i], TRUE);
      g_object_unref (held[i]);
    }
  test_iterate_until (f->context, f->n_done == G_N_ELEMENTS (held));
}

/* Asks the context how long it would sleep now: -1 is forever. */
static int
context_sleep_timeout (GMainContext *context)
{
  GPollFD fds[16];
  int priority, timeout;
  gboolean ready;

  g_assert_true (g_main_context_acquire (context));
  ready = g_main_context_prepare (context, &priority);
  g_main_context_query (context, priority, &timeout, fds, G_N_ELEMENTS (fds));
  g_main_context_check (context, priority, fds, 0);
  g_main_context_release (context);

  return ready ? 0 : timeout;
}

static void
test_dispatch_no_wakeups (Fixture       *f,
                          gconstpointer  data)
{
  GTask *held[1000] = { NULL };

  /* Idle. */
  g_assert_false (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (context_sleep_timeout (f->context), ==, -1);

  /* Pending, none progressing: still nothing to do. */
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    asab_task_service_schedule (f->service, hold_task, &held[i]);
  test_iterate_until (f->context, held[G_N_ELEMENTS (held) - 1] != NULL);
  test_iterate_pending (f->context);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (context_sleep_timeout (f->context), ==, -1);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, G_N_ELEMENTS (held));

  /* The same with the rest waiting for a slot. */
  asab_task_service_set_max_concurrent (f->service, 1);
  asab_task_service_schedule (f->service, complete_now, f);
  test_iterate_pending (f->context);
  g_assert_cmpint (context_sleep_timeout (f->context), ==, -1);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 1);

  asab_task_service_set_max_concurrent (f->service, 0);
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      g_task_return_boolean (held[i], TRUE);
      g_object_unref (held[i]);
    }
  test_iterate_until (f->context, f->n_done == G_N_ELEMENTS (held) + 1);
  g_assert_cmpint (context_sleep_timeout (f->context), ==, -1);
}

static void
test_dispatch_next_iteration (Fixture       *f,
                              gconstpointer  data)
{
  /* Scheduled now, started by the very next dispatch. */
  asab_task_service_schedule (f->service, complete_later, f);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpuint (f->n_called, ==, 1);

  test_iterate_until (f->context, f->n_done == 1);
}

/* Nested main loops: a task's function or a task-done handler that runs
 * the context until another task has ended. */

typedef struct
{
  Fixture *f;
  GMainLoop *loop;
  gboolean timed_out;
  gboolean second_ended_in_loop;
  gboolean waiter_returned;
} Nested;

static gboolean
nested_loop_timed_out (gpointer data)
{
  Nested *nested = data;

  nested->timed_out = TRUE;
  g_main_loop_quit (nested->loop);

  return G_SOURCE_REMOVE;
}

/* Runs a main loop on the context until the end of "second" quits it, for
 * 5 s at most: less than the bound of the test's own wait. */
static void
run_nested_loop (Nested *nested)
{
  GSource *guard = g_timeout_source_new_seconds (5);

  g_assert_null (nested->loop);
  nested->loop = g_main_loop_new (nested->f->context, FALSE);
  g_source_set_callback (guard, nested_loop_timed_out, nested, NULL);
  g_source_attach (guard, nested->f->context);
  g_main_loop_run (nested->loop);
  g_source_destroy (guard);
  g_source_unref (guard);
  g_clear_pointer (&nested->loop, g_main_loop_unref);
}

static void
quit_when_second_ends (AsabTaskService *service,
                       GTask           *task,
                       const GError    *error,
                       Nested          *nested)
{
  if (g_strcmp0 (g_task_get_name (task), "second") != 0)
    return;

  nested->second_ended_in_loop = nested->loop != NULL;
  if (nested->loop != NULL)
    g_main_loop_quit (nested->loop);
}

static void
wait_in_task_done (AsabTaskService *service,
                   GTask           *task,
                   const GError    *error,
                   Nested          *nested)
{
  if (g_strcmp0 (g_task_get_name (task), "first") != 0)
    return;

  g_assert_cmpuint (asab_task_service_schedule_full (service, "second", complete_now, nested->f,
                                                     count_destroy), >, 0);
  run_nested_loop (nested);
}

static void
test_nested_loop_in_task_done (Fixture       *f,
                               gconstpointer  data)
{
  Nested nested = { f, NULL, FALSE, FALSE, FALSE };

  g_signal_connect (f->service, "task-done", G_CALLBACK (quit_when_second_ends), &nested);
  g_signal_connect (f->service, "task-done", G_CALLBACK (wait_in_task_done), &nested);
  asab_task_service_schedule_full (f->service, "first", complete_now, f, count_destroy);
  test_iterate_until (f->context, f->n_done == 2);

  /* The second task ran and ended inside the handler's loop. */
  g_assert_false (nested.timed_out);
  g_assert_true (nested.second_ended_in_loop);
  g_assert_cmpuint (f->n_done_ok, ==, 2);
  g_assert_cmpuint (f->n_called, ==, 2);
  g_assert_cmpuint (f->n_destroyed, ==, 2);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f->done_tasks, 1)), ==, "second");
}

static void
wait_for_second (GTask        *task,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  Nested *nested = user_data;

  g_assert_cmpuint (asab_task_service_schedule_full (g_task_get_source_object (task), "second",
                                                     complete_now, nested->f, count_destroy), >, 0);
  run_nested_loop (nested);
  nested->waiter_returned = TRUE;
  g_task_return_boolean (task, TRUE);
}

static void
test_nested_loop_in_task_func (Fixture       *f,
                               gconstpointer  data)
{
  Nested nested = { f, NULL, FALSE, FALSE, FALSE };

  g_signal_connect (f->service, "task-done", G_CALLBACK (quit_when_second_ends), &nested);
  asab_task_service_schedule_full (f->service, "waiter", wait_for_second, &nested, NULL);
  test_iterate_until (f->context, f->n_done == 2);

  /* The second task started and ended while the waiter's function ran. */
  g_assert_false (nested.timed_out);
  g_assert_true (nested.second_ended_in_loop);
  g_assert_true (nested.waiter_returned);
  g_assert_cmpuint (f->n_done_ok, ==, 2);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f->done_tasks, 0)), ==, "second");
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f->done_tasks, 1)), ==, "waiter");
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("A new service runs its tasks on its context; schedule() and schedule_full() give "
                  "each task a fresh GTask and cancellable, start it on a later iteration from one "
                  "source, and report it once in task-done; other tasks go on in a nested main loop");

  g_test_add_func ("/task-service/new/thread-default-context", test_new_thread_default);
  g_test_add_func ("/task-service/new/context-not-thread-default", test_context_not_thread_default);
  g_test_add_func ("/task-service/default/from-threads", test_default_from_threads);
  g_test_add ("/task-service/properties", Fixture, NULL,
              fixture_setup, test_properties, fixture_teardown);

  g_test_add ("/task-service/schedule/runs-later", Fixture, NULL,
              fixture_setup, test_schedule_runs_later, fixture_teardown);
  g_test_add ("/task-service/schedule/gtask", Fixture, NULL,
              fixture_setup, test_schedule_gtask, fixture_teardown);
  g_test_add ("/task-service/schedule/complete-later", Fixture, NULL,
              fixture_setup, test_schedule_complete_later, fixture_teardown);
  g_test_add ("/task-service/schedule/result-freed", Fixture, NULL,
              fixture_setup, test_schedule_result_freed, fixture_teardown);
  g_test_add ("/task-service/schedule/unique-ids", Fixture, NULL,
              fixture_setup, test_schedule_unique_ids, fixture_teardown);
  g_test_add ("/task-service/schedule/fresh-cancellable", Fixture, NULL,
              fixture_setup, test_schedule_fresh_cancellable, fixture_teardown);
  g_test_add ("/task-service/schedule/many-unkept", Fixture, NULL,
              fixture_setup, test_schedule_many_unkept, fixture_teardown);

  g_test_add ("/task-service/dispatch/one-source", Fixture, NULL,
              fixture_setup, test_dispatch_one_source, fixture_teardown);
  g_test_add ("/task-service/dispatch/no-wakeups", Fixture, NULL,
              fixture_setup, test_dispatch_no_wakeups, fixture_teardown);
  g_test_add ("/task-service/dispatch/next-iteration", Fixture, NULL,
              fixture_setup, test_dispatch_next_iteration, fixture_teardown);

  g_test_add ("/task-service/nested-loop/in-task-done", Fixture, NULL,
              fixture_setup, test_nested_loop_in_task_done, fixture_teardown);
  g_test_add ("/task-service/nested-loop/in-task-func", Fixture, NULL,
              fixture_setup, test_nested_loop_in_task_func, fixture_teardown);

  return g_test_run ();
}
