/* test-task-list.c: get_tasks(), set_progress(), schedule_for_object()
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <asab.h>

#include "test-fixture.h"
#include "test-util.h"

/* A model and what the test saw of it: every items-changed is applied to a
 * shadow list, which must equal the model after each. */
typedef struct
{
  Fixture *f;
  GListModel *model;
  GPtrArray *shadow;
  guint n_changes;
} Watch;

static void
watch_items_changed (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Watch      *watch)
{
  g_assert_true (g_main_context_is_owner (watch->f->context));
  g_assert_cmpuint (position + removed, <=, watch->shadow->len);

  g_ptr_array_remove_range (watch->shadow, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (watch->shadow, position + i, g_list_model_get_item (model, position + i));
  watch->n_changes++;

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, watch->shadow->len);
  for (guint i = 0; i < watch->shadow->len; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (model, i);

      g_assert_true (item == g_ptr_array_index (watch->shadow, i));
    }
}

static void
watch_init (Watch   *watch,
            Fixture *f)
{
  watch->f = f;
  watch->model = asab_task_service_get_tasks (f->service);
  watch->shadow = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < g_list_model_get_n_items (watch->model); i++)
    g_ptr_array_add (watch->shadow, g_list_model_get_item (watch->model, i));
  g_signal_connect (watch->model, "items-changed", G_CALLBACK (watch_items_changed), watch);
}

static void
watch_clear (Watch *watch)
{
  g_signal_handlers_disconnect_by_data (watch->model, watch);
  g_clear_object (&watch->model);
  g_clear_pointer (&watch->shadow, g_ptr_array_unref);
}

static AsabTaskInfo *
watch_item (Watch *watch,
            guint  position)
{
  g_assert_cmpuint (position, <, watch->shadow->len);

  return g_ptr_array_index (watch->shadow, position);
}

static gboolean
watch_has_id (Watch   *watch,
              guint64  id)
{
  for (guint i = 0; i < watch->shadow->len; i++)
    if (asab_task_info_get_id (g_ptr_array_index (watch->shadow, i)) == id)
      return TRUE;

  return FALSE;
}

static void
test_tasks_same_model (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GListModel) first = asab_task_service_get_tasks (f->service);
  g_autoptr(GListModel) second = asab_task_service_get_tasks (f->service);

  g_assert_true (first == second);
  g_assert_true (g_list_model_get_item_type (first) == ASAB_TYPE_TASK_INFO);
  g_assert_cmpuint (g_list_model_get_n_items (first), ==, 0);
}

/* Tasks that were scheduled before the first call are in it, in order. */
static void
test_tasks_existing (Fixture       *f,
                     gconstpointer  data)
{
  Watch watch = { 0 };
  guint64 ids[3];

  ids[0] = asab_task_service_schedule_full (f->service, "a", complete_now, f, NULL);
  ids[1] = asab_task_service_schedule_full (f->service, "b", complete_now, f, NULL);
  ids[2] = asab_task_service_schedule_full (f->service, NULL, complete_now, f, NULL);

  watch_init (&watch, f);
  g_assert_cmpuint (watch.shadow->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      AsabTaskInfo *info = watch_item (&watch, i);

      g_assert_cmpuint (asab_task_info_get_id (info), ==, ids[i]);
      g_assert_cmpint (asab_task_info_get_state (info), ==, ASAB_TASK_STATE_QUEUED);
      g_assert_cmpint (asab_task_info_get_kind (info), ==, ASAB_TASK_KIND_FUNCTION);
      g_assert_cmpint (asab_task_info_get_started_at (info), ==, 0);
      g_assert_cmpfloat (asab_task_info_get_progress (info), ==, -1.0);
      g_assert_null (asab_task_info_get_status (info));
    }
  g_assert_cmpstr (asab_task_info_get_name (watch_item (&watch, 0)), ==, "a");
  g_assert_cmpstr (asab_task_info_get_name (watch_item (&watch, 1)), ==, "b");
  g_assert_null (asab_task_info_get_name (watch_item (&watch, 2)));

  test_iterate_until (f->context, f->n_done == 3);
  g_assert_cmpuint (watch.shadow->len, ==, 0);

  watch_clear (&watch);
}

/* An item leaves the list right before its task's task-done. */
typedef struct
{
  Watch *watch;
  guint n_checked;
} DoneCheck;

static void
check_gone_before_done (AsabTaskService *service,
                        GTask           *task,
                        const GError    *error,
                        DoneCheck       *check)
{
  for (guint i = 0; i < check->watch->shadow->len; i++)
    g_assert_cmpstr (asab_task_info_get_name (watch_item (check->watch, i)), !=,
                     g_task_get_name (task));
  check->n_checked++;
}

