/* test-ledger.h: one slot per scheduling call, and the rule they all keep
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <asab.h>

G_BEGIN_DECLS

/* Whatever a task or its caller does, every accepted task gets exactly one
 * "task-done" and, after it, on the context's thread, exactly one destroy
 * notify; every refused call has its destroy notify called once, and no
 * "task-done". A ledger gives each scheduling call a slot, names the task
 * after it so that "task-done", which only sees the GTask, finds it, and
 * checks every slot at the end.
 *
 * Slots are taken and destroyed from any thread; "task-done" and
 * "task-failed" are recorded on the context's thread, which is the thread
 * that made the ledger.
 */

/* How a slot's task is scheduled. */
typedef enum
{
  TEST_WAY_SCHEDULE,             /* schedule_full(), with the slot's destroy notify */
  TEST_WAY_SCHEDULE_NO_DESTROY,  /* schedule_full(), without one */
  TEST_WAY_THREADSAFE,           /* schedule_threadsafe() */
  TEST_WAY_IN_THREAD,            /* schedule_in_thread() */
  TEST_WAY_FOREVER,              /* run_forever() */
  TEST_WAY_SOURCE,               /* schedule_source(): finalizing the source is the destroy */
  TEST_WAY_GTASK,                /* schedule_task(): finalizing the GTask is the destroy */
  TEST_N_WAYS
} TestWay;

typedef enum
{
  TEST_RESULT_NONE,
  TEST_RESULT_OK,
  TEST_RESULT_FAILED,
  TEST_RESULT_CANCELLED,
} TestResult;

typedef struct _TestLedger TestLedger;

typedef struct
{
  TestLedger *ledger;
  guint index;
  /* What the scheduling call returned: 0 if it refused. */
  guint64 id;
  int n_done;
  int n_destroyed;
  /* Emissions of "task-failed". */
  int n_failed;
  /* Calls of the function, dispatches of the source: the test counts them. */
  int n_runs;
  int n_done_at_destroy;
  GThread *destroy_thread;
  guint8 way;
  guint8 result;
  /* What the test planned for the task: the test's own. */
  guint8 plan;
} TestSlot;

struct _TestLedger
{
  GThread *context_thread;
  GWeakRef service;
  int finalized;

  TestSlot *slots;
  guint capacity;
  int n_slots;

  /* Any thread, atomic. */
  int n_accepted;
  int n_destroyed;

  /* The context's thread. */
  int n_done;
  int n_failed;

  /* The test's own. */
  gpointer user_data;
};

#define TEST_SLOT_NAME_SIZE 16

TestLedger *test_ledger_new              (AsabTaskService *service,
                                          guint            capacity);
void        test_ledger_free             (TestLedger      *ledger);
void        test_ledger_watch            (TestLedger      *ledger);
void        test_ledger_on_task_done     (AsabTaskService *service,
                                          GTask           *task,
                                          const GError    *error,
                                          TestLedger      *ledger);
gboolean    test_ledger_on_task_failed   (AsabTaskService *service,
                                          GTask           *task,
                                          const GError    *error,
                                          TestLedger      *ledger);
TestSlot   *test_ledger_record_done      (TestLedger      *ledger,
                                          GTask           *task,
                                          const GError    *error);
TestSlot   *test_ledger_record_failed    (TestLedger      *ledger,
                                          GTask           *task,
                                          const GError    *error);
gboolean    test_ledger_finalized        (TestLedger      *ledger);
guint       test_ledger_count            (TestLedger      *ledger,
                                          TestResult       result);
void        test_ledger_assert_all_ended (TestLedger      *ledger);
TestSlot   *test_ledger_schedule         (TestLedger      *ledger,
                                          AsabTaskService *service,
                                          TestWay          way,
                                          AsabTaskFunc     func);

TestSlot   *test_slot_new                (TestLedger      *ledger,
                                          TestWay          way);
const char *test_slot_name               (TestSlot        *slot,
                                          char             buffer[TEST_SLOT_NAME_SIZE]);
void        test_slot_destroy            (gpointer         slot);
guint64     test_slot_schedule           (TestSlot        *slot,
                                          AsabTaskService *service,
                                          AsabTaskFunc     func);
guint64     test_slot_schedule_full      (TestSlot        *slot,
                                          AsabTaskService *service,
                                          AsabTaskFunc     func,
                                          gpointer         user_data,
                                          GDestroyNotify   destroy);
GSource    *test_slot_source_new         (TestSlot        *slot,
                                          guint            n_dispatches);
GTask      *test_slot_task_new           (TestSlot        *slot,
                                          GCancellable    *cancellable);
gboolean    test_slot_scheduled          (TestSlot        *slot,
                                          guint64          id);

G_END_DECLS
