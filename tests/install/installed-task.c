/* installed-task.c: a program built against the installed asab-1.0 only
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * check-install.sh compiles it with `pkg-config --cflags --libs asab-1.0`
 * pointed at the installed tree, then runs it: it schedules a task, which
 * completes from an idle callback, and checks what task-done reports.
 *
 * With --localedir, it asks gettext instead where the library's messages
 * are looked for, and where those of a domain that nobody bound would be:
 * it prints the two folders, one a line.
 */

#include <asab.h>

#include <libintl.h>
#include <locale.h>
#include <string.h>

#if !ASAB_CHECK_VERSION (1, 0, 0)
# error "asab.h says that it is older than 1.0.0"
#endif

#define TIMEOUT_SECONDS 10

typedef struct
{
  char *name;
  gboolean succeeded;
  guint n_done;
} Done;

static gboolean
complete (gpointer user_data)
{
  GTask *task = user_data;

  g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

static void
run_task (GTask        *task,
          GCancellable *cancellable,
          gpointer      user_data)
{
  /* Later than the function's return, as an asynchronous task would. */
  g_idle_add_full (G_PRIORITY_DEFAULT, complete, g_object_ref (task), g_object_unref);
}

static void
task_done (AsabTaskService *service,
           GTask           *task,
           const GError    *error,
           gpointer         user_data)
{
  Done *done = user_data;

  g_free (done->name);
  done->name = g_strdup (g_task_get_name (task));
  done->succeeded = error == NULL;
  done->n_done++;
}

static gboolean
time_out (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;

  return G_SOURCE_REMOVE;
}

static void
stopped (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *stop_done = user_data;

  asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, NULL);
  *stop_done = TRUE;
}

static int
print_localedirs (void)
{
  /* The library binds its gettext domain when it makes its first service. */
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);

  g_print ("%s\n", bindtextdomain ("asab-1.0", NULL));
  g_print ("%s\n", bindtextdomain ("asab-installed-task-unbound", NULL));

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AsabTaskService) service = NULL;
  Done done = { NULL, FALSE, 0 };
  gboolean timed_out = FALSE;
  gboolean stop_done = FALSE;
  guint timeout_id;
  guint64 id;
  int status = 0;

  setlocale (LC_ALL, "");

  if (argc == 2 && strcmp (argv[1], "--localedir") == 0)
    return print_localedirs ();

  service = asab_task_service_new (NULL);

  g_signal_connect (service, "task-done", G_CALLBACK (task_done), &done);

  id = asab_task_service_schedule_full (service, "installed", run_task, NULL, NULL);
  if (id == 0)
    {
      g_printerr ("installed-task: the task was refused\n");
      return 1;
    }

  timeout_id = g_timeout_add_seconds (TIMEOUT_SECONDS, time_out, &timed_out);
  while (done.n_done == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  asab_task_service_stop_async (service, NULL, stopped, &stop_done);
  while (!stop_done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);

  if (!stop_done)
    {
      g_printerr ("installed-task: the stop did not complete\n");
      status = 1;
    }
  else if (done.n_done != 1)
    {
      g_printerr ("installed-task: task-done was emitted %u times, not once\n", done.n_done);
      status = 1;
    }
  else if (g_strcmp0 (done.name, "installed") != 0 || !done.succeeded)
    {
      g_printerr ("installed-task: task-done reported %s for task “%s”\n",
                  done.succeeded ? "success" : "a failure", done.name);
      status = 1;
    }
  else
    g_print ("installed-task: task %" G_GUINT64_FORMAT " done, with asab %s (library %u.%u.%u)\n",
             id, ASAB_VERSION_S, asab_get_major_version (), asab_get_minor_version (),
             asab_get_micro_version ());

  g_free (done.name);

  return status;
}
