/* asab-task-service.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdatomic.h>

#include <glib/gi18n-lib.h>

#include "asab-task-service.h"
#include "asab-id-table-private.h"
#include "asab-marshal.h"

/**
 * AsabTaskService:
 *
 * Runs fire-and-forget background tasks on a [struct@GLib.MainContext].
 *
 * `AsabTaskService` is the GLib counterpart of the TaskService of
 * [ASAB](https://github.com/TeskaLabs/asab): a task is scheduled, runs on
 * the service's main context, its result is collected and discarded, a
 * failure is written to the log, and [signal@Asab.TaskService::task-done]
 * is emitted once when it has ended.
 *
 * A task is an [callback@Asab.TaskFunc] that receives a [class@Gio.Task];
 * the task ends when that `GTask` is completed with one of the
 * `g_task_return_*()` functions, which may happen before the function
 * returns or later, from the callback of an asynchronous call:
 *
 * ```c
 * static void
 * fetch (GTask        *task,
 *        GCancellable *cancellable,
 *        gpointer      user_data)
 * {
 *   GFile *file = user_data;
 *
 *   g_file_load_contents_async (file, cancellable, on_loaded,
 *                               g_object_ref (task));
 * }
 *
 * asab_task_service_schedule_full (asab_task_service_get_default (),
 *                                  "fetch", fetch,
 *                                  g_object_ref (file), g_object_unref);
 * ```
 *
 * Tasks can also be scheduled from other threads
 * ([method@Asab.TaskService.schedule_threadsafe]), run on a worker thread
 * ([method@Asab.TaskService.schedule_in_thread]), be restarted whenever
 * they end ([method@Asab.TaskService.run_forever]), or be an existing
 * `GTask` or [struct@GLib.Source] that the service tracks.
 * [method@Asab.TaskService.stop_async] cancels what is left and reports
 * what did not finish in time.
 *
 * The service dispatches everything from one `GSource` of its own. It does
 * not wake the main context while it has nothing to do, including while
 * tasks are pending but none of them is making progress.
 *
 * Unless a function says otherwise, call it from the thread that runs the
 * service's main context.
 *
 * Since: 1.0
 */

#define DEFAULT_STOP_TIMEOUT_MS   5000
#define DISPATCH_BUDGET_USEC      1000
#define FOREVER_BACKOFF_MIN_MS    5
#define FOREVER_BACKOFF_MAX_MS    2000
#define FOREVER_HEALTHY_RUN_USEC  (5 * G_USEC_PER_SEC)
/* Queued tasks get their GTask and cancellable only shortly before they
 * start, this many at most ahead of their turn, so that a long queue holds
 * little memory and the cancellables of ended tasks serve the next ones. */
#define PRIME_AHEAD               512
#define PRIME_BATCH               64
#define SPARE_CANCELLABLES_MAX    (2 * PRIME_AHEAD)
#define SPARE_CANCELLABLES_IDLE   32
#define REFUSAL_LOG_INTERVAL_USEC (10 * G_USEC_PER_SEC)

typedef enum
{
  TASK_KIND_FUNC,
  TASK_KIND_THREAD,
  TASK_KIND_FOREVER,
  TASK_KIND_GTASK,
  TASK_KIND_SOURCE,
} TaskKind;

/* Every record is in exactly one of the queues that its state names. */
typedef enum
{
  TASK_STATE_NONE,              /* in no queue */
  TASK_STATE_IN_TRANSIT,        /* scheduled from another thread */
  TASK_STATE_ARRIVED,           /* handed over, waits to join the queue */
  TASK_STATE_QUEUED,            /* waits for its turn; has a GTask once primed */
  TASK_STATE_DELAYED,           /* forever: waits out its back-off */
  TASK_STATE_IN_FUNC,           /* its function is on the stack */
  TASK_STATE_RETURNED_IN_FUNC,  /* completed before its function returned */
  TASK_STATE_RUNNING,           /* started; waits to be completed */
  TASK_STATE_CLOSING,           /* returned by the service; waits for the GTask callback */
  TASK_STATE_FINISHED,          /* completed; waits for its task-done */
  TASK_STATE_ENDING,            /* its end is being reported, on the stack */
} TaskState;

typedef struct _TaskRecord
{
  /* First, so that the id table can use it as the key. */
  guint64 id;
  GList link;
  GTask *task;
  union {
    struct {
      AsabTaskFunc func;
      gpointer user_data;
      GDestroyNotify destroy;
    };
    GSource *source;
    gulong completed_handler;
  };
  /* Thread of the context only, or set before the record is shared. */
  guint8 kind;
  guint8 state;
  guint8 started : 1;
  guint8 has_name : 1;
  /* Under the service lock: cancel() has been called for it. */
  guint8 cancel_requested;
  /* The iteration in which it got its GTask. */
  guint32 stamp;
  /* Then a ForeverState for a forever task, then the name of a task that
   * has no GTask to hold it yet: most tasks need neither. */
} TaskRecord;

typedef struct
{
  /* When the current run started, or when the next one is due. */
  gint64 time;
  guint backoff_ms;
} ForeverState;

static inline ForeverState *
task_record_forever (TaskRecord *rec)
{
  g_assert (rec->kind == TASK_KIND_FOREVER);

  return (ForeverState *) (rec + 1);
}

static inline const char *
task_record_name (TaskRecord *rec)
{
  if (!rec->has_name)
    return NULL;

  return (char *) (rec + 1) + (rec->kind == TASK_KIND_FOREVER ? sizeof (ForeverState) : 0);
}

typedef struct
{
  GSource source;
  /* Counts the context's iterations: prepare runs once per iteration. */
  guint32 iteration;
  GWeakRef service;
} DispatchSource;

struct _AsabTaskService
{
  GObject parent_instance;

  GMainContext *context;
  GSource *dispatcher;
  GWeakRef application;

  /* Thread of the context only. */
  GQueue queued;
  /* How many queued tasks have their GTask. */
  guint n_primed;
  /* The task whose function is on the stack, if any. */
  struct _TaskRecord *in_func;
  GQueue running;
  GQueue delayed;
  GQueue finished;
  GPtrArray *spare_cancellables;
  GPtrArray *stop_tasks;
  guint processing;
  /* Tasks that have ended but are still counted as running or queued until
   * their task-done; those of them whose end cannot be processed before the
   * stack unwinds (their function, or a handler of their end, is running)
   * are on the stack. A stop reports only the others as pending, and
   * completes without waiting for those on the stack. */
  guint n_ended_started;
  guint n_ended_unstarted;
  guint n_ended_on_stack;
  /* Set at construction. */
  gboolean has_application;
  guint notified_n_running;
  guint notified_n_queued;
  guint swept : 1;

  /* Any thread, under the lock. */
  GMutex lock;
  AsabIdTable ids;
  GQueue in_transit;
  GQueue arrived;
  GArray *cancelled_ids;
  GPtrArray *gone_sources;
  /* Whole fields, not bits: producers write these under the lock while the
   * context's thread reads stopping, which only it writes, without it. */
  gboolean handoff_pending;
  gboolean wake_pending;
  gboolean stopping;
  gboolean holding_application;
  /* A reference of the service on itself while it has live tasks: a task
   * that has no GTask yet has nothing else to keep it alive. */
  gboolean kept_alive;

  /* Any thread, atomic. */
  /* Written only by the thread that holds the context, read anywhere: with
   * one writer, counting needs no locked instruction. */
  atomic_uint n_running;
  atomic_uint n_queued;
  /* Changed under the lock, read anywhere. */
  atomic_uint n_in_transit;
  int max_concurrent;
  int max_queued;
  int stop_timeout_ms;
  gint64 last_full_warning;
  int n_refused_quietly;
};

G_DEFINE_FINAL_TYPE (AsabTaskService, asab_task_service, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_APPLICATION,
  PROP_MAX_CONCURRENT,
  PROP_MAX_QUEUED,
  PROP_STOP_TIMEOUT,
  PROP_N_RUNNING,
  PROP_N_QUEUED,
  N_PROPS
};

enum {
  TASK_DONE,
  TASK_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint cancelled_signal_id;
static GQuark adopted_quark;

static inline guint
counter_get (atomic_uint *counter)
{
  return atomic_load_explicit (counter, memory_order_relaxed);
}

/* For a counter that only one thread at a time changes. */
static inline void
counter_add (atomic_uint *counter,
             int          delta)
{
  atomic_store_explicit (counter,
                         atomic_load_explicit (counter, memory_order_relaxed) + delta,
                         memory_order_relaxed);
}

static void service_process (AsabTaskService *self);
static void queue_splice_tail (GQueue *dest,
                               GQueue *src);
static void service_receive_in_transit (AsabTaskService *self);
static void task_record_start (AsabTaskService *self,
                               TaskRecord      *rec);

/* The tag of every GTask the service creates for a task. */
static void
asab_task_service_task_tag (void)
{
}

/* Logging */

static void
service_log (GLogLevelFlags  level,
             const char     *id,
             const char     *name,
             const char     *message)
{
  g_log_structured (G_LOG_DOMAIN, level,
                    "ASAB_TASK_ID", id,
                    "ASAB_TASK_NAME", name != NULL ? name : "",
                    "MESSAGE", "%s", message);
}

#define ID_STR_SIZE 24

static const char *
format_id (char    buffer[ID_STR_SIZE],
           guint64 id)
{
  g_snprintf (buffer, ID_STR_SIZE, "%" G_GUINT64_FORMAT, id);

  return buffer;
}

static void
service_log_failure (guint64       id,
                     const char   *name,
                     const GError *error)
{
  char id_str[ID_STR_SIZE];
  g_autofree char *message = NULL;

  format_id (id_str, id);
  if (name != NULL)
    /* Translators: the first %s is the name of a task, the second its
     * number, the third the error message. */
    message = g_strdup_printf (_("Task “%s” (%s) failed: %s"), name, id_str, error->message);
  else
    /* Translators: the first %s is the number of a task, the second the
     * error message. */
    message = g_strdup_printf (_("Unnamed task (%s) failed: %s"), id_str, error->message);

  service_log (G_LOG_LEVEL_WARNING, id_str, name, message);
}

static void
service_log_refusal (const char *name)
{
  g_autofree char *message = NULL;

  if (name != NULL)
    message = g_strdup_printf (_("The task service has been stopped: task “%s” was refused"), name);
  else
    message = g_strdup (_("The task service has been stopped: an unnamed task was refused"));

  service_log (G_LOG_LEVEL_WARNING, "0", name, message);
}

/* Says that the queue is full at most once per interval, from whichever
 * thread was refused, with the number of refusals it kept quiet about.
 */
static void
service_log_full (AsabTaskService *self,
                  const char      *name)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree char *message = NULL;
  guint limit = g_atomic_int_get (&self->max_queued);
  guint quiet;

