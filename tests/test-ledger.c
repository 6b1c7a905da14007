/* test-ledger.c: one slot per scheduling call, and the rule they all keep
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-ledger.h"

static const char * const way_names[TEST_N_WAYS] = {
  "schedule", "schedule (no destroy)", "threadsafe", "in-thread", "forever", "source", "gtask",
};

static gboolean
way_has_destroy (TestWay way)
{
  return way != TEST_WAY_SCHEDULE_NO_DESTROY;
}

static void
service_finalized (gpointer  data,
                   GObject  *where_the_object_was)
{
  TestLedger *ledger = data;

  if (g_atomic_int_add (&ledger->finalized, 1) != 0)
    g_error ("The service was finalized twice");
}

/* Made on the context's thread: "task-done" must come on this one. */
TestLedger *
test_ledger_new (AsabTaskService *service,
                 guint            capacity)
{
  TestLedger *ledger = g_new0 (TestLedger, 1);

  ledger->context_thread = g_thread_self ();
  g_weak_ref_init (&ledger->service, service);
  g_object_weak_ref (G_OBJECT (service), service_finalized, ledger);
  ledger->capacity = capacity;
  ledger->slots = g_new0 (TestSlot, capacity);

  return ledger;
}

void
test_ledger_free (TestLedger *ledger)
{
  AsabTaskService *service = g_weak_ref_get (&ledger->service);

  if (service != NULL)
    {
      g_signal_handlers_disconnect_by_data (service, ledger);
      g_object_weak_unref (G_OBJECT (service), service_finalized, ledger);
      g_object_unref (service);
    }
  g_weak_ref_clear (&ledger->service);
  g_free (ledger->slots);
  g_free (ledger);
}

static TestSlot *
ledger_lookup (TestLedger *ledger,
               GTask      *task)
{
  const char *name = g_task_get_name (task);
  guint64 index;

  if (name == NULL || name[0] != 't')
    g_error ("Task \"%s\" has no slot", name);
  index = g_ascii_strtoull (name + 1, NULL, 10);
  g_assert_cmpuint (index, <, (guint) g_atomic_int_get (&ledger->n_slots));

  return &ledger->slots[index];
}

/* What a "task-done" handler must record. */
TestSlot *
test_ledger_record_done (TestLedger   *ledger,
                         GTask        *task,
                         const GError *error)
{
  TestSlot *slot = ledger_lookup (ledger, task);

  g_assert_true (g_thread_self () == ledger->context_thread);
  if (g_atomic_int_add (&slot->n_done, 1) != 0)
    g_error ("task-done of t%u (%s) emitted twice", slot->index, way_names[slot->way]);
  g_assert_cmpint (g_atomic_int_get (&slot->n_destroyed), ==, 0);

  if (error == NULL)
    slot->result = TEST_RESULT_OK;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    slot->result = TEST_RESULT_CANCELLED;
  else
    slot->result = TEST_RESULT_FAILED;
  ledger->n_done++;

  return slot;
}

/* What a "task-failed" handler must record: a failure, not a cancellation,
 * of a function the service runs (the owner of a GTask or a GSource
 * reports its own), before its "task-done".
 */
TestSlot *
test_ledger_record_failed (TestLedger   *ledger,
                           GTask        *task,
                           const GError *error)
{
  TestSlot *slot = ledger_lookup (ledger, task);

  g_assert_true (g_thread_self () == ledger->context_thread);
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_assert_cmpint (slot->n_done, ==, 0);
  g_assert_true (slot->way != TEST_WAY_SOURCE && slot->way != TEST_WAY_GTASK);
  slot->n_failed++;
  ledger->n_failed++;

  return slot;
}

/* Handlers, to connect with the ledger as their data. */
void
test_ledger_on_task_done (AsabTaskService *service,
                          GTask           *task,
                          const GError    *error,
                          TestLedger      *ledger)
{
  test_ledger_record_done (ledger, task, error);
}

/* Takes every failure over, which keeps them out of the log. */
gboolean
test_ledger_on_task_failed (AsabTaskService *service,
                            GTask           *task,
                            const GError    *error,
                            TestLedger      *ledger)
{
  test_ledger_record_failed (ledger, task, error);

  return TRUE;
}

