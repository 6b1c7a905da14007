/* test-stress.c: the invariant under load
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include <asab.h>

#include "test-ledger.h"
#include "test-util.h"

/* A million tasks (ASAB_STRESS_TASKS, for sanitizer runs that need fewer)
 * with random outcomes, from four producer threads and from the context's
 * own thread through every way of scheduling, while max-concurrent changes
 * and ids are cancelled from every thread; then a stop in the middle of it,
 * which must time out on a few tasks that ignore cancellation, and calls
 * that must be refused after it.
 *
 * Every call gets a slot in a ledger. At the end, every accepted task has
 * had exactly one "task-done" and one destroy notify, after it; every
 * refused call has had its destroy notify, once, and no "task-done".
 *
 * Meanwhile a task list is alive, and a checker applies each of its
 * items-changed to a shadow list: the list changes only on the context's
 * thread, never holds a task twice, has lost each task's item by its
 * task-done, and is empty at the end.
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
  PLAN_SUCCEED,
  PLAN_FAIL,
  PLAN_WAIT_CANCEL,
  PLAN_HOLD,
  PLAN_STUBBORN,
  PLAN_RANDOM,
  PLAN_SOURCE_READY,
  PLAN_SOURCE_NEVER,
} Plan;

typedef struct
{
  GMainContext *context;
  GThread *context_thread;
  AsabTaskService *service;
  TestLedger *ledger;

  guint target;

  /* Any thread, atomic. */
  int stopping;
  int n_producers_done;
  int n_accepted;
  int n_accepted_by_way[TEST_N_WAYS];
  int n_refused_full;
  int n_refused_stopped;
  int n_cancel_calls;
  int n_cancelled_live;

  /* Context thread only. */
  int n_done;
  int n_ok;
  int n_failed;
  int n_cancelled;
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

  /* The task list and its shadow. */
  GListModel *list;
  GPtrArray *shadow;
  GHashTable *shadow_ids;
  guint n_list_changes;
  guint n_list_max;
} Stress;

static Stress *S;

/* Slots */

static TestSlot *
slot_new (TestWay way,
          Plan    plan)
{
  TestSlot *slot = test_slot_new (S->ledger, way);

  slot->plan = plan;

  return slot;
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

/* Counts what a scheduling call returned, which the ledger has recorded;
 * returns the id.
 */
static guint64
slot_counted (TestSlot *slot)
{
  if (slot->id == 0)
    {
      if (g_atomic_int_get (&S->stopping))
        g_atomic_int_inc (&S->n_refused_stopped);
      else
        g_atomic_int_inc (&S->n_refused_full);
      return 0;
    }

  g_atomic_int_inc (&S->n_accepted);
  g_atomic_int_inc (&S->n_accepted_by_way[slot->way]);
  /* Not the stubborn ones: the stop waits for them to have started. */
  if (slot->plan != PLAN_STUBBORN &&
      ((slot->id & 7) == 0 || slot->way == TEST_WAY_FOREVER || slot->way == TEST_WAY_SOURCE))
    ring_push (slot->id);

  return slot->id;
}

/* The task list checker */

#define LIST_FULL_CHECK_EVERY 4096

static void
list_check_all (void)
{
  g_assert_cmpuint (g_list_model_get_n_items (S->list), ==, S->shadow->len);
  for (guint i = 0; i < S->shadow->len; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (S->list, i);

      g_assert_true (item == g_ptr_array_index (S->shadow, i));
    }
}

static void
on_list_changed (GListModel *list,
                 guint       position,
                 guint       removed,
                 guint       added,
                 gpointer    data)
{
  g_assert_true (g_thread_self () == S->context_thread);
  g_assert_cmpuint (position + removed, <=, S->shadow->len);

  for (guint i = position; i < position + removed; i++)
    {
      guint64 id = asab_task_info_get_id (g_ptr_array_index (S->shadow, i));

      g_assert_true (g_hash_table_remove (S->shadow_ids, &id));
    }
  g_ptr_array_remove_range (S->shadow, position, removed);

  for (guint i = 0; i < added; i++)
    {
      AsabTaskInfo *info = g_list_model_get_item (list, position + i);
      guint64 *id = g_new (guint64, 1);

      *id = asab_task_info_get_id (info);
      g_assert_cmpuint (*id, >, 0);
      /* Never twice. */
      g_assert_true (g_hash_table_add (S->shadow_ids, id));
      g_ptr_array_insert (S->shadow, position + i, info);
    }

  g_assert_cmpuint (g_list_model_get_n_items (list), ==, S->shadow->len);
  S->n_list_max = MAX (S->n_list_max, S->shadow->len);
  if (++S->n_list_changes % LIST_FULL_CHECK_EVERY == 0)
    list_check_all ();
}

/* Signals */

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              gpointer         data)
{
  TestSlot *slot;

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

  slot = test_ledger_record_done (S->ledger, task, error);
  if (slot->way == TEST_WAY_IN_THREAD)
    S->n_in_thread_done++;
  /* Its item went right before its task-done. */
  g_assert_false (g_hash_table_contains (S->shadow_ids, &slot->id));

  S->n_done++;
  if (slot->result == TEST_RESULT_OK)
    S->n_ok++;
  else if (slot->result == TEST_RESULT_CANCELLED)
    S->n_cancelled++;
  else
    S->n_failed++;
}