  g_mutex_lock (&self->lock);
  if (self->last_full_warning != 0 && now - self->last_full_warning < REFUSAL_LOG_INTERVAL_USEC)
    {
      self->n_refused_quietly++;
      g_mutex_unlock (&self->lock);
      return;
    }
  self->last_full_warning = now;
  quiet = self->n_refused_quietly;
  self->n_refused_quietly = 0;
  g_mutex_unlock (&self->lock);

  if (name != NULL)
    /* Translators: %s is the name of a task, the first %u the queue's
     * limit, the second how many tasks were refused without a warning
     * since the last one. */
    message = g_strdup_printf (_("The task queue is full: task “%s” was refused (limit %u, "
                                 "%u more refused since the last warning)"),
                               name, limit, quiet);
  else
    message = g_strdup_printf (_("The task queue is full: an unnamed task was refused (limit %u, "
                                 "%u more refused since the last warning)"),
                               limit, quiet);

  service_log (G_LOG_LEVEL_WARNING, "0", name, message);
}

static inline gboolean
service_queue_is_full (AsabTaskService *self)
{
  guint max = g_atomic_int_get (&self->max_queued);

  return max != 0 && counter_get (&self->n_queued) + counter_get (&self->n_in_transit) >= max;
}

/* Checks a precondition like g_return_val_if_fail(), and also releases what
 * the call was given, so that a refused call leaks nothing.
 */
#define return_refused_if_fail(expr, release) \
  G_STMT_START { \
    if (G_LIKELY (expr)) \
      { } \
    else \
      { \
        g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, #expr); \
        release; \
        return 0; \
      } \
  } G_STMT_END

/* The dispatcher */

static gboolean
dispatch_source_prepare (GSource *source,
                         int     *timeout)
{
  DispatchSource *ds = (DispatchSource *) source;

  ds->iteration++;
  *timeout = -1;

  return FALSE;
}

static gboolean
dispatch_source_dispatch (GSource     *source,
                          GSourceFunc  callback,
                          gpointer     user_data)
{
  DispatchSource *ds = (DispatchSource *) source;
  g_autoptr(AsabTaskService) self = g_weak_ref_get (&ds->service);

  if (self != NULL)
    service_process (self);

  return G_SOURCE_CONTINUE;
}

static void
dispatch_source_finalize (GSource *source)
{
  DispatchSource *ds = (DispatchSource *) source;

  g_weak_ref_clear (&ds->service);
}

static GSourceFuncs dispatch_source_funcs = {
  .prepare = dispatch_source_prepare,
  .dispatch = dispatch_source_dispatch,
  .finalize = dispatch_source_finalize,
};

static inline guint32
service_iteration (AsabTaskService *self)
{
  return ((DispatchSource *) self->dispatcher)->iteration;
}

/* Makes the dispatcher run on the next iteration. Changes to the ready time
 * are made under the lock only, so that a request from another thread is
 * never lost to the dispatcher deciding at the same time that it can sleep.
 */
static void
service_wake_locked (AsabTaskService *self)
{
  if (!self->wake_pending)
    {
      self->wake_pending = TRUE;
      g_source_set_ready_time (self->dispatcher, 0);
    }
}

static void
service_wake (AsabTaskService *self)
{
  g_mutex_lock (&self->lock);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static inline gboolean
service_has_free_slot (AsabTaskService *self)
{
  guint max = (guint) g_atomic_int_get (&self->max_concurrent);

  return max == 0 || counter_get (&self->n_running) < max;
}

/* Records */

static GQueue *
service_queue_for_state (AsabTaskService *self,
                         TaskState        state)
{
  switch (state)
    {
    case TASK_STATE_QUEUED:
      return &self->queued;
    case TASK_STATE_DELAYED:
      return &self->delayed;
    case TASK_STATE_RUNNING:
      return &self->running;
    case TASK_STATE_FINISHED:
      return &self->finished;
    case TASK_STATE_NONE:
    case TASK_STATE_IN_TRANSIT:
    case TASK_STATE_ARRIVED:
    case TASK_STATE_CLOSING:
    case TASK_STATE_ENDING:
    case TASK_STATE_IN_FUNC:
    case TASK_STATE_RETURNED_IN_FUNC:
    default:
      return NULL;
    }
}

static inline gboolean
state_has_ended (TaskState state)
{
  return state == TASK_STATE_RETURNED_IN_FUNC ||
         state == TASK_STATE_CLOSING ||
         state == TASK_STATE_FINISHED ||
         state == TASK_STATE_ENDING;
}

static inline gboolean
state_is_on_stack (TaskState state)
{
  return state == TASK_STATE_RETURNED_IN_FUNC || state == TASK_STATE_ENDING;
}

static void
task_record_move (AsabTaskService *self,
                  TaskRecord      *rec,
                  TaskState        state)
{
  GQueue *from = service_queue_for_state (self, rec->state);
  GQueue *to = service_queue_for_state (self, state);
  int ended = (int) state_has_ended (state) - (int) state_has_ended (rec->state);
  int on_stack = (int) state_is_on_stack (state) - (int) state_is_on_stack (rec->state);

  if (G_UNLIKELY (ended != 0 || on_stack != 0))
    {
      if (rec->started)
        self->n_ended_started += ended;
      else
        self->n_ended_unstarted += ended;
      self->n_ended_on_stack += on_stack;
    }

  if (rec->state == TASK_STATE_QUEUED && rec->task != NULL)
    self->n_primed--;

  if (from != to)
    {
      if (from != NULL)
        g_queue_unlink (from, &rec->link);
      if (to != NULL)
        g_queue_push_tail_link (to, &rec->link);
    }

  rec->state = state;
}

/* Makes a record; @name is kept in it when given, for a GTask to come. */
static TaskRecord *
task_record_new (TaskKind    kind,
                 const char *name)
{
  gsize name_size = name != NULL ? strlen (name) + 1 : 0;
  gsize forever_size = kind == TASK_KIND_FOREVER ? sizeof (ForeverState) : 0;
  TaskRecord *rec = g_malloc0 (sizeof (TaskRecord) + forever_size + name_size);

  rec->link.data = rec;
  rec->kind = kind;
  if (name_size > 0)
    {
      rec->has_name = TRUE;
      memcpy ((char *) task_record_name (rec), name, name_size);
    }

  return rec;
}

static GCancellable *
service_take_cancellable (AsabTaskService *self)
{
  if (self->spare_cancellables->len > 0)
    return g_ptr_array_steal_index_fast (self->spare_cancellables,
                                         self->spare_cancellables->len - 1);

  return g_cancellable_new ();
}

/* Keeps a task's cancellable for the next task when nobody else can see it
 * any more: creating and finalizing one is a good part of a task's cost.
 */
static void
service_recycle_cancellable (AsabTaskService *self,
                             GCancellable    *cancellable)
{
  if (self->spare_cancellables->len < SPARE_CANCELLABLES_MAX &&
      g_atomic_int_get (&G_OBJECT (cancellable)->ref_count) == 1 &&
      !g_cancellable_is_cancelled (cancellable) &&
      !g_signal_has_handler_pending (cancellable, cancelled_signal_id, 0, TRUE))
    g_ptr_array_add (self->spare_cancellables, cancellable);
  else
    g_object_unref (cancellable);
}

static void task_completed_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data);

/* A GTask completes on the thread-default context of the thread that
 * created it, so the service's context must be the thread-default one
 * whenever the service creates a GTask. It usually is already; otherwise
 * the calling thread pushes it, if it can own it. Returns FALSE when
 * another thread owns the context.
 */
static gboolean
service_push_context (AsabTaskService *self,
                      gboolean        *pushed)
{
  GMainContext *thread_default = g_main_context_get_thread_default ();

  *pushed = FALSE;
  if ((thread_default != NULL ? thread_default : g_main_context_default ()) == self->context)
    return TRUE;

  if (!g_main_context_acquire (self->context))
    return FALSE;

  g_main_context_push_thread_default (self->context);
  g_main_context_release (self->context);
  *pushed = TRUE;

  return TRUE;
}

static void
service_pop_context (AsabTaskService *self,
                     gboolean         pushed)
{
  if (pushed)
    g_main_context_pop_thread_default (self->context);
}

/* The record keeps a reference of its own on the cancellable, so that it can
 * be recycled once the GTask is gone.
 */
static GTask *
service_task_new (AsabTaskService *self,
                  TaskRecord      *rec,
                  const char      *name,
                  GCancellable    *cancellable)
{
  GTask *task = g_task_new (self, cancellable, task_completed_cb, rec);

  /* The function, not the macro: the macro also names the task after the
   * tag, which costs a copy and hides an unnamed task's lack of a name. */
  (g_task_set_source_tag) (task, asab_task_service_task_tag);
  if (name != NULL)
    g_task_set_name (task, name);

  return task;
}



/* Gives queued tasks their GTasks. A GTask returns at once, rather than
 * from an idle source of its own, only in a later iteration than the one
 * that created it: a task primed now can start from the next iteration on.
 */
