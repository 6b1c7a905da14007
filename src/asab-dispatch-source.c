/* asab-dispatch-source.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "asab-dispatch-source-private.h"

typedef struct
{
  GSource source;
  AsabDispatchFunc func;
  /* Counts the context's iterations: prepare runs once per iteration. */
  guint32 iteration;
  GWeakRef owner;
  /* Set from any thread while the owner keeps itself alive, cleared only by
   * the dispatching thread: while it is set, the owner is alive. */
  gpointer kept;
} DispatchSource;

static gboolean
dispatch_source_prepare (GSource *source,
                         int     *timeout)
{
  DispatchSource *ds = (DispatchSource *) source;

  ds->iteration++;
  *timeout = -1;

  return FALSE;
}

static gboolean
dispatch_source_dispatch (GSource     *source,
                          GSourceFunc  callback,
                          gpointer     user_data)
{
  DispatchSource *ds = (DispatchSource *) source;
  g_autoptr(GObject) owner = g_weak_ref_get (&ds->owner);

  if (owner == NULL && g_atomic_pointer_get (&ds->kept) != NULL)
    owner = g_object_ref (g_atomic_pointer_get (&ds->kept));

  if (owner != NULL)
    ds->func (owner);

  return G_SOURCE_CONTINUE;
}

static void
dispatch_source_finalize (GSource *source)
{
  DispatchSource *ds = (DispatchSource *) source;

  g_weak_ref_clear (&ds->owner);
}

static GSourceFuncs dispatch_source_funcs = {
  .prepare = dispatch_source_prepare,
  .dispatch = dispatch_source_dispatch,
  .finalize = dispatch_source_finalize,
};

GSource *
asab_dispatch_source_new (GObject          *owner,
                          AsabDispatchFunc  func)
{
  GSource *source = g_source_new (&dispatch_source_funcs, sizeof (DispatchSource));
  DispatchSource *ds = (DispatchSource *) source;

  ds->func = func;
  g_weak_ref_init (&ds->owner, owner);
  g_source_set_can_recurse (source, TRUE);

  return source;
}

guint32
asab_dispatch_source_get_iteration (GSource *source)
{
  return ((DispatchSource *) source)->iteration;
}

void
asab_dispatch_source_set_kept (GSource *source,
                               GObject *owner)
{
  g_atomic_pointer_set (&((DispatchSource *) source)->kept, owner);
}
