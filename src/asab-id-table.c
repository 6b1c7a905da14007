/* asab-id-table.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "asab-id-table-private.h"

#define MIN_CAPACITY 64

void
asab_id_table_init (AsabIdTable *table)
{
  table->slots = g_new0 (guint64 *, MIN_CAPACITY);
  table->mask = MIN_CAPACITY - 1;
  table->n_items = 0;
  table->shrink_blocked_at = 0;
  table->next_id = 1;
}

void
asab_id_table_clear (AsabIdTable *table)
{
  g_clear_pointer (&table->slots, g_free);
  table->mask = 0;
  table->n_items = 0;
}

/* Places every item into a table of @capacity slots; fails without changing
 * anything when two items would share a slot, which only shrinking can cause.
 */
static gboolean
id_table_resize (AsabIdTable *table,
                 gsize        capacity)
{
  guint64 **slots = g_new0 (guint64 *, capacity);
  gsize mask = capacity - 1;

  for (gsize i = 0; i <= table->mask; i++)
    {
      guint64 *item = table->slots[i];
      gsize slot;

      if (item == NULL)
        continue;

      slot = *item & mask;
      if (slots[slot] != NULL)
        {
          g_free (slots);
          return FALSE;
        }
      slots[slot] = item;
    }

  g_free (table->slots);
  table->slots = slots;
  table->mask = mask;
  return TRUE;
}

guint64
asab_id_table_insert (AsabIdTable *table,
                      guint64     *item)
{
  guint64 id;

  if ((table->n_items + 1) * 2 > table->mask + 1)
    id_table_resize (table, (table->mask + 1) * 2);

  id = table->next_id;
  while (table->slots[id & table->mask] != NULL)
    id++;

  table->next_id = id + 1;
  *item = id;
  table->slots[id & table->mask] = item;
  table->n_items++;

  return id;
}

gpointer
asab_id_table_lookup (AsabIdTable *table,
                      guint64      id)
{
  guint64 *item;

  if (id == 0 || table->slots == NULL)
    return NULL;

  item = table->slots[id & table->mask];
  if (item != NULL && *item == id)
    return item;

  return NULL;
}

void
asab_id_table_remove (AsabIdTable *table,
                      guint64     *item)
{
  gsize slot = *item & table->mask;
  gsize capacity = table->mask + 1;

  g_return_if_fail (table->slots[slot] == item);

  table->slots[slot] = NULL;
  table->n_items--;

  /* Shrinking while a burst drains would only grow again with the next one,
   * so this shrinks only a table that is nearly empty; the owner compacts
   * it when it is idle. Shrinking can fail when live ids collide in the
   * smaller table; then wait until the table has emptied by half again
   * before trying, so a failed attempt costs O(1) per removal, amortized.
   */
  if (capacity > MIN_CAPACITY &&
      table->n_items * 64 < capacity &&
      (table->shrink_blocked_at == 0 || table->n_items * 2 <= table->shrink_blocked_at))
    {
      if (id_table_resize (table, capacity / 2))
        table->shrink_blocked_at = 0;
      else
        table->shrink_blocked_at = MAX (table->n_items, 1);
    }
}

/* Gives back the memory of a past burst: to be called when the table is
 * idle, or nearly so. */
void
asab_id_table_compact (AsabIdTable *table)
{
  gsize capacity = MIN_CAPACITY;

  while (capacity < table->n_items * 2)
    capacity *= 2;

  if (capacity < table->mask + 1 && id_table_resize (table, capacity))
    table->shrink_blocked_at = 0;
}

/* Calls @func for every item, in no order. */
void
asab_id_table_foreach (AsabIdTable *table,
                       GFunc        func,
                       gpointer     user_data)
{
  for (gsize slot = 0; table->slots != NULL && slot <= table->mask; slot++)
    if (table->slots[slot] != NULL)
      func (table->slots[slot], user_data);
}

gsize
asab_id_table_size (AsabIdTable *table)
{
  return table->n_items;
}