static void
test_tasks_life (Fixture       *f,
                 gconstpointer  data)
{
  Watch watch = { 0 };
  DoneCheck check = { &watch, 0 };
  GTask *held = NULL;
  GTask *queued_task = NULL;
  g_autoptr(AsabTaskInfo) running = NULL;
  g_autoptr(AsabTaskInfo) queued = NULL;
  guint64 queued_id;

  watch_init (&watch, f);
  g_signal_connect (f->service, "task-done", G_CALLBACK (check_gone_before_done), &check);
  asab_task_service_set_max_concurrent (f->service, 1);

  asab_task_service_schedule_full (f->service, "running", hold_task, &held, NULL);
  queued_id = asab_task_service_schedule_full (f->service, "queued", hold_task, &queued_task, NULL);
  g_assert_cmpuint (watch.shadow->len, ==, 2);
  running = g_object_ref (watch_item (&watch, 0));
  queued = g_object_ref (watch_item (&watch, 1));

  test_iterate_until (f->context, held != NULL);
  g_assert_cmpint (asab_task_info_get_state (running), ==, ASAB_TASK_STATE_RUNNING);
  g_assert_cmpint (asab_task_info_get_started_at (running), >, 0);
  g_assert_cmpint (asab_task_info_get_started_at (running), <=, g_get_monotonic_time ());
  g_assert_cmpint (asab_task_info_get_state (queued), ==, ASAB_TASK_STATE_QUEUED);
  g_assert_cmpint (asab_task_info_get_started_at (queued), ==, 0);

  /* Cancelling is shown until the task has ended. */
  g_assert_true (asab_task_info_cancel (running));
  test_iterate_pending (f->context);
  g_assert_cmpint (asab_task_info_get_state (running), ==, ASAB_TASK_STATE_CANCELLING);
  g_assert_true (watch_has_id (&watch, asab_task_info_get_id (running)));

  g_task_return_boolean (held, TRUE);
  g_clear_object (&held);
  test_iterate_until (f->context, queued_task != NULL);
  g_assert_cmpuint (watch.shadow->len, ==, 1);
  g_assert_true (watch_has_id (&watch, queued_id));
  g_assert_cmpint (asab_task_info_get_state (queued), ==, ASAB_TASK_STATE_RUNNING);

  g_task_return_boolean (queued_task, TRUE);
  g_clear_object (&queued_task);
  test_iterate_until (f->context, f->n_done == 2);
  g_assert_cmpuint (watch.shadow->len, ==, 0);
  g_assert_cmpuint (check.n_checked, ==, 2);
  g_assert_false (asab_task_info_cancel (queued));

  watch_clear (&watch);
}

