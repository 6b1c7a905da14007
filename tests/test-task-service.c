/* test-task-service.c: the behaviour of AsabTaskService
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-util.h"

/* What a test observes of the tasks it schedules. */
typedef struct
{
  GMainContext *context;
  AsabTaskService *service;
  guint n_done;
  guint n_done_ok;
  guint n_done_failed;
  guint n_done_cancelled;
  guint n_destroyed;
  guint n_called;
  GPtrArray *done_tasks;
  GPtrArray *done_errors;
  GArray *order;
  gboolean forget_tasks;
} Fixture;

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              Fixture         *f)
{
  g_assert_true (g_main_context_is_owner (f->context));
  g_assert_true (G_IS_TASK (task));

  f->n_done++;
  if (error == NULL)
    f->n_done_ok++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    f->n_done_cancelled++;
  else
    f->n_done_failed++;

  if (f->forget_tasks)
    return;
  g_ptr_array_add (f->done_tasks, g_object_ref (task));
  g_ptr_array_add (f->done_errors, error != NULL ? g_error_copy (error) : NULL);
}

static void
error_free0 (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static void
fixture_init (Fixture *f)
{
  memset (f, 0, sizeof *f);
  f->context = test_context_new ();
  f->service = asab_task_service_new (NULL);
  f->done_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  f->done_errors = g_ptr_array_new_with_free_func (error_free0);
  f->order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_signal_connect (f->service, "task-done", G_CALLBACK (on_task_done), f);
}

/* For GApplication, which runs on the global default main context. */
static void
fixture_init_default_context (Fixture *f)
{
  fixture_init (f);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  f->context = g_main_context_ref (g_main_context_default ());
  g_main_context_push_thread_default (f->context);
}

static void
fixture_clear (Fixture *f)
{
  g_clear_object (&f->service);
  test_context_free (f->context);
  g_ptr_array_unref (f->done_tasks);
  g_ptr_array_unref (f->done_errors);
  g_array_unref (f->order);
}

static void
count_destroy (gpointer data)
{
  Fixture *f = data;

  f->n_destroyed++;
}

/* Task bodies */

static void
complete_now (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  g_task_return_boolean (task, TRUE);
}

static void
fail_now (GTask        *task,
          GCancellable *cancellable,
          gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such thing");
}

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

/* Starts and keeps the task running until its cancellable is cancelled. */
static void
wait_for_cancel (GTask        *task,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  test_task_return_on_cancel (task, cancellable);
}

/* Completes the task later, from a timeout. */
static gboolean
complete_later_cb (gpointer data)
{
  g_task_return_boolean (data, TRUE);

  return G_SOURCE_REMOVE;
}

static void
complete_later (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  Fixture *f = user_data;
  GSource *source = g_timeout_source_new (5);

  f->n_called++;
  g_source_set_callback (source, complete_later_cb, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

/* Keeps the task for the test to complete; user_data is a GTask ** slot. */
static void
hold_task (GTask        *task,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GTask **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (task);
}

static void fail_in_thread (GTask        *task,
                            GCancellable *cancellable,
                            gpointer      user_data);

/* 1. schedule */

static void
test_schedule_runs_later (void)
{
  Fixture f;
  guint64 id1, id2;

  fixture_init (&f);

  id1 = asab_task_service_schedule (f.service, complete_now, &f);
  id2 = asab_task_service_schedule (f.service, complete_now, &f);
  g_assert_cmpuint (id1, >, 0);
  g_assert_cmpuint (id2, >, 0);
  g_assert_cmpuint (id1, !=, id2);
  g_assert_cmpuint (f.n_called, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 2);

  test_iterate_until (f.context, f.n_done == 2);
  g_assert_cmpuint (f.n_called, ==, 2);
  g_assert_cmpuint (f.n_done_ok, ==, 2);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 0);

  fixture_clear (&f);
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
test_schedule_gtask (void)
{
  Fixture f;

  fixture_init (&f);

  asab_task_service_schedule_full (f.service, "checked", check_gtask, &f, count_destroy);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_called, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f.done_tasks, 0)), ==, "checked");

  fixture_clear (&f);
}

static void
test_schedule_complete_later (void)
{
  Fixture f;

  fixture_init (&f);

  asab_task_service_schedule_full (f.service, "later", complete_later, &f, count_destroy);
  test_iterate_until (f.context, f.n_called == 1);
  g_assert_cmpuint (f.n_done, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 1);

  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_ok, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 0);

  fixture_clear (&f);
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
test_schedule_result_freed (void)
{
  Fixture f;

  fixture_init (&f);
  n_results_freed = 0;

  asab_task_service_schedule (f.service, return_pointer, NULL);
  asab_task_service_schedule (f.service, return_pointer, NULL);
  test_iterate_until (f.context, f.n_done == 2);

  /* task-done's handler above holds the GTasks; dropping them frees the
   * results, which the service never propagated. */
  g_ptr_array_set_size (f.done_tasks, 0);
  g_assert_cmpuint (n_results_freed, ==, 2);

  fixture_clear (&f);
}

