/* asab-task-info.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "asab-enum-types.h"
#include "asab-task-info-private.h"
#include "asab-task-list-private.h"
#include "asab-task-service.h"

/**
 * AsabTaskInfo:
 *
 * What a task of an [class@Asab.TaskService] is doing, as an item of the
 * model that [method@Asab.TaskService.get_tasks] returns.
 *
 * Its properties change on the service's context, where they are notified:
 * bind them to widgets, and use it on the thread that runs that context.
 * [method@Asab.TaskService.set_progress] sets
 * [property@Asab.TaskInfo:progress] and [property@Asab.TaskInfo:status].
 *
 * Since: 1.0
 */

struct _AsabTaskInfo
{
  GObject parent_instance;

  /* The list that the item is in, while it is. */
  AsabTaskList *list;
  GSequenceIter *list_iter;
  guint64 id;
  char *name;
  char *status;
  gint64 started_at;
  double progress;
  AsabTaskKind kind;
  AsabTaskState state;

  /* Under the service's lock. */
  gboolean pending;
  double pending_progress;
  char *pending_status;
};

G_DEFINE_FINAL_TYPE (AsabTaskInfo, asab_task_info, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_STATE,
  PROP_KIND,
  PROP_STARTED_AT,
  PROP_PROGRESS,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
asab_task_info_finalize (GObject *object)
{
  AsabTaskInfo *self = ASAB_TASK_INFO (object);

  g_free (self->name);
  g_free (self->status);
  g_free (self->pending_status);

  G_OBJECT_CLASS (asab_task_info_parent_class)->finalize (object);
}

static void
asab_task_info_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  AsabTaskInfo *self = ASAB_TASK_INFO (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_uint64 (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_STARTED_AT:
      g_value_set_int64 (value, self->started_at);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
asab_task_info_class_init (AsabTaskInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = asab_task_info_finalize;
  object_class->get_property = asab_task_info_get_property;

  /**
   * AsabTaskInfo:id: (getter get_id)
   *
   * The task's id, as the scheduling call returned it.
   *
   * Since: 1.0
   */
  properties[PROP_ID] =
    g_param_spec_uint64 ("id", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskInfo:name: (getter get_name)
   *
   * The task's name, if it has one.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskInfo:state: (getter get_state)
   *
   * Where the task is in its life.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       ASAB_TYPE_TASK_STATE, ASAB_TASK_STATE_QUEUED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskInfo:kind: (getter get_kind)
   *
   * How the task was given to the service.
   *
   * Since: 1.0
   */
  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL,
                       ASAB_TYPE_TASK_KIND, ASAB_TASK_KIND_FUNCTION,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskInfo:started-at: (getter get_started_at)
   *
   * When the task started, in the time of g_get_monotonic_time(); 0 while
   * it is queued. A forever task updates it at each run.
   *
   * Since: 1.0
   */
  properties[PROP_STARTED_AT] =
    g_param_spec_int64 ("started-at", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskInfo:progress: (getter get_progress)
   *
   * How much of its work the task has done, from 0 to 1, as it said with
   * [method@Asab.TaskService.set_progress]; -1 while it is unknown.
   *
   * Since: 1.0
   */
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL,
                         -1.0, 1.0, -1.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskInfo:status: (getter get_status)
   *
   * What the task said it is doing, with
   * [method@Asab.TaskService.set_progress], if anything.
   *
   * Since: 1.0
   */
  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
asab_task_info_init (AsabTaskInfo *self)
{
  self->progress = -1.0;
}

AsabTaskInfo *
asab_task_info_new (guint64        id,
                    const char    *name,
                    AsabTaskKind   kind,
                    AsabTaskState  state)
{
  AsabTaskInfo *self = g_object_new (ASAB_TYPE_TASK_INFO, NULL);

  self->id = id;
  self->name = g_strdup (name);
  self->kind = kind;
  self->state = state;

  return self;
}

void
asab_task_info_set_state (AsabTaskInfo  *self,
                          AsabTaskState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
asab_task_info_set_started_at (AsabTaskInfo *self,
                               gint64        started_at)
{
  if (self->started_at == started_at)
    return;

  self->started_at = started_at;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED_AT]);
}

void
asab_task_info_set_progress (AsabTaskInfo *self,
                             double        progress,
                             const char   *status)
{
  gboolean progress_changed = self->progress != progress;
  gboolean status_changed = g_strcmp0 (self->status, status) != 0;

  if (!progress_changed && !status_changed)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  if (progress_changed)
    {
      self->progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
  if (status_changed)
    {
      g_free (self->status);
      self->status = g_strdup (status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
asab_task_info_set_pending (AsabTaskInfo *self,
                            double        progress,
                            const char   *status)
{
  gboolean was_pending = self->pending;

  self->pending = TRUE;
  self->pending_progress = progress;
  if (g_strcmp0 (self->pending_status, status) != 0)
    {
      g_free (self->pending_status);
      self->pending_status = g_strdup (status);
    }

  return was_pending;
}

void
asab_task_info_take_pending (AsabTaskInfo  *self,
                             double        *progress,
                             char         **status)
{
  self->pending = FALSE;
  *progress = self->pending_progress;
  *status = g_strdup (self->pending_status);
}

gboolean
asab_task_info_take_pending_if_any (AsabTaskInfo  *self,
                                    double        *progress,
                                    char         **status)
{
  if (!self->pending)
    return FALSE;

  asab_task_info_take_pending (self, progress, status);

  return TRUE;
}

GSequenceIter *
asab_task_info_get_list_iter (AsabTaskInfo *self)
{
  return self->list_iter;
}

void
asab_task_info_set_list (AsabTaskInfo  *self,
                         GObject       *list,
                         GSequenceIter *iter)
{
  self->list = (AsabTaskList *) list;
  self->list_iter = iter;
}

/**
 * asab_task_info_get_id: (get-property id)
 * @self: a task info
 *
 * Gets the task's id.
 *
 * Returns: the id that the scheduling call returned
 *
 * Since: 1.0
 */
guint64
asab_task_info_get_id (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), 0);

  return self->id;
}

/**
 * asab_task_info_get_name: (get-property name)
 * @self: a task info
 *
 * Gets the task's name.
 *
 * Returns: (nullable): the name, or %NULL for an unnamed task
 *
 * Since: 1.0
 */
const char *
asab_task_info_get_name (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), NULL);

  return self->name;
}

/**
 * asab_task_info_get_state: (get-property state)
 * @self: a task info
 *
 * Gets where the task is in its life.
 *
 * Returns: the task's state
 *
 * Since: 1.0
 */
AsabTaskState
asab_task_info_get_state (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), ASAB_TASK_STATE_QUEUED);

  return self->state;
}

/**
 * asab_task_info_get_kind: (get-property kind)
 * @self: a task info
 *
 * Gets how the task was given to the service.
 *
 * Returns: the task's kind
 *
 * Since: 1.0
 */
AsabTaskKind
asab_task_info_get_kind (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), ASAB_TASK_KIND_FUNCTION);

  return self->kind;
}

/**
 * asab_task_info_get_started_at: (get-property started-at)
 * @self: a task info
 *
 * Gets when the task started, or its forever task's current run.
 *
 * Returns: a time of g_get_monotonic_time(), or 0 while the task is queued
 *
 * Since: 1.0
 */
gint64
asab_task_info_get_started_at (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), 0);

  return self->started_at;
}