static gboolean
never_dispatched (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
complete_in_thread (GTask        *task,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

static void
test_tasks_kinds (Fixture       *f,
                  gconstpointer  data)
{
  Watch watch = { 0 };
  g_autoptr(GTask) gtask = g_task_new (NULL, NULL, NULL, NULL);
  GSource *source = g_timeout_source_new_seconds (3600);
  GTask *held = NULL;
  guint64 forever_id;
  gint64 first_start;
  AsabTaskInfo *forever;

  watch_init (&watch, f);
  g_source_set_callback (source, never_dispatched, NULL, NULL);
  g_source_set_name (source, "source");

  asab_task_service_schedule_full (f->service, "function", hold_task, &held, NULL);
  asab_task_service_schedule_in_thread (f->service, "in-thread", complete_in_thread, NULL, NULL);
  forever_id = asab_task_service_run_forever (f->service, "forever", complete_now, f, NULL);
  asab_task_service_schedule_task (f->service, gtask);
  asab_task_service_schedule_source (f->service, source);

  g_assert_cmpuint (watch.shadow->len, ==, 5);
  g_assert_cmpint (asab_task_info_get_kind (watch_item (&watch, 0)), ==, ASAB_TASK_KIND_FUNCTION);
  g_assert_cmpint (asab_task_info_get_kind (watch_item (&watch, 1)), ==, ASAB_TASK_KIND_IN_THREAD);
  g_assert_cmpint (asab_task_info_get_kind (watch_item (&watch, 2)), ==, ASAB_TASK_KIND_FOREVER);
  g_assert_cmpint (asab_task_info_get_kind (watch_item (&watch, 3)), ==, ASAB_TASK_KIND_GTASK);
  g_assert_cmpint (asab_task_info_get_kind (watch_item (&watch, 4)), ==, ASAB_TASK_KIND_GSOURCE);
  g_assert_cmpstr (asab_task_info_get_name (watch_item (&watch, 4)), ==, "source");
  /* A GTask or a GSource runs already. */
  g_assert_cmpint (asab_task_info_get_state (watch_item (&watch, 3)), ==, ASAB_TASK_STATE_RUNNING);
  g_assert_cmpint (asab_task_info_get_state (watch_item (&watch, 4)), ==, ASAB_TASK_STATE_RUNNING);

  /* A forever task is one item across its runs, started again and again. */
  test_iterate_until (f->context, held != NULL && watch.shadow->len == 4);
  forever = watch_item (&watch, 1);
  g_assert_cmpint (asab_task_info_get_kind (forever), ==, ASAB_TASK_KIND_FOREVER);
  first_start = asab_task_info_get_started_at (forever);
  g_assert_cmpint (first_start, >, 0);
  test_iterate_until (f->context, asab_task_info_get_started_at (forever) > first_start);
  g_assert_true (watch_item (&watch, 1) == forever);
  g_assert_cmpuint (asab_task_info_get_id (forever), ==, forever_id);

  g_task_return_boolean (held, TRUE);
  g_clear_object (&held);
  g_task_return_boolean (gtask, TRUE);
  asab_task_service_cancel (f->service, forever_id);
  g_source_destroy (source);
  test_iterate_until (f->context, watch.shadow->len == 0);
  g_assert_cmpuint (f->n_done, ==, 5);

  watch_clear (&watch);
}

/* What other threads schedule joins the list on the context's thread. */
static gpointer
schedule_from_thread (gpointer data)
{
  Fixture *f = data;

  for (guint i = 0; i < 100; i++)
    asab_task_service_schedule_full (f->service, "handed over", complete_now, f, NULL);

  return NULL;
}

static void
test_tasks_from_other_thread (Fixture       *f,
                              gconstpointer  data)
{
  Watch watch = { 0 };
  GThread *thread;

  watch_init (&watch, f);

  /* The context is held here: the other thread hands its tasks over. */
  thread = g_thread_new ("producer", schedule_from_thread, f);
  g_thread_join (thread);
  g_assert_cmpuint (watch.shadow->len, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 100);

  test_iterate_until (f->context, f->n_done == 100);
  g_assert_cmpuint (watch.shadow->len, ==, 0);
  /* Each was added, then removed. */
  g_assert_cmpuint (watch.n_changes, >=, 2);

  watch_clear (&watch);
}

static gpointer
get_tasks_in_thread (gpointer data)
{
  Fixture *f = data;

  return asab_task_service_get_tasks (f->service);
}

/* From a thread that does not hold the context, the list comes at once,
 * and the context fills it. */
static void
test_tasks_asked_from_other_thread (Fixture       *f,
                                    gconstpointer  data)
{
  GTask *held = NULL;
  g_autoptr(GListModel) model = NULL;

  asab_task_service_schedule_full (f->service, "held", hold_task, &held, NULL);
  model = g_thread_join (g_thread_new ("asker", get_tasks_in_thread, f));
  g_assert_nonnull (model);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);

  test_iterate_until (f->context, g_list_model_get_n_items (model) == 1 && held != NULL);
  {
    g_autoptr(AsabTaskInfo) info = g_list_model_get_item (model, 0);

    g_assert_cmpstr (asab_task_info_get_name (info), ==, "held");
  }

  g_task_return_boolean (held, TRUE);
  g_clear_object (&held);
  test_iterate_until (f->context, g_list_model_get_n_items (model) == 0);
}

/* Progress from worker threads at full speed: at most one update per item
 * per iteration of the context. */
#define N_REPORTERS 4

typedef struct
{
  Fixture *f;
  int stop;
  int n_reports;
} Reporters;

static void
report_until_stopped (GTask        *task,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  Reporters *reporters = user_data;
  guint64 n = 0;

  while (!g_atomic_int_get (&reporters->stop))
    {
      asab_task_service_set_progress (reporters->f->service, task, (n % 1000) / 1000.0, "reporting");
      n++;
    }

  g_atomic_int_add (&reporters->n_reports, (int) MIN (n, G_MAXINT / N_REPORTERS));
  g_task_return_boolean (task, TRUE);
}

typedef struct
{
  guint32 iteration;
  guint32 last_iteration[N_REPORTERS];
  guint n_notifies;
  gboolean twice_in_one_iteration;
} NotifyCount;

static gboolean
count_iteration_prepare (GSource *source,
                         int     *timeout)
{
  NotifyCount *count = *(NotifyCount **) (source + 1);

  count->iteration++;
  *timeout = -1;

  return FALSE;
}

static GSourceFuncs count_iteration_funcs = {
  .prepare = count_iteration_prepare,
};

static void
progress_notified (AsabTaskInfo *info,
                   GParamSpec   *pspec,
                   NotifyCount  *count)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (info), "index"));

  if (count->last_iteration[index] == count->iteration)
    count->twice_in_one_iteration = TRUE;
  count->last_iteration[index] = count->iteration;
  count->n_notifies++;
}

