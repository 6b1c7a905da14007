/* test-bad-input.c: every public function, given what it must not be given
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <asab.h>

#include "test-util.h"

/* Each case makes one call that breaks the contract, or one that the
 * contract refuses, and states what a caller observes: a critical with the
 * assertion's text, or a documented refusal (0 or FALSE, the destroy notify
 * called once, a GSource given with transfer full released, a warning).
 * The harness then checks that nothing else happened, and that the service
 * still works.
 */

typedef struct
{
  GMainContext *context;
  AsabTaskService *service;
  /* A GObject of the wrong type, where a service or a GTask is expected. */
  GObject *impostor;
  guint n_done;
  guint n_destroyed;
  guint n_finalized;
  guint n_called;
  GThread *destroy_thread;
  gboolean stop_done;
} Fixture;

typedef struct
{
  const char *path;
  void (*call) (Fixture *f);
  /* The critical the call must log, in domain "Asab" unless said. */
  const char *domain;
  const char *pattern;
  /* What the refusal must have released. */
  guint n_destroyed;
  guint n_finalized;
  /* Structured warnings in domain "Asab": the refusals after stop. */
  guint n_warnings;
  /* Make the call on a service that has been stopped. */
  gboolean stopped;
} BadCase;

#define SERVICE_CHECK "*assertion 'ASAB_IS_TASK_SERVICE (self)' failed*"

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              Fixture         *f)
{
  f->n_done++;
}

static void
count_destroy (gpointer data)
{
  Fixture *f = data;

  f->n_destroyed++;
  f->destroy_thread = g_thread_self ();
}

/* The body of every task that a refused call gives: it must never run. */
static void
complete_now (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  Fixture *f = user_data;

  f->n_called++;
  g_task_return_boolean (task, TRUE);
}

/* The body of the tasks that a case runs on purpose. */
static void
complete_quietly (GTask        *task,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

/* A GSource that counts its finalization, to see that a source given with
 * transfer full is released once when the call is refused.
 */
typedef struct
{
  GSource source;
  guint *n_finalized;
} CountedSource;

static void
counted_source_finalize (GSource *source)
{
  CountedSource *counted = (CountedSource *) source;

  (*counted->n_finalized)++;
}

static GSourceFuncs counted_source_funcs = {
  .finalize = counted_source_finalize,
};

static GSource *
counted_source_new (Fixture *f)
{
  CountedSource *source;

  source = (CountedSource *) g_source_new (&counted_source_funcs, sizeof (CountedSource));
  source->n_finalized = &f->n_finalized;
  g_source_set_name ((GSource *) source, "counted");

  return (GSource *) source;
}

/* Cases: asab_task_service_new() and friends */

static void
new_null_context (Fixture *f)
{
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);

  /* NULL is documented: the thread-default context. */
  g_assert_true (asab_task_service_get_context (service) == f->context);
}

static void
new_for_application_null (Fixture *f)
{
  g_assert_null (asab_task_service_new_for_application (NULL));
}

static void
new_for_application_wrong_type (Fixture *f)
{
  g_assert_null (asab_task_service_new_for_application ((GApplication *) f->impostor));
}

static void
get_default_twice (Fixture *f)
{
  AsabTaskService *service = asab_task_service_get_default ();

  g_assert_true (ASAB_IS_TASK_SERVICE (service));
  g_assert_true (asab_task_service_get_default () == service);
  g_assert_true (asab_task_service_get_context (service) == g_main_context_default ());
}

static void
get_context_null (Fixture *f)
{
  g_assert_null (asab_task_service_get_context (NULL));
}

static void
get_context_wrong_type (Fixture *f)
{
  g_assert_null (asab_task_service_get_context ((AsabTaskService *) f->impostor));
}

static void
get_application_null (Fixture *f)
{
  g_assert_null (asab_task_service_get_application (NULL));
}

static void
get_application_wrong_type (Fixture *f)
{
  g_assert_null (asab_task_service_get_application ((AsabTaskService *) f->impostor));
}

/* Scheduling a function: schedule, schedule_full, schedule_threadsafe,
 * schedule_in_thread and run_forever share their contract.
 */

typedef guint64 (*ScheduleFunc) (AsabTaskService *self,
                                 const char      *name,
                                 AsabTaskFunc     func,
                                 gpointer         user_data,
                                 GDestroyNotify   destroy);

static guint64
schedule_without_destroy (AsabTaskService *self,
                          const char      *name,
                          AsabTaskFunc     func,
                          gpointer         user_data,
                          GDestroyNotify   destroy)
{
  g_assert_null (destroy);

  return asab_task_service_schedule (self, func, user_data);
}

