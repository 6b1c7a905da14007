/* asab-dispatch-source-private.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The one GSource through which the task service does all its work.
 *
 * It is never ready by itself: its owner makes it ready with
 * g_source_set_ready_time(), 0 for the next iteration or a time for a
 * deadline, and it then calls its function with a reference on the owner.
 * It counts the iterations of its context, so that the owner can tell
 * whether a GTask was created in an earlier iteration, and it may recurse:
 * a function it calls may run the context again.
 *
 * It holds its owner weakly, and strongly while the owner "keeps" itself
 * (holds a reference on itself while it has work): g_object_run_dispose()
 * clears the weak reference, not the kept one. Only the thread that
 * dispatches clears the kept owner.
 */
typedef void (*AsabDispatchFunc) (gpointer owner);

GSource *asab_dispatch_source_new           (GObject          *owner,
                                             AsabDispatchFunc  func);
guint32  asab_dispatch_source_get_iteration (GSource          *source);
void     asab_dispatch_source_set_kept      (GSource          *source,
                                             GObject          *owner);

G_END_DECLS