/* Task bodies; the user data is the slot. */

static void
body (GTask        *task,
      GCancellable *cancellable,
      gpointer      data)
{
  TestSlot *slot = data;
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
  TestSlot *slot = data;

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
  TestSlot *slot = slot_new (TEST_WAY_THREADSAFE, plan);

  test_slot_schedule (slot, S->service, body);

  return slot_counted (slot);
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
driver_schedule_func (TestWay way,
                      Plan    plan)
{
  TestSlot *slot = slot_new (way, plan);

  test_slot_schedule (slot, S->service, way == TEST_WAY_IN_THREAD ? body_in_thread : body);

  return slot_counted (slot);
}

/* A source that removes itself after a few dispatches, or one that never
 * dispatches and ends only when it is cancelled. */
static guint64
driver_schedule_source (Plan plan)
{
  TestSlot *slot = slot_new (TEST_WAY_SOURCE, plan);
  guint n_dispatches = g_rand_int_range (S->rand, 1, 4);
  GSource *source = test_slot_source_new (slot, plan == PLAN_SOURCE_READY ? n_dispatches : 0);

  test_slot_scheduled (slot, asab_task_service_schedule_source (S->service, source));

  return slot_counted (slot);
}

static guint64
driver_schedule_gtask (void)
{
  TestSlot *slot = slot_new (TEST_WAY_GTASK, PLAN_HOLD);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = test_slot_task_new (slot, cancellable);

  /* Transfer none: ours to complete, accepted or not. */
  g_ptr_array_add (S->gtasks, g_object_ref (task));
  test_slot_scheduled (slot, asab_task_service_schedule_task (S->service, task));

  return slot_counted (slot);
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

      id = driver_schedule_func (TEST_WAY_SCHEDULE, plan);
      if (id != 0 && plan == PLAN_WAIT_CANCEL)
        g_array_append_val (S->waiting, id);
    }
  else if (pick < 37)
    driver_schedule_func (TEST_WAY_SCHEDULE_NO_DESTROY, PLAN_SUCCEED);
  else if (pick < 40)
    {
      if (asab_task_service_schedule (S->service, body_unnamed, NULL) != 0)
        {
          S->n_unnamed_accepted++;
          g_atomic_int_inc (&S->n_accepted);
        }
    }
  else if (pick < 50)
    driver_schedule_func (TEST_WAY_THREADSAFE, g_rand_int_range (S->rand, 0, 2));
  else if (pick < 60)
    {
      if (g_atomic_int_get (&S->n_accepted_by_way[TEST_WAY_IN_THREAD]) - S->n_in_thread_done < MAX_IN_THREAD)
        driver_schedule_func (TEST_WAY_IN_THREAD, g_rand_int_range (S->rand, 0, 2));
    }
  else if (pick < 65)
    {
      if (driver_has_room (S->forever, MAX_FOREVER) &&
          (id = driver_schedule_func (TEST_WAY_FOREVER, PLAN_RANDOM)) != 0)
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
      g_assert_cmpuint (driver_schedule_func (TEST_WAY_SCHEDULE, PLAN_SUCCEED), ==, 0);
      g_assert_cmpuint (driver_schedule_func (TEST_WAY_SCHEDULE_NO_DESTROY, PLAN_SUCCEED), ==, 0);
      g_assert_cmpuint (driver_schedule_func (TEST_WAY_THREADSAFE, PLAN_FAIL), ==, 0);
      g_assert_cmpuint (driver_schedule_func (TEST_WAY_IN_THREAD, PLAN_SUCCEED), ==, 0);
      g_assert_cmpuint (driver_schedule_func (TEST_WAY_FOREVER, PLAN_RANDOM), ==, 0);
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
           driver_schedule_func (TEST_WAY_SCHEDULE, PLAN_STUBBORN) != 0)
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

/* What each task's plan allows, besides the ledger's rule. */
static void
check_slot (TestSlot *slot)
{
  gboolean has_func = slot->way != TEST_WAY_SOURCE && slot->way != TEST_WAY_GTASK;

  if (slot->id == 0)
    return;

  /* A function that never ran can only have been cancelled; one that ran
   * ran once, unless it is a forever one; only what failed was reported. */
  if (has_func && slot->n_runs == 0)
    g_assert_cmpint (slot->result, ==, TEST_RESULT_CANCELLED);
  if (has_func && slot->way != TEST_WAY_FOREVER)
    g_assert_cmpint (slot->n_runs, <=, 1);
  if (slot->plan == PLAN_WAIT_CANCEL || slot->plan == PLAN_SOURCE_NEVER)
    g_assert_cmpint (slot->result, ==, TEST_RESULT_CANCELLED);
  if (slot->plan == PLAN_SUCCEED)
    g_assert_cmpint (slot->result, !=, TEST_RESULT_FAILED);
  if (slot->plan == PLAN_STUBBORN)
    g_assert_cmpint (slot->n_runs, ==, 1);
  if (slot->way == TEST_WAY_FOREVER)
    g_assert_cmpint (slot->n_failed, >=, slot->result == TEST_RESULT_FAILED);
  else if (has_func)
    g_assert_cmpint (slot->n_failed, ==, slot->result == TEST_RESULT_FAILED);
  else
    g_assert_cmpint (slot->n_failed, ==, 0);
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
  guint n_runs = 0;
  guint seed = g_test_rand_int ();

  S = &stress;
  S->target = stress_n_tasks ();
  g_test_message ("stress: %u tasks (ASAB_STRESS_TASKS), seed %u", S->target, seed);

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
  S->ledger = test_ledger_new (S->service, S->target + S->target / 4 + 100000);
  S->list = asab_task_service_get_tasks (S->service);
  S->shadow = g_ptr_array_new_with_free_func (g_object_unref);
  S->shadow_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_signal_connect (S->list, "items-changed", G_CALLBACK (on_list_changed), NULL);
  asab_task_service_set_max_queued (S->service, MAX_QUEUED);
  g_signal_connect (S->service, "task-done", G_CALLBACK (on_task_done), NULL);
  /* Keeps a million warnings out of the log, but counts them. */
  g_signal_connect (S->service, "task-failed", G_CALLBACK (test_ledger_on_task_failed), S->ledger);

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

  /* The list is empty once nothing runs or waits. */
  g_assert_cmpuint (asab_task_service_get_n_running (S->service) +
                    asab_task_service_get_n_queued (S->service), ==, 0);
  list_check_all ();
  g_assert_cmpuint (S->shadow->len, ==, 0);
  g_test_message ("task list: %u changes, at most %u items", S->n_list_changes, S->n_list_max);

  /* Every task has ended: nothing else keeps the service. */
  g_signal_handlers_disconnect_by_func (S->list, on_list_changed, NULL);
  g_clear_object (&S->list);
  g_clear_object (&S->service);
  while (!test_ledger_finalized (S->ledger))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("The service was not finalized");
      g_main_context_iteration (S->context, TRUE);
    }
  test_iterate_pending (S->context);

  test_ledger_assert_all_ended (S->ledger);
  for (guint i = 0; i < (guint) S->ledger->n_slots; i++)
    {
      check_slot (&S->ledger->slots[i]);
      n_runs += S->ledger->slots[i].n_runs;
    }
  g_assert_cmpint (S->n_unnamed_done, ==, S->n_unnamed_accepted);
  g_assert_cmpint (S->n_refused_stopped, >=, N_PRODUCERS * N_CALLS_AFTER_STOP);
  g_assert_cmpint (S->n_done, ==, S->n_ok + S->n_failed + S->n_cancelled);
  g_assert_cmpint (S->n_accepted, >=, (int) S->target);

  g_test_message ("tasks accepted: %d (threadsafe %d, schedule %d + %d without destroy + %d unnamed, "
                  "in-thread %d, forever %d, source %d, gtask %d)",
                  S->n_accepted, S->n_accepted_by_way[TEST_WAY_THREADSAFE],
                  S->n_accepted_by_way[TEST_WAY_SCHEDULE], S->n_accepted_by_way[TEST_WAY_SCHEDULE_NO_DESTROY],
                  S->n_unnamed_accepted,
                  S->n_accepted_by_way[TEST_WAY_IN_THREAD], S->n_accepted_by_way[TEST_WAY_FOREVER],
                  S->n_accepted_by_way[TEST_WAY_SOURCE], S->n_accepted_by_way[TEST_WAY_GTASK]);
  g_test_message ("tasks run: %u functions and source dispatches", n_runs);
  g_test_message ("tasks ended: %d succeeded, %d failed, %d cancelled (task-failed emitted %d times)",
                  S->n_ok, S->n_failed, S->n_cancelled, S->ledger->n_failed);
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
  g_ptr_array_unref (S->shadow);
  g_hash_table_unref (S->shadow_ids);
  test_ledger_free (S->ledger);
  S = NULL;
}

