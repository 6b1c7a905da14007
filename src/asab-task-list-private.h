/* asab-task-list-private.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "asab-task-info-private.h"

G_BEGIN_DECLS

/* The GListModel of asab_task_service_get_tasks(): AsabTaskInfo items in
 * the order they were appended. Each item keeps its place, so that removing
 * any of them costs a logarithm, not a search. Changed on the service's
 * context's thread only, where items-changed is emitted. */
#define ASAB_TYPE_TASK_LIST (asab_task_list_get_type ())

G_DECLARE_FINAL_TYPE (AsabTaskList, asab_task_list, ASAB, TASK_LIST, GObject)

AsabTaskList *asab_task_list_new         (GObject      *service);
gpointer      asab_task_list_dup_service (AsabTaskList *self);
void          asab_task_list_append (AsabTaskList *self,
                                     AsabTaskInfo *info);
void          asab_task_list_remove (AsabTaskList *self,
                                     AsabTaskInfo *info);

G_END_DECLS