static void
check_schedule_refused (Fixture         *f,
                        ScheduleFunc     schedule,
                        AsabTaskService *self,
                        AsabTaskFunc     func,
                        gboolean         with_destroy)
{
  guint64 id = schedule (self, "bad", func, f, with_destroy ? count_destroy : NULL);

  g_assert_cmpuint (id, ==, 0);
  if (with_destroy)
    g_assert_true (f->destroy_thread == g_thread_self ());
}

#define SCHEDULE_CASES(prefix, schedule_func, destroy) \
  static void \
  prefix##_null_self (Fixture *f) \
  { \
    check_schedule_refused (f, schedule_func, NULL, complete_now, destroy); \
  } \
  static void \
  prefix##_wrong_type (Fixture *f) \
  { \
    check_schedule_refused (f, schedule_func, (AsabTaskService *) f->impostor, complete_now, destroy); \
  } \
  static void \
  prefix##_null_func (Fixture *f) \
  { \
    check_schedule_refused (f, schedule_func, f->service, NULL, destroy); \
  } \
  static void \
  prefix##_after_stop (Fixture *f) \
  { \
    check_schedule_refused (f, schedule_func, f->service, complete_now, destroy); \
  }

SCHEDULE_CASES (schedule, schedule_without_destroy, FALSE)
SCHEDULE_CASES (schedule_full, asab_task_service_schedule_full, TRUE)
SCHEDULE_CASES (schedule_threadsafe, asab_task_service_schedule_threadsafe, TRUE)
SCHEDULE_CASES (schedule_in_thread, asab_task_service_schedule_in_thread, TRUE)
SCHEDULE_CASES (run_forever, asab_task_service_run_forever, TRUE)

static void
schedule_full_null_func_no_destroy (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_full (f->service, NULL, NULL, f, NULL), ==, 0);
}

static gpointer
schedule_threadsafe_in_thread (gpointer data)
{
  Fixture *f = data;

  return GSIZE_TO_POINTER (asab_task_service_schedule_threadsafe (f->service, "late", complete_now,
                                                                  f, count_destroy));
}

static void
schedule_threadsafe_after_stop_from_thread (Fixture *f)
{
  GThread *thread = g_thread_new ("late", schedule_threadsafe_in_thread, f);
  guint64 id = GPOINTER_TO_SIZE (g_thread_join (thread));

  /* Refused on the calling thread, which called the destroy notify. */
  g_assert_cmpuint (id, ==, 0);
  g_assert_true (f->destroy_thread == thread);
}

/* schedule_task */

static void
gtask_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
}

/* The GTask was given with transfer none: after the refusal it is still the
 * caller's, and completing it is not reported by the service.
 */
static void
check_gtask_untouched (Fixture *f,
                       GTask   *task)
{
  g_assert_cmpint (G_OBJECT (task)->ref_count, ==, 1);
  g_task_return_boolean (task, TRUE);
  test_iterate_pending (f->context);
  g_assert_true (g_task_get_completed (task));
}

static void
schedule_task_null_self (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, gtask_cb, NULL);

  g_assert_cmpuint (asab_task_service_schedule_task (NULL, task), ==, 0);
  check_gtask_untouched (f, task);
}

static void
schedule_task_wrong_type (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, gtask_cb, NULL);

  g_assert_cmpuint (asab_task_service_schedule_task ((AsabTaskService *) f->impostor, task), ==, 0);
  check_gtask_untouched (f, task);
}

static void
schedule_task_null_task (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, NULL), ==, 0);
}

static void
schedule_task_not_a_task (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, (GTask *) f->impostor), ==, 0);
}

static void
schedule_task_completed (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, gtask_cb, NULL);

  g_task_return_boolean (task, TRUE);
  test_iterate_pending (f->context);
  g_assert_true (g_task_get_completed (task));

  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), ==, 0);
}

static void
schedule_task_other_context (Fixture *f)
{
  g_autoptr(GMainContext) other = g_main_context_new ();
  g_autoptr(GTask) task = NULL;

  g_main_context_push_thread_default (other);
  task = g_task_new (NULL, NULL, gtask_cb, NULL);
  g_main_context_pop_thread_default (other);

  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), ==, 0);

  g_task_return_boolean (task, TRUE);
  test_iterate_pending (other);
}

static void
schedule_task_twice (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, gtask_cb, NULL);
  guint64 id;

  id = asab_task_service_schedule_task (f->service, task);
  g_assert_cmpuint (id, >, 0);

  /* Only the second call is bad: expect its critical alone. */
  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*assertion*adopted_quark*failed*");
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), ==, 0);
  g_test_assert_expected_messages ();

  g_task_return_boolean (task, TRUE);
  test_iterate_until (f->context, f->n_done == 1);
  f->n_done = 0;
}

static void
reschedule_own_task (GTask        *task,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  Fixture *f = user_data;

  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*assertion*asab_task_service_task_tag*failed*");
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), ==, 0);
  g_test_assert_expected_messages ();

  g_task_return_boolean (task, TRUE);
}