static void
service_prime_records (AsabTaskService *self,
                       TaskRecord     **recs,
                       guint            n_recs)
{
  guint32 iteration = service_iteration (self);
  GCancellable *cancelled[PRIME_BATCH];
  GTask *tasks[PRIME_BATCH];
  guint n_cancelled = 0;
  gboolean pushed;

  g_assert (n_recs <= PRIME_BATCH);

  /* Whoever primes holds the context. */
  service_push_context (self, &pushed);
  for (guint i = 0; i < n_recs; i++)
    tasks[i] = service_task_new (self, recs[i], task_record_name (recs[i]),
                                 service_take_cancellable (self));
  service_pop_context (self, pushed);

  /* cancel() reads the GTask from other threads, under the lock. */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < n_recs; i++)
    {
      recs[i]->task = tasks[i];
      recs[i]->stamp = iteration;
      if (recs[i]->cancel_requested)
        cancelled[n_cancelled++] = g_task_get_cancellable (tasks[i]);
    }
  g_mutex_unlock (&self->lock);

  self->n_primed += n_recs;

  /* Spare or new: no handler runs. */
  for (guint i = 0; i < n_cancelled; i++)
    g_cancellable_cancel (cancelled[i]);
}

/* Keeps the tasks at the head of the queue primed, up to PRIME_AHEAD. */
static void
service_prime (AsabTaskService *self)
{
  TaskRecord *batch[PRIME_BATCH];
  guint n = 0;

  for (GList *l = self->queued.head;
       l != NULL && self->n_primed + n < PRIME_AHEAD;
       l = l->next)
    {
      TaskRecord *rec = l->data;

      if (rec->task != NULL)
        continue;

      batch[n++] = rec;
      if (n == G_N_ELEMENTS (batch))
        {
          service_prime_records (self, batch, n);
          n = 0;
        }
    }

  if (n > 0)
    service_prime_records (self, batch, n);
}

static void
task_record_free (AsabTaskService *self,
                  TaskRecord      *rec)
{
  GCancellable *cancellable = NULL;

  switch ((TaskKind) rec->kind)
    {
    case TASK_KIND_FUNC:
    case TASK_KIND_THREAD:
    case TASK_KIND_FOREVER:
      if (rec->destroy != NULL)
        rec->destroy (rec->user_data);
      cancellable = g_task_get_cancellable (rec->task);
      break;
    case TASK_KIND_SOURCE:
      g_source_unref (rec->source);
      cancellable = g_task_get_cancellable (rec->task);
      break;
    case TASK_KIND_GTASK:
      g_signal_handler_disconnect (rec->task, rec->completed_handler);
      g_object_set_qdata (G_OBJECT (rec->task), adopted_quark, NULL);
      break;
    default:
      g_assert_not_reached ();
    }

  g_object_unref (rec->task);
  if (cancellable != NULL)
    service_recycle_cancellable (self, cancellable);
  g_free (rec);
}

/* Ending tasks */

static GError *
task_record_take_error (TaskRecord *rec)
{
  GError *error = NULL;

  if (!g_task_had_error (rec->task))
    return NULL;

  if (rec->kind == TASK_KIND_GTASK)
    {
      /* The GTask's own callback has taken its result already. */
      GCancellable *cancellable = g_task_get_cancellable (rec->task);

      if (cancellable != NULL && g_cancellable_set_error_if_cancelled (cancellable, &error))
        return error;

      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, _("The task failed"));
    }

  if (g_task_propagate_boolean (rec->task, &error) || error == NULL)
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, _("The task failed"));

  return error;
}

static gboolean
error_is_cancellation (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
service_report_failure (AsabTaskService *self,
                        TaskRecord      *rec,
                        const GError    *error)
{
  gboolean handled = FALSE;

  g_signal_emit (self, signals[TASK_FAILED], 0, rec->task, error, &handled);
  if (!handled)
    service_log_failure (rec->id, g_task_get_name (rec->task), error);
}

static gboolean
forever_should_restart (AsabTaskService *self,
                        TaskRecord      *rec)
{
  return !self->stopping && !g_cancellable_is_cancelled (g_task_get_cancellable (rec->task));
}

static void
service_insert_delayed (AsabTaskService *self,
                        TaskRecord      *rec)
{
  gint64 time = task_record_forever (rec)->time;
  GList *before = self->delayed.tail;

  /* Deadlines mostly grow, so look from the end. */
  while (before != NULL && task_record_forever (before->data)->time > time)
    before = before->prev;

  task_record_move (self, rec, TASK_STATE_NONE);
  rec->state = TASK_STATE_DELAYED;
  if (before == NULL)
    g_queue_push_head_link (&self->delayed, &rec->link);
  else
    g_queue_insert_after_link (&self->delayed, before, &rec->link);
}

/* Gives a forever task a new GTask and a restart time: at once after a long
 * run, otherwise after a back-off that doubles each time, so that a function
 * that ends at once cannot spin.
 */
static void
forever_schedule_restart (AsabTaskService *self,
                          TaskRecord      *rec,
                          const GError    *error)
{
  ForeverState *forever = task_record_forever (rec);
  GCancellable *cancellable = g_task_get_cancellable (rec->task);
  g_autofree char *name = g_strdup (g_task_get_name (rec->task));
  gint64 now = g_get_monotonic_time ();
  GTask *task, *old_task;
  gboolean pushed;

  if (now - forever->time >= FOREVER_HEALTHY_RUN_USEC)
    forever->backoff_ms = 0;
  else if (forever->backoff_ms == 0)
    forever->backoff_ms = FOREVER_BACKOFF_MIN_MS;
  else
    forever->backoff_ms = MIN (forever->backoff_ms * 2, FOREVER_BACKOFF_MAX_MS);

  if (error == NULL)
    {
      char id_str[ID_STR_SIZE];
      g_autofree char *message =
        g_strdup_printf ("Task %s exited, restarting in %u ms",
                         format_id (id_str, rec->id), forever->backoff_ms);

      service_log (G_LOG_LEVEL_DEBUG, id_str, name, message);
    }

  /* The dispatcher runs on the thread that owns the context. */
  service_push_context (self, &pushed);
  task = service_task_new (self, rec, name, cancellable);
  service_pop_context (self, pushed);

  /* cancel() reads the GTask under the lock, from any thread. */
  g_mutex_lock (&self->lock);
  old_task = g_steal_pointer (&rec->task);
  rec->task = task;
  g_mutex_unlock (&self->lock);
  g_object_unref (old_task);

  forever->time = g_get_monotonic_time () + forever->backoff_ms * (gint64) 1000;
  service_insert_delayed (self, rec);
}

/* What one stop_async() call waits with: its own timeout, counted from
 * the call, and its cancellable. */
typedef struct
{
  GSource *timer;
  GSource *cancel_source;
} StopWait;

static void
stop_wait_free (gpointer data)
{
  StopWait *wait = data;

  g_source_destroy (wait->timer);
  g_source_unref (wait->timer);
  if (wait->cancel_source != NULL)
    {
      g_source_destroy (wait->cancel_source);
      g_source_unref (wait->cancel_source);
    }
  g_free (wait);
}

/* Ends one stop_async() call's wait: the stop goes on. */
static void
stop_wait_end (GTask  *task,
               GError *error)
{
  AsabTaskService *self = g_task_get_source_object (task);
  StopWait *wait = g_task_get_task_data (task);

  g_ptr_array_remove (self->stop_tasks, task);

  /* Destroying them drops the references that their callbacks hold. */
  g_source_destroy (wait->timer);
  if (wait->cancel_source != NULL)
    g_source_destroy (wait->cancel_source);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
service_complete_stop (AsabTaskService *self)
{
  while (self->stop_tasks != NULL && self->stop_tasks->len > 0)
    {
      g_autoptr(GTask) task = g_object_ref (g_ptr_array_index (self->stop_tasks, 0));

      stop_wait_end (task, NULL);
    }
}

static guint
service_n_live (AsabTaskService *self)
{
  return counter_get (&self->n_running) +
         counter_get (&self->n_queued) +
         counter_get (&self->n_in_transit);
}

/* Under the lock, on scheduling: the caller holds a reference. */
static inline void
service_keep_alive_locked (AsabTaskService *self)
{
  if (!self->kept_alive)
    {
      self->kept_alive = TRUE;
      g_object_ref (self);
    }
}

/* Whether the dispatcher can drop the service's reference on itself. */
static gboolean
service_let_go (AsabTaskService *self)
{
  gboolean let_go;

  g_mutex_lock (&self->lock);
  let_go = self->kept_alive && service_n_live (self) == 0;
  if (let_go)
    self->kept_alive = FALSE;
  g_mutex_unlock (&self->lock);

  return let_go;
}

static void
service_check_stopped (AsabTaskService *self)
{
  if (self->stop_tasks != NULL && self->swept &&
      service_n_live (self) == self->n_ended_on_stack)
    service_complete_stop (self);
}

static void
task_record_finish (AsabTaskService *self,
                    TaskRecord      *rec)
{
  g_autoptr(GError) error = task_record_take_error (rec);

  /* Out of every queue, so that a handler that stops the service does not
   * process it again, and on the stack, so that the stop does not wait for
   * it. */
  task_record_move (self, rec, TASK_STATE_ENDING);

  if (error != NULL && !error_is_cancellation (error) && rec->kind != TASK_KIND_GTASK)
    service_report_failure (self, rec, error);

  if (rec->kind == TASK_KIND_FOREVER)
    {
      if (forever_should_restart (self, rec))
        {
          forever_schedule_restart (self, rec, error);
          return;
        }

      g_mutex_lock (&self->lock);
      asab_id_table_remove (&self->ids, &rec->id);
      g_mutex_unlock (&self->lock);
    }

  task_record_move (self, rec, TASK_STATE_NONE);
  if (rec->started)
    counter_add (&self->n_running, -1);
  else
    counter_add (&self->n_queued, -1);

  g_signal_emit (self, signals[TASK_DONE], 0, rec->task, error);

  task_record_free (self, rec);
  service_check_stopped (self);
}

/* Called when a task's GTask has been completed, whatever completed it. A
 * task that ended for good leaves the id table at once, so that cancel()
 * tells it apart from a live one.
 */
static void
task_record_completed (AsabTaskService *self,
                       TaskRecord      *rec)
{
  gboolean in_func = rec->state == TASK_STATE_IN_FUNC;
  gboolean ends = rec->kind != TASK_KIND_FOREVER;

  g_mutex_lock (&self->lock);
  if (ends)
    asab_id_table_remove (&self->ids, &rec->id);
  if (!in_func)
    service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  /* The function's closure must outlive the function: finish it when it
   * has returned, not under its feet.
   */
  if (in_func)
    task_record_move (self, rec, TASK_STATE_RETURNED_IN_FUNC);
  else
    task_record_move (self, rec, TASK_STATE_FINISHED);
}

static void
task_completed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  task_record_completed (ASAB_TASK_SERVICE (object), user_data);
}

static void
adopted_task_completed_cb (GObject    *object,
                           GParamSpec *pspec,
                           gpointer    user_data)
{
  task_record_completed (g_object_get_qdata (object, adopted_quark), user_data);
}

/* Ends a task that the service itself brings to an end, by completing its
 * GTask; the end then takes the same path as any other.
 */
static void
task_record_close (AsabTaskService *self,
                   TaskRecord      *rec,
                   GError          *error)
{
  task_record_move (self, rec, TASK_STATE_CLOSING);

  if (error != NULL)
    g_task_return_error (rec->task, error);
  else
    g_task_return_boolean (rec->task, TRUE);
}

static GError *
stopped_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              _("The task service has been stopped"));
}

