/* test-cancel.c: cancel() on queued, running and ended tasks
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

static void
test_cancel_queued (Fixture       *f,
                    gconstpointer  data)
{
  GTask *blocker = NULL;
  guint64 id;

  asab_task_service_set_max_concurrent (f->service, 1);

  asab_task_service_schedule (f->service, hold_task, &blocker);
  id = asab_task_service_schedule_full (f->service, "queued", complete_now, f, count_destroy);
  test_iterate_until (f->context, blocker != NULL);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 1);

  g_assert_true (asab_task_service_cancel (f->service, id));
  /* It ends while the blocker still holds the only slot. */
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_called, ==, 0);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 0);

  g_task_return_boolean (blocker, TRUE);
  g_object_unref (blocker);
  test_iterate_until (f->context, f->n_done == 2);
  g_assert_cmpuint (f->n_called, ==, 0);
}

static void
test_cancel_running (Fixture       *f,
                     gconstpointer  data)
{
  guint64 id;

  id = asab_task_service_schedule (f->service, wait_for_cancel, f);
  test_iterate_until (f->context, f->n_called == 1);
  g_assert_cmpuint (f->n_done, ==, 0);
  g_assert_true (asab_task_service_cancel (f->service, id));
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (g_ptr_array_index (f->done_tasks, 0))));
}

static void
test_cancel_unknown (Fixture       *f,
                     gconstpointer  data)
{
  guint64 id;

  g_assert_false (asab_task_service_cancel (f->service, 0));
  g_assert_false (asab_task_service_cancel (f->service, 12345));

  id = asab_task_service_schedule (f->service, complete_now, f);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_false (asab_task_service_cancel (f->service, id));
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
test_cancel_completed_not_reported (Fixture       *f,
                                    gconstpointer  data)
{
  CompleteThenCancel c = { f, NULL, 0, TRUE };
  GSource *source;

  /* Completed from another source, before its task-done: the task has
   * ended, so cancel() says so and its success stands. */
  c.id = asab_task_service_schedule (f->service, hold_task, &c.held);
  test_iterate_until (f->context, c.held != NULL);

  source = g_idle_source_new ();
  g_source_set_callback (source, complete_then_cancel_cb, &c, NULL);
  g_source_attach (source, f->context);
  g_source_unref (source);

  test_iterate_until (f->context, f->n_done == 1);
  g_assert_false (c.cancelled);
  g_assert_cmpuint (f->n_done_ok, ==, 1);
  g_object_unref (c.held);
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
test_cancel_from_thread (Fixture       *f,
                         gconstpointer  data)
{
  CancelFromThread running = { 0 }, queued = { 0 }, in_transit = { 0 };
  GTask *blocker = NULL;

  asab_task_service_set_max_concurrent (f->service, 2);

  asab_task_service_schedule (f->service, hold_task, &blocker);
  running = (CancelFromThread) { f->service, asab_task_service_schedule (f->service, wait_for_cancel, f), FALSE };
  queued = (CancelFromThread) { f->service, asab_task_service_schedule (f->service, complete_now, f), FALSE };
  test_iterate_until (f->context, f->n_called == 1);

  /* Scheduled from this thread while it holds the context, so it stays in
   * transit until the context runs. */
  g_assert_true (g_main_context_acquire (f->context));
  in_transit = (CancelFromThread) { f->service, asab_task_service_schedule_threadsafe (f->service, NULL, complete_now, f, NULL), FALSE };

  g_thread_join (g_thread_new ("cancel", cancel_in_thread, &running));
  g_thread_join (g_thread_new ("cancel", cancel_in_thread, &queued));
  g_thread_join (g_thread_new ("cancel", cancel_in_thread, &in_transit));
  g_main_context_release (f->context);
  g_assert_true (running.result);
  g_assert_true (queued.result);
  g_assert_true (in_transit.result);

  test_iterate_until (f->context, f->n_done == 3);
  g_assert_cmpuint (f->n_done_cancelled, ==, 3);
  g_assert_cmpuint (f->n_called, ==, 1);

  g_task_return_boolean (blocker, TRUE);
  g_object_unref (blocker);
  test_iterate_until (f->context, f->n_done == 4);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("cancel() ends a queued task without running it, cancels a running one, and says "
                  "FALSE for an id that is unknown or has ended, from any thread");

  g_test_add ("/task-service/cancel/queued", Fixture, NULL,
              fixture_setup, test_cancel_queued, fixture_teardown);
  g_test_add ("/task-service/cancel/running", Fixture, NULL,
              fixture_setup, test_cancel_running, fixture_teardown);
  g_test_add ("/task-service/cancel/unknown", Fixture, NULL,
              fixture_setup, test_cancel_unknown, fixture_teardown);
  g_test_add ("/task-service/cancel/completed", Fixture, NULL,
              fixture_setup, test_cancel_completed_not_reported, fixture_teardown);
  g_test_add ("/task-service/cancel/from-thread", Fixture, NULL,
              fixture_setup, test_cancel_from_thread, fixture_teardown);

  return g_test_run ();
}
