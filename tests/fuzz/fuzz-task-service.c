/* fuzz-task-service.c: random sequences of service operations
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "fuzz-task-service.h"
#include "test-ledger.h"
#include "test-util.h"

/* The input is a sequence of operations, one byte each followed by the
 * bytes of its arguments (missing bytes read as 0): schedule in every way
 * with a planned outcome, complete held tasks, cancel by id (live, ended,
 * refused and unknown ids), stop, change the limits, iterate the context.
 *
 * As it happens: nothing gets a second "task-done" or destroy notify; a
 * refused call has called its destroy notify before it returns. After each
 * operation: a call was accepted exactly when the documentation says it
 * is, and the service's counts equal the tasks accepted and not yet ended.
 * At the end, after a stop and with every held task completed, the
 * service is finalized, and the ledger holds its rule: every accepted task
 * had one "task-done" and, after it, one destroy notify on the context's
 * thread; every refused call one destroy notify and no "task-done".
 *
 * Any critical, or a warning outside the "Asab" domain, aborts.
 */

#define MAX_SLOTS         512
#define MAX_THREAD_CALLS  4
#define END_TIMEOUT_USEC  (20 * G_USEC_PER_SEC)

typedef enum
{
  OP_SCHEDULE,
  OP_SCHEDULE_THREADSAFE,
  OP_SCHEDULE_FROM_THREAD,
  OP_SCHEDULE_IN_THREAD,
  OP_RUN_FOREVER,
  OP_SCHEDULE_SOURCE,
  OP_SCHEDULE_TASK,
  OP_COMPLETE_HELD,
  OP_COMPLETE_GTASK,
  OP_CANCEL,
  OP_CANCEL_FROM_THREAD,
  OP_STOP_ASYNC,
  OP_STOP,
  OP_SET_MAX_CONCURRENT,
  OP_SET_MAX_QUEUED,
  OP_SET_STOP_TIMEOUT,
  OP_ITERATE,
  N_OPS
} Op;

typedef enum
{
  PLAN_SUCCEED,
  PLAN_FAIL,
  PLAN_HOLD,
  PLAN_WAIT_CANCEL,
  PLAN_IDLE,
  N_PLANS
} Plan;

typedef struct
{
  const guint8 *data;
  gsize size;
  gsize pos;

  GMainContext *context;
  GThread *context_thread;
  AsabTaskService *service;
  TestLedger *ledger;
  guint64 last_id;

  GPtrArray *held;
  GPtrArray *gtasks;
  guint n_stops;
  guint n_stopped;
  gboolean stop_called;
  guint max_queued;
  guint stop_timeout;
} Fuzz;

static guint8
next_byte (Fuzz *fz)
{
  return fz->pos < fz->size ? fz->data[fz->pos++] : 0;
}

/* Logging: the service's own warnings are expected; nothing else is. */

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;

  if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) != 0 ||
      ((level & G_LOG_LEVEL_WARNING) != 0 && g_strcmp0 (domain, "Asab") != 0))
    {
      g_log_writer_default (level, fields, n_fields, user_data);
      abort ();
    }

  return G_LOG_WRITER_HANDLED;
}

