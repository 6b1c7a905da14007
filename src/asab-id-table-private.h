/* asab-id-table-private.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Maps task ids to the records that carry them, for cancel-by-id.
 *
 * Ids are handed out in increasing order and an id's slot is `id & mask`,
 * so consecutive tasks land in consecutive slots and a lookup is one array
 * read, with no hashing and no per-entry allocation. An id whose slot is
 * still held by a long-lived task is skipped: ids stay unique and increasing,
 * they are just not dense. The table doubles when half full; doubling never
 * makes two live ids collide, since ids that differ modulo N also differ
 * modulo 2N.
 *
 * Each item starts with its guint64 id, which the table writes on insert.
 * The table is not thread-safe: its owner locks around it.
 */
typedef struct _AsabIdTable
{
  guint64 **slots;
  gsize     mask;
  gsize     n_items;
  gsize     shrink_blocked_at;
  guint64   next_id;
} AsabIdTable;

void      asab_id_table_init   (AsabIdTable *table);
void      asab_id_table_clear  (AsabIdTable *table);
guint64   asab_id_table_insert (AsabIdTable *table,
                                guint64     *item);
gpointer  asab_id_table_lookup (AsabIdTable *table,
                                guint64      id);
void      asab_id_table_remove (AsabIdTable *table,
                                guint64     *item);
void      asab_id_table_compact (AsabIdTable *table);
void      asab_id_table_foreach (AsabIdTable *table,
                                 GFunc        func,
                                 gpointer     user_data);
gsize     asab_id_table_size   (AsabIdTable *table);

G_END_DECLS