static void
test_schedule_unique_ids (void)
{
  Fixture f;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree guint64 *ids = g_new (guint64, 5000);

  fixture_init (&f);

  /* Ids stay unique while many tasks come and go, some of them long-lived. */
  for (guint round = 0; round < 5; round++)
    {
      for (guint i = 0; i < 1000; i++)
        {
          guint64 id = i % 7 == 0
            ? asab_task_service_schedule (f.service, complete_later, &f)
            : asab_task_service_schedule (f.service, complete_now, &f);

          ids[round * 1000 + i] = id;
          g_assert_cmpuint (id, >, 0);
          g_assert_false (g_hash_table_contains (seen, &ids[round * 1000 + i]));
          g_hash_table_add (seen, &ids[round * 1000 + i]);
        }
      test_iterate_until (f.context, f.n_done >= (round + 1) * 1000 - 200);
    }

  test_iterate_until (f.context, f.n_done == 5000);
  fixture_clear (&f);
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
test_schedule_fresh_cancellable (void)
{
  Fixture f;
  Leftover l = { &f, 0, { NULL, NULL } };
  guint64 id;

  fixture_init (&f);
  f.forget_tasks = TRUE;

  /* Nobody keeps the first task: its cancellable could be reused, but a
   * handler left on it must never see the next task's cancellation. */
  asab_task_service_schedule (f.service, leave_handler, &l);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_nonnull (l.seen[0]);

  id = asab_task_service_schedule (f.service, note_cancellable, &l);
  test_iterate_until (f.context, f.n_called == 1);
  asab_task_service_cancel (f.service, id);
  test_iterate_until (f.context, f.n_done == 2);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (l.n_stale, ==, 0);

  fixture_clear (&f);
}

static void
test_schedule_many_unkept (void)
{
  Fixture f;

  fixture_init (&f);
  f.forget_tasks = TRUE;

  /* Tasks nobody keeps, so that the service can recycle what they used;
   * each still starts with a cancellable that is not cancelled. */
  for (guint round = 0; round < 4; round++)
    {
      for (guint i = 0; i < 500; i++)
        asab_task_service_schedule (f.service, check_not_cancelled, &f);
      if (round % 2 == 1)
        {
          guint64 id = asab_task_service_schedule (f.service, wait_for_cancel, &f);

          test_iterate_until (f.context, f.n_called == (round + 1) * 500 + (round + 1) / 2);
          asab_task_service_cancel (f.service, id);
        }
      test_iterate_until (f.context, f.n_done == (round + 1) * 500 + (round + 1) / 2);
    }
  g_assert_cmpuint (f.n_done_ok, ==, 2000);
  g_assert_cmpuint (f.n_done_cancelled, ==, 2);

  fixture_clear (&f);
}

/* 2. failures are logged */

static void
test_failure_logged (void)
{
  Fixture f;
  guint64 id;
  CapturedLog *log;
  g_autofree char *id_str = NULL;
  const GError *error;

  fixture_init (&f);

  id = asab_task_service_schedule_full (f.service, "doomed", fail_now, &f, NULL);
  id_str = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
  test_iterate_until (f.context, f.n_done == 1);

  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  log = test_captured_nth (G_LOG_LEVEL_WARNING, 0);
  g_assert_cmpstr (log->task_name, ==, "doomed");
  g_assert_cmpstr (log->task_id, ==, id_str);
  g_assert_nonnull (strstr (log->message, "doomed"));
  g_assert_nonnull (strstr (log->message, id_str));
  g_assert_nonnull (strstr (log->message, "no such thing"));

  g_assert_cmpuint (f.n_done_failed, ==, 1);
  error = g_ptr_array_index (f.done_errors, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  fixture_clear (&f);
}

static void
test_failure_unnamed (void)
{
  Fixture f;
  guint64 id;
  g_autofree char *id_str = NULL;
  CapturedLog *log;

  fixture_init (&f);

  id = asab_task_service_schedule (f.service, fail_now, &f);
  id_str = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
  test_iterate_until (f.context, f.n_done == 1);

  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  log = test_captured_nth (G_LOG_LEVEL_WARNING, 0);
  g_assert_cmpstr (log->task_id, ==, id_str);
  g_assert_cmpstr (log->task_name, ==, "");
  g_assert_nonnull (strstr (log->message, "no such thing"));

  fixture_clear (&f);
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
test_failure_taken_over (void)
{
  Fixture f;
  guint n_failed = 0;
  gulong handler;

  fixture_init (&f);

  handler = g_signal_connect (f.service, "task-failed", G_CALLBACK (take_failure), &n_failed);
  asab_task_service_schedule (f.service, fail_now, &f);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (n_failed, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
  g_assert_cmpuint (f.n_done_failed, ==, 1);
  g_signal_handler_disconnect (f.service, handler);

  g_signal_connect (f.service, "task-failed", G_CALLBACK (decline_failure), &n_failed);
  asab_task_service_schedule (f.service, fail_now, &f);
  test_iterate_until (f.context, f.n_done == 2);
  g_assert_cmpuint (n_failed, ==, 2);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);

  fixture_clear (&f);
}

static void
test_failure_not_on_cancel (void)
{
  Fixture f;
  guint n_failed = 0;
  guint64 id;

  fixture_init (&f);
  g_signal_connect (f.service, "task-failed", G_CALLBACK (decline_failure), &n_failed);

  id = asab_task_service_schedule (f.service, wait_for_cancel, &f);
  test_iterate_until (f.context, f.n_called == 1);
  g_assert_true (asab_task_service_cancel (f.service, id));
  test_iterate_until (f.context, f.n_done == 1);

  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (n_failed, ==, 0);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  fixture_clear (&f);
}

/* 3. destroy notify */

typedef struct
{
  Fixture *f;
  gboolean in_func;
  guint n_destroyed;
  gboolean destroyed_in_func;
} DestroyProbe;

static void
probe_destroy (gpointer data)
{
  DestroyProbe *probe = data;

  probe->n_destroyed++;
  if (probe->in_func)
    probe->destroyed_in_func = TRUE;
}

static void
complete_then_check (GTask        *task,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  DestroyProbe *probe = user_data;

  probe->in_func = TRUE;
  g_task_return_boolean (task, TRUE);
  /* Still in the function: the closure must still be alive. */
  g_assert_cmpuint (probe->n_destroyed, ==, 0);
  g_assert_cmpuint (probe->f->n_done, ==, 0);
  probe->in_func = FALSE;
}

static void
test_destroy_after_func_returns (void)
{
  Fixture f;
  DestroyProbe probe = { 0 };

  fixture_init (&f);
  probe.f = &f;

  asab_task_service_schedule_full (f.service, "probe", complete_then_check, &probe, probe_destroy);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (probe.n_destroyed, ==, 1);
  g_assert_false (probe.destroyed_in_func);

  /* Nothing more happens later. */
  test_iterate_pending (f.context);
  g_assert_cmpuint (probe.n_destroyed, ==, 1);
  g_assert_cmpuint (f.n_done, ==, 1);

  fixture_clear (&f);
}

static void
test_destroy_once_each (void)
{
  Fixture f;

  fixture_init (&f);

  asab_task_service_schedule_full (f.service, NULL, complete_now, &f, count_destroy);
  asab_task_service_schedule_full (f.service, NULL, fail_now, &f, count_destroy);
  asab_task_service_schedule_full (f.service, NULL, complete_later, &f, count_destroy);
  /* The worker must not touch the fixture, which belongs to this thread. */
  asab_task_service_schedule_in_thread (f.service, NULL, fail_in_thread, &f, count_destroy);
  asab_task_service_schedule_threadsafe (f.service, NULL, complete_now, &f, count_destroy);
  test_iterate_until (f.context, f.n_done == 5);
  g_assert_cmpuint (f.n_destroyed, ==, 5);

  fixture_clear (&f);
}

static void
test_destroy_refused (void)
{
  Fixture f;
  guint64 id;

  fixture_init (&f);

  asab_task_service_stop (f.service);
  test_capture_logs_clear ();

  id = asab_task_service_schedule_full (f.service, "late", complete_now, &f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "late"));

  id = asab_task_service_schedule_threadsafe (f.service, NULL, complete_now, &f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  id = asab_task_service_schedule_in_thread (f.service, NULL, complete_now, &f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  id = asab_task_service_run_forever (f.service, NULL, complete_now, &f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  g_assert_cmpuint (f.n_destroyed, ==, 4);
  g_assert_cmpuint (f.n_called, ==, 0);

  test_iterate_pending (f.context);
  g_assert_cmpuint (f.n_done, ==, 0);

  fixture_clear (&f);
}

/* 4. schedule_threadsafe */

#define N_PRODUCERS 4
#define N_PER_PRODUCER 500

typedef struct
{
  Fixture *f;
  guint producer;
  GThread *context_thread;
  guint64 ids[N_PER_PRODUCER];
  GMutex lock;
  GArray *started[N_PRODUCERS];
} ThreadsafeData;

typedef struct
{
  ThreadsafeData *data;
  guint producer;
  guint seq;
} ThreadsafeItem;

static void
record_start (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  ThreadsafeItem *item = user_data;

  g_assert_true (g_thread_self () == item->data->context_thread);
  g_array_append_val (item->data->started[item->producer], item->seq);
  g_task_return_boolean (task, TRUE);
}

static gpointer
produce (gpointer user_data)
{
  ThreadsafeItem *base = user_data;

  for (guint i = 0; i < N_PER_PRODUCER; i++)
    {
      ThreadsafeItem *item = g_new (ThreadsafeItem, 1);
      guint64 id;

      *item = (ThreadsafeItem) { base->data, base->producer, i };
      id = asab_task_service_schedule_threadsafe (base->data->f->service, "produced",
                                                  record_start, item, g_free);
      g_assert_cmpuint (id, >, 0);
    }

  return NULL;
}

static void
test_threadsafe_from_threads (void)
{
  Fixture f;
  ThreadsafeData data = { 0 };
  ThreadsafeItem bases[N_PRODUCERS];
  GThread *threads[N_PRODUCERS];

  fixture_init (&f);
  data.f = &f;
  data.context_thread = g_thread_self ();

  for (guint p = 0; p < N_PRODUCERS; p++)
    {
      data.started[p] = g_array_new (FALSE, FALSE, sizeof (guint));
      bases[p] = (ThreadsafeItem) { &data, p, 0 };
      threads[p] = g_thread_new ("producer", produce, &bases[p]);
    }

  /* The context runs while the producers schedule. */
  test_iterate_until (f.context, f.n_done == N_PRODUCERS * N_PER_PRODUCER);

  for (guint p = 0; p < N_PRODUCERS; p++)
    {
      g_thread_join (threads[p]);
      g_assert_cmpuint (data.started[p]->len, ==, N_PER_PRODUCER);
      /* In the order in which each thread scheduled them. */
      for (guint i = 0; i < N_PER_PRODUCER; i++)
        g_assert_cmpuint (g_array_index (data.started[p], guint, i), ==, i);
      g_array_unref (data.started[p]);
    }
  g_assert_cmpuint (f.n_done_ok, ==, N_PRODUCERS * N_PER_PRODUCER);

  fixture_clear (&f);
}

static gpointer
produce_burst (gpointer user_data)
{
  Fixture *f = user_data;

  for (guint i = 0; i < 1000; i++)
    asab_task_service_schedule_threadsafe (f->service, NULL, complete_now, f, NULL);

  return NULL;
}

static void
test_threadsafe_coalesced (void)
{
  Fixture f;
  GThread *thread;
  guint n_sources_before;

  fixture_init (&f);
  n_sources_before = test_count_sources (f.context);

  /* This thread owns the context, so the producer cannot take it: the
   * hand-off has to go through the context. */
  g_assert_true (g_main_context_acquire (f.context));
  thread = g_thread_new ("burst", produce_burst, &f);
  g_thread_join (thread);

  /* A burst of 1000 calls is one hand-off, not 1000. */
  g_assert_cmpuint (test_count_sources (f.context), ==, n_sources_before + 1);

  test_iterate_pending (f.context);
  g_main_context_release (f.context);
  g_assert_cmpuint (f.n_done, ==, 1000);

  fixture_clear (&f);
}

static void
test_threadsafe_on_context_thread (void)
{
  Fixture f;
  guint64 id;

  fixture_init (&f);

  id = asab_task_service_schedule_threadsafe (f.service, "here", complete_now, &f, count_destroy);
  g_assert_cmpuint (id, >, 0);
  g_assert_cmpuint (f.n_called, ==, 0);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f.done_tasks, 0)), ==, "here");

  fixture_clear (&f);
}

/* 5. schedule_in_thread */

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
test_in_thread_runs_on_worker (void)
{
  Fixture f;
  ThreadProbe probe = { g_thread_self (), NULL, NULL };

  fixture_init (&f);

  asab_task_service_schedule_in_thread (f.service, "blocking", blocking_work, &probe,
                                        probe_thread_destroy);
  test_iterate_until (f.context, f.n_done == 1);

  g_assert_nonnull (probe.ran_on);
  g_assert_true (probe.ran_on != probe.context_thread);
  g_assert_true (probe.destroyed_on == probe.context_thread);
  g_assert_cmpuint (f.n_done_ok, ==, 1);

  fixture_clear (&f);
}

static void
fail_in_thread (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "not allowed");
}

static void
test_in_thread_failure (void)
{
  Fixture f;

  fixture_init (&f);

  asab_task_service_schedule_in_thread (f.service, "denied", fail_in_thread, NULL, NULL);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_failed, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "not allowed"));

  fixture_clear (&f);
}