static void
task_record_close_cancelled (AsabTaskService *self,
                             TaskRecord      *rec)
{
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (rec->task), &error))
    error = stopped_error ();

  task_record_close (self, rec, error);
}

/* Starting tasks */

static void
run_in_thread_cb (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  TaskRecord *rec = task_data;

  rec->func (task, cancellable, rec->user_data);
}

static void
task_record_start (AsabTaskService *self,
                   TaskRecord      *rec)
{
  TaskRecord *outer;

  if (!rec->started)
    {
      rec->started = TRUE;
      counter_add (&self->n_queued, -1);
      counter_add (&self->n_running, 1);
    }

  if (g_cancellable_is_cancelled (g_task_get_cancellable (rec->task)))
    {
      task_record_close_cancelled (self, rec);
      return;
    }

  if (rec->kind == TASK_KIND_THREAD)
    {
      task_record_move (self, rec, TASK_STATE_RUNNING);
      g_task_set_task_data (rec->task, rec, NULL);
      g_task_run_in_thread (rec->task, run_in_thread_cb);
      return;
    }

  if (rec->kind == TASK_KIND_FOREVER)
    task_record_forever (rec)->time = g_get_monotonic_time ();

  /* In no queue while its function runs: most complete there. */
  task_record_move (self, rec, TASK_STATE_IN_FUNC);
  outer = self->in_func;
  self->in_func = rec;
  rec->func (rec->task, g_task_get_cancellable (rec->task), rec->user_data);
  self->in_func = outer;

  if (rec->state == TASK_STATE_RETURNED_IN_FUNC)
    task_record_finish (self, rec);
  else
    task_record_move (self, rec, TASK_STATE_RUNNING);
}

/* Requests from other threads */

static void
service_take_arrivals (AsabTaskService *self)
{
  GQueue arrived = G_QUEUE_INIT;
  g_autoptr(GPtrArray) cancelled = NULL;

  /* The hand-off may run on a thread that holds the context for a moment
   * while another one schedules: it leaves the counts that only the
   * dispatching thread writes to this. */
  g_mutex_lock (&self->lock);
  arrived = self->arrived;
  g_queue_init (&self->arrived);
  counter_add (&self->n_in_transit, -(int) arrived.length);
  counter_add (&self->n_queued, arrived.length);
  for (GList *l = arrived.head; l != NULL; l = l->next)
    {
      TaskRecord *rec = l->data;

      rec->state = TASK_STATE_QUEUED;
      if (rec->cancel_requested)
        {
          if (cancelled == NULL)
            cancelled = g_ptr_array_new ();
          g_ptr_array_add (cancelled, rec);
        }
    }
  g_mutex_unlock (&self->lock);

  queue_splice_tail (&self->queued, &arrived);

  /* Cancelled on the way: they end now, not when their turn comes. */
  for (guint i = 0; cancelled != NULL && i < cancelled->len; i++)
    {
      TaskRecord *rec = g_ptr_array_index (cancelled, i);

      service_prime_records (self, &rec, 1);
      task_record_close_cancelled (self, rec);
    }
}

/* Does the part of cancel() that belongs to the context's thread: ending a
 * task that has not started, and destroying a GSource, which could still be
 * on its way to being attached when another thread cancelled it. */
static void
service_cancel_by_id (AsabTaskService *self,
                      guint64          id)
{
  TaskRecord *rec;

  g_mutex_lock (&self->lock);
  rec = asab_id_table_lookup (&self->ids, id);
  g_mutex_unlock (&self->lock);

  if (rec == NULL)
    return;

  if (rec->state == TASK_STATE_QUEUED || rec->state == TASK_STATE_DELAYED)
    {
      /* Its GTask comes now, to be given to task-done. */
      if (rec->task == NULL)
        service_prime_records (self, &rec, 1);
      task_record_close_cancelled (self, rec);
    }
  else if (rec->kind == TASK_KIND_SOURCE)
    g_source_destroy (rec->source);
}

static void
service_source_gone (AsabTaskService *self,
                     TaskRecord      *rec)
{
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (rec->task), &error))
    task_record_close (self, rec, error);
  else if (self->stopping)
    task_record_close (self, rec, stopped_error ());
  else
    task_record_close (self, rec, NULL);
}

static void
service_take_requests (AsabTaskService *self)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) gone = NULL;

  g_mutex_lock (&self->lock);
  if (self->cancelled_ids->len > 0)
    {
      ids = g_steal_pointer (&self->cancelled_ids);
      self->cancelled_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
    }
  if (self->gone_sources->len > 0)
    {
      gone = g_steal_pointer (&self->gone_sources);
      self->gone_sources = g_ptr_array_new ();
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; ids != NULL && i < ids->len; i++)
    service_cancel_by_id (self, g_array_index (ids, guint64, i));

  for (guint i = 0; gone != NULL && i < gone->len; i++)
    service_source_gone (self, g_ptr_array_index (gone, i));
}

/* Stopping */

/* Ends what has not started and cancels what has. Running tasks end when
 * their functions complete them.
 */
static void
service_sweep (AsabTaskService *self)
{
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);

  self->swept = TRUE;

  service_receive_in_transit (self);
  service_take_arrivals (self);

  /* A task without its GTask gets one now: it returns from an idle source
   * of its own, since it is created in this iteration. */
  while (self->queued.head != NULL)
    {
      TaskRecord *rec = self->queued.head->data;

      if (rec->task == NULL)
        service_prime_records (self, &rec, 1);
      task_record_close_cancelled (self, rec);
    }

  while (self->delayed.head != NULL)
    task_record_close_cancelled (self, self->delayed.head->data);

  /* A function on the stack that has not completed its task yet. A task
   * that has completed is left alone: cancelling it now would turn its
   * result into a cancellation. */
  for (TaskRecord *rec = self->in_func; rec != NULL; rec = NULL)
    if (rec->state == TASK_STATE_IN_FUNC)
      g_ptr_array_add (cancellables, g_object_ref (g_task_get_cancellable (rec->task)));

  /* Cancelling runs handlers, which may end tasks and change the list. */
  for (GList *l = self->running.head; l != NULL; l = l->next)
    {
      TaskRecord *rec = l->data;
      GCancellable *cancellable = g_task_get_cancellable (rec->task);

      if (cancellable != NULL)
        g_ptr_array_add (cancellables, g_object_ref (cancellable));
      if (rec->kind == TASK_KIND_SOURCE)
        g_ptr_array_add (sources, g_source_ref (rec->source));
    }

  for (guint i = 0; i < cancellables->len; i++)
    g_cancellable_cancel (g_ptr_array_index (cancellables, i));
  for (guint i = 0; i < sources->len; i++)
    g_source_destroy (g_ptr_array_index (sources, i));
}

/* Marks the service stopped, from any thread: nothing is accepted from now
 * on, and the dispatcher sweeps on its next run.
 */
static void
service_request_stop (AsabTaskService *self)
{
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

/* Processing */

static void
service_notify_counts (AsabTaskService *self)
{
  guint n_running = asab_task_service_get_n_running (self);
  guint n_queued = asab_task_service_get_n_queued (self);

  if (n_running != self->notified_n_running)
    {
      self->notified_n_running = n_running;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
    }

  if (n_queued != self->notified_n_queued)
    {
      self->notified_n_queued = n_queued;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_QUEUED]);
    }
}

/* Whether the dispatcher has work it can do on the next iteration. */
static gboolean
service_is_busy_locked (AsabTaskService *self)
{
  return self->finished.length > 0 ||
         self->arrived.length > 0 ||
         self->cancelled_ids->len > 0 ||
         self->gone_sources->len > 0 ||
         (self->stopping && !self->swept) ||
         (self->queued.length > 0 && service_has_free_slot (self));
}

static gboolean
service_is_busy (AsabTaskService *self)
{
  gboolean busy;

  g_mutex_lock (&self->lock);
  busy = service_is_busy_locked (self);
  g_mutex_unlock (&self->lock);

  return busy;
}

static void
service_update_ready_time (AsabTaskService *self)
{
  g_mutex_lock (&self->lock);

  if (service_is_busy_locked (self))
    {
      self->wake_pending = TRUE;
      g_source_set_ready_time (self->dispatcher, 0);
    }
  else
    {
      TaskRecord *next = g_queue_peek_head (&self->delayed);

      self->wake_pending = FALSE;
      g_source_set_ready_time (self->dispatcher,
                               next != NULL ? MAX (task_record_forever (next)->time, 1) : -1);
    }

  g_mutex_unlock (&self->lock);
}

/* Keeps g_application_run() from returning under live background work. The
 * count of live tasks also changes on other threads, but GApplication's
 * use count belongs to its main context: follow the count from here.
 */
static void
service_update_hold (AsabTaskService *self)
{
  g_autoptr(GApplication) application = NULL;
  gboolean live;
  gboolean change;

  if (!self->has_application)
    return;

  /* The hand-off may call this from a thread that holds the context while
   * the thread that runs the application schedules. */
  g_mutex_lock (&self->lock);
  live = service_n_live (self) > 0;
  change = live != self->holding_application;
  self->holding_application = live;
  g_mutex_unlock (&self->lock);

  if (!change)
    return;

  application = g_weak_ref_get (&self->application);
  if (application == NULL)
    return;

  if (live)
    g_application_hold (application);
  else
    g_application_release (application);
}

