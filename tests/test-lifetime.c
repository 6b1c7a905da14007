/* test-lifetime.c: when the destroy notifies run, and GApplication
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

/* Destroy notify */

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
test_destroy_after_func_returns (Fixture       *f,
                                 gconstpointer  data)
{
  DestroyProbe probe = { 0 };

  probe.f = f;

  asab_task_service_schedule_full (f->service, "probe", complete_then_check, &probe, probe_destroy);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (probe.n_destroyed, ==, 1);
  g_assert_false (probe.destroyed_in_func);

  /* Nothing more happens later. */
  test_iterate_pending (f->context);
  g_assert_cmpuint (probe.n_destroyed, ==, 1);
  g_assert_cmpuint (f->n_done, ==, 1);
}

static void
test_destroy_once_each (Fixture       *f,
                        gconstpointer  data)
{
  asab_task_service_schedule_full (f->service, NULL, complete_now, f, count_destroy);
  asab_task_service_schedule_full (f->service, NULL, fail_now, f, count_destroy);
  asab_task_service_schedule_full (f->service, NULL, complete_later, f, count_destroy);
  /* The worker must not touch the fixture, which belongs to this thread. */
  asab_task_service_schedule_in_thread (f->service, NULL, fail_in_thread, f, count_destroy);
  asab_task_service_schedule_threadsafe (f->service, NULL, complete_now, f, count_destroy);
  test_iterate_until (f->context, f->n_done == 5);
  g_assert_cmpuint (f->n_destroyed, ==, 5);
}

static void
test_destroy_refused (Fixture       *f,
                      gconstpointer  data)
{
  guint64 id;

  asab_task_service_stop (f->service, NULL, NULL);
  test_capture_logs_clear ();

  id = asab_task_service_schedule_full (f->service, "late", complete_now, f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "late"));

  id = asab_task_service_schedule_threadsafe (f->service, NULL, complete_now, f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  id = asab_task_service_schedule_in_thread (f->service, NULL, complete_now, f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  id = asab_task_service_run_forever (f->service, NULL, complete_now, f, count_destroy);
  g_assert_cmpuint (id, ==, 0);
  g_assert_cmpuint (f->n_destroyed, ==, 4);
  g_assert_cmpuint (f->n_called, ==, 0);

  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 0);
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
  g_signal_connect (data->service, "task-done", G_CALLBACK (fixture_on_task_done), data->f);
  /* Completes in a few ms, after activate has returned. */
  asab_task_service_schedule (data->service, complete_later, data->f);
}

static void
test_application_hold (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GApplication) app = NULL;
  AppData app_data = { f, NULL, FALSE };
  int status;

  app = g_application_new ("org.asab.Test.Hold", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate), &app_data);
  status = g_application_run (app, 0, NULL);
  g_assert_cmpint (status, ==, 0);

  /* g_application_run() did not return under the live task. */
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_called, ==, 1);
  g_clear_object (&app_data.service);
}

static void
app_activate_threadsafe (GApplication *app,
                         AppData      *data)
{
  data->service = asab_task_service_new_for_application (app);
  g_signal_connect (data->service, "task-done", G_CALLBACK (fixture_on_task_done), data->f);
  asab_task_service_schedule_threadsafe (data->service, NULL, complete_later, data->f, NULL);
}

static void
test_application_hold_threadsafe (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GApplication) app = NULL;
  AppData app_data = { f, NULL, FALSE };

  /* Handed off, not yet dispatched when activate returns: the application
   * is held all the same, so the task runs and succeeds. */
  app = g_application_new ("org.asab.Test.HoldThreadsafe", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate_threadsafe), &app_data);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
  g_clear_object (&app_data.service);
}

static void
app_activate_forever (GApplication *app,
                      AppData      *data)
{
  data->service = asab_task_service_new_for_application (app);
  g_signal_connect (data->service, "task-done", G_CALLBACK (fixture_on_task_done), data->f);
  asab_task_service_run_forever (data->service, "forever", wait_for_cancel, data->f, count_destroy);
}

static gboolean
quit_app (gpointer app)
{
  g_application_quit (app);

  return G_SOURCE_REMOVE;
}

static void
test_application_shutdown_stops (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GApplication) app = NULL;
  AppData app_data = { f, NULL, FALSE };

  app = g_application_new ("org.asab.Test.Shutdown", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate_forever), &app_data);
  g_timeout_add (20, quit_app, app);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);

  /* The application's shutdown stopped the service. */
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpuint (asab_task_service_schedule (app_data.service, complete_now, f), ==, 0);
  g_clear_object (&app_data.service);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("Each destroy notify runs once, after the function has returned and the task has "
                  "ended; a service for a GApplication holds it while tasks run and stops with it");

  g_test_add ("/task-service/destroy/after-func-returns", Fixture, NULL,
              fixture_setup, test_destroy_after_func_returns, fixture_teardown);
  g_test_add ("/task-service/destroy/once-each", Fixture, NULL,
              fixture_setup, test_destroy_once_each, fixture_teardown);
  g_test_add ("/task-service/destroy/refused", Fixture, NULL,
              fixture_setup, test_destroy_refused, fixture_teardown);

  g_test_add ("/task-service/application/hold", Fixture, NULL,
              fixture_setup_default_context, test_application_hold, fixture_teardown);
  g_test_add ("/task-service/application/hold-threadsafe", Fixture, NULL,
              fixture_setup_default_context, test_application_hold_threadsafe, fixture_teardown);
  g_test_add ("/task-service/application/shutdown-stops", Fixture, NULL,
              fixture_setup_default_context, test_application_shutdown_stops, fixture_teardown);

  return g_test_run ();
}
