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

/* The back-off, as run_forever() documents it: after a run shorter than
 * 5 s the restart waits 5 ms, then twice as long after each further one,
 * at most 2 s; after a run of 5 s or more it restarts at once, and the
 * delay starts again from 5 ms. Each run lasts as long as the test plans,
 * completing its task from a timeout. The restart delay each time is
 * checked in the debug log, exactly, and against the clock: a gap is never
 * shorter than its delay, and not much longer. */

#define MAX_RUNS 16
#define SHORT_RUN_MS 20
#define HEALTHY_RUN_MS 5050
#define GAP_SLACK_USEC G_USEC_PER_SEC

typedef struct
{
  guint n_planned;
  guint run_ms[MAX_RUNS];
  /* The restart delay expected after each run but the last. */
  guint delay_ms[MAX_RUNS];
  guint n_runs;
  gint64 started[MAX_RUNS];
  gint64 ended[MAX_RUNS];
} Cycles;

static gboolean
end_run (gpointer data)
{
  GTask *task = data;
  Cycles *cycles = g_task_get_task_data (task);

  cycles->ended[cycles->n_runs - 1] = g_get_monotonic_time ();
  g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

static void
run_as_planned (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  Cycles *cycles = user_data;
  guint run = cycles->n_runs++;
  GSource *timer;

  g_assert_cmpuint (run, <, cycles->n_planned);
  cycles->started[run] = g_get_monotonic_time ();
  g_task_set_task_data (task, cycles, NULL);
  timer = g_timeout_source_new (cycles->run_ms[run]);
  g_source_set_callback (timer, end_run, g_object_ref (task), g_object_unref);
  g_source_attach (timer, g_task_get_context (task));
  g_source_unref (timer);
}

static void
check_cycles (Fixture *f,
              Cycles  *cycles)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  GSource *tick;
  guint64 id;

  id = asab_task_service_run_forever (f->service, "cycles", run_as_planned, cycles, NULL);

  /* The runs take longer than test_iterate_until() waits: about 10 s for
   * the longest plan. A tick bounds each blocking iteration. */
  tick = test_tick_source_new (f->context);
  while (cycles->n_runs < cycles->n_planned)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out after %u of %u runs", cycles->n_runs, cycles->n_planned);
      g_main_context_iteration (f->context, TRUE);
    }
  g_source_destroy (tick);
  g_source_unref (tick);

  g_assert_true (asab_task_service_cancel (f->service, id));
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (cycles->n_runs, ==, cycles->n_planned);

  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_DEBUG), ==, cycles->n_planned - 1);
  for (guint run = 0; run + 1 < cycles->n_planned; run++)
    {
      g_autofree char *expected = g_strdup_printf ("Task %" G_GUINT64_FORMAT " exited, restarting in %u ms",
                                                   id, cycles->delay_ms[run]);
      gint64 gap = cycles->started[run + 1] - cycles->ended[run];

      g_test_message ("run %u lasted %" G_GINT64_FORMAT " ms, restarted after %" G_GINT64_FORMAT " ms",
                      run, (cycles->ended[run] - cycles->started[run]) / 1000, gap / 1000);
      g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_DEBUG, run)->message, ==, expected);
      g_assert_cmpint (gap, >=, cycles->delay_ms[run] * (gint64) 1000);
      g_assert_cmpint (gap, <, cycles->delay_ms[run] * (gint64) 1000 + GAP_SLACK_USEC);
    }
}

static void
test_forever_back_off_doubles (Fixture       *f,
                               gconstpointer  data)
{
  Cycles cycles = { 0 };

  /* Seven short runs: 5, 10, 20, 40, 80, 160 ms between them. */
  cycles.n_planned = 7;
  for (guint run = 0; run < cycles.n_planned; run++)
    {
      cycles.run_ms[run] = SHORT_RUN_MS;
      cycles.delay_ms[run] = 5 << run;
    }

  check_cycles (f, &cycles);
}

static void
test_forever_back_off_cap_and_reset (Fixture       *f,
                                     gconstpointer  data)
{
  Cycles cycles = { 0 };
  guint run;

  /* Short runs until the delay reaches its cap: 5 ms to 1280 ms, then 2 s
   * rather than 2.56 s; then a run of 5 s restarts at once, and the next
   * short run waits 5 ms again. */
  for (run = 0; run < 10; run++)
    {
      cycles.run_ms[run] = SHORT_RUN_MS;
      cycles.delay_ms[run] = MIN (5 << run, 2000);
    }
  g_assert_cmpuint (cycles.delay_ms[9], ==, 2000);
  cycles.run_ms[run] = HEALTHY_RUN_MS;
  cycles.delay_ms[run++] = 0;
  cycles.run_ms[run] = SHORT_RUN_MS;
  cycles.delay_ms[run++] = 5;
  cycles.run_ms[run++] = SHORT_RUN_MS;
  cycles.n_planned = run;

  check_cycles (f, &cycles);
}

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *stopped = user_data;

  g_assert_true (asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, NULL));
  *stopped = TRUE;
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

typedef struct
{
  Fixture *f;
  GTask *held;
  gboolean stopped;
} RunThenStop;

/* In a source of the context: the run completes at once, and the stop
 * comes before the service has seen the run end. */
static gboolean
complete_run_then_stop (gpointer data)
{
  RunThenStop *rs = data;

  g_task_return_boolean (rs->held, TRUE);
  g_clear_object (&rs->held);
  asab_task_service_stop_async (rs->f->service, NULL, stopped_cb, &rs->stopped);

  return G_SOURCE_REMOVE;
}

/* The last run completed, and the service stopped before it restarted the
 * task: the task still ends cancelled, as a stopped forever task does. */
static void
test_forever_stop_after_a_run (Fixture       *f,
                               gconstpointer  data)
{
  RunThenStop rs = { f, NULL, FALSE };
  GSource *idle;

  asab_task_service_run_forever (f->service, "watcher", hold_task, &rs.held, NULL);
  test_iterate_until (f->context, rs.held != NULL);

  idle = g_idle_source_new ();
  g_source_set_callback (idle, complete_run_then_stop, &rs, NULL);
  g_source_attach (idle, f->context);
  g_source_unref (idle);
  test_iterate_until (f->context, rs.stopped);

  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("run_forever() restarts its function, backing off as documented, until it is "
                  "cancelled or the service stops, then ends once");

  g_test_add ("/task-service/forever/restarts", Fixture, NULL,
              fixture_setup, test_forever_restarts, fixture_teardown);
  g_test_add ("/task-service/forever/backs-off", Fixture, NULL,
              fixture_setup, test_forever_backs_off, fixture_teardown);
  g_test_add ("/task-service/forever/back-off-doubles", Fixture, NULL,
              fixture_setup, test_forever_back_off_doubles, fixture_teardown);
  g_test_add ("/task-service/forever/back-off-cap-and-reset", Fixture, NULL,
              fixture_setup, test_forever_back_off_cap_and_reset, fixture_teardown);
  g_test_add ("/task-service/forever/stop", Fixture, NULL,
              fixture_setup, test_forever_stop, fixture_teardown);
  g_test_add ("/task-service/forever/stop-after-a-run", Fixture, NULL,
              fixture_setup, test_forever_stop_after_a_run, fixture_teardown);

  return g_test_run ();
}
