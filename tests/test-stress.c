/* test-stress.c: the invariant under load
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include <asab.h>

#include "test-util.h"

/* A million tasks (ASAB_STRESS_TASKS, for sanitizer runs that need fewer)
 * with random outcomes, from four producer threads and from the context's
 * own thread through every way of scheduling, while max-concurrent changes
 * and ids are cancelled from every thread; then a stop in the middle of it,
 * which must time out on a few tasks that ignore cancellation, and calls
 * that must be refused after it.
 *
 * Every call gets a slot, and every task is named after its slot. At the
 * end, every accepted task has had exactly one "task-done" and one destroy
 * notify, after it; every refused call has had its destroy notify, once,
 * and no "task-done".
 */

#define DEFAULT_N_TASKS      1000000
#define N_PRODUCERS          4
#define N_STUBBORN           8
#define MAX_QUEUED           8192
#define N_WAITING            8
#define N_CALLS_AFTER_STOP   64
#define MAX_FOREVER          4
#define MAX_NEVER_SOURCES    4
#define MAX_IN_THREAD        4
#define RING_SIZE            1024
#define STOP_TIMEOUT_MS      200
#define DEADLINE_SECONDS     100

typedef enum
{
  KIND_THREADSAFE,
  KIND_SCHEDULE,
  KIND_SCHEDULE_NO_DESTROY,
  KIND_IN_THREAD,
  KIND_FOREVER,
  KIND_SOURCE,
  KIND_GTASK,
  N_KINDS
} Kind;

static const char * const kind_names[N_KINDS] = {
  "threadsafe", "schedule", "schedule (no destroy)", "in-thread", "forever", "source", "gtask",
};

typedef enum
{
  PLAN_SUCCEED,
  PLAN_FAIL,
  PLAN_WAIT_CANCEL,
  PLAN_HOLD,
  PLAN_STUBBORN,
  PLAN_RANDOM,
  PLAN_SOURCE_READY,
  PLAN_SOURCE_NEVER,
} Plan;

typedef enum
{
  RESULT_NONE,
  RESULT_OK,
  RESULT_FAILED,
  RESULT_CANCELLED,
} Result;

typedef struct
{
  guint64 id;
  int n_done;
  int n_destroyed;
  int n_failed;
  int n_runs;
  guint8 kind;
  guint8 plan;
  guint8 result;
  guint8 done_at_destroy;
  guint8 destroyed_on_context;
} Slot;

typedef struct
{
  GMainContext *context;
  GThread *context_thread;
  AsabTaskService *service;
  int finalized;

  guint target;
  Slot *slots;
  guint capacity;
  int n_slots;

  /* Any thread, atomic. */
  int stopping;
  int n_producers_done;
  int n_accepted;
  int n_accepted_by_kind[N_KINDS];
  int n_refused_full;
  int n_refused_stopped;
  int n_cancel_calls;
  int n_cancelled_live;

  /* Context thread only. */
  int n_done;
  int n_ok;
  int n_failed;
  int n_cancelled;
  int n_task_failed;
  GRand *rand;
  GPtrArray *held;
  GPtrArray *gtasks;
  GPtrArray *stubborn;
  GArray *waiting;
  guint64 forever[MAX_FOREVER];
  guint64 never_sources[MAX_NEVER_SOURCES];
  guint n_stubborn_scheduled;
  guint n_stubborn_started;
  gboolean stop_requested;
  gboolean stop_done;
  gboolean stubborn_completed;
  guint n_limit_changes;
  guint next_limit_change;
  gint64 stop_started;
  gint64 stop_elapsed;
  char *stop_message;
  int n_in_thread_done;
  int n_unnamed_accepted;
  int n_unnamed_done;

  /* Producers waiting for the queue to drain. */
  GMutex flow_lock;
  GCond flow_cond;
  int n_flow_waiting;

  /* Recently accepted ids, for cancels from any thread. */
  GMutex ring_lock;
  guint64 ring[RING_SIZE];
  guint ring_pos;

  GMutex workers_lock;
  GHashTable *workers;
} Stress;

static Stress *S;

/* Slots */

static Slot *
slot_new (Kind kind,
          Plan plan)
{
  guint index = g_atomic_int_add (&S->n_slots, 1);
  Slot *slot;

  if (index >= S->capacity)
    g_error ("More than %u calls: the producers outran the stop", S->capacity);

  slot = &S->slots[index];
  slot->kind = kind;
  slot->plan = plan;

  return slot;
}

