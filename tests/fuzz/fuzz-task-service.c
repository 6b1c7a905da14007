/* fuzz-task-service.c: random sequences of service operations
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "fuzz-task-service.h"
#include "test-util.h"

/* The input is a sequence of operations, one byte each followed by the
 * bytes of its arguments (missing bytes read as 0): schedule in every way
 * with a planned outcome, complete held tasks, cancel by id (live, ended,
 * refused and unknown ids), stop, change the limits, iterate the context.
 *
 * After each operation: nothing got a second "task-done" or destroy
 * notify; a destroy notify came after its "task-done", or during a refused
 * call; a call was accepted exactly when the documentation says it is; and
 * the service's counts equal the tasks accepted and not yet ended. At the
 * end, after a stop and with every held task completed: every accepted
 * task had one "task-done" and one destroy notify, every refused call one
 * destroy notify and no "task-done", and the service is finalized.
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

typedef enum
{
  KIND_FUNC,
  KIND_IN_THREAD,
  KIND_FOREVER,
  KIND_SOURCE,
  KIND_GTASK,
} Kind;

typedef struct _Fuzz Fuzz;

typedef struct
{
  Fuzz *fuzz;
  guint64 id;
  int n_done;
  int n_destroyed;
  int n_failed;
  int scheduling;
  gboolean refused;
  guint8 kind;
  guint8 plan;
  guint8 n_dispatches;
} Slot;

struct _Fuzz
{
  const guint8 *data;
  gsize size;
  gsize pos;

  GMainContext *context;
  GThread *context_thread;
  AsabTaskService *service;
  int finalized;

  Slot *slots;
  guint n_slots;
  guint n_accepted;
  guint n_done;
  guint64 last_id;

  GPtrArray *held;
  GPtrArray *gtasks;
  guint n_stops;
  guint n_stopped;
  gboolean stop_called;
  guint max_queued;
  guint stop_timeout;
};

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

/* Slots */

static Slot *
slot_new (Fuzz  *fz,
          Kind   kind,
          Plan   plan)
{
  Slot *slot;

  if (fz->n_slots == MAX_SLOTS)
    return NULL;

  slot = &fz->slots[fz->n_slots++];
  slot->fuzz = fz;
  slot->kind = kind;
  slot->plan = plan;

  return slot;
}

#define SLOT_NAME_SIZE 16

static const char *
slot_name (Slot *slot,
           char  buffer[SLOT_NAME_SIZE])
{
  g_snprintf (buffer, SLOT_NAME_SIZE, "f%u", (guint) (slot - slot->fuzz->slots));

  return buffer;
}

static Slot *
slot_for_task (Fuzz  *fz,
               GTask *task)
{
  const char *name = g_task_get_name (task);
  guint64 index;

  fuzz_assert (name != NULL && name[0] == 'f');
  index = g_ascii_strtoull (name + 1, NULL, 10);
  fuzz_assert (index < fz->n_slots);

  return &fz->slots[index];
}

static void
slot_destroy (gpointer data)
{
  Slot *slot = data;

  /* During the call that refused it, or after its task-done. */
  if (g_atomic_int_get (&slot->scheduling) || slot->refused)
    fuzz_assert (g_atomic_int_get (&slot->n_done) == 0);
  else
    {
      fuzz_assert (g_thread_self () == slot->fuzz->context_thread);
      fuzz_assert (slot->n_done == 1);
    }
  fuzz_assert (g_atomic_int_add (&slot->n_destroyed, 1) == 0);
}

/* Whether the documentation says the call is accepted. */
static gboolean
expect_accepted (Fuzz *fz,
                 Kind  kind)
{
  gboolean queues = kind == KIND_FUNC || kind == KIND_IN_THREAD || kind == KIND_FOREVER;

  if (fz->stop_called)
    return FALSE;

  return !queues || fz->max_queued == 0 ||
         asab_task_service_get_n_queued (fz->service) < fz->max_queued;
}