/* The next queued task whose turn has come, if it was primed in an earlier
 * iteration. A stopping service has ended its queue. */
static TaskRecord *
service_next_queued (AsabTaskService *self,
                     guint32          iteration)
{
  TaskRecord *rec = g_queue_peek_head (&self->queued);

  if (rec == NULL || rec->task == NULL || self->stopping)
    return NULL;

  return rec->stamp != iteration && service_has_free_slot (self) ? rec : NULL;
}

static TaskRecord *
service_next_delayed (AsabTaskService *self,
                      gint64           now)
{
  TaskRecord *rec;

  rec = g_queue_peek_head (&self->delayed);
  if (rec != NULL && task_record_forever (rec)->time < now)
    return rec;

  return NULL;
}

/* Gives back the memory of a burst once the service has nothing to do. */
static void
service_trim (AsabTaskService *self)
{
  if (self->spare_cancellables->len > SPARE_CANCELLABLES_IDLE)
    g_ptr_array_set_size (self->spare_cancellables, SPARE_CANCELLABLES_IDLE);

  g_mutex_lock (&self->lock);
  asab_id_table_compact (&self->ids);
  g_mutex_unlock (&self->lock);
}

static void
service_process (AsabTaskService *self)
{
  guint32 iteration = service_iteration (self);
  gint64 now = g_source_get_time (self->dispatcher);
  gint64 deadline = g_get_monotonic_time () + DISPATCH_BUDGET_USEC;

  g_object_ref (self);
  self->processing++;

  service_take_arrivals (self);
  service_take_requests (self);

  for (guint n = 1; ; n++)
    {
      TaskRecord *rec;

      if (self->stopping && !self->swept)
        service_sweep (self);

      if ((n % 32) == 0 && g_get_monotonic_time () >= deadline)
        break;

      if ((rec = g_queue_peek_head (&self->finished)) != NULL)
        task_record_finish (self, rec);
      else if ((rec = service_next_queued (self, iteration)) != NULL)
        task_record_start (self, rec);
      else if ((rec = service_next_delayed (self, now)) != NULL)
        task_record_start (self, rec);
      else
        break;
    }

  /* Those that can start on the next iteration. */
  service_prime (self);

  service_check_stopped (self);
  if (service_n_live (self) == 0)
    service_trim (self);
  service_notify_counts (self);
  service_update_hold (self);
  service_update_ready_time (self);

  self->processing--;
  if (service_let_go (self))
    g_object_unref (self);
  g_object_unref (self);
}

/* Hand-off from other threads */

static void
queue_splice_tail (GQueue *dest,
                   GQueue *src)
{
  if (src->head == NULL)
    return;

  if (dest->tail != NULL)
    {
      dest->tail->next = src->head;
      src->head->prev = dest->tail;
    }
  else
    dest->head = src->head;

  dest->tail = src->tail;
  dest->length += src->length;
  g_queue_init (src);
}

/* Hands the tasks scheduled from other threads over to the dispatcher. It
 * runs on whichever thread holds the context, which may be the thread that
 * scheduled: it never runs a task, nor touches what belongs to the thread
 * that dispatches. Their GTasks come when their turn nears.
 */
static void
service_receive_in_transit (AsabTaskService *self)
{
  g_mutex_lock (&self->lock);
  self->handoff_pending = FALSE;
  if (self->in_transit.length > 0)
    {
      for (GList *l = self->in_transit.head; l != NULL; l = l->next)
        ((TaskRecord *) l->data)->state = TASK_STATE_ARRIVED;
      queue_splice_tail (&self->arrived, &self->in_transit);
      service_wake_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
handoff_cb (gpointer data)
{
  AsabTaskService *self = data;

  service_receive_in_transit (self);
  /* Whoever runs this holds the context, so g_application_run() is not
   * iterating it elsewhere: hold the application now, or it could return
   * before the dispatcher runs. */
  service_update_hold (self);

  return G_SOURCE_REMOVE;
}

static void
source_watch_gone (gpointer data)
{
  TaskRecord *rec = data;
  AsabTaskService *self = g_task_get_source_object (rec->task);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->gone_sources, rec);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static gboolean
source_watch_never (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
source_watch_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Never ready: it is only there to be destroyed with the source it watches. */
static GSourceFuncs source_watch_funcs = {
  .dispatch = source_watch_dispatch,
};

/* Stop timer */

/* Ends the wait of one stop_async() call; the stop goes on. */
static gboolean
stop_wait_cancelled_cb (GCancellable *cancellable,
                        gpointer      data)
{
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  stop_wait_end (data, error);

  return G_SOURCE_REMOVE;
}

static gboolean
stop_timer_cb (gpointer data)
{
  GTask *task = data;
  AsabTaskService *self = g_task_get_source_object (task);
  /* Tasks that have ended are not pending, even before their task-done. */
  guint n_running = asab_task_service_get_n_running (self) - self->n_ended_started;
  guint n_queued = asab_task_service_get_n_queued (self) - self->n_ended_unstarted;
  char running_str[16], queued_str[16];
  g_autofree char *message = NULL;

  /* Translators: ASAB's own form: tasks still running, plus tasks that
   * never started. */
  message = g_strdup_printf (_("%u+%u pending and incomplete tasks"), n_running, n_queued);
  g_snprintf (running_str, sizeof running_str, "%u", n_running);
  g_snprintf (queued_str, sizeof queued_str, "%u", n_queued);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                    "ASAB_N_RUNNING", running_str,
                    "ASAB_N_QUEUED", queued_str,
                    "MESSAGE", "%s", message);

  stop_wait_end (task, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    _("%u+%u pending and incomplete tasks"),
                                    n_running, n_queued));

  return G_SOURCE_REMOVE;
}

/* GObject */

static void
application_shutdown_cb (AsabTaskService *self)
{
  asab_task_service_stop (self);
}

static void
asab_task_service_constructed (GObject *object)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);
  g_autoptr(GApplication) application = NULL;
  DispatchSource *ds;

  G_OBJECT_CLASS (asab_task_service_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();

  self->dispatcher = g_source_new (&dispatch_source_funcs, sizeof (DispatchSource));
  ds = (DispatchSource *) self->dispatcher;
  g_weak_ref_init (&ds->service, self);
  g_source_set_static_name (self->dispatcher, "[asab] task service");
  g_source_attach (self->dispatcher, self->context);

  application = g_weak_ref_get (&self->application);
  self->has_application = application != NULL;
  if (application != NULL)
    g_signal_connect_object (application, "shutdown",
                             G_CALLBACK (application_shutdown_cb), self,
                             G_CONNECT_SWAPPED);
}

static void
asab_task_service_dispose (GObject *object)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);

  /* Only g_object_run_dispose() gets here with live tasks: every task holds
   * a reference through its GTask.
   */
  if (service_n_live (self) > 0)
    {
      if (g_main_context_acquire (self->context))
        {
          asab_task_service_stop (self);
          g_main_context_release (self->context);
        }
      else
        service_request_stop (self);
    }

  G_OBJECT_CLASS (asab_task_service_parent_class)->dispose (object);
}

static void
asab_task_service_finalize (GObject *object)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);

  g_assert (service_n_live (self) == 0);

  if (self->holding_application)
    {
      g_autoptr(GApplication) application = g_weak_ref_get (&self->application);

      if (application != NULL)
        g_application_release (application);
    }

  if (self->dispatcher != NULL)
    {
      g_source_destroy (self->dispatcher);
      g_clear_pointer (&self->dispatcher, g_source_unref);
    }

  g_clear_pointer (&self->stop_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->spare_cancellables, g_ptr_array_unref);
  g_clear_pointer (&self->cancelled_ids, g_array_unref);
  g_clear_pointer (&self->gone_sources, g_ptr_array_unref);
  asab_id_table_clear (&self->ids);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_weak_ref_clear (&self->application);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (asab_task_service_parent_class)->finalize (object);
}