#define SLOT_NAME_SIZE 16

static const char *
slot_name (Slot *slot,
           char  buffer[SLOT_NAME_SIZE])
{
  g_snprintf (buffer, SLOT_NAME_SIZE, "s%u", (guint) (slot - S->slots));

  return buffer;
}

static Slot *
slot_for_task (GTask *task)
{
  const char *name = g_task_get_name (task);
  guint64 index;

  g_assert_true (name != NULL && name[0] == 's');
  index = g_ascii_strtoull (name + 1, NULL, 10);
  g_assert_cmpuint (index, <, (guint) g_atomic_int_get (&S->n_slots));

  return &S->slots[index];
}

static void
slot_destroy (gpointer data)
{
  Slot *slot = data;

  slot->done_at_destroy = g_atomic_int_get (&slot->n_done);
  slot->destroyed_on_context = g_thread_self () == S->context_thread;
  if (g_atomic_int_add (&slot->n_destroyed, 1) != 0)
    g_error ("Destroy notify of s%u called twice", (guint) (slot - S->slots));
}

static void
ring_push (guint64 id)
{
  g_mutex_lock (&S->ring_lock);
  S->ring[S->ring_pos++ % RING_SIZE] = id;
  g_mutex_unlock (&S->ring_lock);
}

static guint64
ring_pick (GRand *rand)
{
  guint64 id;

  g_mutex_lock (&S->ring_lock);
  id = S->ring[g_rand_int_range (rand, 0, RING_SIZE)];
  g_mutex_unlock (&S->ring_lock);

  return id;
}

/* Records what a scheduling call returned; a refusal must have called the
 * destroy notify already.
 */
static gboolean
slot_scheduled (Slot    *slot,
                guint64  id)
{
  slot->id = id;

  if (id == 0)
    {
      if (slot->kind != KIND_SCHEDULE_NO_DESTROY && slot->kind != KIND_GTASK &&
          g_atomic_int_get (&slot->n_destroyed) != 1)
        g_error ("Refused s%u without its destroy notify", (guint) (slot - S->slots));
      if (g_atomic_int_get (&S->stopping))
        g_atomic_int_inc (&S->n_refused_stopped);
      else
        g_atomic_int_inc (&S->n_refused_full);
      return FALSE;
    }

  g_atomic_int_inc (&S->n_accepted);
  g_atomic_int_inc (&S->n_accepted_by_kind[slot->kind]);
  /* Not the stubborn ones: the stop waits for them to have started. */
  if (slot->plan != PLAN_STUBBORN &&
      ((id & 7) == 0 || slot->kind == KIND_FOREVER || slot->kind == KIND_SOURCE))
    ring_push (id);

  return TRUE;
}

/* Signals */

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              gpointer         data)
{
  Slot *slot;

  /* Unnamed tasks have no slot: they are only counted. They succeed,
   * unless the stop ended them before they started. */
  if (g_task_get_name (task) == NULL)
    {
      S->n_unnamed_done++;
      S->n_done++;
      if (error == NULL)
        S->n_ok++;
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          S->n_cancelled++;
        }
      return;
    }

  slot = slot_for_task (task);
  if (slot->kind == KIND_IN_THREAD)
    S->n_in_thread_done++;
  if (g_atomic_int_add (&slot->n_done, 1) != 0)
    g_error ("task-done of s%u emitted twice", (guint) (slot - S->slots));
  g_assert_true (g_thread_self () == S->context_thread);
  g_assert_cmpint (slot->n_destroyed, ==, 0);

  S->n_done++;
  if (error == NULL)
    {
      slot->result = RESULT_OK;
      S->n_ok++;
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      slot->result = RESULT_CANCELLED;
      S->n_cancelled++;
    }
  else
    {
      slot->result = RESULT_FAILED;
      S->n_failed++;
    }
}

/* Keeps a million warnings out of the log, but counts them. */
static gboolean
on_task_failed (AsabTaskService *service,
                GTask           *task,
                const GError    *error,
                gpointer         data)
{
  Slot *slot = slot_for_task (task);

  g_assert_true (g_thread_self () == S->context_thread);
  g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_assert_cmpint (slot->n_done, ==, 0);
  slot->n_failed++;
  S->n_task_failed++;

  return TRUE;
}

/* Task bodies; the user data is the slot. */