/* Workers on a service whose context they cannot own: threads that call
 * schedule_full(), run_forever(), schedule_in_thread() and
 * schedule_source(), each handed over, while one thread runs the context.
 * Once on the default service, with a main loop on the global default
 * context, as most programs have it; once on a private context that its
 * owner iterates by hand without pushing it. Every call gets a slot in a
 * ledger; at the end every accepted task has had one task-done, every
 * destroy notify ran once, after it, and nothing is left running or
 * queued. */

#define WORKERS_N_THREADS     2
#define WORKERS_FOLLOW_UPS    20
#define WORKERS_N_FOREVER     4

typedef struct
{
  AsabTaskService *service;
  TestLedger *ledger;
  GMainContext *context;
  GMainLoop *loop;
  gint64 deadline;
  guint n_per_worker;

  /* Any thread, atomic. */
  int n_workers_done;
  int n_in_thread_ran;
  int n_follow_ups;
} Workers;

static gboolean
workers_finished (Workers *w)
{
  return g_atomic_int_get (&w->n_workers_done) == WORKERS_N_THREADS &&
         w->ledger->n_done == g_atomic_int_get (&w->ledger->n_accepted);
}

static void
worker_body (GTask        *task,
             GCancellable *cancellable,
             gpointer      data)
{
  TestSlot *slot = data;

  g_assert_true (g_thread_self () == slot->ledger->context_thread);
  g_atomic_int_inc (&slot->n_runs);
  if (slot->plan == PLAN_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "planned failure");
  else
    g_task_return_boolean (task, TRUE);
}