static void
asab_task_service_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_APPLICATION:
      g_value_take_object (value, g_weak_ref_get (&self->application));
      break;
    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, asab_task_service_get_max_concurrent (self));
      break;
    case PROP_MAX_QUEUED:
      g_value_set_uint (value, asab_task_service_get_max_queued (self));
      break;
    case PROP_STOP_TIMEOUT:
      g_value_set_uint (value, asab_task_service_get_stop_timeout (self));
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, asab_task_service_get_n_running (self));
      break;
    case PROP_N_QUEUED:
      g_value_set_uint (value, asab_task_service_get_n_queued (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
asab_task_service_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;
    case PROP_APPLICATION:
      g_weak_ref_set (&self->application, g_value_get_object (value));
      break;
    case PROP_MAX_CONCURRENT:
      asab_task_service_set_max_concurrent (self, g_value_get_uint (value));
      break;
    case PROP_MAX_QUEUED:
      asab_task_service_set_max_queued (self, g_value_get_uint (value));
      break;
    case PROP_STOP_TIMEOUT:
      asab_task_service_set_stop_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
asab_task_service_class_init (AsabTaskServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  object_class->constructed = asab_task_service_constructed;
  object_class->dispose = asab_task_service_dispose;
  object_class->finalize = asab_task_service_finalize;
  object_class->get_property = asab_task_service_get_property;
  object_class->set_property = asab_task_service_set_property;

  /**
   * AsabTaskService:context: (getter get_context)
   *
   * The main context on which tasks run and signals are emitted.
   *
   * When it is not given, the thread-default main context of the thread
   * that creates the service is used.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskService:application: (getter get_application)
   *
   * The application whose lifetime the service follows, if any.
   *
   * While the service has tasks that have not ended, it holds the
   * application (see g_application_hold()), so that g_application_run()
   * does not return under live background work; when the application
   * shuts down, the service stops, waiting at most
   * [property@Asab.TaskService:stop-timeout] for its tasks. The service
   * does not keep the application alive.
   *
   * Since: 1.0
   */
  properties[PROP_APPLICATION] =
    g_param_spec_object ("application", NULL, NULL,
                         G_TYPE_APPLICATION,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskService:max-concurrent: (getter get_max_concurrent) (setter set_max_concurrent)
   *
   * The most tasks that run at once; 0, the default, means no limit.
   *
   * Tasks beyond the limit wait in the order in which they were scheduled.
   * A `GTask` given to [method@Asab.TaskService.schedule_task] and a
   * `GSource` given to [method@Asab.TaskService.schedule_source] are
   * already running when they are given: they count, but are never held
   * back. A task started by [method@Asab.TaskService.run_forever] keeps
   * its place between restarts.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskService:max-queued: (getter get_max_queued) (setter set_max_queued)
   *
   * The most tasks that may wait to start; 0, the default, means no limit.
   *
   * When producers outrun the context, a call that would queue more is
   * refused: it returns 0 and calls the destroy notify at once, so that the
   * caller always learns of it and memory stays bounded. A warning is
   * logged for the first refusal, then at most once every ten seconds,
   * with the number of refusals in between.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_QUEUED] =
    g_param_spec_uint ("max-queued", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskService:stop-timeout: (getter get_stop_timeout) (setter set_stop_timeout)
   *
   * How long, in milliseconds, [method@Asab.TaskService.stop_async] waits
   * for the cancelled tasks to end before it gives up on them.
   *
   * Since: 1.0
   */
  properties[PROP_STOP_TIMEOUT] =
    g_param_spec_uint ("stop-timeout", NULL, NULL,
                       0, G_MAXINT, DEFAULT_STOP_TIMEOUT_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskService:n-running: (getter get_n_running)
   *
   * The number of tasks that have started and not yet ended.
   *
   * Its notifications are emitted on the service's context, at most once
   * per main loop iteration.
   *
   * Since: 1.0
   */
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AsabTaskService:n-queued: (getter get_n_queued)
   *
   * The number of tasks that have been accepted and not yet started.
   *
   * Its notifications are emitted on the service's context, at most once
   * per main loop iteration.
   *
   * Since: 1.0
   */
  properties[PROP_N_QUEUED] =
    g_param_spec_uint ("n-queued", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * AsabTaskService::task-done:
   * @self: the service
   * @task: the task's `GTask`
   * @error: (nullable): %NULL when the task succeeded, its error when it
   *   failed, a %G_IO_ERROR_CANCELLED error when it was cancelled
   *
   * Emitted once for every task that the service accepted, on the
   * service's context, after the task has ended. This is where ASAB
   * publishes `TaskService.task_done!`.
   *
   * For a task started by [method@Asab.TaskService.run_forever] it is
   * emitted once, when the task has ended for good.
   *
   * Since: 1.0
   */
  signals[TASK_DONE] =
    g_signal_new ("task-done",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  asab_marshal_VOID__OBJECT_BOXED,
                  G_TYPE_NONE, 2,
                  G_TYPE_TASK,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[TASK_DONE],
                              G_TYPE_FROM_CLASS (klass),
                              asab_marshal_VOID__OBJECT_BOXEDv);

  /**
   * AsabTaskService::task-failed:
   * @self: the service
   * @task: the task's `GTask`
   * @error: the task's error
   *
   * Emitted when a task has failed, before
   * [signal@Asab.TaskService::task-done]; not for cancellations, and not
   * for a `GTask` given to [method@Asab.TaskService.schedule_task], whose
   * failure is its owner's to report.
   *
   * Unless a handler returns %TRUE, the failure is written to the log as a
   * warning in the `Asab` log domain, with the fields `ASAB_TASK_NAME` and
   * `ASAB_TASK_ID`.
   *
   * Returns: %TRUE to take the failure over and keep it out of the log
   *
   * Since: 1.0
   */
  signals[TASK_FAILED] =
    g_signal_new ("task-failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  asab_marshal_BOOLEAN__OBJECT_BOXED,
                  G_TYPE_BOOLEAN, 2,
                  G_TYPE_TASK,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[TASK_FAILED],
                              G_TYPE_FROM_CLASS (klass),
                              asab_marshal_BOOLEAN__OBJECT_BOXEDv);

  /* The signal exists once the class does: make sure it does. */
  g_type_class_ref (G_TYPE_CANCELLABLE);
  cancelled_signal_id = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);
  adopted_quark = g_quark_from_static_string ("asab-task-service-adopted");
}

static void
asab_task_service_init (AsabTaskService *self)
{
  g_mutex_init (&self->lock);
  g_weak_ref_init (&self->application, NULL);
  asab_id_table_init (&self->ids);
  self->cancelled_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->gone_sources = g_ptr_array_new ();
  self->spare_cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  self->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
}

/* Public API */

/**
 * asab_task_service_new:
 * @context: (nullable): the main context to run tasks on, or %NULL for the
 *   thread-default main context of the calling thread
 *
 * Creates a task service.
 *
 * Returns: (transfer full): a new task service
 *
 * Since: 1.0
 */
AsabTaskService *
asab_task_service_new (GMainContext *context)
{
  return g_object_new (ASAB_TYPE_TASK_SERVICE,
                       "context", context,
                       NULL);
}

/**
 * asab_task_service_new_for_application:
 * @application: the application whose lifetime the service follows
 *
 * Creates a task service that runs tasks on the global default main
 * context, where g_application_run() runs, and follows the lifetime of the
 * application, as [property@Asab.TaskService:application] describes.
 *
 * Returns: (transfer full): a new task service
 *
 * Since: 1.0
 */
AsabTaskService *
asab_task_service_new_for_application (GApplication *application)
{
  g_return_val_if_fail (G_IS_APPLICATION (application), NULL);

  return g_object_new (ASAB_TYPE_TASK_SERVICE,
                       "context", g_main_context_default (),
                       "application", application,
                       NULL);
}

/**
 * asab_task_service_get_default:
 *
 * Gets the process's task service, which runs tasks on the global default
 * main context, the one `g_main_loop_run()` and `g_application_run()`
 * iterate in most programs.
 *
 * It is created on first use and lives as long as the process. It is safe
 * to call from any thread.
 *
 * Returns: (transfer none): the default task service
 *
 * Since: 1.0
 */
AsabTaskService *
asab_task_service_get_default (void)
{
  static AsabTaskService *default_service;

  if (g_once_init_enter (&default_service))
    g_once_init_leave (&default_service, asab_task_service_new (g_main_context_default ()));

  return default_service;
}

/**
 * asab_task_service_get_context: (get-property context)
 * @self: a task service
 *
 * Gets the main context on which the service runs its tasks.
 *
 * Returns: (transfer none): the service's main context
 *
 * Since: 1.0
 */
GMainContext *
asab_task_service_get_context (AsabTaskService *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), NULL);

  return self->context;
}

/**
 * asab_task_service_get_application: (get-property application)
 * @self: a task service
 *
 * Gets the application whose lifetime the service follows.
 *
 * Returns: (transfer none) (nullable): the application, or %NULL
 *
 * Since: 1.0
 */
GApplication *
asab_task_service_get_application (AsabTaskService *self)
{
  g_autoptr(GApplication) application = NULL;

  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), NULL);

  /* Transfer none is safe only while somebody else holds the application,
   * which the caller must; the weak reference may clear at any time after.
   */
  application = g_weak_ref_get (&self->application);

  return application;
}

static guint64
service_refuse (const char     *name,
                gpointer        user_data,
                GDestroyNotify  destroy)
{
  service_log_refusal (name);
  if (destroy != NULL)
    destroy (user_data);

  return 0;
}

/* Queues a task for the hand-off to the context; any thread. */
static guint64
service_schedule_threadsafe (AsabTaskService *self,
                             TaskKind         kind,
                             const char      *name,
                             AsabTaskFunc     func,
                             gpointer         user_data,
                             GDestroyNotify   destroy)
{
  TaskRecord *rec;
  gboolean need_handoff;
  guint64 id;

  rec = task_record_new (kind, name);
  rec->func = func;
  rec->user_data = user_data;
  rec->destroy = destroy;
  rec->state = TASK_STATE_IN_TRANSIT;

  g_mutex_lock (&self->lock);
  if (self->stopping)
    {
      g_mutex_unlock (&self->lock);
      g_free (rec);
      return service_refuse (name, user_data, destroy);
    }
  if (service_queue_is_full (self))
    {
      g_mutex_unlock (&self->lock);
      g_free (rec);
      service_log_full (self, name);
      if (destroy != NULL)
        destroy (user_data);
      return 0;
    }
  id = asab_id_table_insert (&self->ids, &rec->id);
  g_queue_push_tail_link (&self->in_transit, &rec->link);
  counter_add (&self->n_in_transit, 1);
  service_keep_alive_locked (self);
  need_handoff = !self->handoff_pending;
  self->handoff_pending = TRUE;
  g_mutex_unlock (&self->lock);

  if (need_handoff)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT,
                                handoff_cb, g_object_ref (self), g_object_unref);

  return id;
}

static guint64
service_schedule (AsabTaskService *self,
                  TaskKind         kind,
                  const char      *name,
                  AsabTaskFunc     func,
                  gpointer         user_data,
                  GDestroyNotify   destroy)
{
  TaskRecord *rec;
  gboolean prime_now;
  gboolean pushed;
  guint64 id;

  if (self->stopping)
    return service_refuse (name, user_data, destroy);

  if (service_queue_is_full (self))
    {
      service_log_full (self, name);
      if (destroy != NULL)
        destroy (user_data);
      return 0;
    }

  /* Called from a thread that cannot act for the context: hand it over. */
  if (!service_push_context (self, &pushed))
    return service_schedule_threadsafe (self, kind, name, func, user_data, destroy);

  /* Primed now when every task ahead of it is, and few are: then it starts
   * on the next dispatch. Otherwise its turn will come. */
  prime_now = self->n_primed == self->queued.length && self->n_primed < PRIME_AHEAD;

  rec = task_record_new (kind, prime_now ? NULL : name);
  rec->func = func;
  rec->user_data = user_data;
  rec->destroy = destroy;
  if (prime_now)
    {
      rec->task = service_task_new (self, rec, name, service_take_cancellable (self));
      rec->stamp = service_iteration (self);
    }
  service_pop_context (self, pushed);

  g_mutex_lock (&self->lock);
  id = asab_id_table_insert (&self->ids, &rec->id);
  counter_add (&self->n_queued, 1);
  service_keep_alive_locked (self);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  task_record_move (self, rec, TASK_STATE_QUEUED);
  if (prime_now)
    self->n_primed++;
  service_update_hold (self);

  return id;
}