/* 6. schedule_task */

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
test_gtask_tracked (void)
{
  Fixture f;
  OwnCallback own = { FALSE, FALSE, NULL };
  g_autoptr(GTask) task = NULL;
  guint64 id;

  fixture_init (&f);
  own.f = &f;

  task = g_task_new (NULL, NULL, own_callback, &own);
  id = asab_task_service_schedule_task (f.service, task);
  g_assert_cmpuint (id, >, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 1);

  test_iterate_pending (f.context);
  g_assert_cmpuint (f.n_done, ==, 0);

  g_task_return_boolean (task, TRUE);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_true (own.callback_ran);
  g_assert_true (own.callback_ok);
  g_assert_cmpuint (f.n_done_ok, ==, 1);
  g_assert_true (g_ptr_array_index (f.done_tasks, 0) == (gpointer) task);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 0);
  g_assert_false (asab_task_service_cancel (f.service, id));

  fixture_clear (&f);
}

static void
test_gtask_failure (void)
{
  Fixture f;
  OwnCallback own = { FALSE, FALSE, NULL };
  g_autoptr(GTask) task = NULL;
  const GError *error;

  fixture_init (&f);
  own.f = &f;

  task = g_task_new (NULL, NULL, own_callback, &own);
  asab_task_service_schedule_task (f.service, task);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY, "busy");
  test_iterate_until (f.context, f.n_done == 1);

  g_assert_true (own.callback_ran);
  g_assert_false (own.callback_ok);
  g_assert_cmpuint (f.n_done_failed, ==, 1);
  error = g_ptr_array_index (f.done_errors, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  /* The owner reports its own failure. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  fixture_clear (&f);
}

static void
own_cancelled_cb (GCancellable *cancellable,
                  GTask        *task)
{
  g_task_return_error_if_cancelled (task);
}

static void
test_gtask_cancelled_at_stop (void)
{
  Fixture f;
  OwnCallback own = { FALSE, FALSE, NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = NULL;

  fixture_init (&f);
  own.f = &f;

  task = g_task_new (NULL, cancellable, own_callback, &own);
  g_cancellable_connect (cancellable, G_CALLBACK (own_cancelled_cb), task, NULL);
  asab_task_service_schedule_task (f.service, task);

  asab_task_service_stop (f.service);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_true (own.callback_ran);

  fixture_clear (&f);
}

/* 7. schedule_source */

static gboolean
tick_three_times (gpointer data)
{
  guint *n = data;

  return ++(*n) < 3 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
test_source_ends_on_remove (void)
{
  Fixture f;
  guint n_ticks = 0;
  GSource *source;
  guint64 id;

  fixture_init (&f);

  source = g_timeout_source_new (1);
  g_source_set_name (source, "ticker");
  g_source_set_callback (source, tick_three_times, &n_ticks, NULL);
  id = asab_task_service_schedule_source (f.service, source);
  g_assert_cmpuint (id, >, 0);
  g_assert_true (g_source_get_context (source) == f.context);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 1);

  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (n_ticks, ==, 3);
  g_assert_cmpuint (f.n_done_ok, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f.done_tasks, 0)), ==, "ticker");
  g_assert_false (asab_task_service_cancel (f.service, id));

  fixture_clear (&f);
}