static void
body (GTask        *task,
      GCancellable *cancellable,
      gpointer      data)
{
  Slot *slot = data;
  Plan plan = slot->plan;

  g_atomic_int_inc (&slot->n_runs);

  if (plan == PLAN_RANDOM)
    plan = g_rand_int_range (S->rand, 0, 3) == 0 ? PLAN_FAIL : PLAN_SUCCEED;

  switch (plan)
    {
    case PLAN_SUCCEED:
      g_task_return_boolean (task, TRUE);
      break;

    case PLAN_FAIL:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
      break;

    case PLAN_WAIT_CANCEL:
      test_task_return_on_cancel (task, cancellable);
      break;

    case PLAN_HOLD:
      g_ptr_array_add (S->held, g_object_ref (task));
      break;

    case PLAN_STUBBORN:
      S->n_stubborn_started++;
      g_ptr_array_add (S->stubborn, g_object_ref (task));
      break;

    case PLAN_RANDOM:
    case PLAN_SOURCE_READY:
    case PLAN_SOURCE_NEVER:
    default:
      g_assert_not_reached ();
    }
}

static void
body_unnamed (GTask        *task,
              GCancellable *cancellable,
              gpointer      data)
{
  g_assert_null (g_task_get_name (task));
  g_task_return_boolean (task, TRUE);
}

static void
body_in_thread (GTask        *task,
                GCancellable *cancellable,
                gpointer      data)
{
  Slot *slot = data;

  g_assert_true (g_thread_self () != S->context_thread);
  g_atomic_int_inc (&slot->n_runs);

  g_mutex_lock (&S->workers_lock);
  g_hash_table_add (S->workers, g_thread_self ());
  g_mutex_unlock (&S->workers_lock);

  if (slot->plan == PLAN_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
  else
    g_task_return_boolean (task, TRUE);
}

/* A source that removes itself after a few dispatches, or one that never
 * dispatches and ends only when it is cancelled; finalizing it is its
 * destroy notify.
 */
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
  SlotSource *self = (SlotSource *) source;

  *timeout = -1;

  return self->slot->plan == PLAN_SOURCE_READY;
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

/* Producers */

typedef struct
{
  GRand *rand;
  guint64 waiting[N_WAITING];
  guint n_waiting;
} Producer;

static gboolean
queue_is_high (void)
{
  return asab_task_service_get_n_queued (S->service) > MAX_QUEUED / 2;
}

static void
producer_cancel_waiting (Producer *p)
{
  for (guint i = 0; i < p->n_waiting; i++)
    asab_task_service_cancel (S->service, p->waiting[i]);
  p->n_waiting = 0;
}

/* The queue is full: wait until it has drained by half. The context's
 * thread wakes the waiters; the timeout only makes a lost wake-up cheap.
 */
static void
producer_wait_for_room (Producer *p)
{
  /* What this producer keeps waiting must not hold the slots the queue
   * needs to drain. */
  producer_cancel_waiting (p);

  g_mutex_lock (&S->flow_lock);
  g_atomic_int_inc (&S->n_flow_waiting);
  while (queue_is_high () && !g_atomic_int_get (&S->stopping))
    g_cond_wait_until (&S->flow_cond, &S->flow_lock, g_get_monotonic_time () + 50 * 1000);
  g_atomic_int_add (&S->n_flow_waiting, -1);
  g_mutex_unlock (&S->flow_lock);
}

static Plan
producer_pick_plan (Producer *p)
{
  guint32 pick = g_rand_int_range (p->rand, 0, 100);

  if (pick < 70)
    return PLAN_SUCCEED;
  if (pick < 85)
    return PLAN_FAIL;
  if (pick < 95)
    return PLAN_WAIT_CANCEL;
  return PLAN_HOLD;
}

static guint64
producer_schedule (Producer *p,
                   Plan      plan)
{
  Slot *slot = slot_new (KIND_THREADSAFE, plan);
  char name[SLOT_NAME_SIZE];

  if (!slot_scheduled (slot, asab_task_service_schedule_threadsafe (S->service, slot_name (slot, name),
                                                                    body, slot, slot_destroy)))
    return 0;

  return slot->id;
}

static gpointer
producer_thread (gpointer data)
{
  Producer *p = data;

  while (!g_atomic_int_get (&S->stopping))
    {
      guint32 pick = g_rand_int_range (p->rand, 0, 100);
      Plan plan;
      guint64 id;

      if (pick < 4)
        {
          if (asab_task_service_cancel (S->service, ring_pick (p->rand)))
            g_atomic_int_inc (&S->n_cancelled_live);
          g_atomic_int_inc (&S->n_cancel_calls);
          continue;
        }
      if (pick < 5)
        {
          /* Ids that were never handed out. */
          g_assert_false (asab_task_service_cancel (S->service, 0));
          g_assert_false (asab_task_service_cancel (S->service, G_MAXUINT64 - pick));
          continue;
        }

      plan = producer_pick_plan (p);
      id = producer_schedule (p, plan);
      if (id == 0)
        {
          producer_wait_for_room (p);
          continue;
        }

      if (plan == PLAN_WAIT_CANCEL)
        {
          if (p->n_waiting == N_WAITING)
            {
              asab_task_service_cancel (S->service, p->waiting[0]);
              memmove (p->waiting, p->waiting + 1, sizeof p->waiting[0] * (N_WAITING - 1));
              p->n_waiting--;
            }
          p->waiting[p->n_waiting++] = id;
        }
    }

  /* The service has been stopped before these calls: all are refused. */
  for (guint i = 0; i < N_CALLS_AFTER_STOP; i++)
    if (producer_schedule (p, producer_pick_plan (p)) != 0)
      g_error ("A call after stop was accepted");
  producer_cancel_waiting (p);

  g_atomic_int_inc (&S->n_producers_done);

  return NULL;
}

/* The context's thread: between two iterations, it completes what was held,
 * schedules in every other way, cancels, changes the limit, and stops.
 */

static void
complete_all (GPtrArray *tasks)
{
  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);

      if (g_rand_int_range (S->rand, 0, 4) == 0)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
      else
        g_task_return_boolean (task, TRUE);
    }
  g_ptr_array_set_size (tasks, 0);
}