/* Connects both, for a test that has no handlers of its own. */
void
test_ledger_watch (TestLedger *ledger)
{
  g_autoptr(AsabTaskService) service = g_weak_ref_get (&ledger->service);

  g_assert_nonnull (service);
  g_signal_connect (service, "task-done", G_CALLBACK (test_ledger_on_task_done), ledger);
  g_signal_connect (service, "task-failed", G_CALLBACK (test_ledger_on_task_failed), ledger);
}

gboolean
test_ledger_finalized (TestLedger *ledger)
{
  return g_atomic_int_get (&ledger->finalized) != 0;
}

/* The slots whose task ended with @result. */
guint
test_ledger_count (TestLedger *ledger,
                   TestResult  result)
{
  guint n_slots = g_atomic_int_get (&ledger->n_slots);
  guint n = 0;

  for (guint i = 0; i < n_slots; i++)
    if (ledger->slots[i].result == result)
      n++;

  return n;
}

/* The rule, slot by slot, once every task has ended; and the service, if
 * it is still there, counts no task.
 */
void
test_ledger_assert_all_ended (TestLedger *ledger)
{
  g_autoptr(AsabTaskService) service = g_weak_ref_get (&ledger->service);
  guint n_slots = g_atomic_int_get (&ledger->n_slots);

  for (guint i = 0; i < n_slots; i++)
    {
      TestSlot *slot = &ledger->slots[i];
      int n_done = g_atomic_int_get (&slot->n_done);
      int n_destroyed = g_atomic_int_get (&slot->n_destroyed);
      gboolean has_destroy = way_has_destroy (slot->way);

      if (slot->id == 0)
        {
          if (n_done != 0 || n_destroyed != has_destroy)
            g_error ("Refused t%u (%s): %d task-done, %d destroy",
                     i, way_names[slot->way], n_done, n_destroyed);
          continue;
        }

      if (n_done != 1 || n_destroyed != has_destroy ||
          (has_destroy && (slot->n_done_at_destroy != 1 ||
                           slot->destroy_thread != ledger->context_thread)))
        g_error ("Accepted t%u (%s, id %" G_GUINT64_FORMAT "): %d task-done, %d destroy, "
                 "%d task-done before the destroy, destroyed %s the context's thread",
                 i, way_names[slot->way], slot->id, n_done, n_destroyed, slot->n_done_at_destroy,
                 slot->destroy_thread == ledger->context_thread ? "on" : "off");
    }

  g_assert_cmpint (ledger->n_done, ==, g_atomic_int_get (&ledger->n_accepted));

  if (service != NULL)
    {
      g_assert_cmpuint (asab_task_service_get_n_running (service), ==, 0);
      g_assert_cmpuint (asab_task_service_get_n_queued (service), ==, 0);
    }
}

/* Slots */

/* From any thread. */
TestSlot *
test_slot_new (TestLedger *ledger,
               TestWay     way)
{
  guint index = g_atomic_int_add (&ledger->n_slots, 1);
  TestSlot *slot;

  if (index >= ledger->capacity)
    g_error ("More than the %u slots of the ledger", ledger->capacity);

  slot = &ledger->slots[index];
  slot->ledger = ledger;
  slot->index = index;
  slot->way = way;

  return slot;
}

const char *
test_slot_name (TestSlot *slot,
                char      buffer[TEST_SLOT_NAME_SIZE])
{
  g_snprintf (buffer, TEST_SLOT_NAME_SIZE, "t%u", slot->index);

  return buffer;
}

/* The destroy notify of the slot's task, from any thread. */
void
test_slot_destroy (gpointer data)
{
  TestSlot *slot = data;

  slot->destroy_thread = g_thread_self ();
  slot->n_done_at_destroy = g_atomic_int_get (&slot->n_done);
  if (g_atomic_int_add (&slot->n_destroyed, 1) != 0)
    g_error ("Destroy notify of t%u (%s) called twice", slot->index, way_names[slot->way]);
  g_atomic_int_inc (&slot->ledger->n_destroyed);
}

/* Records what the scheduling call returned. A refusal has called the
 * destroy notify already, on the calling thread; a GTask is the caller's
 * still. Returns whether the call was accepted.
 */
gboolean
test_slot_scheduled (TestSlot *slot,
                     guint64   id)
{
  slot->id = id;

  if (id == 0)
    {
      if (way_has_destroy (slot->way) && slot->way != TEST_WAY_GTASK &&
          (g_atomic_int_get (&slot->n_destroyed) != 1 || slot->destroy_thread != g_thread_self ()))
        g_error ("Refused t%u (%s) without its destroy notify on the calling thread",
                 slot->index, way_names[slot->way]);
      return FALSE;
    }

  g_atomic_int_inc (&slot->ledger->n_accepted);

  return TRUE;
}