#define fuzz_assert(expr) \
  G_STMT_START { \
    if (G_UNLIKELY (!(expr))) \
      { \
        g_printerr ("%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, G_STRFUNC, #expr); \
        abort (); \
      } \
  } G_STMT_END

/* Slots: one a call, in the ledger, up to MAX_SLOTS. */

static TestSlot *
slot_new (Fuzz    *fz,
          TestWay  way,
          Plan     plan)
{
  TestSlot *slot;

  if (g_atomic_int_get (&fz->ledger->n_slots) == MAX_SLOTS)
    return NULL;

  slot = test_slot_new (fz->ledger, way);
  slot->plan = plan;

  return slot;
}

static Fuzz *
slot_fuzz (TestSlot *slot)
{
  return slot->ledger->user_data;
}

/* Whether the documentation says the call is accepted. */
static gboolean
expect_accepted (Fuzz    *fz,
                 TestWay  way)
{
  gboolean queues = way != TEST_WAY_SOURCE && way != TEST_WAY_GTASK;

  if (fz->stop_called)
    return FALSE;

  return !queues || fz->max_queued == 0 ||
         asab_task_service_get_n_queued (fz->service) < fz->max_queued;
}

/* The call, which the ledger has recorded, answered as expected; ids grow. */
static void
check_answer (Fuzz     *fz,
              TestSlot *slot,
              gboolean  expected)
{
  fuzz_assert ((slot->id != 0) == expected);
  if (slot->id == 0)
    return;

  fuzz_assert (slot->id > fz->last_id);
  fz->last_id = slot->id;
}

/* Signals */

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              Fuzz            *fz)
{
  fuzz_assert (test_ledger_record_done (fz->ledger, task, error)->id != 0);
}

static gboolean
on_task_failed (AsabTaskService *service,
                GTask           *task,
                const GError    *error,
                Fuzz            *fz)
{
  TestSlot *slot = test_ledger_record_failed (fz->ledger, task, error);

  /* Some failures are logged, some are taken over. */
  return (slot->n_failed & 1) == 0;
}

/* Task bodies */

static gboolean
complete_in_idle_cb (gpointer task)
{
  g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

static void
body (GTask        *task,
      GCancellable *cancellable,
      gpointer      data)
{
  TestSlot *slot = data;
  Fuzz *fz = slot_fuzz (slot);
  GSource *idle;

  fuzz_assert (g_thread_self () == fz->context_thread);

  switch ((Plan) slot->plan)
    {
    case PLAN_SUCCEED:
      g_task_return_boolean (task, TRUE);
      break;
    case PLAN_FAIL:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
      break;
    case PLAN_HOLD:
      g_ptr_array_add (fz->held, g_object_ref (task));
      break;
    case PLAN_WAIT_CANCEL:
      test_task_return_on_cancel (task, cancellable);
      break;
    case PLAN_IDLE:
      idle = g_idle_source_new ();
      g_source_set_callback (idle, complete_in_idle_cb, g_object_ref (task), g_object_unref);
      g_source_attach (idle, g_task_get_context (task));
      g_source_unref (idle);
      break;
    case N_PLANS:
    default:
      g_assert_not_reached ();
    }
}

static void
body_in_thread (GTask        *task,
                GCancellable *cancellable,
                gpointer      data)
{
  TestSlot *slot = data;

  fuzz_assert (g_thread_self () != slot_fuzz (slot)->context_thread);

  if (slot->plan == PLAN_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
  else
    g_task_return_boolean (task, TRUE);
}

/* Operations */

static void
schedule_func (Fuzz *fz,
               Op    op,
               Plan  plan)
{
  TestWay way = op == OP_SCHEDULE ? TEST_WAY_SCHEDULE :
                op == OP_SCHEDULE_THREADSAFE ? TEST_WAY_THREADSAFE :
                op == OP_SCHEDULE_IN_THREAD ? TEST_WAY_IN_THREAD : TEST_WAY_FOREVER;
  TestSlot *slot = slot_new (fz, way, plan);
  gboolean expected;

  if (slot == NULL)
    return;

  expected = expect_accepted (fz, way);
  test_slot_schedule (slot, fz->service, way == TEST_WAY_IN_THREAD ? body_in_thread : body);
  check_answer (fz, slot, expected);
}

typedef struct
{
  Fuzz *fz;
  TestSlot *slots[MAX_THREAD_CALLS];
  guint n_slots;
  guint64 cancel_id;
  gboolean cancelled;
} ThreadCalls;

static gpointer
schedule_from_thread (gpointer data)
{
  ThreadCalls *calls = data;

  for (guint i = 0; i < calls->n_slots; i++)
    test_slot_schedule (calls->slots[i], calls->fz->service, body);

  return NULL;
}

static void
op_schedule_from_thread (Fuzz *fz)
{
  ThreadCalls calls = { fz, { NULL }, 0, 0, FALSE };
  guint n = next_byte (fz) % MAX_THREAD_CALLS + 1;
  gboolean expected[MAX_THREAD_CALLS];
  guint n_queued = asab_task_service_get_n_queued (fz->service);

  for (guint i = 0; i < n; i++)
    {
      TestSlot *slot = slot_new (fz, TEST_WAY_THREADSAFE, next_byte (fz) % N_PLANS);

      if (slot == NULL)
        break;
      /* Nothing leaves the queue while this thread waits for the other. */
      expected[i] = !fz->stop_called && (fz->max_queued == 0 || n_queued < fz->max_queued);
      if (expected[i])
        n_queued++;
      calls.slots[calls.n_slots++] = slot;
    }

  g_thread_join (g_thread_new ("fuzz-producer", schedule_from_thread, &calls));

  for (guint i = 0; i < calls.n_slots; i++)
    check_answer (fz, calls.slots[i], expected[i]);
}

static void
op_schedule_source (Fuzz *fz)
{
  TestSlot *slot = slot_new (fz, TEST_WAY_SOURCE, PLAN_SUCCEED);
  gboolean expected;

  if (slot == NULL)
    return;

  /* One that never dispatches ends when it is cancelled. */
  expected = expect_accepted (fz, TEST_WAY_SOURCE);
  test_slot_scheduled (slot, asab_task_service_schedule_source (fz->service,
                                                                test_slot_source_new (slot, next_byte (fz) % 4)));
  check_answer (fz, slot, expected);
}

static void
op_schedule_task (Fuzz *fz)
{
  TestSlot *slot = slot_new (fz, TEST_WAY_GTASK, PLAN_HOLD);
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GTask) task = NULL;
  gboolean expected;

  if (slot == NULL)
    return;

  if (next_byte (fz) & 1)
    cancellable = g_cancellable_new ();
  task = test_slot_task_new (slot, cancellable);

  expected = expect_accepted (fz, TEST_WAY_GTASK);
  test_slot_scheduled (slot, asab_task_service_schedule_task (fz->service, task));
  check_answer (fz, slot, expected);

  /* Transfer none: ours to complete, accepted or not. */
  g_ptr_array_add (fz->gtasks, g_steal_pointer (&task));
}

static void
complete_task (GTask  *task,
               guint8  how)
{
  switch (how % 3)
    {
    case 0:
      g_task_return_boolean (task, TRUE);
      break;
    case 1:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
      break;
    default:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "planned cancellation");
      break;
    }
}

static void
op_complete (Fuzz      *fz,
             GPtrArray *tasks)
{
  guint8 index = next_byte (fz);
  guint8 how = next_byte (fz);
  GTask *task;

  if (tasks->len == 0)
    return;

  task = g_ptr_array_steal_index (tasks, index % tasks->len);
  complete_task (task, how);
  g_object_unref (task);
}

static guint64
pick_id (Fuzz     *fz,
         gboolean *unknown)
{
  guint8 pick = next_byte (fz);

  *unknown = FALSE;
  if (pick < 224 && fz->ledger->n_slots > 0)
    return fz->ledger->slots[pick % fz->ledger->n_slots].id;

  /* Ids never handed out. */
  *unknown = TRUE;
  switch (pick % 3)
    {
    case 0:
      return 0;
    case 1:
      return G_MAXUINT64 - pick;
    default:
      return fz->last_id + 1 + pick % 8;
    }
}

static gpointer
cancel_from_thread (gpointer data)
{
  ThreadCalls *calls = data;

  calls->cancelled = asab_task_service_cancel (calls->fz->service, calls->cancel_id);

  return NULL;
}

static void
op_cancel (Fuzz     *fz,
           gboolean  from_thread)
{
  ThreadCalls calls = { fz, { NULL }, 0, 0, FALSE };
  gboolean unknown;

  calls.cancel_id = pick_id (fz, &unknown);
  if (from_thread)
    g_thread_join (g_thread_new ("fuzz-canceller", cancel_from_thread, &calls));
  else
    calls.cancelled = asab_task_service_cancel (fz->service, calls.cancel_id);

  if (unknown)
    fuzz_assert (!calls.cancelled);
}

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      data)
{
  Fuzz *fz = data;
  g_autoptr(GError) error = NULL;

  if (!asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, &error))
    fuzz_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  fz->n_stopped++;
}

