/* test-id-table.c: the id table behind cancel-by-id
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib.h>

#include "asab-id-table-private.h"

typedef struct
{
  guint64 id;
  guint serial;
} Item;

static void
test_ids_increase (void)
{
  AsabIdTable table;
  Item items[200];
  guint64 last = 0;

  asab_id_table_init (&table);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      guint64 id = asab_id_table_insert (&table, &items[i].id);

      g_assert_cmpuint (id, >, last);
      g_assert_cmpuint (items[i].id, ==, id);
      last = id;
    }
  g_assert_cmpuint (asab_id_table_size (&table), ==, G_N_ELEMENTS (items));

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_assert_true (asab_id_table_lookup (&table, items[i].id) == &items[i]);

  g_assert_null (asab_id_table_lookup (&table, 0));
  g_assert_null (asab_id_table_lookup (&table, last + 1));
  asab_id_table_clear (&table);
}

static void
test_long_lived_skipped (void)
{
  AsabIdTable table;
  Item keeper, item;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree guint64 *ids = g_new (guint64, 100000);

  asab_id_table_init (&table);
  asab_id_table_insert (&table, &keeper.id);

  /* One task lives on while 100000 come and go through the same slots:
   * no id is handed out twice and the keeper stays found. */
  for (guint i = 0; i < 100000; i++)
    {
      ids[i] = asab_id_table_insert (&table, &item.id);
      g_assert_cmpuint (ids[i], !=, keeper.id);
      g_assert_false (g_hash_table_contains (seen, &ids[i]));
      g_hash_table_add (seen, &ids[i]);
      g_assert_true (asab_id_table_lookup (&table, keeper.id) == &keeper);
      asab_id_table_remove (&table, &item.id);
      g_assert_null (asab_id_table_lookup (&table, ids[i]));
    }

  asab_id_table_clear (&table);
}

static void
test_grow_and_shrink (void)
{
  AsabIdTable table;
  g_autofree Item *items = g_new0 (Item, 100000);
  gsize peak_mask;

  asab_id_table_init (&table);
  for (guint i = 0; i < 100000; i++)
    asab_id_table_insert (&table, &items[i].id);
  peak_mask = table.mask;
  g_assert_cmpuint (peak_mask + 1, >=, 2 * 100000);

  /* Remove every other item first, then the rest but a few: lookups stay
   * right through every resize, and memory comes back. */
  for (guint i = 0; i < 100000; i += 2)
    asab_id_table_remove (&table, &items[i].id);
  for (guint i = 1; i < 100000; i += 2)
    g_assert_true (asab_id_table_lookup (&table, items[i].id) == &items[i]);
  for (guint i = 1; i < 99990; i += 2)
    asab_id_table_remove (&table, &items[i].id);
  for (guint i = 99991; i < 100000; i += 2)
    g_assert_true (asab_id_table_lookup (&table, items[i].id) == &items[i]);

  g_assert_cmpuint (asab_id_table_size (&table), ==, 5);
  g_assert_cmpuint (table.mask, <, peak_mask);
  g_assert_cmpuint (table.mask + 1, <=, 1024);
  asab_id_table_clear (&table);
}

static void
test_shrink_blocked_by_collision (void)
{
  AsabIdTable table;
  g_autofree Item *items = g_new0 (Item, 1024);
  Item old;

  asab_id_table_init (&table);
  asab_id_table_insert (&table, &old.id);
  for (guint i = 0; i < 1024; i++)
    asab_id_table_insert (&table, &items[i].id);

  /* Keep one item whose id collides with the old one's in every smaller
   * table: the table cannot shrink below what separates them, and both
   * stay found. */
  for (guint i = 0; i < 1024; i++)
    if ((items[i].id & 63) != (old.id & 63))
      asab_id_table_remove (&table, &items[i].id);

  g_assert_true (asab_id_table_lookup (&table, old.id) == &old);
  for (guint i = 0; i < 1024; i++)
    if ((items[i].id & 63) == (old.id & 63))
      g_assert_true (asab_id_table_lookup (&table, items[i].id) == &items[i]);
  asab_id_table_clear (&table);
}

static void
test_compact (void)
{
  AsabIdTable table;
  g_autofree Item *items = g_new0 (Item, 1000);

  asab_id_table_init (&table);
  for (guint i = 0; i < 1000; i++)
    asab_id_table_insert (&table, &items[i].id);

  /* A drain leaves the table as large as the burst needed, for the next
   * one; compacting gives the memory back and keeps every item found. */
  for (guint i = 0; i < 900; i++)
    asab_id_table_remove (&table, &items[i].id);
  g_assert_cmpuint (table.mask + 1, >=, 2048);

  asab_id_table_compact (&table);
  g_assert_cmpuint (table.mask + 1, ==, 256);
  for (guint i = 900; i < 1000; i++)
    g_assert_true (asab_id_table_lookup (&table, items[i].id) == &items[i]);

  asab_id_table_clear (&table);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/id-table/ids-increase", test_ids_increase);
  g_test_add_func ("/id-table/long-lived-skipped", test_long_lived_skipped);
  g_test_add_func ("/id-table/grow-and-shrink", test_grow_and_shrink);
  g_test_add_func ("/id-table/shrink-blocked-by-collision", test_shrink_blocked_by_collision);
  g_test_add_func ("/id-table/compact", test_compact);

  return g_test_run ();
}
