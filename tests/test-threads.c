/* test-threads.c: schedule_threadsafe() from other threads
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("schedule_threadsafe() from several threads keeps each thread's order, hands a "
                  "burst over at once, and works from the context's own thread");

  g_test_add ("/task-service/threadsafe/from-threads", Fixture, NULL,
              fixture_setup, test_threadsafe_from_threads, fixture_teardown);
  g_test_add ("/task-service/threadsafe/coalesced", Fixture, NULL,
              fixture_setup, test_threadsafe_coalesced, fixture_teardown);
  g_test_add ("/task-service/threadsafe/on-context-thread", Fixture, NULL,
              fixture_setup, test_threadsafe_on_context_thread, fixture_teardown);

  return g_test_run ();
}
