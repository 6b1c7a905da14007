/* asab-task-info.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASAB_INSIDE) && !defined(ASAB_COMPILATION)
# error "Only <asab.h> can be included directly."
#endif

#include <gio/gio.h>

#include "asab-version-macros.h"

G_BEGIN_DECLS

/**
 * AsabTaskState:
 * @ASAB_TASK_STATE_QUEUED: accepted, waits for its turn
 * @ASAB_TASK_STATE_RUNNING: started, and not ended; a forever task between
 *   two runs too
 * @ASAB_TASK_STATE_CANCELLING: cancelled by [method@Asab.TaskService.cancel]
 *   or a stop, and not ended yet
 *
 * Where a task shown by [method@Asab.TaskService.get_tasks] is in its life.
 *
 * Since: 1.0
 */
typedef enum
{
  ASAB_TASK_STATE_QUEUED,
  ASAB_TASK_STATE_RUNNING,
  ASAB_TASK_STATE_CANCELLING,
} AsabTaskState;

/**
 * AsabTaskKind:
 * @ASAB_TASK_KIND_FUNCTION: a function run on the service's context
 *   ([method@Asab.TaskService.schedule_full] and the like)
 * @ASAB_TASK_KIND_IN_THREAD: a function run on a worker thread
 *   ([method@Asab.TaskService.schedule_in_thread])
 * @ASAB_TASK_KIND_FOREVER: a function restarted whenever it ends
 *   ([method@Asab.TaskService.run_forever])
 * @ASAB_TASK_KIND_GTASK: a `GTask` given to
 *   [method@Asab.TaskService.schedule_task]
 * @ASAB_TASK_KIND_GSOURCE: a `GSource` given to
 *   [method@Asab.TaskService.schedule_source]
 *
 * How a task was given to the service.
 *
 * Since: 1.0
 */
typedef enum
{
  ASAB_TASK_KIND_FUNCTION,
  ASAB_TASK_KIND_IN_THREAD,
  ASAB_TASK_KIND_FOREVER,
  ASAB_TASK_KIND_GTASK,
  ASAB_TASK_KIND_GSOURCE,
} AsabTaskKind;

#define ASAB_TYPE_TASK_INFO (asab_task_info_get_type ())

ASAB_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AsabTaskInfo, asab_task_info, ASAB, TASK_INFO, GObject)

ASAB_AVAILABLE_IN_1_0
guint64        asab_task_info_get_id         (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
const char    *asab_task_info_get_name       (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
AsabTaskState  asab_task_info_get_state      (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
AsabTaskKind   asab_task_info_get_kind       (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
gint64         asab_task_info_get_started_at (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
double         asab_task_info_get_progress   (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
const char    *asab_task_info_get_status     (AsabTaskInfo *self);
ASAB_AVAILABLE_IN_1_0
gboolean       asab_task_info_cancel         (AsabTaskInfo *self);

G_END_DECLS