static void
schedule_task_own_task (Fixture *f)
{
  /* A task's own GTask is the service's already. */
  g_assert_cmpuint (asab_task_service_schedule (f->service, reschedule_own_task, f), >, 0);
  test_iterate_until (f->context, f->n_done == 1);
  f->n_done = 0;
}

static void
schedule_task_after_stop (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, gtask_cb, NULL);

  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), ==, 0);
  check_gtask_untouched (f, task);
}

/* schedule_source */

static void
schedule_source_null_source (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_source (f->service, NULL), ==, 0);
}

static void
schedule_source_null_self_null_source (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_source (NULL, NULL), ==, 0);
}

static void
schedule_source_null_self (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_source (NULL, counted_source_new (f)), ==, 0);
}

static void
schedule_source_wrong_type (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_source ((AsabTaskService *) f->impostor,
                                                       counted_source_new (f)), ==, 0);
}

static void
schedule_source_destroyed (Fixture *f)
{
  GSource *source = counted_source_new (f);

  g_source_destroy (source);
  g_assert_cmpuint (asab_task_service_schedule_source (f->service, source), ==, 0);
}

static void
schedule_source_attached (Fixture *f)
{
  GSource *source = counted_source_new (f);

  g_source_attach (source, f->context);
  g_assert_cmpuint (source->ref_count, ==, 2);

  /* Ours is released; the context's stays until the source goes. */
  g_assert_cmpuint (asab_task_service_schedule_source (f->service, g_source_ref (source)), ==, 0);
  g_assert_cmpuint (source->ref_count, ==, 2);
  g_assert_cmpuint (f->n_finalized, ==, 0);

  g_source_destroy (source);
  g_source_unref (source);
}

static void
schedule_source_after_stop (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_source (f->service, counted_source_new (f)), ==, 0);
}

/* cancel */

static void
cancel_null_self (Fixture *f)
{
  g_assert_false (asab_task_service_cancel (NULL, 1));
}

static void
cancel_wrong_type (Fixture *f)
{
  g_assert_false (asab_task_service_cancel ((AsabTaskService *) f->impostor, 1));
}

static void
cancel_zero (Fixture *f)
{
  g_assert_false (asab_task_service_cancel (f->service, 0));
}

static void
cancel_unknown (Fixture *f)
{
  g_assert_false (asab_task_service_cancel (f->service, 1));
  g_assert_false (asab_task_service_cancel (f->service, 12345));
  g_assert_false (asab_task_service_cancel (f->service, G_MAXUINT64));
}

static void
cancel_ended (Fixture *f)
{
  guint64 id = asab_task_service_schedule (f->service, complete_quietly, f);

  g_assert_cmpuint (id, >, 0);
  test_iterate_until (f->context, f->n_done == 1);
  f->n_done = 0;

  g_assert_false (asab_task_service_cancel (f->service, id));
  /* Nor is the id of an ended task handed out again. */
  g_assert_cmpuint (asab_task_service_schedule (f->service, complete_quietly, f), >, id);
  test_iterate_until (f->context, f->n_done == 1);
  f->n_done = 0;
}

static void
cancel_after_stop (Fixture *f)
{
  g_assert_false (asab_task_service_cancel (f->service, 1));
}

/* stop_async, stop_finish, stop */

static void
stop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  g_assert_true (asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, NULL));
  f->stop_done = TRUE;
}

static void
unexpected_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_assert_not_reached ();
}

static void
check_still_running (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule (f->service, complete_quietly, f), >, 0);
  test_iterate_until (f->context, f->n_done == 1);
  f->n_done = 0;
}

static void
stop_async_null_self (Fixture *f)
{
  asab_task_service_stop_async (NULL, NULL, unexpected_cb, f);
  test_iterate_pending (f->context);
}

static void
stop_async_wrong_type (Fixture *f)
{
  asab_task_service_stop_async ((AsabTaskService *) f->impostor, NULL, unexpected_cb, f);
  test_iterate_pending (f->context);
}

static void
stop_async_wrong_cancellable (Fixture *f)
{
  asab_task_service_stop_async (f->service, (GCancellable *) f->impostor, unexpected_cb, f);
  test_iterate_pending (f->context);
  /* A refused stop did not stop the service. */
  check_still_running (f);
}

static void
stop_async_after_stop (Fixture *f)
{
  asab_task_service_stop_async (f->service, NULL, stop_cb, f);
  test_iterate_until (f->context, f->stop_done);
}

static void
capture_result_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* A genuine result of stop_async(), to misuse. */
static GAsyncResult *
stop_result (Fixture *f)
{
  GAsyncResult *result = NULL;

  asab_task_service_stop_async (f->service, NULL, capture_result_cb, &result);
  test_iterate_until (f->context, result != NULL);

  return result;
}

