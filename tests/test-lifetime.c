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

/* g_object_run_dispose() with live tasks */

typedef struct
{
  Fixture *f;
  GTask *held;
  guint n_destroyed;
  guint n_done_at_destroy;
  gboolean disposed;
} LateEnd;

static void
hold_late (GTask        *task,
           GCancellable *cancellable,
           gpointer      user_data)
{
  LateEnd *late = user_data;

  g_assert_null (late->held);
  late->held = g_object_ref (task);
}

static void
late_destroy (gpointer data)
{
  LateEnd *late = data;

  late->n_destroyed++;
  late->n_done_at_destroy = late->f->n_done;
}

static void
test_dispose_late_end (Fixture       *f,
                       gconstpointer  data)
{
  AsabTaskService *service = g_steal_pointer (&f->service);
  LateEnd late = { f, NULL, 0, 0, FALSE };
  gpointer alive;

  /* The service must not be kept by the tasks that task-done sees. */
  f->forget_tasks = TRUE;
  asab_task_service_set_stop_timeout (service, 50);
  asab_task_service_schedule_full (service, "late", hold_late, &late, late_destroy);
  test_iterate_until (f->context, late.held != NULL);

  /* The stop inside dispose gives up on the task after its timeout. */
  g_object_run_dispose (G_OBJECT (service));
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "1+0 pending and incomplete tasks");
  g_assert_cmpuint (f->n_done, ==, 0);

  /* Dispose dropped the handlers: a new one sees what ends later. The live
   * task keeps the service. */
  g_signal_connect (service, "task-done", G_CALLBACK (fixture_on_task_done), f);
  alive = service;
  g_object_add_weak_pointer (G_OBJECT (service), &alive);
  g_object_unref (service);
  g_assert_nonnull (alive);

  g_task_return_boolean (late.held, TRUE);
  g_clear_object (&late.held);
  test_iterate_until (f->context, alive == NULL);

  /* The stop had cancelled it: its end is a cancellation, reported once,
   * and its data was freed once, after. */
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (late.n_destroyed, ==, 1);
  g_assert_cmpuint (late.n_done_at_destroy, ==, 1);
}

static void
dispose_own_service (GTask        *task,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  LateEnd *late = user_data;
  AsabTaskService *service = g_task_get_source_object (task);

  g_object_run_dispose (G_OBJECT (service));
  g_signal_connect (service, "task-done", G_CALLBACK (fixture_on_task_done), late->f);
  late->disposed = TRUE;
  g_task_return_boolean (task, TRUE);
}

static void
test_dispose_from_task_func (Fixture       *f,
                             gconstpointer  data)
{
  AsabTaskService *service = g_steal_pointer (&f->service);
  LateEnd late = { f, NULL, 0, 0, FALSE };
  LateEnd disposer = { f, NULL, 0, 0, FALSE };
  gpointer alive;

  f->forget_tasks = TRUE;
  asab_task_service_set_stop_timeout (service, 50);
  asab_task_service_schedule_full (service, "late", hold_late, &late, late_destroy);
  test_iterate_until (f->context, late.held != NULL);

  /* The function disposes of its own service, whose stop cannot end the
   * function's task before the function returns, nor the held one. */
  asab_task_service_schedule_full (service, "disposer", dispose_own_service, &disposer, late_destroy);
  test_iterate_until (f->context, disposer.disposed);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "2+0 pending and incomplete tasks");

  alive = service;
  g_object_add_weak_pointer (G_OBJECT (service), &alive);
  g_object_unref (service);

  /* The disposer's task ends once its function has returned. */
  test_iterate_until (f->context, disposer.n_destroyed == 1);
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (disposer.n_done_at_destroy, ==, 1);
  g_assert_nonnull (alive);

  g_task_return_boolean (late.held, TRUE);
  g_clear_object (&late.held);
  test_iterate_until (f->context, alive == NULL);
  g_assert_cmpuint (f->n_done, ==, 2);
  g_assert_cmpuint (f->n_done_cancelled, ==, 2);
  g_assert_cmpuint (late.n_destroyed, ==, 1);
  g_assert_cmpuint (late.n_done_at_destroy, ==, 2);
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

/* Two services of one application: at shutdown, both cancel their tasks
 * before either waits for its own. */
typedef struct
{
  Fixture *f;
  AsabTaskService *services[2];
  GPtrArray *stuck;
  guint n_started;
  guint n_cancelled;
  guint n_cancelled_before_timeout;
  gint64 quit_time;
} TwoServices;

#define TWO_SERVICES_STOP_TIMEOUT_MS 1000

static void
note_cancelled (GCancellable *cancellable,
                TwoServices  *two)
{
  /* No stop has timed out yet: its warning would be logged. */
  two->n_cancelled++;
  if (test_captured_count (G_LOG_LEVEL_WARNING) == 0)
    two->n_cancelled_before_timeout++;
}