static gboolean
tick_forever (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
test_source_ends_on_destroy (void)
{
  Fixture f;
  GSource *source;

  fixture_init (&f);

  source = g_timeout_source_new (1);
  g_source_set_callback (source, tick_forever, NULL, NULL);
  asab_task_service_schedule_source (f.service, g_source_ref (source));
  test_iterate_pending (f.context);
  g_assert_cmpuint (f.n_done, ==, 0);

  g_source_destroy (source);
  g_source_unref (source);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_ok, ==, 1);

  fixture_clear (&f);
}

static gpointer
destroy_source_in_thread (gpointer data)
{
  g_source_destroy (data);

  return NULL;
}

static void
test_source_destroyed_from_thread (void)
{
  Fixture f;
  GSource *source;

  fixture_init (&f);

  source = g_timeout_source_new_seconds (3600);
  asab_task_service_schedule_source (f.service, g_source_ref (source));
  g_thread_join (g_thread_new ("destroyer", destroy_source_in_thread, source));
  g_source_unref (source);

  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_ok, ==, 1);

  fixture_clear (&f);
}

static void
test_source_cancel_destroys (void)
{
  Fixture f;
  GSource *source;
  guint64 id;

  fixture_init (&f);

  source = g_timeout_source_new_seconds (3600);
  id = asab_task_service_schedule_source (f.service, g_source_ref (source));
  g_assert_true (asab_task_service_cancel (f.service, id));
  g_assert_true (g_source_is_destroyed (source));
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_source_unref (source);

  fixture_clear (&f);
}

static void
test_source_stop_destroys (void)
{
  Fixture f;
  GSource *source;

  fixture_init (&f);

  source = g_timeout_source_new_seconds (3600);
  asab_task_service_schedule_source (f.service, g_source_ref (source));
  asab_task_service_stop (f.service);
  g_assert_true (g_source_is_destroyed (source));
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_source_unref (source);

  fixture_clear (&f);
}

/* 8. run_forever */

static void
test_forever_restarts (void)
{
  Fixture f;
  guint64 id;

  fixture_init (&f);

  id = asab_task_service_run_forever (f.service, "again", fail_now, &f, count_destroy);
  test_iterate_until (f.context, f.n_called >= 4);

  /* Every run's failure is logged; the task has not ended. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), >=, 3);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->task_name, ==, "again");
  g_assert_cmpuint (f.n_done, ==, 0);
  g_assert_cmpuint (f.n_destroyed, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 1);

  g_assert_true (asab_task_service_cancel (f.service, id));
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_false (asab_task_service_cancel (f.service, id));
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 0);

  fixture_clear (&f);
}

static gboolean
count_tick (gpointer data)
{
  gint64 *ticks = data;

  ticks[0]++;
  ticks[1] = MAX (ticks[1], g_get_monotonic_time () - ticks[2]);
  ticks[2] = g_get_monotonic_time ();

  return G_SOURCE_CONTINUE;
}

static void
test_forever_backs_off (void)
{
  Fixture f;
  gint64 ticks[3] = { 0, 0, g_get_monotonic_time () };
  gint64 end;
  GSource *timer;

  fixture_init (&f);

  asab_task_service_run_forever (f.service, "spinner", complete_now, &f, NULL);

  timer = g_timeout_source_new (10);
  g_source_set_callback (timer, count_tick, ticks, NULL);
  g_source_attach (timer, f.context);

  end = g_get_monotonic_time () + 320 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (f.context, TRUE);

  /* Back-off 5, 10, 20, 40, 80, 160 ms: seven runs fit in 320 ms, a
   * spinning loop would have made hundreds of thousands. */
  g_assert_cmpuint (f.n_called, >=, 4);
  g_assert_cmpuint (f.n_called, <=, 8);
  /* The 10 ms timer kept firing. */
  g_assert_cmpint (ticks[0], >=, 20);
  g_assert_cmpint (ticks[1], <, 100 * 1000);

  g_source_destroy (timer);
  g_source_unref (timer);
  asab_task_service_stop (f.service);
  g_assert_cmpuint (f.n_done, ==, 1);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);

  fixture_clear (&f);
}

static void
test_forever_stop (void)
{
  Fixture f;

  fixture_init (&f);

  asab_task_service_run_forever (f.service, "watcher", wait_for_cancel, &f, count_destroy);
  test_iterate_until (f.context, f.n_called == 1);
  asab_task_service_stop (f.service);
  g_assert_cmpuint (f.n_done, ==, 1);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpuint (f.n_called, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  fixture_clear (&f);
}

/* 9. cancel */

static void
test_cancel_queued (void)
{
  Fixture f;
  GTask *blocker = NULL;
  guint64 id;

  fixture_init (&f);
  asab_task_service_set_max_concurrent (f.service, 1);

  asab_task_service_schedule (f.service, hold_task, &blocker);
  id = asab_task_service_schedule_full (f.service, "queued", complete_now, &f, count_destroy);
  test_iterate_until (f.context, blocker != NULL);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 1);

  g_assert_true (asab_task_service_cancel (f.service, id));
  /* It ends while the blocker still holds the only slot. */
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_called, ==, 0);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 0);

  g_task_return_boolean (blocker, TRUE);
  g_object_unref (blocker);
  test_iterate_until (f.context, f.n_done == 2);
  g_assert_cmpuint (f.n_called, ==, 0);

  fixture_clear (&f);
}

static void
test_cancel_running (void)
{
  Fixture f;
  guint64 id;

  fixture_init (&f);

  id = asab_task_service_schedule (f.service, wait_for_cancel, &f);
  test_iterate_until (f.context, f.n_called == 1);
  g_assert_cmpuint (f.n_done, ==, 0);
  g_assert_true (asab_task_service_cancel (f.service, id));
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (g_ptr_array_index (f.done_tasks, 0))));

  fixture_clear (&f);
}

static void
test_cancel_unknown (void)
{
  Fixture f;
  guint64 id;

  fixture_init (&f);

  g_assert_false (asab_task_service_cancel (f.service, 0));
  g_assert_false (asab_task_service_cancel (f.service, 12345));

  id = asab_task_service_schedule (f.service, complete_now, &f);
  test_iterate_until (f.context, f.n_done == 1);
  g_assert_false (asab_task_service_cancel (f.service, id));

  fixture_clear (&f);
}

typedef struct
{
  Fixture *f;
  GTask *held;
  guint64 id;
  gboolean cancelled;
} CompleteThenCancel;

static gboolean
complete_then_cancel_cb (gpointer data)
{
  CompleteThenCancel *c = data;

  g_task_return_boolean (c->held, TRUE);
  c->cancelled = asab_task_service_cancel (c->f->service, c->id);

  return G_SOURCE_REMOVE;
}

static void
test_cancel_completed_not_reported (void)
{
  Fixture f;
  CompleteThenCancel c = { &f, NULL, 0, TRUE };
  GSource *source;

  fixture_init (&f);

  /* Completed from another source, before its task-done: the task has
   * ended, so cancel() says so and its success stands. */
  c.id = asab_task_service_schedule (f.service, hold_task, &c.held);
  test_iterate_until (f.context, c.held != NULL);

  source = g_idle_source_new ();
  g_source_set_callback (source, complete_then_cancel_cb, &c, NULL);
  g_source_attach (source, f.context);
  g_source_unref (source);

  test_iterate_until (f.context, f.n_done == 1);
  g_assert_false (c.cancelled);
  g_assert_cmpuint (f.n_done_ok, ==, 1);
  g_object_unref (c.held);

  fixture_clear (&f);
}

