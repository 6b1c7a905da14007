/* asab-task-info-private.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "asab-task-info.h"

G_BEGIN_DECLS

/* What the service sets on an AsabTaskInfo, on its context's thread only:
 * each setter notifies its property when the value changes. */
AsabTaskInfo  *asab_task_info_new            (guint64        id,
                                              const char    *name,
                                              AsabTaskKind   kind,
                                              AsabTaskState  state);
void           asab_task_info_set_state      (AsabTaskInfo  *self,
                                              AsabTaskState  state);
void           asab_task_info_set_started_at (AsabTaskInfo  *self,
                                              gint64         started_at);
void           asab_task_info_set_progress   (AsabTaskInfo  *self,
                                              double         progress,
                                              const char    *status);

/* Progress that a thread reported, for the service to apply on its
 * context: under the service's lock. set_pending returns whether the item
 * was pending already. */
gboolean       asab_task_info_set_pending    (AsabTaskInfo  *self,
                                              double         progress,
                                              const char    *status);
void           asab_task_info_take_pending   (AsabTaskInfo  *self,
                                              double        *progress,
                                              char         **status);
gboolean       asab_task_info_take_pending_if_any (AsabTaskInfo  *self,
                                                   double        *progress,
                                                   char         **status);

/* The task list the item is in, and where, for the list's own use. */
GSequenceIter *asab_task_info_get_list_iter  (AsabTaskInfo  *self);
void           asab_task_info_set_list       (AsabTaskInfo  *self,
                                              GObject       *list,
                                              GSequenceIter *iter);

G_END_DECLS
