/* asab-task-list.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "asab-task-list-private.h"

struct _AsabTaskList
{
  GObject parent_instance;

  GSequence *items;
  /* For the items' cancel(): one weak reference for them all. */
  GWeakRef service;
};

static GType
asab_task_list_get_item_type (GListModel *model)
{
  return ASAB_TYPE_TASK_INFO;
}

static guint
asab_task_list_get_n_items (GListModel *model)
{
  return g_sequence_get_length (ASAB_TASK_LIST (model)->items);
}

static gpointer
asab_task_list_get_item (GListModel *model,
                         guint       position)
{
  AsabTaskList *self = ASAB_TASK_LIST (model);
  GSequenceIter *iter = g_sequence_get_iter_at_pos (self->items, position);

  if (g_sequence_iter_is_end (iter))
    return NULL;

  return g_object_ref (g_sequence_get (iter));
}

static void
asab_task_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = asab_task_list_get_item_type;
  iface->get_n_items = asab_task_list_get_n_items;
  iface->get_item = asab_task_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (AsabTaskList, asab_task_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      asab_task_list_model_init))

static void
item_forget (gpointer data)
{
  AsabTaskInfo *info = data;

  asab_task_info_set_list (info, NULL, NULL);
  g_object_unref (info);
}

static void
asab_task_list_finalize (GObject *object)
{
  AsabTaskList *self = ASAB_TASK_LIST (object);

  g_sequence_free (self->items);
  g_weak_ref_clear (&self->service);

  G_OBJECT_CLASS (asab_task_list_parent_class)->finalize (object);
}

static void
asab_task_list_class_init (AsabTaskListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = asab_task_list_finalize;
}

static void
asab_task_list_init (AsabTaskList *self)
{
  self->items = g_sequence_new (item_forget);
}

AsabTaskList *
asab_task_list_new (GObject *service)
{
  AsabTaskList *self = g_object_new (ASAB_TYPE_TASK_LIST, NULL);

  g_weak_ref_init (&self->service, service);

  return self;
}

gpointer
asab_task_list_dup_service (AsabTaskList *self)
{
  return g_weak_ref_get (&self->service);
}

void
asab_task_list_append (AsabTaskList *self,
                       AsabTaskInfo *info)
{
  guint position = g_sequence_get_length (self->items);

  g_assert (asab_task_info_get_list_iter (info) == NULL);

  asab_task_info_set_list (info, G_OBJECT (self), g_sequence_append (self->items, g_object_ref (info)));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

void
asab_task_list_remove (AsabTaskList *self,
                       AsabTaskInfo *info)
{
  GSequenceIter *iter = asab_task_info_get_list_iter (info);
  guint position;

  g_assert (iter != NULL);

  position = g_sequence_iter_get_position (iter);
  /* Its destroy notify lets go of the item. */
  g_sequence_remove (iter);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}