typedef struct
{
  AsabTaskService *service;
  guint64 id;
  gboolean result;
} CancelFromThread;

static gpointer
cancel_in_thread (gpointer data)
{
  CancelFromThread *c = data;

  c->result = asab_task_service_cancel (c->service, c->id);

  return NULL;
}

static void
test_cancel_from_thread (void)
{
  Fixture f;
  CancelFromThread running = { 0 }, queued = { 0 }, in_transit = { 0 };
  GTask *blocker = NULL;

  fixture_init (&f);
  asab_task_service_set_max_concurrent (f.service, 2);

  asab_task_service_schedule (f.service, hold_task, &blocker);
  running = (CancelFromThread) { f.service, asab_task_service_schedule (f.service, wait_for_cancel, &f), FALSE };
  queued = (CancelFromThread) { f.service, asab_task_service_schedule (f.service, complete_now, &f), FALSE };
  test_iterate_until (f.context, f.n_called == 1);

  /* Scheduled from this thread while it holds the context, so it stays in
   * transit until the context runs. */
  g_assert_true (g_main_context_acquire (f.context));
  in_transit = (CancelFromThread) { f.service, asab_task_service_schedule_threadsafe (f.service, NULL, complete_now, &f, NULL), FALSE };

  g_thread_join (g_thread_new ("cancel", cancel_in_thread, &running));
  g_thread_join (g_thread_new ("cancel", cancel_in_thread, &queued));
  g_thread_join (g_thread_new ("cancel", cancel_in_thread, &in_transit));
  g_main_context_release (f.context);
  g_assert_true (running.result);
  g_assert_true (queued.result);
  g_assert_true (in_transit.result);

  test_iterate_until (f.context, f.n_done == 3);
  g_assert_cmpuint (f.n_done_cancelled, ==, 3);
  g_assert_cmpuint (f.n_called, ==, 1);

  g_task_return_boolean (blocker, TRUE);
  g_object_unref (blocker);
  test_iterate_until (f.context, f.n_done == 4);

  fixture_clear (&f);
}

/* 10. max-concurrent */

typedef struct
{
  Fixture *f;
  guint index;
  guint *running;
  guint *max_seen;
} LimitItem;

static gboolean
limit_finish_cb (gpointer data)
{
  GTask *task = data;
  LimitItem *item = g_task_get_task_data (task);

  (*item->running)--;
  g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

static void
limit_func (GTask        *task,
            GCancellable *cancellable,
            gpointer      user_data)
{
  LimitItem *item = user_data;
  GSource *source;

  g_array_append_val (item->f->order, item->index);
  (*item->running)++;
  *item->max_seen = MAX (*item->max_seen, *item->running);
  g_assert_cmpuint (asab_task_service_get_n_running (item->f->service), <=, 2);

  g_task_set_task_data (task, item, NULL);
  source = g_timeout_source_new (2);
  g_source_set_callback (source, limit_finish_cb, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

static void
test_max_concurrent_limit (void)
{
  Fixture f;
  LimitItem items[8];
  guint running = 0, max_seen = 0;

  fixture_init (&f);
  asab_task_service_set_max_concurrent (f.service, 2);
  g_assert_cmpuint (asab_task_service_get_max_concurrent (f.service), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      items[i] = (LimitItem) { &f, i, &running, &max_seen };
      asab_task_service_schedule (f.service, limit_func, &items[i]);
    }

  test_iterate_until (f.context, f.n_done == G_N_ELEMENTS (items));
  g_assert_cmpuint (max_seen, ==, 2);
  /* First in, first out. */
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_assert_cmpuint (g_array_index (f.order, guint, i), ==, i);

  fixture_clear (&f);
}

static void
test_max_concurrent_raise (void)
{
  Fixture f;
  GTask *held[3] = { NULL, NULL, NULL };

  fixture_init (&f);
  asab_task_service_set_max_concurrent (f.service, 1);

  for (guint i = 0; i < 3; i++)
    asab_task_service_schedule (f.service, hold_task, &held[i]);
  test_iterate_until (f.context, held[0] != NULL);
  test_iterate_pending (f.context);
  g_assert_null (held[1]);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 2);

  /* Both waiting tasks start on the next dispatch. */
  asab_task_service_set_max_concurrent (f.service, 0);
  g_main_context_iteration (f.context, FALSE);
  g_assert_nonnull (held[1]);
  g_assert_nonnull (held[2]);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 3);

  for (guint i = 0; i < 3; i++)
    {
      g_task_return_boolean (held[i], TRUE);
      g_object_unref (held[i]);
    }
  test_iterate_until (f.context, f.n_done == 3);

  fixture_clear (&f);
}

/* Back-pressure */

static gpointer
produce_until_refused (gpointer user_data)
{
  Fixture *f = user_data;
  guint accepted = 0;

  for (guint i = 0; i < 1000; i++)
    if (asab_task_service_schedule_threadsafe (f->service, "flood", complete_now, f, count_destroy) > 0)
      accepted++;

  return GUINT_TO_POINTER (accepted);
}

static void
test_max_queued_refuses (void)
{
  Fixture f;
  guint accepted = 0;
  GThread *thread;

  fixture_init (&f);
  asab_task_service_set_max_queued (f.service, 100);
  g_assert_cmpuint (asab_task_service_get_max_queued (f.service), ==, 100);

  for (guint i = 0; i < 150; i++)
    if (asab_task_service_schedule_full (f.service, "many", complete_now, &f, count_destroy) > 0)
      accepted++;

  /* The caller learns of every refusal; one warning says so. */
  g_assert_cmpuint (accepted, ==, 100);
  g_assert_cmpuint (f.n_destroyed, ==, 50);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 100);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "full"));

  test_iterate_until (f.context, f.n_done == 100);
  g_assert_cmpuint (f.n_destroyed, ==, 150);

  /* The same from another thread while the context does not run. */
  g_assert_true (g_main_context_acquire (f.context));
  thread = g_thread_new ("flood", produce_until_refused, &f);
  accepted = GPOINTER_TO_UINT (g_thread_join (thread));
  g_main_context_release (f.context);
  g_assert_cmpuint (accepted, ==, 100);
  g_assert_cmpuint (f.n_destroyed, ==, 150 + 900);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);

  test_iterate_until (f.context, f.n_done == 200);
  g_assert_cmpuint (f.n_destroyed, ==, 1150);

  fixture_clear (&f);
}

