/* asab-task-service.h
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
 * AsabTaskFunc:
 * @task: (transfer none): the #GTask that represents the task; complete it
 *   with one of the `g_task_return_*()` functions, now or later
 * @cancellable: (transfer none): the task's own #GCancellable, also
 *   available as [method@Gio.Task.get_cancellable]
 * @user_data: (closure): the data given when the task was scheduled
 *
 * The body of a task scheduled on an [class@Asab.TaskService].
 *
 * The task ends when @task is completed, not when the function returns: a
 * function may start asynchronous work and complete @task from its
 * callback. A function given to [method@Asab.TaskService.schedule_in_thread]
 * runs on a worker thread and must complete @task before it returns.
 *
 * Since: 1.0
 */
typedef void (*AsabTaskFunc) (GTask        *task,
                              GCancellable *cancellable,
                              gpointer      user_data);

#define ASAB_TYPE_TASK_SERVICE (asab_task_service_get_type ())

ASAB_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AsabTaskService, asab_task_service, ASAB, TASK_SERVICE, GObject)

ASAB_AVAILABLE_IN_1_0
AsabTaskService *asab_task_service_new                 (GMainContext     *context);
ASAB_AVAILABLE_IN_1_0
AsabTaskService *asab_task_service_new_for_application (GApplication     *application);
ASAB_AVAILABLE_IN_1_0
AsabTaskService *asab_task_service_get_default         (void);
ASAB_AVAILABLE_IN_1_0
GMainContext    *asab_task_service_get_context         (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
GApplication    *asab_task_service_get_application     (AsabTaskService  *self);

ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule            (AsabTaskService  *self,
                                                        AsabTaskFunc      func,
                                                        gpointer          user_data);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule_full       (AsabTaskService  *self,
                                                        const char       *name,
                                                        AsabTaskFunc      func,
                                                        gpointer          user_data,
                                                        GDestroyNotify    destroy);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule_threadsafe (AsabTaskService  *self,
                                                        const char       *name,
                                                        AsabTaskFunc      func,
                                                        gpointer          user_data,
                                                        GDestroyNotify    destroy);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule_in_thread  (AsabTaskService  *self,
                                                        const char       *name,
                                                        AsabTaskFunc      func,
                                                        gpointer          user_data,
                                                        GDestroyNotify    destroy);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule_task       (AsabTaskService  *self,
                                                        GTask            *task);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule_source     (AsabTaskService  *self,
                                                        GSource          *source);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_run_forever         (AsabTaskService  *self,
                                                        const char       *name,
                                                        AsabTaskFunc      func,
                                                        gpointer          user_data,
                                                        GDestroyNotify    destroy);
ASAB_AVAILABLE_IN_1_0
guint64          asab_task_service_schedule_for_object (AsabTaskService  *self,
                                                        GObject          *owner,
                                                        const char       *name,
                                                        AsabTaskFunc      func,
                                                        gpointer          user_data,
                                                        GDestroyNotify    destroy);
ASAB_AVAILABLE_IN_1_0
gboolean         asab_task_service_cancel              (AsabTaskService  *self,
                                                        guint64           task_id);

ASAB_AVAILABLE_IN_1_0
GListModel      *asab_task_service_get_tasks           (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
void             asab_task_service_set_progress        (AsabTaskService  *self,
                                                        GTask            *task,
                                                        double            fraction,
                                                        const char       *status);

ASAB_AVAILABLE_IN_1_0
void             asab_task_service_stop_async          (AsabTaskService  *self,
                                                        GCancellable     *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer          user_data);
ASAB_AVAILABLE_IN_1_0
gboolean         asab_task_service_stop_finish         (AsabTaskService  *self,
                                                        GAsyncResult     *result,
                                                        GError          **error);
ASAB_AVAILABLE_IN_1_0
gboolean         asab_task_service_stop                (AsabTaskService  *self,
                                                        GCancellable     *cancellable,
                                                        GError          **error);

ASAB_AVAILABLE_IN_1_0
guint            asab_task_service_get_n_running       (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
guint            asab_task_service_get_n_queued        (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
guint            asab_task_service_get_max_concurrent  (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
void             asab_task_service_set_max_concurrent  (AsabTaskService  *self,
                                                        guint             max_concurrent);
ASAB_AVAILABLE_IN_1_0
guint            asab_task_service_get_max_queued      (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
void             asab_task_service_set_max_queued      (AsabTaskService  *self,
                                                        guint             max_queued);
ASAB_AVAILABLE_IN_1_0
guint            asab_task_service_get_stop_timeout    (AsabTaskService  *self);
ASAB_AVAILABLE_IN_1_0
void             asab_task_service_set_stop_timeout    (AsabTaskService  *self,
                                                        guint             timeout_ms);

G_END_DECLS