static void
test_progress_coalesced (Fixture       *f,
                         gconstpointer  data)
{
  Reporters reporters = { f, 0, 0 };
  NotifyCount count = { 0 };
  g_autoptr(GListModel) model = asab_task_service_get_tasks (f->service);
  GSource *counter = g_source_new (&count_iteration_funcs, sizeof (GSource) + sizeof (gpointer));
  gint64 end;

  *(NotifyCount **) (counter + 1) = &count;
  g_source_attach (counter, f->context);

  for (guint i = 0; i < N_REPORTERS; i++)
    asab_task_service_schedule_in_thread (f->service, "reporter", report_until_stopped, &reporters, NULL);
  for (guint i = 0; i < N_REPORTERS; i++)
    {
      g_autoptr(AsabTaskInfo) info = g_list_model_get_item (model, i);

      g_object_set_data (G_OBJECT (info), "index", GUINT_TO_POINTER (i));
      g_signal_connect (info, "notify::progress", G_CALLBACK (progress_notified), &count);
    }

  end = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  test_iterate_until (f->context, g_get_monotonic_time () > end && count.n_notifies > N_REPORTERS);
  g_atomic_int_set (&reporters.stop, 1);
  test_iterate_until (f->context, f->n_done == N_REPORTERS);

  g_test_message ("%d reports, %u progress notifications in %u iterations",
                  g_atomic_int_get (&reporters.n_reports), count.n_notifies, count.iteration);
  g_assert_false (count.twice_in_one_iteration);
  g_assert_cmpuint (count.n_notifies, <=, count.iteration * N_REPORTERS);
  g_assert_cmpint (g_atomic_int_get (&reporters.n_reports), >, (int) count.n_notifies);

  g_source_destroy (counter);
  g_source_unref (counter);
}

static void
report_once (GTask        *task,
             GCancellable *cancellable,
             gpointer      user_data)
{
  Fixture *f = user_data;

  asab_task_service_set_progress (f->service, task, 0.25, "a quarter");
  asab_task_service_set_progress (f->service, task, 0.5, "half");
  f->n_called++;
}

static void
test_progress_values (Fixture       *f,
                      gconstpointer  data)
{
  Watch watch = { 0 };
  AsabTaskInfo *info;

  watch_init (&watch, f);
  asab_task_service_schedule_full (f->service, "reporting", report_once, f, NULL);
  info = watch_item (&watch, 0);
  test_iterate_until (f->context, f->n_called == 1 && asab_task_info_get_status (info) != NULL);
  g_assert_cmpfloat (asab_task_info_get_progress (info), ==, 0.5);
  g_assert_cmpstr (asab_task_info_get_status (info), ==, "half");

  watch_clear (&watch);
}

static void
report_and_end (GTask        *task,
                GCancellable *cancellable,
                gpointer      user_data)
{
  Fixture *f = user_data;

  asab_task_service_set_progress (f->service, task, 1.0, "all done");
  g_task_return_boolean (task, TRUE);
}

/* A task that ends right after it reported shows that report before its
 * item goes. */
static void
test_progress_last_report (Fixture       *f,
                           gconstpointer  data)
{
  Watch watch = { 0 };
  g_autoptr(AsabTaskInfo) info = NULL;

  watch_init (&watch, f);
  asab_task_service_schedule_full (f->service, "quick", report_and_end, f, NULL);
  info = g_object_ref (watch_item (&watch, 0));
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpfloat (asab_task_info_get_progress (info), ==, 1.0);
  g_assert_cmpstr (asab_task_info_get_status (info), ==, "all done");

  watch_clear (&watch);
}

static void
test_progress_without_list (Fixture       *f,
                            gconstpointer  data)
{
  /* Nothing to show: nothing happens, and nothing complains. */
  asab_task_service_schedule_full (f->service, "reporting", report_once, f, NULL);
  test_iterate_until (f->context, f->n_called == 1);
}

/* Tasks tied to an object */