static void
op_stop (Fuzz     *fz,
         gboolean  sync)
{
  /* A stop waits for held tasks up to the stop timeout: keep it short. */
  if (sync && fz->stop_timeout <= 5)
    {
      asab_task_service_stop (fz->service, NULL, NULL);
      fz->stop_called = TRUE;
      return;
    }

  fz->n_stops++;
  asab_task_service_stop_async (fz->service, NULL, stopped_cb, fz);
  fz->stop_called = TRUE;
}

static void
run_op (Fuzz *fz,
        Op    op)
{
  guint8 arg;

  switch (op)
    {
    case OP_SCHEDULE:
    case OP_SCHEDULE_THREADSAFE:
    case OP_SCHEDULE_IN_THREAD:
    case OP_RUN_FOREVER:
      arg = next_byte (fz);
      if (op == OP_SCHEDULE_IN_THREAD)
        schedule_func (fz, op, arg % 2);
      else if (op == OP_RUN_FOREVER)
        schedule_func (fz, op, arg % 3);
      else
        schedule_func (fz, op, arg % N_PLANS);
      break;
    case OP_SCHEDULE_FROM_THREAD:
      op_schedule_from_thread (fz);
      break;
    case OP_SCHEDULE_SOURCE:
      op_schedule_source (fz);
      break;
    case OP_SCHEDULE_TASK:
      op_schedule_task (fz);
      break;
    case OP_COMPLETE_HELD:
      op_complete (fz, fz->held);
      break;
    case OP_COMPLETE_GTASK:
      op_complete (fz, fz->gtasks);
      break;
    case OP_CANCEL:
    case OP_CANCEL_FROM_THREAD:
      op_cancel (fz, op == OP_CANCEL_FROM_THREAD);
      break;
    case OP_STOP_ASYNC:
    case OP_STOP:
      op_stop (fz, op == OP_STOP);
      break;
    case OP_SET_MAX_CONCURRENT:
      asab_task_service_set_max_concurrent (fz->service, next_byte (fz) % 5);
      break;
    case OP_SET_MAX_QUEUED:
      fz->max_queued = next_byte (fz) % 5;
      asab_task_service_set_max_queued (fz->service, fz->max_queued);
      break;
    case OP_SET_STOP_TIMEOUT:
      fz->stop_timeout = next_byte (fz) % 4;
      asab_task_service_set_stop_timeout (fz->service, fz->stop_timeout);
      break;
    case OP_ITERATE:
      for (guint n = next_byte (fz) % 16 + 1; n > 0; n--)
        g_main_context_iteration (fz->context, FALSE);
      break;
    case N_OPS:
    default:
      g_assert_not_reached ();
    }
}