/**
 * asab_task_info_get_progress: (get-property progress)
 * @self: a task info
 *
 * Gets how much of its work the task has done.
 *
 * Returns: a fraction from 0 to 1, or -1 while it is unknown
 *
 * Since: 1.0
 */
double
asab_task_info_get_progress (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), -1.0);

  return self->progress;
}

/**
 * asab_task_info_get_status: (get-property status)
 * @self: a task info
 *
 * Gets what the task said it is doing.
 *
 * Returns: (nullable): the status, or %NULL
 *
 * Since: 1.0
 */
const char *
asab_task_info_get_status (AsabTaskInfo *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), NULL);

  return self->status;
}

/**
 * asab_task_info_cancel:
 * @self: a task info
 *
 * Cancels the task, as [method@Asab.TaskService.cancel] does with its id.
 * Call it on the thread that runs the service's context.
 *
 * Returns: %TRUE if the task was live, %FALSE if it has ended already
 *
 * Since: 1.0
 */
gboolean
asab_task_info_cancel (AsabTaskInfo *self)
{
  g_autoptr(AsabTaskService) service = NULL;

  g_return_val_if_fail (ASAB_IS_TASK_INFO (self), FALSE);

  /* An item that has left its list is a task that has ended. */
  if (self->list == NULL)
    return FALSE;

  service = asab_task_list_dup_service (self->list);
  if (service == NULL)
    return FALSE;

  return asab_task_service_cancel (service, self->id);
}
