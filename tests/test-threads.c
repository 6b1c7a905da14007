/* test-threads.c: schedule_threadsafe() from other threads
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-ledger.h"
#include "test-util.h"

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
test_threadsafe_from_threads (Fixture       *f,
                              gconstpointer  data)
{
  ThreadsafeData state = { 0 };
  ThreadsafeItem bases[N_PRODUCERS];
  GThread *threads[N_PRODUCERS];

  state.f = f;
  state.context_thread = g_thread_self ();

  for (guint p = 0; p < N_PRODUCERS; p++)
    {
      state.started[p] = g_array_new (FALSE, FALSE, sizeof (guint));
      bases[p] = (ThreadsafeItem) { &state, p, 0 };
      threads[p] = g_thread_new ("producer", produce, &bases[p]);
    }

  /* The context runs while the producers schedule. */
  test_iterate_until (f->context, f->n_done == N_PRODUCERS * N_PER_PRODUCER);

  for (guint p = 0; p < N_PRODUCERS; p++)
    {
      g_thread_join (threads[p]);
      g_assert_cmpuint (state.started[p]->len, ==, N_PER_PRODUCER);
      /* In the order in which each thread scheduled them. */
      for (guint i = 0; i < N_PER_PRODUCER; i++)
        g_assert_cmpuint (g_array_index (state.started[p], guint, i), ==, i);
      g_array_unref (state.started[p]);
    }
  g_assert_cmpuint (f->n_done_ok, ==, N_PRODUCERS * N_PER_PRODUCER);
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
test_threadsafe_coalesced (Fixture       *f,
                           gconstpointer  data)
{
  GThread *thread;
  guint n_sources_before;

  n_sources_before = test_count_sources (f->context);

  /* This thread owns the context, so the producer cannot take it: the
   * hand-off has to go through the context. */
  g_assert_true (g_main_context_acquire (f->context));
  thread = g_thread_new ("burst", produce_burst, f);
  g_thread_join (thread);

  /* A burst of 1000 calls is one hand-off, not 1000. */
  g_assert_cmpuint (test_count_sources (f->context), ==, n_sources_before + 1);

  test_iterate_pending (f->context);
  g_main_context_release (f->context);
  g_assert_cmpuint (f->n_done, ==, 1000);
}

static void
test_threadsafe_on_context_thread (Fixture       *f,
                                   gconstpointer  data)
{
  guint64 id;

  id = asab_task_service_schedule_threadsafe (f->service, "here", complete_now, f, count_destroy);
  g_assert_cmpuint (id, >, 0);
  g_assert_cmpuint (f->n_called, ==, 0);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpstr (g_task_get_name (g_ptr_array_index (f->done_tasks, 0)), ==, "here");
}

/* One thread that mixes schedule_full() and schedule_threadsafe() */

static void
append_name (GTask        *task,
             GCancellable *cancellable,
             gpointer      user_data)
{
  GString *order = user_data;

  g_string_append (order, g_task_get_name (task));
  g_task_return_boolean (task, TRUE);
}

/* Schedules one task per letter, the first with schedule_threadsafe(),
 * the next with schedule_full(), and so on. */
static void
schedule_alternating (AsabTaskService *service,
                      const char      *names,
                      GString         *order)
{
  for (guint i = 0; names[i] != '\0'; i++)
    {
      char name[2] = { names[i], '\0' };
      guint64 id;

      if (i % 2 == 0)
        id = asab_task_service_schedule_threadsafe (service, name, append_name, order, NULL);
      else
        id = asab_task_service_schedule_full (service, name, append_name, order, NULL);
      g_assert_cmpuint (id, >, 0);
    }
}

static void
schedule_second_batch (AsabTaskService *service,
                       GTask           *task,
                       const GError    *error,
                       GString         *order)
{
  if (g_strcmp0 (g_task_get_name (task), "0") == 0)
    schedule_alternating (service, "abcd", order);
}

static void
test_threads_fifo_mixed_calls (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GString) order = g_string_new (NULL);

  /* One at a time, so that they start in the order of the queue. */
  asab_task_service_set_max_concurrent (f->service, 1);
  g_signal_connect (f->service, "task-done", G_CALLBACK (schedule_second_batch), order);

  schedule_alternating (f->service, "ABCD", order);
  g_assert_cmpuint (asab_task_service_schedule_full (f->service, "0", append_name, order, NULL), >, 0);

  /* The second batch comes from a handler, while the context runs. */
  test_iterate_until (f->context, f->n_done == 9);
  g_assert_cmpstr (order->str, ==, "ABCD0abcd");
  g_assert_cmpuint (f->n_done_ok, ==, 9);
}

