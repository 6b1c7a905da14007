/* test-util.h: helpers shared by the C tests
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <asab.h>

G_BEGIN_DECLS

typedef struct
{
  GLogLevelFlags level;
  char *message;
  char *task_id;
  char *task_name;
} CapturedLog;

/* Installs a log writer that keeps the structured messages of the "Asab"
 * domain for the tests to inspect, and passes everything else on to GLib's
 * default writer (where warnings and criticals stay fatal).
 */
void         test_capture_logs_init   (void);
void         test_capture_logs_clear  (void);
guint        test_captured_count      (GLogLevelFlags level);
CapturedLog *test_captured_nth        (GLogLevelFlags level,
                                       guint          n);

/* The body of a task that runs until it is cancelled: completes @task with
 * its cancellation when @cancellable is cancelled. Uses the task data. */
void          test_task_return_on_cancel (GTask        *task,
                                          GCancellable *cancellable);

/* A private main context, pushed as the thread-default one. */
GMainContext *test_context_new        (void);
void          test_context_free       (GMainContext *context);

/* Iterates @context until @cond holds; fails the test after 10 s. A timer
 * on the context bounds each blocking iteration.
 */
#define test_iterate_until(context, cond) \
  G_STMT_START { \
    gint64 _deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC; \
    GSource *_tick = test_tick_source_new (context); \
    while (!(cond)) \
      { \
        if (g_get_monotonic_time () > _deadline) \
          g_error ("Timed out waiting for: %s", #cond); \
        g_main_context_iteration ((context), TRUE); \
      } \
    g_source_destroy (_tick); \
    g_source_unref (_tick); \
  } G_STMT_END

GSource      *test_tick_source_new    (GMainContext *context);

/* Iterates without blocking until nothing is ready; returns the number of
 * iterations that dispatched something.
 */
guint         test_iterate_pending    (GMainContext *context);

/* Counts the sources attached to @context, by id. */
guint         test_count_sources      (GMainContext *context);

G_END_DECLS