static void
stop_finish_null_self (Fixture *f)
{
  g_autoptr(GAsyncResult) result = stop_result (f);

  g_assert_false (asab_task_service_stop_finish (NULL, result, NULL));
}

static void
stop_finish_wrong_type (Fixture *f)
{
  g_autoptr(GAsyncResult) result = stop_result (f);

  g_assert_false (asab_task_service_stop_finish ((AsabTaskService *) f->impostor, result, NULL));
}

static void
stop_finish_null_result (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (asab_task_service_stop_finish (f->service, NULL, &error));
  g_assert_no_error (error);
}

static void
stop_finish_not_a_result (Fixture *f)
{
  g_assert_false (asab_task_service_stop_finish (f->service, (GAsyncResult *) f->impostor, NULL));
}

static void
stop_finish_other_service (Fixture *f)
{
  g_autoptr(AsabTaskService) other = asab_task_service_new (NULL);
  g_autoptr(GAsyncResult) result = NULL;

  asab_task_service_stop_async (other, NULL, capture_result_cb, &result);
  test_iterate_until (f->context, result != NULL);

  g_assert_false (asab_task_service_stop_finish (f->service, result, NULL));
}

static void
stop_finish_other_operation (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (f->service, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_task_set_source_tag (task, stop_finish_other_operation);
  g_task_return_boolean (task, TRUE);
  g_assert_false (asab_task_service_stop_finish (f->service, G_ASYNC_RESULT (task), &error));
  g_assert_no_error (error);
}

static void
stop_null_self (Fixture *f)
{
  g_assert_false (asab_task_service_stop (NULL, NULL, NULL));
}

static void
stop_wrong_type (Fixture *f)
{
  g_assert_false (asab_task_service_stop ((AsabTaskService *) f->impostor, NULL, NULL));
}

static void
stop_wrong_cancellable (Fixture *f)
{
  g_assert_false (asab_task_service_stop (f->service, (GCancellable *) f->impostor, NULL));
}

static void
stop_after_stop (Fixture *f)
{
  asab_task_service_stop (f->service, NULL, NULL);
  asab_task_service_stop (f->service, NULL, NULL);
}

/* The task list, progress and tasks tied to an object */

static void
get_tasks_null_self (Fixture *f)
{
  g_assert_null (asab_task_service_get_tasks (NULL));
}

static void
get_tasks_wrong_type (Fixture *f)
{
  g_assert_null (asab_task_service_get_tasks ((AsabTaskService *) f->impostor));
}

static void
hold_task (GTask        *task,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GTask **slot = user_data;

  *slot = g_object_ref (task);
}

static void
set_progress_null_self (Fixture *f)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  asab_task_service_set_progress (NULL, task, 0.5, NULL);
}

static void
set_progress_null_task (Fixture *f)
{
  asab_task_service_set_progress (f->service, NULL, 0.5, NULL);
}

static void
set_progress_not_a_task (Fixture *f)
{
  asab_task_service_set_progress (f->service, (GTask *) f->impostor, 0.5, NULL);
}

/* Runs a held task on a service of its own, with a task list, calls
 * @report with @to and the task, and ends the task. */
static void
with_listed_task (Fixture         *f,
                  AsabTaskService *to,
                  void           (*report) (AsabTaskService *service,
                                            GTask           *task))
{
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);
  g_autoptr(GListModel) list = asab_task_service_get_tasks (service);
  GTask *task = NULL;

  asab_task_service_schedule_full (service, "listed", hold_task, &task, NULL);
  test_iterate_until (f->context, task != NULL);
  report (to != NULL ? to : service, task);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  test_iterate_until (f->context, asab_task_service_get_n_running (service) == 0);
}

static void
report_too_large (AsabTaskService *service,
                  GTask           *task)
{
  asab_task_service_set_progress (service, task, 1.5, NULL);
}

static void
report_nan (AsabTaskService *service,
            GTask           *task)
{
  asab_task_service_set_progress (service, task, NAN, NULL);
}

static void
set_progress_too_large (Fixture *f)
{
  with_listed_task (f, NULL, report_too_large);
}

static void
set_progress_nan (Fixture *f)
{
  with_listed_task (f, NULL, report_nan);
}

static void
report_half (AsabTaskService *service,
             GTask           *task)
{
  asab_task_service_set_progress (service, task, 0.5, NULL);
}

/* The task belongs to another service than the one it is reported to. */
static void
set_progress_other_service (Fixture *f)
{
  with_listed_task (f, f->service, report_half);
}

static void
schedule_for_object_null_owner (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_for_object (f->service, NULL, NULL, complete_now,
                                                           f, count_destroy), ==, 0);
}

static void
schedule_for_object_not_an_object (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_for_object (f->service, (GObject *) f, NULL,
                                                           complete_now, f, count_destroy), ==, 0);
}

