/* test-fixture.c: the fixture of the task-service tests
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-fixture.h"
#include "test-util.h"

void
fixture_on_task_done (AsabTaskService *service,
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

/* Takes @context, pushed as the thread-default one: the service runs on it. */
static void
fixture_setup_on (Fixture      *f,
                  GMainContext *context)
{
  f->context = context;
  f->service = asab_task_service_new (NULL);
  f->done_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  f->done_errors = g_ptr_array_new_with_free_func (error_free0);
  f->order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_signal_connect (f->service, "task-done", G_CALLBACK (fixture_on_task_done), f);
}

void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  fixture_setup_on (f, test_context_new ());
}

/* For GApplication, and for the common case of a service on the global
 * default main context. */
void
fixture_setup_default_context (Fixture       *f,
                               gconstpointer  data)
{
  GMainContext *context = g_main_context_ref (g_main_context_default ());

  g_main_context_push_thread_default (context);
  test_capture_logs_clear ();
  fixture_setup_on (f, context);
}

void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->service);
  test_context_free (f->context);
  g_ptr_array_unref (f->done_tasks);
  g_ptr_array_unref (f->done_errors);
  g_array_unref (f->order);
}

void
count_destroy (gpointer data)
{
  Fixture *f = data;

  f->n_destroyed++;
}

/* Task bodies */

void
complete_now (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  g_task_return_boolean (task, TRUE);
}

void
fail_now (GTask        *task,
          GCancellable *cancellable,
          gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such thing");
}

void
wait_for_cancel (GTask        *task,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  test_task_return_on_cancel (task, cancellable);
}

static gboolean
complete_later_cb (gpointer data)
{
  g_task_return_boolean (data, TRUE);

  return G_SOURCE_REMOVE;
}

void
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

void
hold_task (GTask        *task,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GTask **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (task);
}

void
fail_in_thread (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "not allowed");
}