static Plan
worker_plan (guint i)
{
  return i % 5 == 0 ? PLAN_FAIL : PLAN_SUCCEED;
}

static void
worker_schedule_full (Workers *w,
                      guint    i)
{
  TestSlot *slot = test_slot_new (w->ledger, TEST_WAY_SCHEDULE);

  slot->plan = worker_plan (i);
  if (test_slot_schedule (slot, w->service, worker_body) == 0)
    g_error ("schedule_full() from a worker was refused");
}

/* On a worker of GLib's pool: its follow-ups are handed over in turn. */
static void
schedule_follow_ups (GTask        *task,
                     GCancellable *cancellable,
                     gpointer      data)
{
  TestSlot *slot = data;
  Workers *w = slot->ledger->user_data;

  g_assert_true (g_thread_self () != slot->ledger->context_thread);
  g_atomic_int_inc (&slot->n_runs);
  for (guint i = 0; i < WORKERS_FOLLOW_UPS; i++)
    worker_schedule_full (w, i);
  g_atomic_int_add (&w->n_follow_ups, WORKERS_FOLLOW_UPS);
  g_atomic_int_inc (&w->n_in_thread_ran);
  g_task_return_boolean (task, TRUE);
}

static gpointer
worker_thread (gpointer data)
{
  Workers *w = data;
  guint64 forever[WORKERS_N_FOREVER] = { 0 };
  guint n_forever = 0;

  g_assert_null (g_main_context_get_thread_default ());

  for (guint i = 0; i < w->n_per_worker; i++)
    {
      TestSlot *slot;

      if (i % 100 == 0)
        {
          slot = test_slot_new (w->ledger, TEST_WAY_IN_THREAD);
          slot->plan = PLAN_SUCCEED;
          if (test_slot_schedule (slot, w->service, schedule_follow_ups) == 0)
            g_error ("schedule_in_thread() from a worker was refused");
        }
      else if (i % 100 == 50)
        {
          slot = test_slot_new (w->ledger, TEST_WAY_SOURCE);
          slot->plan = PLAN_SOURCE_READY;
          test_slot_scheduled (slot, asab_task_service_schedule_source (w->service,
                                                                        test_slot_source_new (slot, 1 + i % 3)));
          if (slot->id == 0)
            g_error ("schedule_source() from a worker was refused");
        }
      else if (i % (w->n_per_worker / WORKERS_N_FOREVER) == 25 && n_forever < WORKERS_N_FOREVER)
        {
          slot = test_slot_new (w->ledger, TEST_WAY_FOREVER);
          slot->plan = PLAN_SUCCEED;
          if ((forever[n_forever++] = test_slot_schedule (slot, w->service, worker_body)) == 0)
            g_error ("run_forever() from a worker was refused");
        }
      else
        worker_schedule_full (w, i);
    }

  /* Forever tasks end only when they are cancelled. */
  for (guint i = 0; i < n_forever; i++)
    g_assert_true (asab_task_service_cancel (w->service, forever[i]));

  g_atomic_int_inc (&w->n_workers_done);

  return NULL;
}