static void
two_services_started (GTask       *task,
                      TwoServices *two)
{
  g_signal_connect (g_task_get_cancellable (task), "cancelled", G_CALLBACK (note_cancelled), two);

  /* Quit once the three tasks run. */
  if (++two->n_started == 3)
    {
      two->quit_time = g_get_monotonic_time ();
      g_application_quit (g_application_get_default ());
    }
}

static void
ignore_cancel_task (GTask        *task,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  TwoServices *two = user_data;

  g_ptr_array_add (two->stuck, g_object_ref (task));
  two_services_started (task, two);
}

static void
end_on_cancel_task (GTask        *task,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  TwoServices *two = user_data;

  test_task_return_on_cancel (task, cancellable);
  two_services_started (task, two);
}

static void
count_destroy_two (gpointer data)
{
  TwoServices *two = data;

  two->f->n_destroyed++;
}

static void
app_activate_two (GApplication *app,
                  TwoServices  *two)
{
  for (guint i = 0; i < 2; i++)
    {
      two->services[i] = asab_task_service_new_for_application (app);
      asab_task_service_set_stop_timeout (two->services[i], TWO_SERVICES_STOP_TIMEOUT_MS);
      g_signal_connect (two->services[i], "task-done", G_CALLBACK (fixture_on_task_done), two->f);
    }

  asab_task_service_schedule_full (two->services[0], "stuck", ignore_cancel_task, two, count_destroy_two);
  asab_task_service_schedule_full (two->services[1], "quick", end_on_cancel_task, two, count_destroy_two);
  asab_task_service_schedule_full (two->services[1], "stuck", ignore_cancel_task, two, count_destroy_two);
}

static void
test_application_shutdown_together (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(GApplication) app = NULL;
  TwoServices two = { f, { NULL, NULL }, NULL, 0, 0, 0, 0 };
  gint64 shutdown_took;

  f->forget_tasks = TRUE;
  two.stuck = g_ptr_array_new_with_free_func (g_object_unref);
  app = g_application_new ("org.asab.Test.ShutdownTogether", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate_two), &two);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);
  shutdown_took = g_get_monotonic_time () - two.quit_time;
  g_test_message ("g_application_run() returned %" G_GINT64_FORMAT " ms after quit",
                  shutdown_took / 1000);

  /* Every task of both services was cancelled before either stop gave up,
   * then each stop timed out on its own stuck task. */
  g_assert_cmpuint (two.n_cancelled, ==, 3);
  g_assert_cmpuint (two.n_cancelled_before_timeout, ==, 3);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, i)->message, ==,
                     "1+0 pending and incomplete tasks");
  g_assert_cmpuint (f->n_done, ==, 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);

  /* The stops overlapped: the application waited about one timeout, not
   * the sum of both. */
  g_assert_cmpint (shutdown_took, >=, TWO_SERVICES_STOP_TIMEOUT_MS * 1000);
  g_assert_cmpint (shutdown_took, <, 2 * TWO_SERVICES_STOP_TIMEOUT_MS * 1000);

  /* The stuck tasks still end, and are reported. */
  for (guint i = 0; i < two.stuck->len; i++)
    g_task_return_boolean (g_ptr_array_index (two.stuck, i), TRUE);
  g_ptr_array_set_size (two.stuck, 0);
  test_iterate_until (f->context, f->n_done == 3);
  g_assert_cmpuint (f->n_done_cancelled, ==, 3);
  g_assert_cmpuint (f->n_destroyed, ==, 3);

  g_ptr_array_unref (two.stuck);
  g_clear_object (&two.services[0]);
  g_clear_object (&two.services[1]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("Each destroy notify runs once, after the function has returned and the task has "
                  "ended, also for tasks that end after g_object_run_dispose(); a service for a "
                  "GApplication holds it while tasks run and stops with it, together with the "
                  "application's other services");

  g_test_add ("/task-service/destroy/after-func-returns", Fixture, NULL,
              fixture_setup, test_destroy_after_func_returns, fixture_teardown);
  g_test_add ("/task-service/destroy/once-each", Fixture, NULL,
              fixture_setup, test_destroy_once_each, fixture_teardown);
  g_test_add ("/task-service/destroy/refused", Fixture, NULL,
              fixture_setup, test_destroy_refused, fixture_teardown);

  g_test_add ("/task-service/dispose/late-end", Fixture, NULL,
              fixture_setup, test_dispose_late_end, fixture_teardown);
  g_test_add ("/task-service/dispose/from-task-func", Fixture, NULL,
              fixture_setup, test_dispose_from_task_func, fixture_teardown);

  g_test_add ("/task-service/application/hold", Fixture, NULL,
              fixture_setup_default_context, test_application_hold, fixture_teardown);
  g_test_add ("/task-service/application/hold-threadsafe", Fixture, NULL,
              fixture_setup_default_context, test_application_hold_threadsafe, fixture_teardown);
  g_test_add ("/task-service/application/shutdown-stops", Fixture, NULL,
              fixture_setup_default_context, test_application_shutdown_stops, fixture_teardown);
  g_test_add ("/task-service/application/shutdown-together", Fixture, NULL,
              fixture_setup_default_context, test_application_shutdown_together, fixture_teardown);

  return g_test_run ();
}
