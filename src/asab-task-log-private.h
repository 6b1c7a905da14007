/* asab-task-log-private.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What the task service says to people: every translatable message, as a
 * structured log entry in the "Asab" domain (fields ASAB_TASK_ID and
 * ASAB_TASK_NAME) or as a GError, and the rate limit of the warnings about
 * refused calls.
 */

/* Why a call was refused; each has its own rate limit for its warning. */
typedef enum
{
  ASAB_REFUSED_STOPPED,
  ASAB_REFUSED_FULL,
  ASAB_N_REFUSALS
} AsabRefusal;

/* Says that calls were refused at most once per interval for each reason,
 * from whichever thread was refused, with the number of refusals kept
 * quiet in between: a producer that goes on after a stop, or outruns the
 * context, must not flood the log. Any thread. */
typedef struct
{
  GMutex lock;
  gint64 last_warning[ASAB_N_REFUSALS];
  guint n_quiet[ASAB_N_REFUSALS];
} AsabRefusalLog;

void    asab_task_log_bind_textdomain (void);

void    asab_refusal_log_init         (AsabRefusalLog *log);
void    asab_refusal_log_clear        (AsabRefusalLog *log);
void    asab_refusal_log_warn         (AsabRefusalLog *log,
                                       AsabRefusal     reason,
                                       const char     *name,
                                       guint           max_queued);

void    asab_task_log_failure         (guint64         id,
                                       const char     *name,
                                       const GError   *error);
void    asab_task_log_restart         (guint64         id,
                                       const char     *name,
                                       guint           delay_ms);
void    asab_task_log_pending         (guint           n_running,
                                       guint           n_queued);

GError *asab_task_error_failed        (void);
GError *asab_task_error_not_completed (void);
GError *asab_task_error_stopped       (void);
GError *asab_task_error_pending       (guint           n_running,
                                       guint           n_queued);

G_END_DECLS