/* Holds between operations: the counts are the tasks accepted and not
 * ended. */
static void
check_counts (Fuzz *fz)
{
  guint n_live = asab_task_service_get_n_running (fz->service) +
                 asab_task_service_get_n_queued (fz->service);

  fuzz_assert (fz->ledger->n_done <= fz->ledger->n_accepted);
  fuzz_assert (n_live == (guint) (fz->ledger->n_accepted - fz->ledger->n_done));
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Stops, completes what is held, and waits for everything to end. */
static void
finish (Fuzz *fz)
{
  gint64 deadline = g_get_monotonic_time () + END_TIMEOUT_USEC;
  GSource *tick = g_timeout_source_new (10);

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, fz->context);

  if (!fz->stop_called || fz->n_stops == 0)
    op_stop (fz, FALSE);

  while (fz->ledger->n_done < fz->ledger->n_accepted || fz->n_stopped < fz->n_stops ||
         fz->held->len > 0 || fz->gtasks->len > 0)
    {
      while (fz->held->len > 0)
        {
          GTask *task = g_ptr_array_steal_index (fz->held, fz->held->len - 1);

          complete_task (task, fz->held->len);
          g_object_unref (task);
        }
      while (fz->gtasks->len > 0)
        {
          GTask *task = g_ptr_array_steal_index (fz->gtasks, fz->gtasks->len - 1);

          complete_task (task, fz->gtasks->len);
          g_object_unref (task);
        }

      if (g_get_monotonic_time () > deadline)
        {
          g_printerr ("Not ended: %u accepted, %u ended, %u stops of %u done\n",
                      fz->ledger->n_accepted, fz->ledger->n_done, fz->n_stopped, fz->n_stops);
          abort ();
        }
      g_main_context_iteration (fz->context, TRUE);
    }
  check_counts (fz);

  /* Every task has ended: nothing keeps the service but us. */
  g_clear_object (&fz->service);
  while (!test_ledger_finalized (fz->ledger))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_printerr ("The service was not finalized\n");
          abort ();
        }
      g_main_context_iteration (fz->context, TRUE);
    }

  g_source_destroy (tick);
  g_source_unref (tick);
  while (g_main_context_iteration (fz->context, FALSE))
    ;

  /* The destroy notifies of sources and GTasks run when they go. */
  test_ledger_assert_all_ended (fz->ledger);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static gsize initialized;
  Fuzz fz = { 0 };

  if (g_once_init_enter (&initialized))
    {
      g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
      g_once_init_leave (&initialized, 1);
    }

  fz.data = data;
  fz.size = size;
  fz.context = g_main_context_new ();
  fz.context_thread = g_thread_self ();
  fz.held = g_ptr_array_new_with_free_func (g_object_unref);
  fz.gtasks = g_ptr_array_new_with_free_func (g_object_unref);
  fz.stop_timeout = 5000;
  g_main_context_push_thread_default (fz.context);

  fz.service = asab_task_service_new (NULL);
  fz.ledger = test_ledger_new (fz.service, MAX_SLOTS);
  fz.ledger->user_data = &fz;
  g_signal_connect (fz.service, "task-done", G_CALLBACK (on_task_done), &fz);
  g_signal_connect (fz.service, "task-failed", G_CALLBACK (on_task_failed), &fz);

  while (fz.pos < fz.size)
    {
      run_op (&fz, next_byte (&fz) % N_OPS);
      check_counts (&fz);
    }

  finish (&fz);

  g_ptr_array_unref (fz.held);
  g_ptr_array_unref (fz.gtasks);
  test_ledger_free (fz.ledger);
  g_main_context_pop_thread_default (fz.context);
  g_main_context_unref (fz.context);

  return 0;
}
