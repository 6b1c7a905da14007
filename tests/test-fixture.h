/* test-fixture.h: the fixture of the task-service tests
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <asab.h>

G_BEGIN_DECLS

/* A service on a private context, pushed as the thread-default one, and
 * what a test observes of the tasks it schedules. For g_test_add():
 *
 *   g_test_add ("/task-service/...", Fixture, NULL,
 *               fixture_setup, test_func, fixture_teardown);
 *
 * fixture_setup_default_context() does the same with the global default
 * main context.
 */
typedef struct
{
  GMainContext *context;
  AsabTaskService *service;
  guint n_done;
  guint n_done_ok;
  guint n_done_failed;
  guint n_done_cancelled;
  guint n_destroyed;
  guint n_called;
  GPtrArray *done_tasks;
  GPtrArray *done_errors;
  GArray *order;
  /* Counts task-done without keeping its GTask and error. */
  gboolean forget_tasks;
} Fixture;

void fixture_setup                 (Fixture         *f,
                                    gconstpointer    data);
void fixture_setup_default_context (Fixture         *f,
                                    gconstpointer    data);
void fixture_teardown              (Fixture         *f,
                                    gconstpointer    data);

/* The fixture's task-done handler, for a service that the test makes. */
void fixture_on_task_done          (AsabTaskService *service,
                                    GTask           *task,
                                    const GError    *error,
                                    Fixture         *f);

/* A destroy notify that counts in the fixture given as its data. */
void count_destroy                 (gpointer         data);

/* Task bodies. Unless said, the user data is the fixture, and n_called
 * counts the calls. */
void complete_now                  (GTask           *task,
                                    GCancellable    *cancellable,
                                    gpointer         user_data);
void fail_now                      (GTask           *task,
                                    GCancellable    *cancellable,
                                    gpointer         user_data);
/* Runs until its cancellable is cancelled. */
void wait_for_cancel               (GTask           *task,
                                    GCancellable    *cancellable,
                                    gpointer         user_data);
/* Completes the task later, from a timeout. */
void complete_later                (GTask           *task,
                                    GCancellable    *cancellable,
                                    gpointer         user_data);
/* Keeps the task for the test to complete; user_data is a GTask ** slot. */
void hold_task                     (GTask           *task,
                                    GCancellable    *cancellable,
                                    gpointer         user_data);
/* Fails on a worker thread; touches no user data. */
void fail_in_thread                (GTask           *task,
                                    GCancellable    *cancellable,
                                    gpointer         user_data);

G_END_DECLS