/* 11. stop */

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
test_stop_cancels (void)
{
  Fixture f;
  GError *result = NULL;

  fixture_init (&f);
  asab_task_service_set_max_concurrent (f.service, 2);

  for (guint i = 0; i < 2; i++)
    asab_task_service_schedule_full (f.service, NULL, wait_for_cancel, &f, count_destroy);
  for (guint i = 0; i < 3; i++)
    asab_task_service_schedule_full (f.service, NULL, complete_now, &f, count_destroy);
  test_iterate_until (f.context, f.n_called == 2);

  asab_task_service_stop_async (f.service, NULL, stopped_cb, &result);
  test_iterate_until (f.context, result != NULL);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);

  g_assert_cmpuint (f.n_done, ==, 5);
  g_assert_cmpuint (f.n_done_cancelled, ==, 5);
  g_assert_cmpuint (f.n_destroyed, ==, 5);
  g_assert_cmpuint (f.n_called, ==, 2);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  fixture_clear (&f);
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
test_stop_timeout (void)
{
  Fixture f;
  GTask *stubborn = NULL;
  GError *result = NULL;
  gint64 start;

  fixture_init (&f);
  asab_task_service_set_stop_timeout (f.service, 100);
  asab_task_service_set_max_concurrent (f.service, 1);

  asab_task_service_schedule (f.service, ignore_cancel, &stubborn);
  asab_task_service_schedule_full (f.service, NULL, complete_now, &f, count_destroy);
  test_iterate_until (f.context, stubborn != NULL);

  start = g_get_monotonic_time ();
  asab_task_service_stop_async (f.service, NULL, stopped_cb, &result);
  test_iterate_until (f.context, result != NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  g_assert_error (result, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&result);

  /* ASAB's form, with the exact numbers: the queued task has ended. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "1+0 pending and incomplete tasks");
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);

  /* The stubborn task still gets its task-done when it ends. */
  g_task_return_boolean (stubborn, TRUE);
  g_object_unref (stubborn);
  test_iterate_until (f.context, f.n_done == 2);

  fixture_clear (&f);
}

static void
test_stop_timeout_counts_queued (void)
{
  Fixture f;
  GTask *stubborn = NULL;

  fixture_init (&f);
  asab_task_service_set_stop_timeout (f.service, 50);

  /* Stopped in transit: the hand-off has not run when the timer fires. */
  asab_task_service_schedule (f.service, ignore_cancel, &stubborn);
  test_iterate_until (f.context, stubborn != NULL);
  asab_task_service_stop (f.service);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "1+0 pending and incomplete tasks");

  g_task_return_boolean (stubborn, TRUE);
  g_object_unref (stubborn);
  test_iterate_until (f.context, f.n_done == 1);

  fixture_clear (&f);
}