static void
slot_scheduled (Fuzz     *fz,
                Slot     *slot,
                gboolean  expected,
                guint64   id)
{
  g_atomic_int_set (&slot->scheduling, 0);
  slot->id = id;
  fuzz_assert ((id != 0) == expected);

  if (id == 0)
    {
      slot->refused = TRUE;
      if (slot->kind != KIND_GTASK)
        fuzz_assert (g_atomic_int_get (&slot->n_destroyed) == 1);
      return;
    }

  fuzz_assert (id > fz->last_id);
  fz->last_id = id;
  fz->n_accepted++;
}

/* Signals */

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              Fuzz            *fz)
{
  Slot *slot = slot_for_task (fz, task);

  fuzz_assert (g_thread_self () == fz->context_thread);
  fuzz_assert (slot->id != 0);
  fuzz_assert (g_atomic_int_add (&slot->n_done, 1) == 0);
  fuzz_assert (slot->n_destroyed == 0);
  fz->n_done++;
}

static gboolean
on_task_failed (AsabTaskService *service,
                GTask           *task,
                const GError    *error,
                Fuzz            *fz)
{
  Slot *slot = slot_for_task (fz, task);

  fuzz_assert (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  fuzz_assert (slot->n_done == 0);
  fuzz_assert (slot->kind != KIND_GTASK && slot->kind != KIND_SOURCE);
  slot->n_failed++;

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
  Slot *slot = data;
  Fuzz *fz = slot->fuzz;
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
  Slot *slot = data;

  fuzz_assert (g_thread_self () != slot->fuzz->context_thread);

  if (slot->plan == PLAN_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
  else
    g_task_return_boolean (task, TRUE);
}

/* A source that removes itself after some dispatches, or never dispatches
 * (n_dispatches 0) and ends when it is cancelled; finalizing it is its
 * destroy notify. */
typedef struct
{
  GSource source;
  Slot *slot;
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

  return --self->n_left > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
slot_source_finalize (GSource *source)
{
  slot_destroy (((SlotSource *) source)->slot);
}

static GSourceFuncs slot_source_funcs = {
  .prepare = slot_source_prepare,
  .dispatch = slot_source_dispatch,
  .finalize = slot_source_finalize,
};

static void
gtask_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_task_propagate_boolean (G_TASK (result), &error);
}

static void
gtask_finalized (gpointer  data,
                 GObject  *where_the_object_was)
{
  slot_destroy (data);
}

/* Operations */

static void
schedule_func (Fuzz *fz,
               Op    op,
               Plan  plan)
{
  Kind kind = op == OP_SCHEDULE_IN_THREAD ? KIND_IN_THREAD : op == OP_RUN_FOREVER ? KIND_FOREVER : KIND_FUNC;
  Slot *slot = slot_new (fz, kind, plan);
  char name[SLOT_NAME_SIZE];
  gboolean expected;
  guint64 id;

  if (slot == NULL)
    return;

  slot_name (slot, name);
  expected = expect_accepted (fz, kind);
  g_atomic_int_set (&slot->scheduling, 1);

  if (op == OP_SCHEDULE)
    id = asab_task_service_schedule_full (fz->service, name, body, slot, slot_destroy);
  else if (op == OP_SCHEDULE_THREADSAFE)
    id = asab_task_service_schedule_threadsafe (fz->service, name, body, slot, slot_destroy);
  else if (op == OP_SCHEDULE_IN_THREAD)
    id = asab_task_service_schedule_in_thread (fz->service, name, body_in_thread, slot, slot_destroy);
  else
    id = asab_task_service_run_forever (fz->service, name, body, slot, slot_destroy);

  slot_scheduled (fz, slot, expected, id);
}

typedef struct
{
  Fuzz *fz;
  Slot *slots[MAX_THREAD_CALLS];
  guint n_slots;
  guint64 cancel_id;
  gboolean cancelled;
} ThreadCalls;

static gpointer
schedule_from_thread (gpointer data)
{
  ThreadCalls *calls = data;

  for (guint i = 0; i < calls->n_slots; i++)
    {
      Slot *slot = calls->slots[i];
      char name[SLOT_NAME_SIZE];

      slot->id = asab_task_service_schedule_threadsafe (calls->fz->service, slot_name (slot, name),
                                                        body, slot, slot_destroy);
      if (slot->id == 0)
        fuzz_assert (g_atomic_int_get (&slot->n_destroyed) == 1);
    }

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
      Slot *slot = slot_new (fz, KIND_FUNC, next_byte (fz) % N_PLANS);

      if (slot == NULL)
        break;
      /* Nothing leaves the queue while this thread waits for the other. */
      expected[i] = !fz->stop_called && (fz->max_queued == 0 || n_queued < fz->max_queued);
      if (expected[i])
        n_queued++;
      g_atomic_int_set (&slot->scheduling, 1);
      calls.slots[calls.n_slots++] = slot;
    }

  g_thread_join (g_thread_new ("fuzz-producer", schedule_from_thread, &calls));

  for (guint i = 0; i < calls.n_slots; i++)
    slot_scheduled (fz, calls.slots[i], expected[i], calls.slots[i]->id);
}

static void
op_schedule_source (Fuzz *fz)
{
  Slot *slot = slot_new (fz, KIND_SOURCE, PLAN_SUCCEED);
  SlotSource *source;
  char name[SLOT_NAME_SIZE];
  gboolean expected;

  if (slot == NULL)
    return;

  source = (SlotSource *) g_source_new (&slot_source_funcs, sizeof (SlotSource));
  source->slot = slot;
  source->n_left = next_byte (fz) % 4;
  g_source_set_name ((GSource *) source, slot_name (slot, name));

  expected = expect_accepted (fz, KIND_SOURCE);
  g_atomic_int_set (&slot->scheduling, 1);
  slot_scheduled (fz, slot, expected, asab_task_service_schedule_source (fz->service, (GSource *) source));
}

static void
op_schedule_task (Fuzz *fz)
{
  Slot *slot = slot_new (fz, KIND_GTASK, PLAN_HOLD);
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GTask) task = NULL;
  char name[SLOT_NAME_SIZE];
  gboolean expected;

  if (slot == NULL)
    return;

  if (next_byte (fz) & 1)
    cancellable = g_cancellable_new ();
  task = g_task_new (NULL, cancellable, gtask_cb, NULL);
  g_task_set_name (task, slot_name (slot, name));
  g_object_weak_ref (G_OBJECT (task), gtask_finalized, slot);

  expected = expect_accepted (fz, KIND_GTASK);
  g_atomic_int_set (&slot->scheduling, 1);
  slot_scheduled (fz, slot, expected, asab_task_service_schedule_task (fz->service, task));

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
  if (pick < 224 && fz->n_slots > 0)
    return fz->slots[pick % fz->n_slots].id;

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

  fuzz_assert (fz->n_done <= fz->n_accepted);
  fuzz_assert (n_live == fz->n_accepted - fz->n_done);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
service_finalized (gpointer  data,
                   GObject  *where_the_object_was)
{
  Fuzz *fz = data;

  fuzz_assert (g_atomic_int_add (&fz->finalized, 1) == 0);
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

  while (fz->n_done < fz->n_accepted || fz->n_stopped < fz->n_stops ||
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
                      fz->n_accepted, fz->n_done, fz->n_stopped, fz->n_stops);
          abort ();
        }
      g_main_context_iteration (fz->context, TRUE);
    }
  check_counts (fz);

  for (guint i = 0; i < fz->n_slots; i++)
    {
      Slot *slot = &fz->slots[i];

      if (slot->id != 0)
        fuzz_assert (slot->n_done == 1);
      else
        fuzz_assert (slot->n_done == 0);
    }

  /* Every task has ended: nothing keeps the service but us. */
  g_clear_object (&fz->service);
  while (g_atomic_int_get (&fz->finalized) == 0)
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
  for (guint i = 0; i < fz->n_slots; i++)
    fuzz_assert (fz->slots[i].n_destroyed == 1);
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
  fz.slots = g_new0 (Slot, MAX_SLOTS);
  fz.held = g_ptr_array_new_with_free_func (g_object_unref);
  fz.gtasks = g_ptr_array_new_with_free_func (g_object_unref);
  fz.stop_timeout = 5000;
  g_main_context_push_thread_default (fz.context);

  fz.service = asab_task_service_new (NULL);
  g_object_weak_ref (G_OBJECT (fz.service), service_finalized, &fz);
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
  g_free (fz.slots);
  g_main_context_pop_thread_default (fz.context);
  g_main_context_unref (fz.context);

  return 0;
}
