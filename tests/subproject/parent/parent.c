/* parent.c: a program of the parent project, linked with asab-glib built
 * as a subproject: runs one task and checks what task-done reports.
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#define TIMEOUT_SECONDS 10

static void
run (GTask        *task,
     GCancellable *cancellable,
     gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

static void
task_done (AsabTaskService *service,
           GTask           *task,
           const GError    *error,
           gpointer         user_data)
{
  const char **result = user_data;

  *result = error == NULL ? "done" : "failed";
}

static gboolean
time_out (gpointer user_data)
{
  const char **result = user_data;

  *result = "timed out";

  return G_SOURCE_REMOVE;
}

int
main (void)
{
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);
  const char *result = NULL;
  const char *mismatch = asab_check_version (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION,
                                             ASAB_MICRO_VERSION);

  if (mismatch != NULL)
    {
      g_printerr ("parent: %s\n", mismatch);
      return 1;
    }

  g_signal_connect (service, "task-done", G_CALLBACK (task_done), &result);
  asab_task_service_schedule_full (service, "parent", run, NULL, NULL);

  g_timeout_add_seconds (TIMEOUT_SECONDS, time_out, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_print ("parent: task %s, with asab-glib %s\n", result, ASAB_VERSION_S);

  return g_strcmp0 (result, "done") == 0 ? 0 : 1;
}