static void
test_stop_own_timeout (void)
{
  Fixture f;
  GTask *stubborn = NULL;
  GError *patient = NULL, *hasty = NULL;
  gint64 start;

  fixture_init (&f);

  asab_task_service_schedule (f.service, ignore_cancel, &stubborn);
  test_iterate_until (f.context, stubborn != NULL);

  /* Each stop waits as long as its own timeout says, counted from its
   * call: a later, shorter stop is not held up by an earlier one. */
  asab_task_service_stop_async (f.service, NULL, stopped_cb, &patient);
  asab_task_service_set_stop_timeout (f.service, 50);
  start = g_get_monotonic_time ();
  asab_task_service_stop_async (f.service, NULL, stopped_cb, &hasty);
  test_iterate_until (f.context, hasty != NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_error (hasty, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_null (patient);

  /* The first still waits, and completes when the task ends. */
  g_task_return_boolean (stubborn, TRUE);
  g_object_unref (stubborn);
  test_iterate_until (f.context, patient != NULL);
  g_assert_error (patient, G_IO_ERROR, 0);
  g_clear_error (&patient);
  g_clear_error (&hasty);

  fixture_clear (&f);
}

static void
test_stop_twice (void)
{
  Fixture f;
  GError *first = NULL, *second = NULL;

  fixture_init (&f);

  asab_task_service_schedule (f.service, wait_for_cancel, &f);
  asab_task_service_stop_async (f.service, NULL, stopped_cb, &first);
  asab_task_service_stop_async (f.service, NULL, stopped_cb, &second);
  test_iterate_until (f.context, first != NULL && second != NULL);
  g_assert_error (first, G_IO_ERROR, 0);
  g_assert_error (second, G_IO_ERROR, 0);
  g_clear_error (&first);
  g_clear_error (&second);

  asab_task_service_stop (f.service);
  asab_task_service_stop_async (f.service, NULL, stopped_cb, &first);
  test_iterate_until (f.context, first != NULL);
  g_assert_error (first, G_IO_ERROR, 0);
  g_clear_error (&first);
  g_assert_cmpuint (f.n_done, ==, 1);

  fixture_clear (&f);
}

static void
test_stop_empty (void)
{
  Fixture f;

  fixture_init (&f);

  asab_task_service_stop (f.service);
  g_assert_cmpuint (asab_task_service_schedule (f.service, complete_now, &f), ==, 0);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);

  fixture_clear (&f);
}

static void
test_stop_in_transit (void)
{
  Fixture f;

  fixture_init (&f);

  g_assert_true (g_main_context_acquire (f.context));
  asab_task_service_schedule_threadsafe (f.service, NULL, complete_now, &f, count_destroy);
  asab_task_service_stop (f.service);
  g_main_context_release (f.context);

  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpuint (f.n_called, ==, 0);

  fixture_clear (&f);
}

static void
test_stop_last_unref (void)
{
  Fixture f;
  AsabTaskService *service;
  GTask *held = NULL;

  fixture_init (&f);

  /* Dropping the last reference loses no task. */
  service = f.service;
  g_object_add_weak_pointer (G_OBJECT (service), (gpointer *) &f.service);
  asab_task_service_schedule_full (service, NULL, complete_later, &f, count_destroy);
  asab_task_service_schedule_full (service, NULL, hold_task, &held, NULL);
  asab_task_service_schedule_threadsafe (service, NULL, complete_now, &f, count_destroy);
  g_object_unref (service);
  g_assert_nonnull (f.service);

  test_iterate_until (f.context, f.n_done == 2);
  g_assert_nonnull (f.service);
  g_assert_cmpuint (f.n_destroyed, ==, 2);

  g_task_return_boolean (held, TRUE);
  g_object_unref (held);
  test_iterate_until (f.context, f.n_done == 3);

  /* The GTasks kept by the task-done handler hold the service, as their
   * source object; once they go, nothing else does. */
  g_ptr_array_set_size (f.done_tasks, 0);
  test_iterate_until (f.context, f.service == NULL);

  fixture_clear (&f);
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
test_stop_last_unref_in_transit (void)
{
  Fixture f;

  fixture_init (&f);
  f.forget_tasks = TRUE;
  g_object_add_weak_pointer (G_OBJECT (f.service), (gpointer *) &f.service);

  /* Tasks handed over from another thread have no GTask yet, and every
   * reference but the hand-off's is gone: the tasks still keep the service
   * alive until they have ended. */
  g_assert_true (g_main_context_acquire (f.context));
  g_thread_join (g_thread_new ("producer", schedule_then_let_go, g_object_ref (f.service)));
  g_object_unref (f.service);
  g_assert_nonnull (f.service);
  g_main_context_release (f.context);

  test_iterate_until (f.context, f.service == NULL);
  g_assert_cmpuint (f.n_done_ok, ==, 100);

  fixture_clear (&f);
}

static void
test_stop_run_dispose (void)
{
  Fixture f;

  fixture_init (&f);
  asab_task_service_set_max_concurrent (f.service, 1);

  /* One running, one queued behind it. */
  asab_task_service_schedule_full (f.service, NULL, wait_for_cancel, &f, count_destroy);
  asab_task_service_schedule_full (f.service, NULL, complete_now, &f, count_destroy);
  test_iterate_until (f.context, f.n_called == 1);

  /* Disposing stops first, so every task ends; handlers are gone after. */
  g_object_run_dispose (G_OBJECT (f.service));
  test_iterate_pending (f.context);
  g_assert_cmpuint (f.n_destroyed, ==, 2);
  g_assert_cmpuint (f.n_done_cancelled, ==, 2);
  g_assert_cmpuint (f.n_called, ==, 1);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 0);

  fixture_clear (&f);
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
  asab_task_service_stop (stopper->f->service);
  stopper->stop_took = g_get_monotonic_time () - start;
}

static void
test_stop_from_task_func (void)
{
  Fixture f;
  Stopper stopper = { &f, 0 };

  fixture_init (&f);
  asab_task_service_set_stop_timeout (f.service, 2000);

  /* The task has completed when it stops the service: the stop does not
   * wait for it, and its success stands. */
  asab_task_service_schedule (f.service, complete_then_stop, &stopper);
  asab_task_service_schedule_full (f.service, NULL, wait_for_cancel, &f, count_destroy);
  test_iterate_until (f.context, f.n_done == 2);

  g_assert_cmpint (stopper.stop_took, <, 1000 * 1000);
  g_assert_cmpuint (f.n_done_ok, ==, 1);
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  fixture_clear (&f);
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
  asab_task_service_stop (service);
  g_main_context_release (other);

  g_assert_cmpuint (n_done, ==, 3);
  g_assert_cmpuint (it.n_right_context, >=, 4);

  g_clear_object (&service);
  test_context_free (context);
}

/* 13. get_default */

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

/* 14. one source, no wake-ups */

static void
test_dispatch_one_source (void)
{
  Fixture f;
  guint n_sources;
  GTask *held[50] = { NULL };

  fixture_init (&f);
  n_sources = test_count_sources (f.context);
  g_assert_cmpuint (n_sources, ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    asab_task_service_schedule (f.service, hold_task, &held[i]);
  g_assert_cmpuint (test_count_sources (f.context), ==, 1);
  g_main_context_iteration (f.context, FALSE);
  g_assert_nonnull (held[G_N_ELEMENTS (held) - 1]);
  g_assert_cmpuint (test_count_sources (f.context), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      g_task_return_boolean (held[i], TRUE);
      g_object_unref (held[i]);
    }
  test_iterate_until (f.context, f.n_done == G_N_ELEMENTS (held));

  fixture_clear (&f);
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
test_dispatch_no_wakeups (void)
{
  Fixture f;
  GTask *held[1000] = { NULL };

  fixture_init (&f);

  /* Idle. */
  g_assert_false (g_main_context_iteration (f.context, FALSE));
  g_assert_cmpint (context_sleep_timeout (f.context), ==, -1);

  /* Pending, none progressing: still nothing to do. */
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    asab_task_service_schedule (f.service, hold_task, &held[i]);
  test_iterate_until (f.context, held[G_N_ELEMENTS (held) - 1] != NULL);
  test_iterate_pending (f.context);
  g_assert_false (g_main_context_iteration (f.context, FALSE));
  g_assert_cmpint (context_sleep_timeout (f.context), ==, -1);
  g_assert_cmpuint (asab_task_service_get_n_running (f.service), ==, G_N_ELEMENTS (held));

  /* The same with the rest waiting for a slot. */
  asab_task_service_set_max_concurrent (f.service, 1);
  asab_task_service_schedule (f.service, complete_now, &f);
  test_iterate_pending (f.context);
  g_assert_cmpint (context_sleep_timeout (f.context), ==, -1);
  g_assert_cmpuint (asab_task_service_get_n_queued (f.service), ==, 1);

  asab_task_service_set_max_concurrent (f.service, 0);
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      g_task_return_boolean (held[i], TRUE);
      g_object_unref (held[i]);
    }
  test_iterate_until (f.context, f.n_done == G_N_ELEMENTS (held) + 1);
  g_assert_cmpint (context_sleep_timeout (f.context), ==, -1);

  fixture_clear (&f);
}

static void
test_dispatch_next_iteration (void)
{
  Fixture f;

  fixture_init (&f);

  /* Scheduled now, started by the very next dispatch. */
  asab_task_service_schedule (f.service, complete_later, &f);
  g_assert_true (g_main_context_iteration (f.context, FALSE));
  g_assert_cmpuint (f.n_called, ==, 1);

  test_iterate_until (f.context, f.n_done == 1);
  fixture_clear (&f);
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
test_properties (void)
{
  Fixture f;
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GApplication) application = NULL;
  guint max = 99, timeout = 0, n_running = 99, n_queued = 99;
  guint n_notify_running = 0, n_notify_queued = 0;

  fixture_init (&f);

  g_object_get (f.service,
                "context", &context,
                "application", &application,
                "max-concurrent", &max,
                "stop-timeout", &timeout,
                "n-running", &n_running,
                "n-queued", &n_queued,
                NULL);
  g_assert_true (context == f.context);
  g_assert_null (application);
  g_assert_cmpuint (max, ==, 0);
  g_assert_cmpuint (timeout, ==, 5000);
  g_assert_cmpuint (n_running, ==, 0);
  g_assert_cmpuint (n_queued, ==, 0);
  g_assert_true (asab_task_service_get_context (f.service) == f.context);

  g_object_set (f.service, "max-concurrent", 3, "stop-timeout", 250, NULL);
  g_assert_cmpuint (asab_task_service_get_max_concurrent (f.service), ==, 3);
  g_assert_cmpuint (asab_task_service_get_stop_timeout (f.service), ==, 250);

  /* Counts are notified once per dispatch, not once per task. */
  g_signal_connect (f.service, "notify::n-running", G_CALLBACK (count_notify), &n_notify_running);
  g_signal_connect (f.service, "notify::n-queued", G_CALLBACK (count_notify), &n_notify_queued);
  for (guint i = 0; i < 100; i++)
    asab_task_service_schedule (f.service, complete_later, &f);
  g_assert_cmpuint (n_notify_queued, ==, 0);
  g_main_context_iteration (f.context, FALSE);
  g_assert_cmpuint (n_notify_queued, ==, 1);
  g_assert_cmpuint (n_notify_running, ==, 1);
  test_iterate_until (f.context, f.n_done == 100);
  g_assert_cmpuint (n_notify_running, >=, 2);
  g_assert_cmpuint (n_notify_running, <, 50);

  fixture_clear (&f);
}

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

/* GApplication */

typedef struct
{
  Fixture *f;
  AsabTaskService *service;
  gboolean ended_before_run_returned;
} AppData;

static void
app_activate (GApplication *app,
              AppData      *data)
{
  data->service = asab_task_service_new_for_application (app);
  g_assert_true (asab_task_service_get_application (data->service) == app);
  g_signal_connect (data->service, "task-done", G_CALLBACK (on_task_done), data->f);
  /* Completes in a few ms, after activate has returned. */
  asab_task_service_schedule (data->service, complete_later, data->f);
}

static void
test_application_hold (void)
{
  Fixture f;
  g_autoptr(GApplication) app = NULL;
  AppData data = { &f, NULL, FALSE };
  int status;

  fixture_init_default_context (&f);

  app = g_application_new ("org.asab.Test.Hold", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate), &data);
  status = g_application_run (app, 0, NULL);
  g_assert_cmpint (status, ==, 0);

  /* g_application_run() did not return under the live task. */
  g_assert_cmpuint (f.n_done, ==, 1);
  g_assert_cmpuint (f.n_called, ==, 1);
  g_clear_object (&data.service);

  fixture_clear (&f);
}

static void
app_activate_threadsafe (GApplication *app,
                         AppData      *data)
{
  data->service = asab_task_service_new_for_application (app);
  g_signal_connect (data->service, "task-done", G_CALLBACK (on_task_done), data->f);
  asab_task_service_schedule_threadsafe (data->service, NULL, complete_later, data->f, NULL);
}

static void
test_application_hold_threadsafe (void)
{
  Fixture f;
  g_autoptr(GApplication) app = NULL;
  AppData data = { &f, NULL, FALSE };

  fixture_init_default_context (&f);

  /* Handed off, not yet dispatched when activate returns: the application
   * is held all the same, so the task runs and succeeds. */
  app = g_application_new ("org.asab.Test.HoldThreadsafe", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate_threadsafe), &data);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);
  g_assert_cmpuint (f.n_done_ok, ==, 1);
  g_clear_object (&data.service);

  fixture_clear (&f);
}