static guint64
driver_schedule_func (Kind kind,
                      Plan plan)
{
  Slot *slot = slot_new (kind, plan);
  char name[SLOT_NAME_SIZE];
  guint64 id;

  slot_name (slot, name);
  switch (kind)
    {
    case KIND_THREADSAFE:
      id = asab_task_service_schedule_threadsafe (S->service, name, body, slot, slot_destroy);
      break;
    case KIND_SCHEDULE:
      id = asab_task_service_schedule_full (S->service, name, body, slot, slot_destroy);
      break;
    case KIND_SCHEDULE_NO_DESTROY:
      id = asab_task_service_schedule_full (S->service, name, body, slot, NULL);
      break;
    case KIND_IN_THREAD:
      id = asab_task_service_schedule_in_thread (S->service, name, body_in_thread, slot, slot_destroy);
      break;
    case KIND_FOREVER:
      id = asab_task_service_run_forever (S->service, name, body, slot, slot_destroy);
      break;
    case KIND_SOURCE:
    case KIND_GTASK:
    case N_KINDS:
    default:
      g_assert_not_reached ();
    }

  return slot_scheduled (slot, id) ? id : 0;
}

static guint64
driver_schedule_source (Plan plan)
{
  Slot *slot = slot_new (KIND_SOURCE, plan);
  SlotSource *source = (SlotSource *) g_source_new (&slot_source_funcs, sizeof (SlotSource));
  char name[SLOT_NAME_SIZE];

  source->slot = slot;
  source->n_left = g_rand_int_range (S->rand, 1, 4);
  g_source_set_name ((GSource *) source, slot_name (slot, name));

  return slot_scheduled (slot, asab_task_service_schedule_source (S->service, (GSource *) source))
         ? slot->id : 0;
}

static guint64
driver_schedule_gtask (void)
{
  Slot *slot = slot_new (KIND_GTASK, PLAN_HOLD);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, gtask_cb, NULL);
  char name[SLOT_NAME_SIZE];

  g_task_set_name (task, slot_name (slot, name));
  g_object_weak_ref (G_OBJECT (task), gtask_finalized, slot);

  /* Transfer none: ours to complete, accepted or not. */
  g_ptr_array_add (S->gtasks, g_object_ref (task));

  return slot_scheduled (slot, asab_task_service_schedule_task (S->service, task)) ? slot->id : 0;
}

static void
driver_keep_one (guint64 *ids,
                 guint    n_ids,
                 guint64  id)
{
  for (guint i = 0; i < n_ids; i++)
    if (ids[i] == 0)
      {
        ids[i] = id;
        return;
      }
  g_assert_not_reached ();
}

/* Ends one of the long-lived tasks now and then, so that their places come
 * free for new ones. */