/* What each slot's way and plan allow, besides the ledger's rule. */
static void
workers_check_slot (TestSlot *slot)
{
  switch (slot->way)
    {
    case TEST_WAY_SCHEDULE:
      g_assert_cmpint (slot->n_runs, ==, 1);
      g_assert_cmpint (slot->result, ==, slot->plan == PLAN_FAIL ? TEST_RESULT_FAILED : TEST_RESULT_OK);
      g_assert_cmpint (slot->n_failed, ==, slot->plan == PLAN_FAIL);
      break;
    case TEST_WAY_IN_THREAD:
      g_assert_cmpint (slot->n_runs, ==, 1);
      g_assert_cmpint (slot->result, ==, TEST_RESULT_OK);
      break;
    case TEST_WAY_SOURCE:
      g_assert_cmpint (slot->n_runs, >=, 1);
      g_assert_cmpint (slot->n_runs, <=, 3);
      g_assert_cmpint (slot->result, ==, TEST_RESULT_OK);
      break;
    case TEST_WAY_FOREVER:
      g_assert_cmpint (slot->result, ==, TEST_RESULT_CANCELLED);
      g_assert_cmpint (slot->n_failed, ==, 0);
      break;
    case TEST_WAY_SCHEDULE_NO_DESTROY:
    case TEST_WAY_THREADSAFE:
    case TEST_WAY_GTASK:
    case TEST_N_WAYS:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
workers_check_cb (gpointer data)
{
  Workers *w = data;

  if (g_get_monotonic_time () > w->deadline)
    g_error ("Not finished after %d s: %d workers done, %d accepted, %d ended",
             DEADLINE_SECONDS, g_atomic_int_get (&w->n_workers_done),
             g_atomic_int_get (&w->ledger->n_accepted), w->ledger->n_done);

  if (!workers_finished (w))
    return G_SOURCE_CONTINUE;

  g_main_loop_quit (w->loop);

  return G_SOURCE_REMOVE;
}

static void
workers_run (Workers *w)
{
  GThread *threads[WORKERS_N_THREADS];
  guint n_per_way[TEST_N_WAYS] = { 0 };
  guint n_tasks = stress_n_tasks () / 4;
  gint64 start = g_get_monotonic_time ();

  w->n_per_worker = n_tasks / WORKERS_N_THREADS;
  w->deadline = start + DEADLINE_SECONDS * G_USEC_PER_SEC;
  w->ledger = test_ledger_new (w->service, n_tasks + n_tasks / 100 * WORKERS_FOLLOW_UPS + 1000);
  w->ledger->user_data = w;
  test_ledger_watch (w->ledger);

  for (guint i = 0; i < WORKERS_N_THREADS; i++)
    threads[i] = g_thread_new ("worker", worker_thread, w);

  if (w->loop != NULL)
    {
      /* A main loop holds the context throughout. */
      GSource *check = g_timeout_source_new (10);

      g_source_set_callback (check, workers_check_cb, w, NULL);
      g_source_attach (check, w->context);
      g_source_unref (check);
      g_main_loop_run (w->loop);
    }
  else
    {
      /* One iteration at a time, without blocking, and without holding
       * the context in between, as a loop with other work to do would. */
      while (!workers_finished (w))
        {
          if (g_get_monotonic_time () > w->deadline)
            g_error ("Not finished after %d s: %d workers done, %d accepted, %d ended",
                     DEADLINE_SECONDS, g_atomic_int_get (&w->n_workers_done),
                     g_atomic_int_get (&w->ledger->n_accepted), w->ledger->n_done);
          g_main_context_iteration (w->context, FALSE);
        }
    }

  for (guint i = 0; i < WORKERS_N_THREADS; i++)
    g_thread_join (threads[i]);

  test_ledger_assert_all_ended (w->ledger);
  for (guint i = 0; i < (guint) w->ledger->n_slots; i++)
    {
      workers_check_slot (&w->ledger->slots[i]);
      n_per_way[w->ledger->slots[i].way]++;
    }
  g_assert_cmpint (g_atomic_int_get (&w->n_in_thread_ran), ==, n_per_way[TEST_WAY_IN_THREAD]);
  g_assert_cmpint (g_atomic_int_get (&w->n_follow_ups), ==,
                   n_per_way[TEST_WAY_IN_THREAD] * WORKERS_FOLLOW_UPS);
  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);

  g_test_message ("%d tasks from %d workers: schedule_full %u (%d from thread functions), "
                  "in-thread %u, source %u, forever %u; %u failed as planned; %.1f s",
                  w->ledger->n_slots, WORKERS_N_THREADS, n_per_way[TEST_WAY_SCHEDULE],
                  g_atomic_int_get (&w->n_follow_ups), n_per_way[TEST_WAY_IN_THREAD],
                  n_per_way[TEST_WAY_SOURCE], n_per_way[TEST_WAY_FOREVER], w->ledger->n_failed,
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

static void
test_stress_workers_default (void)
{
  Workers w = { 0 };

  /* The default service is the process's: nothing else in this program
   * attaches anything to the global default context. */
  g_assert_cmpuint (test_count_sources (g_main_context_default ()), ==, 0);
  test_capture_logs_clear ();

  w.context = g_main_context_default ();
  w.service = asab_task_service_get_default ();
  w.loop = g_main_loop_new (w.context, FALSE);
  workers_run (&w);

  g_main_loop_unref (w.loop);
  test_ledger_free (w.ledger);
}

static void
test_stress_workers_private (void)
{
  Workers w = { 0 };

  test_capture_logs_clear ();
  w.context = g_main_context_new ();
  w.service = asab_task_service_new (w.context);
  workers_run (&w);

  /* Every task has ended: nothing else keeps the service. */
  g_clear_object (&w.service);
  while (!test_ledger_finalized (w.ledger))
    {
      if (g_get_monotonic_time () > w.deadline)
        g_error ("The service was not finalized");
      g_main_context_iteration (w.context, FALSE);
    }
  test_iterate_pending (w.context);
  test_ledger_free (w.ledger);
  g_main_context_unref (w.context);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("ASAB_STRESS_TASKS tasks (a million by default) from five threads with random "
                  "outcomes and a stop in the middle, then a quarter as many from workers that "
                  "cannot own the context, on the default service and on a private context: "
                  "every accepted task gets one task-done, every destroy notify runs once");

  g_test_add_func ("/stress/invariant", test_stress_invariant);
  g_test_add_func ("/stress/workers/default-context", test_stress_workers_default);
  g_test_add_func ("/stress/workers/private-context", test_stress_workers_private);

  return g_test_run ();
}
