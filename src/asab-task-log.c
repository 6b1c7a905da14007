/* asab-task-log.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "asab-task-log-private.h"

#define REFUSAL_LOG_INTERVAL_USEC (10 * G_USEC_PER_SEC)
#define ID_STR_SIZE 24

/* Binds the library's gettext domain to where it is installed, unless the
 * application bound it already, to a relocated folder say: a domain that
 * was never bound answers with gettext's default folder, as a domain that
 * nobody uses does. */
void
asab_task_log_bind_textdomain (void)
{
  const char *bound = bindtextdomain (GETTEXT_PACKAGE, NULL);
  const char *unbound = bindtextdomain (GETTEXT_PACKAGE "-unbound", NULL);

  if (bound == NULL || g_strcmp0 (bound, unbound) == 0)
    bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
}

static void
task_log (GLogLevelFlags  level,
          const char     *id,
          const char     *name,
          const char     *message)
{
  g_log_structured (G_LOG_DOMAIN, level,
                    "ASAB_TASK_ID", id,
                    "ASAB_TASK_NAME", name != NULL ? name : "",
                    "MESSAGE", "%s", message);
}

static const char *
format_id (char    buffer[ID_STR_SIZE],
           guint64 id)
{
  g_snprintf (buffer, ID_STR_SIZE, "%" G_GUINT64_FORMAT, id);

  return buffer;
}

void
asab_task_log_failure (guint64       id,
                       const char   *name,
                       const GError *error)
{
  char id_str[ID_STR_SIZE];
  g_autofree char *message = NULL;

  format_id (id_str, id);
  if (name != NULL)
    /* Translators: the first %s is the name of a task, the second its
     * number, the third the error message. */
    message = g_strdup_printf (_("Task “%s” (%s) failed: %s"), name, id_str, error->message);
  else
    /* Translators: the first %s is the number of a task, the second the
     * error message. */
    message = g_strdup_printf (_("Unnamed task (%s) failed: %s"), id_str, error->message);

  task_log (G_LOG_LEVEL_WARNING, id_str, name, message);
}

/* A debug message, for developers: not translated. */
void
asab_task_log_restart (guint64     id,
                       const char *name,
                       guint       delay_ms)
{
  char id_str[ID_STR_SIZE];
  g_autofree char *message =
    g_strdup_printf ("Task %s exited, restarting in %u ms", format_id (id_str, id), delay_ms);

  task_log (G_LOG_LEVEL_DEBUG, id_str, name, message);
}

void
asab_refusal_log_init (AsabRefusalLog *log)
{
  memset (log, 0, sizeof *log);
  g_mutex_init (&log->lock);
}

void
asab_refusal_log_clear (AsabRefusalLog *log)
{
  g_mutex_clear (&log->lock);
}

static char *
refusal_message (AsabRefusal  reason,
                 const char  *name,
                 guint        max_queued,
                 guint        quiet)
{
  switch (reason)
    {
    case ASAB_REFUSED_STOPPED:
      if (quiet == 0 && name != NULL)
        return g_strdup_printf (_("The task service has been stopped: task “%s” was refused"), name);
      if (quiet == 0)
        return g_strdup (_("The task service has been stopped: an unnamed task was refused"));
      if (name != NULL)
        /* Translators: %s is the name of a task, %u how many tasks were
         * refused without a warning since the last one. */
        return g_strdup_printf (_("The task service has been stopped: task “%s” was refused "
                                  "(%u more refused since the last warning)"),
                                name, quiet);
      return g_strdup_printf (_("The task service has been stopped: an unnamed task was refused "
                                "(%u more refused since the last warning)"),
                              quiet);
    case ASAB_REFUSED_FULL:
      if (name != NULL)
        /* Translators: %s is the name of a task, the first %u the queue's
         * limit, the second how many tasks were refused without a warning
         * since the last one. */
        return g_strdup_printf (_("The task queue is full: task “%s” was refused (limit %u, "
                                  "%u more refused since the last warning)"),
                                name, max_queued, quiet);
      return g_strdup_printf (_("The task queue is full: an unnamed task was refused (limit %u, "
                                "%u more refused since the last warning)"),
                              max_queued, quiet);
    case ASAB_N_REFUSALS:
    default:
      g_assert_not_reached ();
    }
}

void
asab_refusal_log_warn (AsabRefusalLog *log,
                       AsabRefusal     reason,
                       const char     *name,
                       guint           max_queued)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree char *message = NULL;
  guint quiet;

  g_mutex_lock (&log->lock);
  if (log->last_warning[reason] != 0 &&
      now - log->last_warning[reason] < REFUSAL_LOG_INTERVAL_USEC)
    {
      log->n_quiet[reason]++;
      g_mutex_unlock (&log->lock);
      return;
    }
  log->last_warning[reason] = now;
  quiet = log->n_quiet[reason];
  log->n_quiet[reason] = 0;
  g_mutex_unlock (&log->lock);

  message = refusal_message (reason, name, max_queued, quiet);
  task_log (G_LOG_LEVEL_WARNING, "0", name, message);
}

/* ASAB's own warning when a stop times out, with the numbers of tasks still
 * running and still queued as fields of their own. */
void
asab_task_log_pending (guint n_running,
                       guint n_queued)
{
  char running_str[16], queued_str[16];
  g_autofree char *message = NULL;

  /* Translators: ASAB's own form: tasks still running, plus tasks that
   * never started. */
  message = g_strdup_printf (_("%u+%u pending and incomplete tasks"), n_running, n_queued);
  g_snprintf (running_str, sizeof running_str, "%u", n_running);
  g_snprintf (queued_str, sizeof queued_str, "%u", n_queued);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                    "ASAB_N_RUNNING", running_str,
                    "ASAB_N_QUEUED", queued_str,
                    "MESSAGE", "%s", message);
}

GError *
asab_task_error_failed (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, _("The task failed"));
}

GError *
asab_task_error_not_completed (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                              _("The function returned without completing its task"));
}

GError *
asab_task_error_stopped (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              _("The task service has been stopped"));
}

GError *
asab_task_error_pending (guint n_running,
                         guint n_queued)
{
  return g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                      _("%u+%u pending and incomplete tasks"), n_running, n_queued);
}