static void
schedule_for_object_null_self (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_for_object (NULL, f->impostor, NULL, complete_now,
                                                           f, count_destroy), ==, 0);
}

static void
schedule_for_object_null_func (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_for_object (f->service, f->impostor, NULL, NULL,
                                                           f, count_destroy), ==, 0);
}

static void
schedule_for_object_after_stop (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_schedule_for_object (f->service, f->impostor, NULL,
                                                           complete_now, f, count_destroy), ==, 0);
}

static void
task_info_null (Fixture *f)
{
  g_assert_cmpuint (asab_task_info_get_id (NULL), ==, 0);
}

static void
task_info_cancel_wrong_type (Fixture *f)
{
  g_assert_false (asab_task_info_cancel ((AsabTaskInfo *) f->impostor));
}

/* Properties */

#define GETTER_CASES(name) \
  static void \
  get_##name##_null_self (Fixture *f) \
  { \
    g_assert_cmpuint (asab_task_service_get_##name (NULL), ==, 0); \
  } \
  static void \
  get_##name##_wrong_type (Fixture *f) \
  { \
    g_assert_cmpuint (asab_task_service_get_##name ((AsabTaskService *) f->impostor), ==, 0); \
  }

GETTER_CASES (n_running)
GETTER_CASES (n_queued)
GETTER_CASES (max_concurrent)
GETTER_CASES (max_queued)
GETTER_CASES (stop_timeout)

#define SETTER_CASES(name, value) \
  static void \
  set_##name##_null_self (Fixture *f) \
  { \
    asab_task_service_set_##name (NULL, value); \
  } \
  static void \
  set_##name##_wrong_type (Fixture *f) \
  { \
    asab_task_service_set_##name ((AsabTaskService *) f->impostor, value); \
  } \
  static void \
  set_##name##_too_large (Fixture *f) \
  { \
    guint before = asab_task_service_get_##name (f->service); \
    \
    asab_task_service_set_##name (f->service, (guint) G_MAXINT + 1); \
    g_assert_cmpuint (asab_task_service_get_##name (f->service), ==, before); \
    asab_task_service_set_##name (f->service, G_MAXUINT); \
    g_assert_cmpuint (asab_task_service_get_##name (f->service), ==, before); \
  } \
  static void \
  set_##name##_after_stop (Fixture *f) \
  { \
    asab_task_service_set_##name (f->service, value); \
    g_assert_cmpuint (asab_task_service_get_##name (f->service), ==, value); \
  }

SETTER_CASES (max_concurrent, 3)
SETTER_CASES (max_queued, 7)
SETTER_CASES (stop_timeout, 250)

static void
counts_after_stop (Fixture *f)
{
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 0);
  g_assert_true (asab_task_service_get_context (f->service) == f->context);
  g_assert_null (asab_task_service_get_application (f->service));
}

/* The table */

#define CRITICAL(pattern) "Asab", pattern
#define NO_MESSAGE NULL, NULL
#define STOPPED TRUE

static const BadCase cases[] = {
  { "/bad-input/new/null-context", new_null_context, NO_MESSAGE },
  { "/bad-input/new-for-application/null", new_for_application_null,
    CRITICAL ("*assertion 'G_IS_APPLICATION (application)' failed*") },
  { "/bad-input/new-for-application/wrong-type", new_for_application_wrong_type,
    CRITICAL ("*assertion 'G_IS_APPLICATION (application)' failed*") },
  { "/bad-input/get-default/twice", get_default_twice, NO_MESSAGE },
  { "/bad-input/get-context/null-self", get_context_null, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-context/wrong-type", get_context_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-application/null-self", get_application_null, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-application/wrong-type", get_application_wrong_type, CRITICAL (SERVICE_CHECK) },

  { "/bad-input/schedule/null-self", schedule_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/schedule/wrong-type", schedule_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/schedule/null-func", schedule_null_func,
    CRITICAL ("*assertion 'func != NULL' failed*") },
  { "/bad-input/schedule/after-stop", schedule_after_stop, NO_MESSAGE, 0, 0, 1, STOPPED },

  { "/bad-input/schedule-full/null-self", schedule_full_null_self, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-full/wrong-type", schedule_full_wrong_type, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-full/null-func", schedule_full_null_func,
    CRITICAL ("*assertion 'func != NULL' failed*"), 1 },
  { "/bad-input/schedule-full/null-func-no-destroy", schedule_full_null_func_no_destroy,
    CRITICAL ("*assertion 'func != NULL' failed*") },
  { "/bad-input/schedule-full/after-stop", schedule_full_after_stop, NO_MESSAGE, 1, 0, 1, STOPPED },

  { "/bad-input/schedule-threadsafe/null-self", schedule_threadsafe_null_self, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-threadsafe/wrong-type", schedule_threadsafe_wrong_type, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-threadsafe/null-func", schedule_threadsafe_null_func,
    CRITICAL ("*assertion 'func != NULL' failed*"), 1 },
  { "/bad-input/schedule-threadsafe/after-stop", schedule_threadsafe_after_stop,
    NO_MESSAGE, 1, 0, 1, STOPPED },
  { "/bad-input/schedule-threadsafe/after-stop-from-thread", schedule_threadsafe_after_stop_from_thread,
    NO_MESSAGE, 1, 0, 1, STOPPED },

  { "/bad-input/schedule-in-thread/null-self", schedule_in_thread_null_self, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-in-thread/wrong-type", schedule_in_thread_wrong_type, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-in-thread/null-func", schedule_in_thread_null_func,
    CRITICAL ("*assertion 'func != NULL' failed*"), 1 },
  { "/bad-input/schedule-in-thread/after-stop", schedule_in_thread_after_stop,
    NO_MESSAGE, 1, 0, 1, STOPPED },

  { "/bad-input/run-forever/null-self", run_forever_null_self, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/run-forever/wrong-type", run_forever_wrong_type, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/run-forever/null-func", run_forever_null_func,
    CRITICAL ("*assertion 'func != NULL' failed*"), 1 },
  { "/bad-input/run-forever/after-stop", run_forever_after_stop, NO_MESSAGE, 1, 0, 1, STOPPED },

  { "/bad-input/schedule-task/null-self", schedule_task_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/schedule-task/wrong-type", schedule_task_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/schedule-task/null-task", schedule_task_null_task,
    CRITICAL ("*assertion 'G_IS_TASK (task)' failed*") },
  { "/bad-input/schedule-task/not-a-task", schedule_task_not_a_task,
    CRITICAL ("*assertion 'G_IS_TASK (task)' failed*") },
  { "/bad-input/schedule-task/completed", schedule_task_completed,
    CRITICAL ("*assertion '!g_task_get_completed (task)' failed*") },
  { "/bad-input/schedule-task/other-context", schedule_task_other_context,
    CRITICAL ("*assertion 'g_task_get_context (task) == self->context' failed*") },
  { "/bad-input/schedule-task/twice", schedule_task_twice, NO_MESSAGE },
  { "/bad-input/schedule-task/own-task", schedule_task_own_task, NO_MESSAGE },
  { "/bad-input/schedule-task/after-stop", schedule_task_after_stop, NO_MESSAGE, 0, 0, 1, STOPPED },

  { "/bad-input/schedule-source/null-source", schedule_source_null_source,
    CRITICAL ("*assertion 'source != NULL' failed*") },
  { "/bad-input/schedule-source/null-self-null-source", schedule_source_null_self_null_source,
    CRITICAL ("*assertion 'source != NULL' failed*") },
  { "/bad-input/schedule-source/null-self", schedule_source_null_self, CRITICAL (SERVICE_CHECK), 0, 1 },
  { "/bad-input/schedule-source/wrong-type", schedule_source_wrong_type, CRITICAL (SERVICE_CHECK), 0, 1 },
  { "/bad-input/schedule-source/destroyed", schedule_source_destroyed,
    CRITICAL ("*assertion '!g_source_is_destroyed (source)' failed*"), 0, 1 },
  { "/bad-input/schedule-source/attached", schedule_source_attached,
    CRITICAL ("*assertion 'g_source_get_context (source) == NULL' failed*"), 0, 1 },
  { "/bad-input/schedule-source/after-stop", schedule_source_after_stop, NO_MESSAGE, 0, 1, 1, STOPPED },

  { "/bad-input/cancel/null-self", cancel_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/cancel/wrong-type", cancel_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/cancel/zero-id", cancel_zero, NO_MESSAGE },
  { "/bad-input/cancel/unknown-id", cancel_unknown, NO_MESSAGE },
  { "/bad-input/cancel/ended-id", cancel_ended, NO_MESSAGE },
  { "/bad-input/cancel/after-stop", cancel_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },

  { "/bad-input/stop-async/null-self", stop_async_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/stop-async/wrong-type", stop_async_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/stop-async/wrong-cancellable", stop_async_wrong_cancellable,
    CRITICAL ("*assertion 'cancellable == NULL || G_IS_CANCELLABLE (cancellable)' failed*") },
  { "/bad-input/stop-async/after-stop", stop_async_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },

  { "/bad-input/stop-finish/null-self", stop_finish_null_self, CRITICAL (SERVICE_CHECK), 0, 0, 0, STOPPED },
  { "/bad-input/stop-finish/wrong-type", stop_finish_wrong_type, CRITICAL (SERVICE_CHECK), 0, 0, 0, STOPPED },
  { "/bad-input/stop-finish/null-result", stop_finish_null_result,
    CRITICAL ("*assertion 'g_task_is_valid (result, self)' failed*") },
  { "/bad-input/stop-finish/not-a-result", stop_finish_not_a_result,
    CRITICAL ("*assertion 'g_task_is_valid (result, self)' failed*") },
  { "/bad-input/stop-finish/other-service", stop_finish_other_service,
    CRITICAL ("*assertion 'g_task_is_valid (result, self)' failed*") },
  { "/bad-input/stop-finish/other-operation", stop_finish_other_operation,
    CRITICAL ("*assertion 'g_task_get_source_tag (G_TASK (result)) == asab_task_service_stop_async' failed*") },

  { "/bad-input/stop/null-self", stop_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/stop/wrong-type", stop_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/stop/wrong-cancellable", stop_wrong_cancellable,
    CRITICAL ("*assertion 'cancellable == NULL || G_IS_CANCELLABLE (cancellable)' failed*") },
  { "/bad-input/stop/after-stop", stop_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },

  { "/bad-input/get-tasks/null-self", get_tasks_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-tasks/wrong-type", get_tasks_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-progress/null-self", set_progress_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-progress/null-task", set_progress_null_task,
    CRITICAL ("*assertion 'G_IS_TASK (task)' failed*") },
  { "/bad-input/set-progress/not-a-task", set_progress_not_a_task,
    CRITICAL ("*assertion 'G_IS_TASK (task)' failed*") },
  { "/bad-input/set-progress/above-one", set_progress_too_large,
    CRITICAL ("*assertion 'fraction <= 1.0' failed*") },
  { "/bad-input/set-progress/nan", set_progress_nan,
    CRITICAL ("*assertion 'fraction <= 1.0' failed*") },
  { "/bad-input/set-progress/other-service", set_progress_other_service,
    CRITICAL ("*assertion 'mapping->service == self' failed*") },
  { "/bad-input/schedule-for-object/null-self", schedule_for_object_null_self, CRITICAL (SERVICE_CHECK), 1 },
  { "/bad-input/schedule-for-object/null-owner", schedule_for_object_null_owner,
    CRITICAL ("*assertion 'G_IS_OBJECT (owner)' failed*"), 1 },
  { "/bad-input/schedule-for-object/not-an-object", schedule_for_object_not_an_object,
    CRITICAL ("*assertion 'G_IS_OBJECT (owner)' failed*"), 1 },
  { "/bad-input/schedule-for-object/null-func", schedule_for_object_null_func,
    CRITICAL ("*assertion 'func != NULL' failed*"), 1 },
  { "/bad-input/schedule-for-object/after-stop", schedule_for_object_after_stop, NO_MESSAGE, 1, 0, 1, STOPPED },
  { "/bad-input/task-info/null", task_info_null,
    CRITICAL ("*assertion 'ASAB_IS_TASK_INFO (self)' failed*") },
  { "/bad-input/task-info/cancel-wrong-type", task_info_cancel_wrong_type,
    CRITICAL ("*assertion 'ASAB_IS_TASK_INFO (self)' failed*") },
  { "/bad-input/get-n-running/null-self", get_n_running_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-n-running/wrong-type", get_n_running_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-n-queued/null-self", get_n_queued_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-n-queued/wrong-type", get_n_queued_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-max-concurrent/null-self", get_max_concurrent_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-max-concurrent/wrong-type", get_max_concurrent_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-max-queued/null-self", get_max_queued_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-max-queued/wrong-type", get_max_queued_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-stop-timeout/null-self", get_stop_timeout_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/get-stop-timeout/wrong-type", get_stop_timeout_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/getters/after-stop", counts_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },

  { "/bad-input/set-max-concurrent/null-self", set_max_concurrent_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-max-concurrent/wrong-type", set_max_concurrent_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-max-concurrent/too-large", set_max_concurrent_too_large,
    CRITICAL ("*assertion 'max_concurrent <= G_MAXINT' failed*") },
  { "/bad-input/set-max-concurrent/after-stop", set_max_concurrent_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },
  { "/bad-input/set-max-queued/null-self", set_max_queued_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-max-queued/wrong-type", set_max_queued_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-max-queued/too-large", set_max_queued_too_large,
    CRITICAL ("*assertion 'max_queued <= G_MAXINT' failed*") },
  { "/bad-input/set-max-queued/after-stop", set_max_queued_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },
  { "/bad-input/set-stop-timeout/null-self", set_stop_timeout_null_self, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-stop-timeout/wrong-type", set_stop_timeout_wrong_type, CRITICAL (SERVICE_CHECK) },
  { "/bad-input/set-stop-timeout/too-large", set_stop_timeout_too_large,
    CRITICAL ("*assertion 'timeout_ms <= G_MAXINT' failed*") },
  { "/bad-input/set-stop-timeout/after-stop", set_stop_timeout_after_stop, NO_MESSAGE, 0, 0, 0, STOPPED },
};

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->context = test_context_new ();
  f->service = asab_task_service_new (NULL);
  f->impostor = g_object_new (G_TYPE_OBJECT, NULL);
  g_object_add_weak_pointer (G_OBJECT (f->service), (gpointer *) &f->service);
  g_signal_connect (f->service, "task-done", G_CALLBACK (on_task_done), f);
}

/* Nothing keeps the service once the test lets it go. */
static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_object_unref (f->service);
  g_assert_null (f->service);
  g_object_unref (f->impostor);
  test_context_free (f->context);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  const BadCase *bad = data;
  guint n_warnings;

  if (bad->stopped)
    {
      asab_task_service_stop (f->service, NULL, NULL);
      g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 0);
    }

  /* The setters are called twice with a value that is too large. */
  if (bad->domain != NULL)
    g_test_expect_message (bad->domain, G_LOG_LEVEL_CRITICAL, bad->pattern);
  if (bad->domain != NULL && g_str_has_suffix (bad->path, "/too-large"))
    g_test_expect_message (bad->domain, G_LOG_LEVEL_CRITICAL, bad->pattern);

  bad->call (f);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (f->n_destroyed, ==, bad->n_destroyed);
  g_assert_cmpuint (f->n_finalized, ==, bad->n_finalized);
  n_warnings = test_captured_count (G_LOG_LEVEL_WARNING);
  g_assert_cmpuint (n_warnings, ==, bad->n_warnings);
  if (n_warnings > 0)
    g_assert_nonnull (strstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, "stopped"));

  /* Nothing ran, nothing ended, nothing is left over. */
  test_iterate_pending (f->context);
  g_assert_cmpuint (f->n_done, ==, 0);
  g_assert_cmpuint (f->n_called, ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_running (f->service), ==, 0);
  g_assert_cmpuint (asab_task_service_get_n_queued (f->service), ==, 0);

  /* And the service still does its work, or still refuses it. */
  if (!bad->stopped && !g_str_has_prefix (bad->path, "/bad-input/stop/"))
    {
      g_assert_cmpuint (asab_task_service_schedule_full (f->service, "after", complete_now,
                                                         f, count_destroy), >, 0);
      test_iterate_until (f->context, f->n_done == 1);
      g_assert_cmpuint (f->n_destroyed, ==, bad->n_destroyed + 1);
    }
}

/* Bad calls one after the other on the same service, which still tracks the
 * task it accepted in between. */
static void
test_bad_calls_in_a_row (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GTask) done_task = NULL;
  g_autoptr(GTask) task = NULL;
  GSource *attached;
  GSource *destroyed;

  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*ASAB_IS_TASK_SERVICE*");
  g_assert_cmpuint (asab_task_service_schedule_full (NULL, NULL, complete_now, f, count_destroy), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->n_destroyed, ==, 1);

  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_cmpuint (asab_task_service_schedule_full (f->service, NULL, NULL, f, count_destroy), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->n_destroyed, ==, 2);

  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_cmpuint (asab_task_service_schedule_threadsafe (f->service, NULL, NULL, f, count_destroy), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->n_destroyed, ==, 3);

  /* A GTask that has completed already. */
  done_task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_return_boolean (done_task, TRUE);
  test_iterate_pending (f->context);
  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*g_task_get_completed*");
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, done_task), ==, 0);
  g_test_assert_expected_messages ();

  /* A GTask that the service tracks already. */
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), >, 0);
  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*adopted_quark*");
  g_assert_cmpuint (asab_task_service_schedule_task (f->service, task), ==, 0);
  g_test_assert_expected_messages ();

  /* A GSource attached elsewhere, and one destroyed. */
  attached = g_idle_source_new ();
  g_source_attach (attached, f->context);
  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*g_source_get_context*");
  g_assert_cmpuint (asab_task_service_schedule_source (f->service, g_source_ref (attached)), ==, 0);
  g_test_assert_expected_messages ();
  g_source_destroy (attached);
  destroyed = attached;
  g_test_expect_message ("Asab", G_LOG_LEVEL_CRITICAL, "*g_source_is_destroyed*");
  g_assert_cmpuint (asab_task_service_schedule_source (f->service, destroyed), ==, 0);
  g_test_assert_expected_messages ();

  g_task_return_boolean (task, TRUE);
  test_iterate_until (f->context, f->n_done == 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();
  g_test_summary ("Every public function, called with NULL, an object of the wrong type, "
                  "an unknown id, or after stop, logs a critical or refuses as documented, "
                  "and leaks nothing");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add (cases[i].path, Fixture, &cases[i], fixture_setup, test_bad_input, fixture_teardown);
  g_test_add ("/task-service/bad-input", Fixture, NULL, fixture_setup, test_bad_calls_in_a_row,
              fixture_teardown);

  return g_test_run ();
}
