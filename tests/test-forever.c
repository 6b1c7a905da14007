/* test-forever.c: run_forever()
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

static void
test_forever_restarts (Fixture       *f,
                       gconstpointer  data)
{
  guint64 id;

  id = asab_task_service_run_forever (f->service, "again", fail_now, f, count_destroy);
  test_iterate_until (f->context, f->n_called >= 4);

  /* Every run's failure is logged; the task has not ended. */
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), >=, 3);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->task_name, ==, "again");
  g_assert_cmpuint (f->n_done, ==, 0);
  g_assert_cmpuint (f->n_destroyed, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 1);

  g_assert_true (asab_task_service_cancel (f->service, id));
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_false (asab_task_service_cancel (f->service, id));
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
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
test_forever_backs_off (Fixture       *f,
                        gconstpointer  data)
{
  gint64 ticks[3] = { 0, 0, g_get_monotonic_time () };
  gint64 end;
  GSource *timer;

  asab_task_service_run_forever (f->service, "spinner", complete_now, f, NULL);

  timer = g_timeout_source_new (10);
  g_source_set_callback (timer, count_tick, ticks, NULL);
  g_source_attach (timer, f->context);

  end = g_get_monotonic_time () + 320 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (f->context, TRUE);

  /* Back-off 5, 10, 20, 40, 80, 160 ms: seven runs fit in 320 ms, a
   * spinning loop would have made hundreds of thousands. */
  g_assert_cmpuint (f->n_called, >=, 4);
  g_assert_cmpuint (f->n_called, <=, 8);
  /* The 10 ms timer kept firing. */
  g_assert_cmpint (ticks[0], >=, 20);
  g_assert_cmpint (ticks[1], <, 100 * 1000);

  g_source_destroy (timer);
  g_source_unref (timer);
  asab_task_service_stop (f->service, NULL, NULL);
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
}

static void
test_forever_stop (Fixture       *f,
                   gconstpointer  data)
{
  asab_task_service_run_forever (f->service, "watcher", wait_for_cancel, f, count_destroy);
  test_iterate_until (f->context, f->n_called == 1);
  asab_task_service_stop (f->service, NULL, NULL);
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpuint (f->n_called, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("run_forever() restarts its function, backing off, until it is cancelled or the "
                  "service stops, then ends once");

  g_test_add ("/task-service/forever/restarts", Fixture, NULL,
              fixture_setup, test_forever_restarts, fixture_teardown);
  g_test_add ("/task-service/forever/backs-off", Fixture, NULL,
              fixture_setup, test_forever_backs_off, fixture_teardown);
  g_test_add ("/task-service/forever/stop", Fixture, NULL,
              fixture_setup, test_forever_stop, fixture_teardown);

  return g_test_run ();
}