static void
driver_retire (guint64 *ids,
               guint    n_ids,
               guint    one_in)
{
  for (guint i = 0; i < n_ids; i++)
    if (ids[i] != 0 && g_rand_int_range (S->rand, 0, one_in) == 0)
      {
        asab_task_service_cancel (S->service, ids[i]);
        ids[i] = 0;
      }
}

static gboolean
driver_has_room (guint64 *ids,
                 guint    n_ids)
{
  for (guint i = 0; i < n_ids; i++)
    if (ids[i] == 0)
      return TRUE;

  return FALSE;
}

static void
driver_schedule_some (void)
{
  guint32 pick = g_rand_int_range (S->rand, 0, 100);
  guint64 id;

  if (pick < 30)
    {
      Plan plan = g_rand_int_range (S->rand, 0, 4);

      id = driver_schedule_func (KIND_SCHEDULE, plan);
      if (id != 0 && plan == PLAN_WAIT_CANCEL)
        g_array_append_val (S->waiting, id);
    }
  else if (pick < 37)
    driver_schedule_func (KIND_SCHEDULE_NO_DESTROY, PLAN_SUCCEED);
  else if (pick < 40)
    {
      if (asab_task_service_schedule (S->service, body_unnamed, NULL) != 0)
        {
          S->n_unnamed_accepted++;
          g_atomic_int_inc (&S->n_accepted);
        }
    }
  else if (pick < 50)
    driver_schedule_func (KIND_THREADSAFE, g_rand_int_range (S->rand, 0, 2));
  else if (pick < 60)
    {
      if (g_atomic_int_get (&S->n_accepted_by_kind[KIND_IN_THREAD]) - S->n_in_thread_done < MAX_IN_THREAD)
        driver_schedule_func (KIND_IN_THREAD, g_rand_int_range (S->rand, 0, 2));
    }
  else if (pick < 65)
    {
      if (driver_has_room (S->forever, MAX_FOREVER) &&
          (id = driver_schedule_func (KIND_FOREVER, PLAN_RANDOM)) != 0)
        driver_keep_one (S->forever, MAX_FOREVER, id);
    }
  else if (pick < 80)
    driver_schedule_source (PLAN_SOURCE_READY);
  else if (pick < 85)
    {
      if (driver_has_room (S->never_sources, MAX_NEVER_SOURCES) &&
          (id = driver_schedule_source (PLAN_SOURCE_NEVER)) != 0)
        driver_keep_one (S->never_sources, MAX_NEVER_SOURCES, id);
    }
  else if (pick < 95)
    driver_schedule_gtask ();
  else
    {
      if (asab_task_service_cancel (S->service, ring_pick (S->rand)))
        g_atomic_int_inc (&S->n_cancelled_live);
      g_atomic_int_inc (&S->n_cancel_calls);
    }
}

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  guint n_running = asab_task_service_get_n_running (S->service);
  guint n_queued = asab_task_service_get_n_queued (S->service);
  guint n = test_captured_count (G_LOG_LEVEL_WARNING);
  guint reported_running = 0, reported_queued = 0;
  const char *logged = NULL;

  S->stop_elapsed = g_get_monotonic_time () - S->stop_started;
  g_assert_false (asab_task_service_stop_finish (S->service, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);

  /* ASAB's "R+Q", with the numbers at the time it gave up: at least the
   * stubborn ones still run, and no queued task is pending, since the stop
   * ended them all. The counts can still include tasks that have ended and
   * wait for their task-done; the message does not. */
  g_assert_cmpint (sscanf (error->message, "%u+%u pending and incomplete tasks",
                           &reported_running, &reported_queued), ==, 2);
  g_assert_cmpuint (reported_running, >=, N_STUBBORN);
  g_assert_cmpuint (reported_running, <=, n_running);
  g_assert_cmpuint (reported_queued, ==, 0);
  g_assert_cmpuint (n_queued, >=, reported_queued);
  expected = g_strdup_printf ("%u+%u pending and incomplete tasks", reported_running, reported_queued);
  g_assert_cmpstr (error->message, ==, expected);
  for (guint i = 0; i < n && logged == NULL; i++)
    if (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, i)->message, "pending") != NULL)
      logged = test_captured_nth (G_LOG_LEVEL_WARNING, i)->message;
  g_assert_cmpstr (logged, ==, expected);
  g_assert_cmpint (S->stop_elapsed, >=, STOP_TIMEOUT_MS * 1000);

  S->stop_message = g_steal_pointer (&expected);
  S->stop_done = TRUE;
}