static void
app_activate_forever (GApplication *app,
                      AppData      *data)
{
  data->service = asab_task_service_new_for_application (app);
  g_signal_connect (data->service, "task-done", G_CALLBACK (on_task_done), data->f);
  asab_task_service_run_forever (data->service, "forever", wait_for_cancel, data->f, count_destroy);
}

static gboolean
quit_app (gpointer app)
{
  g_application_quit (app);

  return G_SOURCE_REMOVE;
}

static void
test_application_shutdown_stops (void)
{
  Fixture f;
  g_autoptr(GApplication) app = NULL;
  AppData data = { &f, NULL, FALSE };

  fixture_init_default_context (&f);

  app = g_application_new ("org.asab.Test.Shutdown", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate_forever), &data);
  g_timeout_add (20, quit_app, app);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);

  /* The application's shutdown stopped the service. */
  g_assert_cmpuint (f.n_done_cancelled, ==, 1);
  g_assert_cmpuint (f.n_destroyed, ==, 1);
  g_assert_cmpuint (asab_task_service_schedule (data.service, complete_now, &f), ==, 0);
  g_clear_object (&data.service);

  fixture_clear (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();

  g_test_add_func ("/task-service/new/thread-default-context", test_new_thread_default);
  g_test_add_func ("/task-service/properties", test_properties);

  g_test_add_func ("/task-service/schedule/runs-later", test_schedule_runs_later);
  g_test_add_func ("/task-service/schedule/gtask", test_schedule_gtask);
  g_test_add_func ("/task-service/schedule/complete-later", test_schedule_complete_later);
  g_test_add_func ("/task-service/schedule/result-freed", test_schedule_result_freed);
  g_test_add_func ("/task-service/schedule/unique-ids", test_schedule_unique_ids);
  g_test_add_func ("/task-service/schedule/fresh-cancellable", test_schedule_fresh_cancellable);
  g_test_add_func ("/task-service/schedule/many-unkept", test_schedule_many_unkept);

  g_test_add_func ("/task-service/failure/logged", test_failure_logged);
  g_test_add_func ("/task-service/failure/unnamed", test_failure_unnamed);
  g_test_add_func ("/task-service/failure/taken-over", test_failure_taken_over);
  g_test_add_func ("/task-service/failure/not-on-cancel", test_failure_not_on_cancel);

  g_test_add_func ("/task-service/destroy/after-func-returns", test_destroy_after_func_returns);
  g_test_add_func ("/task-service/destroy/once-each", test_destroy_once_each);
  g_test_add_func ("/task-service/destroy/refused", test_destroy_refused);

  g_test_add_func ("/task-service/threadsafe/from-threads", test_threadsafe_from_threads);
  g_test_add_func ("/task-service/threadsafe/coalesced", test_threadsafe_coalesced);
  g_test_add_func ("/task-service/threadsafe/on-context-thread", test_threadsafe_on_context_thread);

  g_test_add_func ("/task-service/in-thread/runs-on-worker", test_in_thread_runs_on_worker);
  g_test_add_func ("/task-service/in-thread/failure", test_in_thread_failure);

  g_test_add_func ("/task-service/gtask/tracked", test_gtask_tracked);
  g_test_add_func ("/task-service/gtask/failure", test_gtask_failure);
  g_test_add_func ("/task-service/gtask/cancelled-at-stop", test_gtask_cancelled_at_stop);

  g_test_add_func ("/task-service/source/ends-on-remove", test_source_ends_on_remove);
  g_test_add_func ("/task-service/source/ends-on-destroy", test_source_ends_on_destroy);
  g_test_add_func ("/task-service/source/destroyed-from-thread", test_source_destroyed_from_thread);
  g_test_add_func ("/task-service/source/cancel-destroys", test_source_cancel_destroys);
  g_test_add_func ("/task-service/source/stop-destroys", test_source_stop_destroys);

  g_test_add_func ("/task-service/forever/restarts", test_forever_restarts);
  g_test_add_func ("/task-service/forever/backs-off", test_forever_backs_off);
  g_test_add_func ("/task-service/forever/stop", test_forever_stop);

  g_test_add_func ("/task-service/cancel/queued", test_cancel_queued);
  g_test_add_func ("/task-service/cancel/running", test_cancel_running);
  g_test_add_func ("/task-service/cancel/unknown", test_cancel_unknown);
  g_test_add_func ("/task-service/cancel/completed", test_cancel_completed_not_reported);
  g_test_add_func ("/task-service/cancel/from-thread", test_cancel_from_thread);

  g_test_add_func ("/task-service/max-concurrent/limit", test_max_concurrent_limit);
  g_test_add_func ("/task-service/max-concurrent/raise", test_max_concurrent_raise);

  g_test_add_func ("/task-service/max-queued/refuses", test_max_queued_refuses);

  g_test_add_func ("/task-service/stop/cancels", test_stop_cancels);
  g_test_add_func ("/task-service/stop/timeout", test_stop_timeout);
  g_test_add_func ("/task-service/stop/timeout-counts", test_stop_timeout_counts_queued);
  g_test_add_func ("/task-service/stop/twice", test_stop_twice);
  g_test_add_func ("/task-service/stop/own-timeout", test_stop_own_timeout);
  g_test_add_func ("/task-service/stop/empty", test_stop_empty);
  g_test_add_func ("/task-service/stop/in-transit", test_stop_in_transit);
  g_test_add_func ("/task-service/stop/last-unref", test_stop_last_unref);
  g_test_add_func ("/task-service/stop/last-unref-in-transit", test_stop_last_unref_in_transit);
  g_test_add_func ("/task-service/stop/run-dispose", test_stop_run_dispose);
  g_test_add_func ("/task-service/stop/from-task-func", test_stop_from_task_func);
  g_test_add_func ("/task-service/new/context-not-thread-default", test_context_not_thread_default);

  g_test_add_func ("/task-service/default/from-threads", test_default_from_threads);

  g_test_add_func ("/task-service/dispatch/one-source", test_dispatch_one_source);
  g_test_add_func ("/task-service/dispatch/no-wakeups", test_dispatch_no_wakeups);
  g_test_add_func ("/task-service/dispatch/next-iteration", test_dispatch_next_iteration);

  g_test_add_func ("/task-service/application/hold", test_application_hold);
  g_test_add_func ("/task-service/application/hold-threadsafe", test_application_hold_threadsafe);
  g_test_add_func ("/task-service/application/shutdown-stops", test_application_shutdown_stops);

  return g_test_run ();
}