static void
test_for_object_queued (Fixture       *f,
                        gconstpointer  data)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  guint64 blocker, id;

  asab_task_service_set_max_concurrent (f->service, 1);
  blocker = asab_task_service_schedule_full (f->service, "blocker", wait_for_cancel, f, count_destroy);
  id = asab_task_service_schedule_for_object (f->service, owner, "owned", complete_now, f, count_destroy);
  g_assert_cmpuint (id, >, 0);
  test_iterate_until (f->context, f->n_called == 1);

  /* Queued behind the blocker: it ends without running. */
  g_object_unref (owner);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
  g_assert_cmpuint (f->n_called, ==, 1);
  g_assert_cmpuint (f->n_destroyed, ==, 1);

  asab_task_service_cancel (f->service, blocker);
  test_iterate_until (f->context, f->n_done == 2 && f->n_destroyed == 2);
}

static void
test_for_object_running (Fixture       *f,
                         gconstpointer  data)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);

  asab_task_service_schedule_for_object (f->service, owner, "owned", wait_for_cancel, f, count_destroy);
  test_iterate_until (f->context, f->n_called == 1);
  g_assert_cmpuint (f->n_done, ==, 0);

  g_object_run_dispose (owner);
  test_iterate_until (f->context, f->n_done == 1 && f->n_destroyed == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);

  g_object_unref (owner);
}

/* The task's function hands its work to a thread of its own, which ends
 * the task when it sees the cancellation. */
typedef struct
{
  GTask *task;
  int started;
} ThreadWork;

static gpointer
work_until_cancelled (gpointer data)
{
  ThreadWork *work = data;
  GCancellable *cancellable = g_task_get_cancellable (work->task);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GTask *task;

  g_atomic_int_set (&work->started, 1);
  while (!g_cancellable_is_cancelled (cancellable) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  /* The last touch of the test's data: after the task has ended, the test
   * may be gone. */
  task = g_steal_pointer (&work->task);
  if (!g_task_return_error_if_cancelled (task))
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);

  return NULL;
}

static void
start_thread_work (GTask        *task,
                   GCancellable *cancellable,
                   gpointer      user_data)
{
  ThreadWork *work = user_data;

  work->task = g_object_ref (task);
  g_thread_unref (g_thread_new ("work", work_until_cancelled, work));
}

static void
test_for_object_in_thread (Fixture       *f,
                           gconstpointer  data)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  ThreadWork work = { 0 };

  asab_task_service_schedule_for_object (f->service, owner, "owned", start_thread_work, &work, NULL);
  test_iterate_until (f->context, g_atomic_int_get (&work.started));

  g_object_unref (owner);
  test_iterate_until (f->context, f->n_done == 1);
  g_assert_cmpuint (f->n_done_cancelled, ==, 1);
}

/* An owner that outlives its tasks is not touched after they end. */
static void
test_for_object_outlives (Fixture       *f,
                          gconstpointer  data)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *weak_owner = owner;

  g_object_add_weak_pointer (owner, (gpointer *) &weak_owner);
  for (guint i = 0; i < 1000; i++)
    asab_task_service_schedule_for_object (f->service, owner, "owned", complete_now, f, count_destroy);
  test_iterate_until (f->context, f->n_done == 1000 && f->n_destroyed == 1000);
  g_assert_cmpuint (f->n_done_ok, ==, 1000);

  /* The service held no reference: the owner goes when its own does. */
  g_object_unref (owner);
  g_assert_null (weak_owner);
  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 1000);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/task-service/tasks/same-model", test_tasks_same_model);
  ADD ("/task-service/tasks/existing-tasks", test_tasks_existing);
  ADD ("/task-service/tasks/life", test_tasks_life);
  ADD ("/task-service/tasks/kinds", test_tasks_kinds);
  ADD ("/task-service/tasks/from-other-thread", test_tasks_from_other_thread);
  ADD ("/task-service/tasks/asked-from-other-thread", test_tasks_asked_from_other_thread);
  ADD ("/task-service/progress/coalesced", test_progress_coalesced);
  ADD ("/task-service/progress/values", test_progress_values);
  ADD ("/task-service/progress/last-report", test_progress_last_report);
  ADD ("/task-service/progress/without-list", test_progress_without_list);
  ADD ("/task-service/for-object/owner-goes-while-queued", test_for_object_queued);
  ADD ("/task-service/for-object/owner-goes-while-running", test_for_object_running);
  ADD ("/task-service/for-object/owner-goes-while-in-thread", test_for_object_in_thread);
  ADD ("/task-service/for-object/owner-outlives", test_for_object_outlives);

#undef ADD

  return g_test_run ();
}