/* schedule_full() from workers to a context that its owner iterates by
 * hand, without pushing it as its thread-default one: the workers cannot
 * own it, so every call is handed over. */

#define N_WORKERS 2
#define N_PER_WORKER 20000

typedef struct
{
  AsabTaskService *service;
  TestLedger *ledger;
  guint worker;
  /* The owner's: the last slot of each worker that started. */
  int last_started[N_WORKERS];
  int n_out_of_order;
  int n_off_context;
  /* Any thread, atomic. */
  int n_workers_done;
} Unpushed;

typedef struct
{
  Unpushed *state;
  guint worker;
} UnpushedWorker;

static void
start_in_order (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  TestSlot *slot = user_data;
  Unpushed *state = slot->ledger->user_data;

  if (g_thread_self () != slot->ledger->context_thread)
    state->n_off_context++;
  /* A worker makes its slots in the order it schedules them. */
  if ((int) slot->index <= state->last_started[slot->plan])
    state->n_out_of_order++;
  state->last_started[slot->plan] = slot->index;
  g_atomic_int_inc (&slot->n_runs);
  g_task_return_boolean (task, TRUE);
}

static gpointer
schedule_from_worker (gpointer data)
{
  UnpushedWorker *worker = data;
  Unpushed *state = worker->state;

  g_assert_null (g_main_context_get_thread_default ());
  for (guint i = 0; i < N_PER_WORKER; i++)
    {
      TestSlot *slot = test_slot_new (state->ledger, TEST_WAY_SCHEDULE);

      slot->plan = worker->worker;
      g_assert_cmpuint (test_slot_schedule (slot, state->service, start_in_order), >, 0);
    }
  g_atomic_int_inc (&state->n_workers_done);

  return NULL;
}

static void
test_threads_schedule_to_unpushed_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  Unpushed state = { 0 };
  UnpushedWorker workers[N_WORKERS];
  GThread *threads[N_WORKERS];
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  test_capture_logs_clear ();
  state.service = asab_task_service_new (context);
  state.ledger = test_ledger_new (state.service, N_WORKERS * N_PER_WORKER);
  state.ledger->user_data = &state;
  test_ledger_watch (state.ledger);
  for (guint w = 0; w < N_WORKERS; w++)
    state.last_started[w] = -1;

  for (guint w = 0; w < N_WORKERS; w++)
    {
      workers[w] = (UnpushedWorker) { &state, w };
      threads[w] = g_thread_new ("worker", schedule_from_worker, &workers[w]);
    }

  /* This thread runs the context by hand while the workers schedule, as a
   * loop that has other work does: one iteration at a time, without
   * blocking, so that nobody holds the context between two of them. */
  g_assert_true (g_main_context_get_thread_default () != context);
  while (g_atomic_int_get (&state.n_workers_done) < N_WORKERS ||
         state.ledger->n_done < N_WORKERS * N_PER_WORKER)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out: %d workers done, %d of %d tasks ended",
                 g_atomic_int_get (&state.n_workers_done), state.ledger->n_done,
                 N_WORKERS * N_PER_WORKER);
      g_main_context_iteration (context, FALSE);
    }
  for (guint w = 0; w < N_WORKERS; w++)
    g_thread_join (threads[w]);

  test_ledger_assert_all_ended (state.ledger);
  g_assert_cmpuint (test_ledger_count (state.ledger, TEST_RESULT_OK), ==, N_WORKERS * N_PER_WORKER);
  g_assert_cmpint (state.n_out_of_order, ==, 0);
  g_assert_cmpint (state.n_off_context, ==, 0);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  g_clear_object (&state.service);
  test_iterate_until (context, test_ledger_finalized (state.ledger));
  test_ledger_free (state.ledger);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("schedule_threadsafe() from several threads keeps each thread's order, hands a "
                  "burst over at once, and works from the context's own thread; one thread's tasks "
                  "start in order whichever call scheduled them; workers hand their calls over to a "
                  "context that they cannot own");

  g_test_add ("/task-service/threadsafe/from-threads", Fixture, NULL,
              fixture_setup, test_threadsafe_from_threads, fixture_teardown);
  g_test_add ("/task-service/threadsafe/coalesced", Fixture, NULL,
              fixture_setup, test_threadsafe_coalesced, fixture_teardown);
  g_test_add ("/task-service/threadsafe/on-context-thread", Fixture, NULL,
              fixture_setup, test_threadsafe_on_context_thread, fixture_teardown);

  g_test_add ("/task-service/threads/fifo-mixed-calls", Fixture, NULL,
              fixture_setup, test_threads_fifo_mixed_calls, fixture_teardown);
  g_test_add_func ("/task-service/threads/schedule-to-unpushed-context",
                   test_threads_schedule_to_unpushed_context);

  return g_test_run ();
}