/**
 * asab_task_service_schedule: (skip)
 * @self: a task service
 * @func: the function that runs the task
 * @user_data: data for @func
 *
 * Schedules an unnamed task; see [method@Asab.TaskService.schedule_full].
 *
 * Returns: the id of the task, or 0 if it was refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule (AsabTaskService *self,
                            AsabTaskFunc     func,
                            gpointer         user_data)
{
  return asab_task_service_schedule_full (self, NULL, func, user_data, NULL);
}

/**
 * asab_task_service_schedule_full: (rename-to asab_task_service_schedule)
 * @self: a task service
 * @name: (nullable): the task's name, for logs and [method@Gio.Task.get_name]
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that runs the task
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task has ended, or at
 *   once if the call is refused
 *
 * Schedules a task for fire-and-forget execution on the service's context.
 *
 * @func runs later, never inside this call, with a `GTask` whose source
 * object is the service, whose name is @name and whose cancellable is the
 * task's own. The task ends when @func, then or later, completes that
 * `GTask`; a value it returns is freed by the service. When the task has
 * ended, a failure is reported (see [signal@Asab.TaskService::task-failed]),
 * [signal@Asab.TaskService::task-done] is emitted, and @destroy is called,
 * never while @func is still running.
 *
 * After [method@Asab.TaskService.stop_async], or beyond
 * [property@Asab.TaskService:max-queued], the call is refused: it logs a
 * warning, calls @destroy and returns 0.
 *
 * Call it from the thread that runs the service's context; from a thread
 * that cannot, it hands the task over as
 * [method@Asab.TaskService.schedule_threadsafe] does.
 *
 * Returns: the id of the task, greater than 0 and unique within the
 *   service, or 0 if it was refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule_full (AsabTaskService *self,
                                 const char      *name,
                                 AsabTaskFunc     func,
                                 gpointer         user_data,
                                 GDestroyNotify   destroy)
{
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), if (destroy) destroy (user_data));
  return_refused_if_fail (func != NULL, if (destroy) destroy (user_data));

  return service_schedule (self, TASK_KIND_FUNC, name, func, user_data, destroy);
}

/**
 * asab_task_service_schedule_threadsafe:
 * @self: a task service
 * @name: (nullable): the task's name
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that runs the task
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task has ended, or at
 *   once if the call is refused
 *
 * Schedules a task like [method@Asab.TaskService.schedule_full], from any
 * thread.
 *
 * The task is handed to the service's context with
 * g_main_context_invoke(); a burst of calls shares one hand-off. Tasks
 * scheduled from one thread start in the order in which they were
 * scheduled. @func runs, and @destroy is called, on the service's context.
 * When the call is refused, @destroy is called at once, on the calling
 * thread.
 *
 * Returns: the id of the task, or 0 if it was refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule_threadsafe (AsabTaskService *self,
                                       const char      *name,
                                       AsabTaskFunc     func,
                                       gpointer         user_data,
                                       GDestroyNotify   destroy)
{
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), if (destroy) destroy (user_data));
  return_refused_if_fail (func != NULL, if (destroy) destroy (user_data));

  return service_schedule_threadsafe (self, TASK_KIND_FUNC, name, func, user_data, destroy);
}

/**
 * asab_task_service_schedule_in_thread:
 * @self: a task service
 * @name: (nullable): the task's name
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that runs the task, on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task has ended, or at
 *   once if the call is refused
 *
 * Schedules blocking work (files, name lookups, a database driver) to run
 * on a worker thread, as g_task_run_in_thread() does.
 *
 * @func must complete its `GTask` before it returns. The task's end is
 * reported on the service's context, and @destroy is called there. Unlike
 * a `GTaskThreadFunc`, @func has a user data argument, so that bindings can
 * call it.
 *
 * Returns: the id of the task, or 0 if it was refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule_in_thread (AsabTaskService *self,
                                      const char      *name,
                                      AsabTaskFunc     func,
                                      gpointer         user_data,
                                      GDestroyNotify   destroy)
{
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), if (destroy) destroy (user_data));
  return_refused_if_fail (func != NULL, if (destroy) destroy (user_data));

  return service_schedule (self, TASK_KIND_THREAD, name, func, user_data, destroy);
}

/**
 * asab_task_service_run_forever:
 * @self: a task service
 * @name: (nullable): the task's name
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that runs the task
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task has ended for good,
 *   or at once if the call is refused
 *
 * Schedules a function that is expected to run forever: each time its task
 * ends, a failure is reported and @func is started again with a new
 * `GTask`.
 *
 * A function that ends at once every time is restarted after a delay that
 * doubles from 5 ms up to 2 s, and returns to no delay after a run of 5 s or
 * more. [method@Asab.TaskService.cancel] with the returned id, or
 * [method@Asab.TaskService.stop_async], ends it for good;
 * [signal@Asab.TaskService::task-done] is emitted then, once.
 *
 * Returns: the id of the task, the same for every run, or 0 if it was
 *   refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_run_forever (AsabTaskService *self,
                               const char      *name,
                               AsabTaskFunc     func,
                               gpointer         user_data,
                               GDestroyNotify   destroy)
{
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), if (destroy) destroy (user_data));
  return_refused_if_fail (func != NULL, if (destroy) destroy (user_data));

  return service_schedule (self, TASK_KIND_FOREVER, name, func, user_data, destroy);
}

/**
 * asab_task_service_schedule_task:
 * @self: a task service
 * @task: (transfer none): a `GTask` that has not completed yet, created on
 *   the service's context
 *
 * Tracks an existing `GTask` as a task of the service: it counts as
 * running until it completes, its cancellable is cancelled by
 * [method@Asab.TaskService.stop_async] and [method@Asab.TaskService.cancel],
 * and [signal@Asab.TaskService::task-done] is emitted when
 * [property@Gio.Task:completed] becomes %TRUE.
 *
 * The task's own callback still gets its result, and reporting a failure
 * is left to it: task-done's error is %NULL on success, a
 * %G_IO_ERROR_CANCELLED error if the task's cancellable was cancelled, and
 * a generic error otherwise. A `GTask` without a cancellable cannot be
 * cancelled: a stop waits for it until its timeout.
 *
 * Returns: the id of the task, or 0 if it was refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule_task (AsabTaskService *self,
                                 GTask           *task)
{
  TaskRecord *rec;
  guint64 id;

  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);
  g_return_val_if_fail (G_IS_TASK (task), 0);
  g_return_val_if_fail (!g_task_get_completed (task), 0);
  g_return_val_if_fail (g_task_get_source_tag (task) != asab_task_service_task_tag, 0);
  g_return_val_if_fail (g_object_get_qdata (G_OBJECT (task), adopted_quark) == NULL, 0);
  g_return_val_if_fail (g_task_get_context (task) == self->context, 0);

  if (self->stopping)
    return service_refuse (g_task_get_name (task), NULL, NULL);

  rec = task_record_new (TASK_KIND_GTASK, NULL);
  rec->task = g_object_ref (task);
  rec->started = TRUE;
  /* Marks the task as tracked, and finds the service from it. */
  g_object_set_qdata (G_OBJECT (task), adopted_quark, self);
  rec->completed_handler = g_signal_connect (task, "notify::completed",
                                             G_CALLBACK (adopted_task_completed_cb), rec);

  g_mutex_lock (&self->lock);
  id = asab_id_table_insert (&self->ids, &rec->id);
  counter_add (&self->n_running, 1);
  service_keep_alive_locked (self);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  task_record_move (self, rec, TASK_STATE_RUNNING);
  service_update_hold (self);

  return id;
}

/**
 * asab_task_service_schedule_source:
 * @self: a task service
 * @source: (transfer full): a `GSource` that is not attached to a context
 *
 * Attaches @source to the service's context and tracks it as a task that
 * ends when the source is destroyed: when its callback returns
 * %G_SOURCE_REMOVE, or when g_source_destroy() is called on it.
 * [method@Asab.TaskService.cancel] and [method@Asab.TaskService.stop_async]
 * destroy it.
 *
 * The task's `GTask`, as given to [signal@Asab.TaskService::task-done], is
 * named after the source. Do not replace the source's callback once it has
 * been scheduled.
 *
 * Returns: the id of the task, or 0 if it was refused, in which case the
 *   source has been unreferenced
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule_source (AsabTaskService *self,
                                   GSource         *source)
{
  TaskRecord *rec;
  GSource *watch;
  gboolean pushed;
  guint64 id;

  g_return_val_if_fail (source != NULL, 0);
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), g_source_unref (source));
  return_refused_if_fail (!g_source_is_destroyed (source), g_source_unref (source));
  return_refused_if_fail (g_source_get_context (source) == NULL, g_source_unref (source));

  if (self->stopping)
    {
      service_refuse (g_source_get_name (source), NULL, NULL);
      g_source_unref (source);
      return 0;
    }

  if (!service_push_context (self, &pushed))
    {
      g_critical ("%s: called from a thread other than the one that runs the "
                  "service's main context", G_STRFUNC);
      g_source_unref (source);
      return 0;
    }

  rec = task_record_new (TASK_KIND_SOURCE, NULL);
  rec->source = source;
  rec->started = TRUE;
  rec->task = service_task_new (self, rec, g_source_get_name (source),
                                service_take_cancellable (self));
  service_pop_context (self, pushed);

  /* A child source is destroyed with its parent, and its callback's destroy
   * notify then runs: that is how the service learns of the end without
   * taking the source's own callback over.
   */
  watch = g_source_new (&source_watch_funcs, sizeof (GSource));
  g_source_set_static_name (watch, "[asab] source task watch");
  g_source_set_callback (watch, source_watch_never, rec, source_watch_gone);
  g_source_add_child_source (source, watch);
  g_source_unref (watch);

  g_mutex_lock (&self->lock);
  id = asab_id_table_insert (&self->ids, &rec->id);
  counter_add (&self->n_running, 1);
  service_keep_alive_locked (self);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  task_record_move (self, rec, TASK_STATE_RUNNING);
  service_update_hold (self);
  g_source_attach (source, self->context);

  return id;
}