/* Every way of scheduling, once, after stop: each is refused. */
static void
driver_calls_after_stop (void)
{
  GTask *task;

  for (guint i = 0; i < N_CALLS_AFTER_STOP / 8; i++)
    {
      g_assert_cmpuint (driver_schedule_func (KIND_SCHEDULE, PLAN_SUCCEED), ==, 0);
      g_assert_cmpuint (driver_schedule_func (KIND_SCHEDULE_NO_DESTROY, PLAN_SUCCEED), ==, 0);
      g_assert_cmpuint (driver_schedule_func (KIND_THREADSAFE, PLAN_FAIL), ==, 0);
      g_assert_cmpuint (driver_schedule_func (KIND_IN_THREAD, PLAN_SUCCEED), ==, 0);
      g_assert_cmpuint (driver_schedule_func (KIND_FOREVER, PLAN_RANDOM), ==, 0);
      g_assert_cmpuint (driver_schedule_source (PLAN_SOURCE_NEVER), ==, 0);
      g_assert_cmpuint (driver_schedule_gtask (), ==, 0);

      /* Not the service's: it is completed and dropped here. */
      task = g_ptr_array_steal_index (S->gtasks, S->gtasks->len - 1);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}

static void
driver_step (void)
{
  guint accepted = g_atomic_int_get (&S->n_accepted);

  /* What the tasks left to this thread. */
  complete_all (S->held);
  complete_all (S->gtasks);
  for (guint i = 0; i < S->waiting->len; i++)
    asab_task_service_cancel (S->service, g_array_index (S->waiting, guint64, i));
  g_array_set_size (S->waiting, 0);

  if (g_atomic_int_get (&S->n_flow_waiting) > 0 && !queue_is_high ())
    {
      g_mutex_lock (&S->flow_lock);
      g_cond_broadcast (&S->flow_cond);
      g_mutex_unlock (&S->flow_lock);
    }

  if (S->stop_requested)
    {
      if (S->stop_done && !S->stubborn_completed)
        {
          g_assert_cmpuint (S->stubborn->len, ==, N_STUBBORN);
          complete_all (S->stubborn);
          S->stubborn_completed = TRUE;
        }
      return;
    }

  for (guint i = 0; i < 16; i++)
    driver_schedule_some ();
  driver_retire (S->forever, MAX_FOREVER, 50);
  driver_retire (S->never_sources, MAX_NEVER_SOURCES, 20);

  if (accepted >= S->next_limit_change)
    {
      static const guint limits[] = { 0, 128, 256, 1024 };

      asab_task_service_set_max_concurrent (S->service,
                                            limits[g_rand_int_range (S->rand, 0, G_N_ELEMENTS (limits))]);
      S->n_limit_changes++;
      S->next_limit_change = accepted + S->target / 64;
    }

  /* Near the end, tasks that ignore cancellation, for the stop to give up
   * on. */
  if (accepted >= S->target / 100 * 97)
    while (S->n_stubborn_scheduled < N_STUBBORN &&
           driver_schedule_func (KIND_SCHEDULE, PLAN_STUBBORN) != 0)
      S->n_stubborn_scheduled++;

  if (accepted >= S->target && S->n_stubborn_started == N_STUBBORN)
    {
      S->stop_requested = TRUE;
      S->stop_started = g_get_monotonic_time ();
      asab_task_service_set_stop_timeout (S->service, STOP_TIMEOUT_MS);
      asab_task_service_stop_async (S->service, NULL, stopped_cb, NULL);
      g_atomic_int_set (&S->stopping, 1);

      g_mutex_lock (&S->flow_lock);
      g_cond_broadcast (&S->flow_cond);
      g_mutex_unlock (&S->flow_lock);

      driver_calls_after_stop ();
    }
}

static gboolean
stress_finished (void)
{
  return g_atomic_int_get (&S->n_producers_done) == N_PRODUCERS &&
         S->stubborn_completed &&
         S->held->len == 0 && S->gtasks->len == 0 &&
         S->n_done == g_atomic_int_get (&S->n_accepted);
}

/* The invariant, and what each task's plan allows. */
static void
check_slot (guint  index,
            Slot  *slot)
{
  gboolean has_destroy = slot->kind != KIND_SCHEDULE_NO_DESTROY;
  gboolean has_func = slot->kind != KIND_SOURCE && slot->kind != KIND_GTASK;

  if (slot->id == 0)
    {
      if (slot->n_done != 0 || slot->n_destroyed != (has_destroy ? 1 : 0))
        g_error ("Refused s%u (%s): %d task-done, %d destroy",
                 index, kind_names[slot->kind], slot->n_done, slot->n_destroyed);
      return;
    }

  if (slot->n_done != 1 || slot->n_destroyed != (has_destroy ? 1 : 0) ||
      (has_destroy && (slot->done_at_destroy != 1 || !slot->destroyed_on_context)))
    g_error ("Accepted s%u (%s, id %" G_GUINT64_FORMAT "): %d task-done, %d destroy, "
             "%d task-done before the destroy, destroyed %s the context's thread",
             index, kind_names[slot->kind], slot->id, slot->n_done, slot->n_destroyed,
             slot->done_at_destroy, slot->destroyed_on_context ? "on" : "off");

  /* A function that never ran can only have been cancelled; one that ran
   * ran once, unless it is a forever one; only what failed was reported. */
  if (has_func && slot->n_runs == 0)
    g_assert_cmpint (slot->result, ==, RESULT_CANCELLED);
  if (has_func && slot->kind != KIND_FOREVER)
    g_assert_cmpint (slot->n_runs, <=, 1);
  if (slot->plan == PLAN_WAIT_CANCEL || slot->plan == PLAN_SOURCE_NEVER)
    g_assert_cmpint (slot->result, ==, RESULT_CANCELLED);
  if (slot->plan == PLAN_SUCCEED)
    g_assert_cmpint (slot->result, !=, RESULT_FAILED);
  if (slot->plan == PLAN_STUBBORN)
    g_assert_cmpint (slot->n_runs, ==, 1);
  if (slot->kind == KIND_FOREVER)
    g_assert_cmpint (slot->n_failed, >=, slot->result == RESULT_FAILED);
  else if (has_func)
    g_assert_cmpint (slot->n_failed, ==, slot->result == RESULT_FAILED);
  else
    g_assert_cmpint (slot->n_failed, ==, 0);
}

static void
service_finalized (gpointer  data,
                   GObject  *where_the_object_was)
{
  g_atomic_int_inc (&S->finalized);
}

static guint
stress_n_tasks (void)
{
  const char *value = g_getenv ("ASAB_STRESS_TASKS");
  guint64 n;

  if (value == NULL || *value == '\0')
    return DEFAULT_N_TASKS;

  if (!g_ascii_string_to_unsigned (value, 10, 1000, G_MAXINT / 2, &n, NULL))
    g_error ("ASAB_STRESS_TASKS must be a number of tasks from 1000 up, not '%s'", value);

  return n;
}

static void
test_stress_invariant (void)
{
  Stress stress = { 0 };
  GThread *threads[N_PRODUCERS];
  Producer producers[N_PRODUCERS];
  GSource *tick;
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + DEADLINE_SECONDS * G_USEC_PER_SEC;
  guint n_runs = 0, n_task_failed = 0;
  guint seed = g_test_rand_int ();

  S = &stress;
  S->target = stress_n_tasks ();
  g_test_message ("stress: %u tasks (ASAB_STRESS_TASKS), seed %u", S->target, seed);

  S->capacity = S->target + S->target / 4 + 100000;
  S->slots = g_new0 (Slot, S->capacity);
  S->context = test_context_new ();
  S->context_thread = g_thread_self ();
  S->rand = g_rand_new_with_seed (seed);
  S->held = g_ptr_array_new_with_free_func (g_object_unref);
  S->gtasks = g_ptr_array_new_with_free_func (g_object_unref);
  S->stubborn = g_ptr_array_new_with_free_func (g_object_unref);
  S->waiting = g_array_new (FALSE, FALSE, sizeof (guint64));
  S->workers = g_hash_table_new (NULL, NULL);
  S->next_limit_change = 0;
  g_mutex_init (&S->flow_lock);
  g_cond_init (&S->flow_cond);
  g_mutex_init (&S->ring_lock);
  g_mutex_init (&S->workers_lock);

  S->service = asab_task_service_new (NULL);
  g_object_weak_ref (G_OBJECT (S->service), service_finalized, NULL);
  asab_task_service_set_max_queued (S->service, MAX_QUEUED);
  g_signal_connect (S->service, "task-done", G_CALLBACK (on_task_done), NULL);
  g_signal_connect (S->service, "task-failed", G_CALLBACK (on_task_failed), NULL);

  /* This thread runs the context throughout. */
  g_assert_true (g_main_context_acquire (S->context));
  tick = test_tick_source_new (S->context);

  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i] = (Producer) { g_rand_new_with_seed (seed + 1 + i), { 0 }, 0 };
      threads[i] = g_thread_new ("producer", producer_thread, &producers[i]);
    }

  while (!stress_finished ())
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Not finished after %d s: %d accepted, %d ended, %d producers done, stop %s",
                 DEADLINE_SECONDS, g_atomic_int_get (&S->n_accepted), S->n_done,
                 g_atomic_int_get (&S->n_producers_done),
                 S->stop_done ? "done" : S->stop_requested ? "requested" : "not requested");
      g_main_context_iteration (S->context, TRUE);
      driver_step ();
    }

  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      g_thread_join (threads[i]);
      g_rand_free (producers[i].rand);
    }

  /* Every task has ended: nothing else keeps the service. */
  g_clear_object (&S->service);
  while (g_atomic_int_get (&S->finalized) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("The service was not finalized");
      g_main_context_iteration (S->context, TRUE);
    }
  test_iterate_pending (S->context);

  for (guint i = 0; i < (guint) S->n_slots; i++)
    {
      check_slot (i, &S->slots[i]);
      n_runs += S->slots[i].n_runs;
      n_task_failed += S->slots[i].n_failed;
    }
  g_assert_cmpuint (n_task_failed, ==, S->n_task_failed);
  g_assert_cmpint (S->n_unnamed_done, ==, S->n_unnamed_accepted);
  g_assert_cmpint (S->n_refused_stopped, >=, N_PRODUCERS * N_CALLS_AFTER_STOP);
  g_assert_cmpint (S->n_done, ==, S->n_ok + S->n_failed + S->n_cancelled);
  g_assert_cmpint (S->n_accepted, >=, (int) S->target);

  g_test_message ("tasks accepted: %d (threadsafe %d, schedule %d + %d without destroy + %d unnamed, "
                  "in-thread %d, forever %d, source %d, gtask %d)",
                  S->n_accepted, S->n_accepted_by_kind[KIND_THREADSAFE],
                  S->n_accepted_by_kind[KIND_SCHEDULE], S->n_accepted_by_kind[KIND_SCHEDULE_NO_DESTROY],
                  S->n_unnamed_accepted,
                  S->n_accepted_by_kind[KIND_IN_THREAD], S->n_accepted_by_kind[KIND_FOREVER],
                  S->n_accepted_by_kind[KIND_SOURCE], S->n_accepted_by_kind[KIND_GTASK]);
  g_test_message ("tasks run: %u functions and source dispatches", n_runs);
  g_test_message ("tasks ended: %d succeeded, %d failed, %d cancelled (task-failed emitted %d times)",
                  S->n_ok, S->n_failed, S->n_cancelled, S->n_task_failed);
  g_test_message ("cancel calls by id: %d, %d found a live task",
                  S->n_cancel_calls, S->n_cancelled_live);
  g_test_message ("refused: %d with the queue full, %d after stop",
                  S->n_refused_full, S->n_refused_stopped);
  g_test_message ("threads: %d producers, %u workers, and the context's; max-concurrent changed %u times",
                  N_PRODUCERS, g_hash_table_size (S->workers), S->n_limit_changes);
  g_test_message ("stop: \"%s\" after %" G_GINT64_FORMAT " ms",
                  S->stop_message, S->stop_elapsed / 1000);
  g_test_message ("elapsed: %.1f s", (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);

  g_source_destroy (tick);
  g_source_unref (tick);
  g_main_context_release (S->context);
  test_context_free (S->context);
  g_ptr_array_unref (S->held);
  g_ptr_array_unref (S->gtasks);
  g_ptr_array_unref (S->stubborn);
  g_array_unref (S->waiting);
  g_hash_table_unref (S->workers);
  g_rand_free (S->rand);
  g_mutex_clear (&S->flow_lock);
  g_cond_clear (&S->flow_cond);
  g_mutex_clear (&S->ring_lock);
  g_mutex_clear (&S->workers_lock);
  g_free (S->stop_message);
  g_free (S->slots);
  S = NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("ASAB_STRESS_TASKS tasks (a million by default) from five threads with random "
                  "outcomes and a stop in the middle: every accepted task gets one task-done, "
                  "every destroy notify runs once");

  g_test_add_func ("/stress/invariant", test_stress_invariant);

  return g_test_run ();
}