/* Schedules @func in the slot's way, named after the slot; the destroy
 * notify, if the way has one, must end with test_slot_destroy().
 */
guint64
test_slot_schedule_full (TestSlot        *slot,
                         AsabTaskService *service,
                         AsabTaskFunc     func,
                         gpointer         user_data,
                         GDestroyNotify   destroy)
{
  char name[TEST_SLOT_NAME_SIZE];
  guint64 id;

  test_slot_name (slot, name);
  switch (slot->way)
    {
    case TEST_WAY_SCHEDULE:
    case TEST_WAY_SCHEDULE_NO_DESTROY:
      id = asab_task_service_schedule_full (service, name, func, user_data, destroy);
      break;
    case TEST_WAY_THREADSAFE:
      id = asab_task_service_schedule_threadsafe (service, name, func, user_data, destroy);
      break;
    case TEST_WAY_IN_THREAD:
      id = asab_task_service_schedule_in_thread (service, name, func, user_data, destroy);
      break;
    case TEST_WAY_FOREVER:
      id = asab_task_service_run_forever (service, name, func, user_data, destroy);
      break;
    case TEST_WAY_SOURCE:
    case TEST_WAY_GTASK:
    case TEST_N_WAYS:
    default:
      g_assert_not_reached ();
    }

  test_slot_scheduled (slot, id);

  return id;
}

/* The same with the slot as the user data. */
guint64
test_slot_schedule (TestSlot        *slot,
                    AsabTaskService *service,
                    AsabTaskFunc     func)
{
  return test_slot_schedule_full (slot, service, func, slot,
                                  way_has_destroy (slot->way) ? test_slot_destroy : NULL);
}

/* A new slot, and its task scheduled with the slot as the user data. */
TestSlot *
test_ledger_schedule (TestLedger      *ledger,
                      AsabTaskService *service,
                      TestWay          way,
                      AsabTaskFunc     func)
{
  TestSlot *slot = test_slot_new (ledger, way);

  test_slot_schedule (slot, service, func);

  return slot;
}

/* A source that removes itself after @n_dispatches dispatches, or, with 0,
 * never dispatches and ends only when it is cancelled; finalizing it is
 * its destroy notify.
 */
typedef struct
{
  GSource source;
  TestSlot *slot;
  guint n_left;
} SlotSource;

static gboolean
slot_source_prepare (GSource *source,
                     int     *timeout)
{
  *timeout = -1;

  return ((SlotSource *) source)->n_left > 0;
}

static gboolean
slot_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     data)
{
  SlotSource *self = (SlotSource *) source;

  g_atomic_int_inc (&self->slot->n_runs);

  return --self->n_left > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
slot_source_finalize (GSource *source)
{
  test_slot_destroy (((SlotSource *) source)->slot);
}

static GSourceFuncs slot_source_funcs = {
  .prepare = slot_source_prepare,
  .dispatch = slot_source_dispatch,
  .finalize = slot_source_finalize,
};

GSource *
test_slot_source_new (TestSlot *slot,
                      guint     n_dispatches)
{
  SlotSource *source = (SlotSource *) g_source_new (&slot_source_funcs, sizeof (SlotSource));
  char name[TEST_SLOT_NAME_SIZE];

  g_assert_cmpint (slot->way, ==, TEST_WAY_SOURCE);
  source->slot = slot;
  source->n_left = n_dispatches;
  g_source_set_name ((GSource *) source, test_slot_name (slot, name));

  return (GSource *) source;
}

static void
discard_result (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_task_propagate_boolean (G_TASK (result), &error);
}

static void
slot_task_finalized (gpointer  data,
                     GObject  *where_the_object_was)
{
  test_slot_destroy (data);
}

/* A GTask for the test to complete, named after the slot; finalizing it is
 * its destroy notify. */
GTask *
test_slot_task_new (TestSlot     *slot,
                    GCancellable *cancellable)
{
  GTask *task = g_task_new (NULL, cancellable, discard_result, NULL);
  char name[TEST_SLOT_NAME_SIZE];

  g_assert_cmpint (slot->way, ==, TEST_WAY_GTASK);
  g_task_set_name (task, test_slot_name (slot, name));
  g_object_weak_ref (G_OBJECT (task), slot_task_finalized, slot);

  return task;
}