/**
 * asab_task_service_cancel:
 * @self: a task service
 * @task_id: an id returned when a task was scheduled
 *
 * Cancels a task, from any thread.
 *
 * A task that has not started ends as cancelled without its function ever
 * running. A running task has its cancellable cancelled and ends when its
 * function completes it; a `GSource` is destroyed; a forever task is not
 * started again.
 *
 * Returns: %TRUE if the task was live, %FALSE if @task_id is unknown or
 *   the task has already ended
 *
 * Since: 1.0
 */
gboolean
asab_task_service_cancel (AsabTaskService *self,
                          guint64          task_id)
{
  TaskRecord *rec;
  g_autoptr(GCancellable) cancellable = NULL;
  GSource *source = NULL;

  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), FALSE);

  g_mutex_lock (&self->lock);
  rec = asab_id_table_lookup (&self->ids, task_id);
  if (rec == NULL)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }

  /* Once is enough: a thread that keeps cancelling must not make the
   * dispatcher's work grow. */
  if (rec->cancel_requested)
    {
      g_mutex_unlock (&self->lock);
      return TRUE;
    }
  rec->cancel_requested = TRUE;

  /* A task that has no GTask yet gets a cancelled cancellable with it. */
  if (rec->task != NULL)
    {
      GCancellable *c = g_task_get_cancellable (rec->task);

      if (c != NULL)
        cancellable = g_object_ref (c);
      /* From another thread, the dispatcher destroys it. */
      if (rec->kind == TASK_KIND_SOURCE && g_main_context_is_owner (self->context))
        source = g_source_ref (rec->source);
    }
  g_array_append_val (self->cancelled_ids, task_id);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  if (source != NULL)
    {
      g_source_destroy (source);
      g_source_unref (source);
    }

  return TRUE;
}

/**
 * asab_task_service_stop_async:
 * @self: a task service
 * @cancellable: (nullable): cancels the wait, not the stop
 * @callback: (scope async) (closure user_data): called when the service has
 *   stopped
 * @user_data: data for @callback
 *
 * Stops the service, as ASAB's `finalize()` does.
 *
 * From now on no task is accepted: scheduling returns 0, logs a warning
 * and calls the destroy notify. Tasks that have not started end as
 * cancelled; running tasks, forever tasks and `GSource`s are cancelled.
 * The operation completes when every task has ended, or when
 * [property@Asab.TaskService:stop-timeout] has passed: then the warning
 * “R+Q pending and incomplete tasks” is logged, with the numbers of tasks
 * still running and still queued, and the operation fails with
 * %G_IO_ERROR_TIMED_OUT. Those tasks still get their
 * [signal@Asab.TaskService::task-done] if they end later.
 *
 * Stopping a stopped service is harmless: it completes when no task is
 * left, or fails again after the timeout.
 *
 * Since: 1.0
 */
void
asab_task_service_stop_async (AsabTaskService     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StopWait *wait;

  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, asab_task_service_stop_async);
  g_task_set_name (task, "[asab] stop");

  service_request_stop (self);

  if (self->swept && service_n_live (self) == self->n_ended_on_stack)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (self->stop_tasks == NULL)
    self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->stop_tasks, g_object_ref (task));

  wait = g_new0 (StopWait, 1);
  wait->timer = g_timeout_source_new (g_atomic_int_get (&self->stop_timeout_ms));
  g_source_set_static_name (wait->timer, "[asab] stop timeout");
  g_source_set_callback (wait->timer, stop_timer_cb, g_object_ref (task), g_object_unref);
  g_source_attach (wait->timer, self->context);
  if (cancellable != NULL)
    {
      wait->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (wait->cancel_source, "[asab] stop wait cancelled");
      g_source_set_callback (wait->cancel_source, G_SOURCE_FUNC (stop_wait_cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (wait->cancel_source, self->context);
    }
  g_task_set_task_data (task, wait, stop_wait_free);

  /* Inside the dispatcher, which GLib will not dispatch again before it
   * returns, do the work now.
   */
  if (self->processing > 0)
    service_process (self);
}

/**
 * asab_task_service_stop_finish:
 * @self: a task service
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Asab.TaskService.stop_async].
 *
 * Returns: %TRUE when every task has ended; %FALSE with
 *   %G_IO_ERROR_TIMED_OUT when some were still pending after the stop
 *   timeout
 *
 * Since: 1.0
 */
gboolean
asab_task_service_stop_finish (AsabTaskService  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == asab_task_service_stop_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
stop_sync_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;

  asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, NULL);
  *done = TRUE;
}

/**
 * asab_task_service_stop:
 * @self: a task service
 *
 * Stops the service like [method@Asab.TaskService.stop_async], and iterates
 * the service's context until the stop has completed or timed out.
 *
 * Call it from the thread that runs the service's context, or from a
 * thread that can acquire it; from another thread it logs a critical and
 * only starts the stop. It may be called from a signal handler of the
 * service, or from a task's function: a task that has completed its
 * `GTask` counts as ended even while its function is still on the stack,
 * but one that has not cannot end before its function returns, so the stop
 * then waits for it until the stop timeout.
 *
 * Since: 1.0
 */
void
asab_task_service_stop (AsabTaskService *self)
{
  gboolean done = FALSE;

  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));

  if (!g_main_context_acquire (self->context))
    {
      g_critical ("%s: the service's main context belongs to another thread; "
                  "use asab_task_service_stop_async() there", G_STRFUNC);
      service_request_stop (self);
      return;
    }

  g_object_ref (self);
  g_main_context_push_thread_default (self->context);

  asab_task_service_stop_async (self, NULL, stop_sync_cb, &done);
  while (!done)
    {
      /* Inside the dispatcher, GLib will not dispatch it again: do its
       * work here, and do not block while there is some left.
       */
      if (self->processing > 0)
        {
          service_process (self);
          if (!done)
            g_main_context_iteration (self->context, !service_is_busy (self));
        }
      else
        g_main_context_iteration (self->context, TRUE);
    }

  g_main_context_pop_thread_default (self->context);
  g_main_context_release (self->context);
  g_object_unref (self);
}

/**
 * asab_task_service_get_n_running: (get-property n-running)
 * @self: a task service
 *
 * Gets the number of tasks that have started and not yet ended. It is safe
 * to call from any thread.
 *
 * Returns: the number of running tasks
 *
 * Since: 1.0
 */
guint
asab_task_service_get_n_running (AsabTaskService *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);

  return counter_get (&self->n_running);
}

/**
 * asab_task_service_get_n_queued: (get-property n-queued)
 * @self: a task service
 *
 * Gets the number of tasks that have been accepted and not yet started. It
 * is safe to call from any thread.
 *
 * Returns: the number of queued tasks
 *
 * Since: 1.0
 */
guint
asab_task_service_get_n_queued (AsabTaskService *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);

  return counter_get (&self->n_queued) + counter_get (&self->n_in_transit);
}

/**
 * asab_task_service_get_max_concurrent: (get-property max-concurrent)
 * @self: a task service
 *
 * Gets the most tasks that run at once.
 *
 * Returns: the limit, or 0 for no limit
 *
 * Since: 1.0
 */
guint
asab_task_service_get_max_concurrent (AsabTaskService *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);

  return g_atomic_int_get (&self->max_concurrent);
}

/**
 * asab_task_service_set_max_concurrent: (set-property max-concurrent)
 * @self: a task service
 * @max_concurrent: the most tasks that run at once, or 0 for no limit
 *
 * Sets the most tasks that run at once. Raising the limit starts waiting
 * tasks on the next iteration of the service's context; lowering it lets
 * running tasks finish.
 *
 * Since: 1.0
 */
void
asab_task_service_set_max_concurrent (AsabTaskService *self,
                                      guint            max_concurrent)
{
  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));
  g_return_if_fail (max_concurrent <= G_MAXINT);

  if ((guint) g_atomic_int_get (&self->max_concurrent) == max_concurrent)
    return;

  g_atomic_int_set (&self->max_concurrent, max_concurrent);
  service_wake (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CONCURRENT]);
}

/**
 * asab_task_service_get_max_queued: (get-property max-queued)
 * @self: a task service
 *
 * Gets the most tasks that may wait to start.
 *
 * Returns: the limit, or 0 for no limit
 *
 * Since: 1.0
 */
guint
asab_task_service_get_max_queued (AsabTaskService *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);

  return g_atomic_int_get (&self->max_queued);
}

/**
 * asab_task_service_set_max_queued: (set-property max-queued)
 * @self: a task service
 * @max_queued: the most tasks that may wait to start, or 0 for no limit
 *
 * Sets the most tasks that may wait to start; see
 * [property@Asab.TaskService:max-queued]. It is safe to call from any
 * thread.
 *
 * Since: 1.0
 */
void
asab_task_service_set_max_queued (AsabTaskService *self,
                                  guint            max_queued)
{
  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));
  g_return_if_fail (max_queued <= G_MAXINT);

  if ((guint) g_atomic_int_get (&self->max_queued) == max_queued)
    return;

  g_atomic_int_set (&self->max_queued, max_queued);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_QUEUED]);
}

/**
 * asab_task_service_get_stop_timeout: (get-property stop-timeout)
 * @self: a task service
 *
 * Gets how long a stop waits for tasks to end.
 *
 * Returns: the timeout, in milliseconds
 *
 * Since: 1.0
 */
guint
asab_task_service_get_stop_timeout (AsabTaskService *self)
{
  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);

  return g_atomic_int_get (&self->stop_timeout_ms);
}

/**
 * asab_task_service_set_stop_timeout: (set-property stop-timeout)
 * @self: a task service
 * @timeout_ms: the timeout, in milliseconds
 *
 * Sets how long [method@Asab.TaskService.stop_async] waits for tasks to
 * end. It applies to stops that start after the call.
 *
 * Since: 1.0
 */
void
asab_task_service_set_stop_timeout (AsabTaskService *self,
                                    guint            timeout_ms)
{
  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));
  g_return_if_fail (timeout_ms <= G_MAXINT);

  if ((guint) g_atomic_int_get (&self->stop_timeout_ms) == timeout_ms)
    return;

  g_atomic_int_set (&self->stop_timeout_ms, timeout_ms);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STOP_TIMEOUT]);
}
