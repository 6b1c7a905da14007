/* test-util.c: helpers shared by the C tests
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

static GMutex captured_lock;
static GPtrArray *captured;

static void
captured_log_free (gpointer data)
{
  CapturedLog *log = data;

  g_free (log->message);
  g_free (log->task_id);
  g_free (log->task_name);
  g_free (log);
}

static char *
field_dup (const GLogField *field)
{
  if (field->length < 0)
    return g_strdup (field->value);

  return g_strndup (field->value, field->length);
}

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  const char *domain = NULL;
  CapturedLog *log;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;

  /* Criticals and the like go on to GLib, which makes them fatal. */
  if (g_strcmp0 (domain, "Asab") != 0 ||
      (log_level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0)
    return g_log_writer_default (log_level, fields, n_fields, user_data);

  log = g_new0 (CapturedLog, 1);
  log->level = log_level & G_LOG_LEVEL_MASK;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        log->message = field_dup (&fields[i]);
      else if (g_strcmp0 (fields[i].key, "ASAB_TASK_ID") == 0)
        log->task_id = field_dup (&fields[i]);
      else if (g_strcmp0 (fields[i].key, "ASAB_TASK_NAME") == 0)
        log->task_name = field_dup (&fields[i]);
    }

  if (g_test_verbose ())
    g_printerr ("# captured log: %s\n", log->message);

  g_mutex_lock (&captured_lock);
  g_ptr_array_add (captured, log);
  g_mutex_unlock (&captured_lock);

  return G_LOG_WRITER_HANDLED;
}

void
test_capture_logs_init (void)
{
  captured = g_ptr_array_new_with_free_func (captured_log_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
}

void
test_capture_logs_clear (void)
{
  g_mutex_lock (&captured_lock);
  g_ptr_array_set_size (captured, 0);
  g_mutex_unlock (&captured_lock);
}

guint
test_captured_count (GLogLevelFlags level)
{
  guint count = 0;

  g_mutex_lock (&captured_lock);
  for (guint i = 0; i < captured->len; i++)
    if (((CapturedLog *) g_ptr_array_index (captured, i))->level == level)
      count++;
  g_mutex_unlock (&captured_lock);

  return count;
}

CapturedLog *
test_captured_nth (GLogLevelFlags level,
                   guint          n)
{
  CapturedLog *found = NULL;

  g_mutex_lock (&captured_lock);
  for (guint i = 0; i < captured->len && found == NULL; i++)
    {
      CapturedLog *log = g_ptr_array_index (captured, i);

      if (log->level == level && n-- == 0)
        found = log;
    }
  g_mutex_unlock (&captured_lock);

  g_assert_nonnull (found);

  return found;
}

typedef struct
{
  GCancellable *cancellable;
  gulong handler;
} WaitCancel;

static void
wait_cancel_free (gpointer data)
{
  WaitCancel *wait = data;

  g_cancellable_disconnect (wait->cancellable, wait->handler);
  g_object_unref (wait->cancellable);
  g_free (wait);
}

static void
return_cancelled (GCancellable *cancellable,
                  gpointer      task)
{
  g_task_return_error_if_cancelled (task);
}

void
test_task_return_on_cancel (GTask        *task,
                            GCancellable *cancellable)
{
  WaitCancel *wait = g_new0 (WaitCancel, 1);

  /* The task owns the handler, which does not own the task: no cycle. */
  wait->cancellable = g_object_ref (cancellable);
  g_task_set_task_data (task, wait, wait_cancel_free);
  wait->handler = g_cancellable_connect (cancellable, G_CALLBACK (return_cancelled), task, NULL);
}

GMainContext *
test_context_new (void)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  test_capture_logs_clear ();

  return context;
}

void
test_context_free (GMainContext *context)
{
  /* Let GTask's own idle completions and unrefs run out. */
  test_iterate_pending (context);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

GSource *
test_tick_source_new (GMainContext *context)
{
  GSource *source = g_timeout_source_new (20);

  g_source_set_callback (source, tick_cb, NULL, NULL);
  g_source_attach (source, context);

  return source;
}

guint
test_iterate_pending (GMainContext *context)
{
  guint n = 0;

  while (g_main_context_iteration (context, FALSE))
    n++;

  return n;
}

guint
test_count_sources (GMainContext *context)
{
  guint n = 0;

  /* Source ids grow from 1 within a context; scanning a generous range is
   * enough for the small numbers the tests create.
   */
  for (guint id = 1; id < 100000; id++)
    if (g_main_context_find_source_by_id (context, id) != NULL)
      n++;

  return n;
}
