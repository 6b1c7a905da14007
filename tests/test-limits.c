/* test-limits.c: max-concurrent and max-queued
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

/* max-concurrent */

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
test_max_concurrent_limit (Fixture       *f,
                           gconstpointer  data)
{
  LimitItem items[8];
  guint running = 0, max_seen = 0;

  asab_task_service_set_max_concurrent (f->service, 2);
  g_assert_cmpuint (asab_task_service_get_max_concurrent (f->service), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      items[i] = (LimitItem) { f, i, &running, &max_seen };
      asab_task_service_schedule (f->service, limit_func, &items[i]);
    }

  test_iterate_until (f->context, f->n_done == G_N_ELEMENTS (items));
  g_assert_cmpuint (max_seen, ==, 2);
  /* First in, first out. */
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_assert_cmpuint (g_array_index (f->order, guint, i), ==, i);
}

static void
test_max_concurrent_raise (Fixture       *f,
                           gconstpointer  data)
{
  GTask *held[3] = { NULL, NULL, NULL };

  asab_task_service_set_max_concurrent (f->service, 1);

  for (guint i = 0; i < 3; i++)
    asab_task_service_schedule (f->service, hold_task, &held[i]);
  test_iterate_until (f->context, held[0] != NULL);
  test_iterate_pending (f->context);
  g_assert_null (held[1]);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 2);

  /* Both waiting tasks start on the next dispatch. */
  asab_task_service_set_max_concurrent (f->service, 0);
  g_main_context_iteration (f->context, FALSE);
  g_assert_nonnull (held[1]);
  g_assert_nonnull (held[2]);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 3);

  for (guint i = 0; i < 3; i++)
    {
      g_task_return_boolean (held[i], TRUE);
      g_object_unref (held[i]);
    }
  test_iterate_until (f->context, f->n_done == 3);
}

/* max-queued: back-pressure */

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
test_max_queued_refuses (Fixture       *f,
                         gconstpointer  data)
{
  guint accepted = 0;
  GThread *thread;

  asab_task_service_set_max_queued (f->service, 100);
  g_assert_cmpuint (asab_task_service_get_max_queued (f->service), ==, 100);

  for (guint i = 0; i < 150; i++)
    if (asab_task_service_schedule_full (f->service, "many", complete_now, f, count_destroy) > 0)
      accepted++;

  /* The caller learns of every refusal; one warning says so. */
  g_assert_cmpuint (accepted, ==, 100);
  g_assert_cmpuint (f->n_destroyed, ==, 50);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 100);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "full"));

  test_iterate_until (f->context, f->n_done == 100);
  g_assert_cmpuint (f->n_destroyed, ==, 150);

  /* The same from another thread while the context does not run. */
  g_assert_true (g_main_context_acquire (f->context));
  thread = g_thread_new ("flood", produce_until_refused, f);
  accepted = GPOINTER_TO_UINT (g_thread_join (thread));
  g_main_context_release (f->context);
  g_assert_cmpuint (accepted, ==, 100);
  g_assert_cmpuint (f->n_destroyed, ==, 150 + 900);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);

  test_iterate_until (f->context, f->n_done == 200);
  g_assert_cmpuint (f->n_destroyed, ==, 1150);
}

/* max-queued counts every task that has not started, even with no limit
 * on the running ones: a burst made before the context runs again is
 * refused beyond it. */
/* Four calls in a row: the first two are accepted. */
static void
schedule_burst_of_four (Fixture *f)
{
  guint64 ids[4];

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    ids[i] = asab_task_service_schedule_full (f->service, "burst", complete_now, f, count_destroy);
  g_assert_cmpuint (ids[0], >, 0);
  g_assert_cmpuint (ids[1], >, 0);
  g_assert_cmpuint (ids[2], ==, 0);
  g_assert_cmpuint (ids[3], ==, 0);
}

static void
test_max_queued_burst (Fixture       *f,
                       gconstpointer  data)
{
  asab_task_service_set_max_queued (f->service, 2);
  g_assert_cmpuint (asab_task_service_get_max_concurrent (f->service), ==, 0);

  schedule_burst_of_four (f);
  g_assert_cmpuint (f->n_destroyed, ==, 2);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 2);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);

  /* Once the context has run them, there is room for two more. */
  test_iterate_until (f->context, f->n_done == 2);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 0);
  schedule_burst_of_four (f);

  test_iterate_until (f->context, f->n_done == 4);
  g_assert_cmpuint (f->n_done_ok, ==, 4);
  g_assert_cmpuint (f->n_called, ==, 4);
  g_assert_cmpuint (f->n_destroyed, ==, 8);
}

/* After a stop: one warning for a burst of refusals, from any thread */

static gpointer
schedule_after_stop (gpointer data)
{
  Fixture *f = data;
  guint accepted = 0;

  for (guint i = 0; i < 1000; i++)
    accepted += asab_task_service_schedule_threadsafe (f->service, "late", complete_now, f, NULL) != 0;

  return GUINT_TO_POINTER (accepted);
}

static void
test_refused_after_stop (Fixture       *f,
                         gconstpointer  data)
{
  guint accepted = 0;

  g_assert_true (asab_task_service_stop (f->service, NULL, NULL));

  for (guint i = 0; i < 10000; i++)
    accepted += asab_task_service_schedule_full (f->service, "late", complete_now, f, count_destroy) != 0;
  g_assert_cmpuint (accepted, ==, 0);
  g_assert_cmpuint (f->n_destroyed, ==, 10000);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "The task service has been stopped: task “late” was refused");

  /* The limit holds for every thread. */
  accepted = GPOINTER_TO_UINT (g_thread_join (g_thread_new ("late", schedule_after_stop, f)));
  g_assert_cmpuint (accepted, ==, 0);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);

  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 0);
  g_assert_cmpuint (f->n_called, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("max-concurrent holds tasks back in order; max-queued refuses past the limit, "
                  "from any thread, with one warning, and counts a burst made before the context "
                  "runs; refusals after a stop are rate-limited the same way");

  g_test_add ("/task-service/max-concurrent/limit", Fixture, NULL,
              fixture_setup, test_max_concurrent_limit, fixture_teardown);
  g_test_add ("/task-service/max-concurrent/raise", Fixture, NULL,
              fixture_setup, test_max_concurrent_raise, fixture_teardown);

  g_test_add ("/task-service/max-queued/refuses", Fixture, NULL,
              fixture_setup, test_max_queued_refuses, fixture_teardown);
  g_test_add ("/task-service/max-queued/burst", Fixture, NULL,
              fixture_setup, test_max_queued_burst, fixture_teardown);

  g_test_add ("/task-service/refused/after-stop", Fixture, NULL,
              fixture_setup, test_refused_after_stop, fixture_teardown);

  return g_test_run ();
}
