/* asab-task-service.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdatomic.h>

#include "asab-task-service.h"
#include "asab-dispatch-source-private.h"
#include "asab-id-table-private.h"
#include "asab-marshal.h"
#include "asab-task-list-private.h"
#include "asab-task-log-private.h"

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
 * tasks are pending but none of them is making progress. A task's function
 * or a signal handler may run the context, in a nested main loop say:
 * other tasks go on meanwhile.
 *
 * Every function may be called from any thread. A call from a thread that
 * does not hold the service's context, and cannot acquire it for the call,
 * is handed over to the context's thread, as
 * [method@Asab.TaskService.schedule_threadsafe] describes.
 *
 * A task's `GCancellable` belongs to the service: it may serve another
 * task after this one has ended, when nobody else holds a reference to it,
 * nothing is connected to it and it was not cancelled. Do not keep data on
 * it with g_object_set_data() or weak references: they can outlive the
 * task.
 *
 * Since: 1.0
 */

/* ----------------------------------------------------------------------
 * How this file reads
 *
 * The sections follow a task's life: its record, scheduling it on the
 * context's thread, handing it over from another thread, starting it and
 * ending it, restarting a forever task, tracking a GTask or GSource given
 * to the service, the service's own lifetime, the dispatch loop that moves
 * tasks along, and stopping; then what shows tasks to the application (the
 * task list, progress, tasks tied to an object), which hooks into the rest
 * only when asked for. Each section ends with the public functions that it
 * implements. docs/internals.md describes the states, the queues,
 * the lock and the words used here:
 *
 * - complete: a task's GTask is completed, by g_task_return_*(), whoever
 *   calls it; "the service completes a task" when it returns the GTask
 *   itself (cancelled before its start, say).
 * - end: the service reports a task's end: task-failed if it failed,
 *   task-done, then the destroy notify. A forever task ends once, for good.
 * - hand over / receive / take: a thread that does not hold the context
 *   hands a record over, in a locked queue; the context's thread receives
 *   the hand-overs and takes them into its own queues.
 * - primed: a queued task that has its GTask already (it gets it one
 *   iteration before its turn: a GTask completes at once only in a later
 *   iteration than the one that created it).
 * - cancel all: what a stop does first: queued tasks end as cancelled,
 *   running ones are cancelled.
 * - kept alive: the service holds a reference on itself while it has live
 *   tasks.
 */

/* ----------------------------------------------------------------------
 * Tunables
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

/* ----------------------------------------------------------------------
 * Records and the service
 *
 * A task is a record, from the call that accepts it to its end. The
 * service's fields are grouped by who may touch them.
 */

typedef enum
{
  TASK_KIND_FUNC,
  TASK_KIND_THREAD,
  TASK_KIND_FOREVER,
  TASK_KIND_GTASK,
  TASK_KIND_SOURCE,
} TaskKind;

/* Where a record is: in exactly one of the queues that its state names,
 * or in none. */
typedef enum
{
  TASK_STATE_NONE,               /* in no queue */
  TASK_STATE_HANDED_OVER,        /* in handed_over or received (locked): from
                                  * another thread, waits to be taken */
  TASK_STATE_QUEUED,             /* in queued: waits for its turn; primed or not */
  TASK_STATE_DELAYED,            /* in delayed: a forever task waits out its back-off */
  TASK_STATE_IN_FUNC,            /* in in_func: its function is on the stack */
  TASK_STATE_COMPLETED_IN_FUNC,  /* completed while its function is on the stack */
  TASK_STATE_RUNNING,            /* in running: started, waits to be completed */
  TASK_STATE_COMPLETING,         /* the service completed its GTask: waits for
                                  * the GTask's callback */
  TASK_STATE_COMPLETED,          /* in completed: waits for its end */
  TASK_STATE_ENDING,             /* its end is being reported, on the stack */
} TaskState;

typedef struct _TaskRecord
{
  /* First, so that the id table can use it as the key. Written under the
   * lock. */
  guint64 id;
  /* In the queue that the state names. */
  GList link;
  /* Written under the lock by the thread that holds the context, which
   * also reads it without the lock; cancel() reads it under the lock. */
  GTask *task;
  /* Its item in the task list, if the service has one: the same rules;
   * set_progress() reads it under the lock. */
  AsabTaskInfo *info;
  /* Set before the record is shared: for schedule_for_object(). */
  struct _OwnerWatch *watch;
  /* Set before the record is shared. */
  union {
    struct {
      AsabTaskFunc func;
      gpointer user_data;
      GDestroyNotify destroy;
    };
    GSource *source;
    gulong completed_handler;
  };
  guint8 kind;
  /* The thread that holds the context; under the lock while the record is
   * handed over. */
  guint8 state;
  /* Set before the record is shared, or by the thread that holds the
   * context. */
  guint8 started : 1;
  guint8 has_name : 1;
  /* Under the lock: cancel() has been called for it. */
  guint8 cancel_requested;
  /* The thread that holds the context: the iteration of the context in
   * which it got its GTask. */
  guint32 gtask_iteration;
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

/* A stop that a caller waits for: stop() and the application's shutdown. */
typedef struct _StopSync
{
  /* Where the stop's result arrives. */
  GMainContext *context;
  gboolean done;
  gboolean ok;
  GError *error;
} StopSync;

struct _AsabTaskService
{
  GObject parent_instance;

  /* Set at construction, then only read. */
  GMainContext *context;
  GSource *dispatcher;
  gboolean has_application;
  /* Any thread: a weak reference is thread-safe. */
  GWeakRef application;

  /* The thread that holds the context only. */
  GQueue queued;
  /* How many queued tasks are primed. */
  guint n_primed;
  /* Tasks whose functions are on the stack: more than one when a function
   * runs the context. */
  GQueue in_func;
  GQueue running;
  GQueue delayed;
  GQueue completed;
  GPtrArray *spare_cancellables;
  /* The GTasks of stop_async() calls that wait. */
  GPtrArray *stop_tasks;
  /* What cancelling all has yet to cancel: cancelling runs handlers, which
   * may stop the service again and must find the work going on. */
  GPtrArray *to_cancel;
  GPtrArray *to_destroy;
  /* The stop that the application's shutdown started, if any. */
  StopSync *shutdown_stop;
  /* The task list, once this thread has filled it. */
  AsabTaskList *list;
  guint processing;
  /* Tasks that have ended but are still counted as running or queued until
   * their task-done; those of them whose end cannot be processed before the
   * stack unwinds (their function, or a handler of their end, is running)
   * are on the stack. A stop reports only the others as pending, and
   * completes without waiting for those on the stack. */
  guint n_ended_started;
  guint n_ended_unstarted;
  guint n_ended_on_stack;
  guint notified_n_running;
  guint notified_n_queued;
  guint cancelled_all : 1;

  /* Any thread, under the lock. */
  GMutex lock;
  AsabIdTable ids;
  GQueue handed_over;
  GQueue received;
  GArray *cancelled_ids;
  GPtrArray *destroyed_sources;
  /* The task list, from the first get_tasks(), and the ids of the tasks
   * whose progress changed. */
  AsabTaskList *task_list;
  GArray *progress_ids;
  gboolean hand_over_pending;
  gboolean wake_pending;
  gboolean holding_application;
  /* A reference of the service on itself while it has live tasks: a task
   * that has no GTask yet has nothing else to keep it alive. */
  gboolean kept_alive;

  /* Any thread, under a lock of its own. */
  AsabRefusalLog refusal_log;

  /* Any thread, atomic. */
  /* Set under the lock, once; read without it, so that a refusal costs no
   * lock and a thread learns of the stop before it decides where to go. */
  int stopping;
  /* Written only by the thread that holds the context: with one writer,
   * counting needs no locked instruction. */
  atomic_uint n_running;
  atomic_uint n_queued;
  /* Written under the lock. */
  atomic_uint n_handed_over;
  /* Written by the setters, from any thread. */
  int max_concurrent;
  int max_queued;
  int stop_timeout_ms;
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
static GQuark gtask_id_quark;

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

/* The tag of every GTask the service creates for a task. */
static void
asab_task_service_task_tag (void)
{
}

/* Defined in later sections, in the order a task meets them. */
static guint64  service_hand_over              (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     service_take_hand_overs        (AsabTaskService *self);
static void     task_record_complete_cancelled (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     task_record_end                (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     task_completed_cb              (GObject         *object,
                                                GAsyncResult    *result,
                                                gpointer         user_data);
static gboolean forever_should_restart         (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     forever_schedule_restart       (AsabTaskService *self,
                                                TaskRecord      *rec,
                                                const GError    *error);
static void     service_adopt_task             (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     service_attach_source          (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     service_source_destroyed       (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     service_update_hold            (AsabTaskService *self);
static void     task_record_show               (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     task_record_map_gtask          (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     task_record_show_started       (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     task_record_show_cancelling    (TaskRecord      *rec);
static void     task_record_hide               (AsabTaskService *self,
                                                TaskRecord      *rec);
static void     service_show_tasks             (AsabTaskService *self);
static void     service_show_progress          (AsabTaskService *self,
                                                GArray          *ids);
static void     owner_watch_unref              (struct _OwnerWatch *watch);
static void     task_record_unwatch_owner      (TaskRecord      *rec);
static void     service_cancel_all             (AsabTaskService *self);
static void     service_cancel_all_continue    (AsabTaskService *self);
static void     service_check_stops            (AsabTaskService *self);
static void     stop_sync_begin                (AsabTaskService *self,
                                                StopSync        *sync,
                                                GCancellable    *cancellable);
static void     stop_sync_wait                 (StopSync        *sync);

/* ----------------------------------------------------------------------
 * Record bookkeeping
 *
 * A record changes state only through task_record_set_state(), which
 * keeps the queues and the counts of ended tasks right. Queued tasks get
 * their GTask and cancellable only shortly before their turn; cancellables
 * of ended tasks serve later tasks. The counters and the liveness of the
 * service, which every section reads, are here too.
 */

static inline guint
service_n_running (AsabTaskService *self)
{
  return counter_get (&self->n_running);
}

static inline guint
service_n_queued (AsabTaskService *self)
{
  return counter_get (&self->n_queued) + counter_get (&self->n_handed_over);
}

static inline guint
service_n_live (AsabTaskService *self)
{
  return service_n_running (self) + service_n_queued (self);
}

static inline gboolean
service_is_stopping (AsabTaskService *self)
{
  return g_atomic_int_get (&self->stopping);
}

static inline gboolean
service_queue_is_full (AsabTaskService *self)
{
  guint max = g_atomic_int_get (&self->max_queued);

  return max != 0 && service_n_queued (self) >= max;
}

static inline gboolean
service_has_free_slot (AsabTaskService *self)
{
  guint max = (guint) g_atomic_int_get (&self->max_concurrent);

  return max == 0 || counter_get (&self->n_running) < max;
}

static inline guint32
service_iteration (AsabTaskService *self)
{
  return asab_dispatch_source_get_iteration (self->dispatcher);
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

/* Under the lock, on scheduling: the caller holds a reference. */
static inline void
service_keep_alive_locked (AsabTaskService *self)
{
  if (!self->kept_alive)
    {
      self->kept_alive = TRUE;
      g_object_ref (self);
      asab_dispatch_source_set_kept (self->dispatcher, G_OBJECT (self));
    }
}

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
    case TASK_STATE_COMPLETED:
      return &self->completed;
    case TASK_STATE_IN_FUNC:
      return &self->in_func;
    case TASK_STATE_NONE:
    case TASK_STATE_HANDED_OVER:
    case TASK_STATE_COMPLETING:
    case TASK_STATE_ENDING:
    case TASK_STATE_COMPLETED_IN_FUNC:
    default:
      return NULL;
    }
}

static inline gboolean
state_has_ended (TaskState state)
{
  return state == TASK_STATE_COMPLETED_IN_FUNC ||
         state == TASK_STATE_COMPLETING ||
         state == TASK_STATE_COMPLETED ||
         state == TASK_STATE_ENDING;
}

static inline gboolean
state_is_on_stack (TaskState state)
{
  return state == TASK_STATE_COMPLETED_IN_FUNC || state == TASK_STATE_ENDING;
}

static void
task_record_set_state (AsabTaskService *self,
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
  if (state == TASK_STATE_QUEUED && rec->task != NULL)
    self->n_primed++;

  if (from != to)
    {
      if (from != NULL)
        g_queue_unlink (from, &rec->link);
      if (to != NULL)
        g_queue_push_tail_link (to, &rec->link);
    }

  rec->state = state;
}

/* Moves every link of @src to the end of @dest, in O(1). */
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

/* What task_record_set_state (QUEUED) does for each of @records, which
 * come from the hand-off with no GTask yet: they join the queue in one go.
 * Leaves @records empty. */
static void
task_records_queue (AsabTaskService *self,
                    GQueue          *records)
{
  for (GList *l = records->head; l != NULL; l = l->next)
    ((TaskRecord *) l->data)->state = TASK_STATE_QUEUED;
  queue_splice_tail (&self->queued, records);
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

static TaskRecord *
task_record_new_func (TaskKind        kind,
                      const char     *name,
                      AsabTaskFunc    func,
                      gpointer        user_data,
                      GDestroyNotify  destroy)
{
  TaskRecord *rec = task_record_new (kind, name);

  rec->func = func;
  rec->user_data = user_data;
  rec->destroy = destroy;

  return rec;
}

static const char *
task_record_describe (TaskRecord *rec)
{
  if (rec->task != NULL)
    return g_task_get_name (rec->task);
  if (rec->kind == TASK_KIND_SOURCE)
    return g_source_get_name (rec->source);

  return task_record_name (rec);
}

/* Releases what a record was given: calls the destroy notify, drops the
 * GSource, lets go of a GTask. */
static void
task_record_release_data (TaskRecord *rec)
{
  switch ((TaskKind) rec->kind)
    {
    case TASK_KIND_FUNC:
    case TASK_KIND_THREAD:
    case TASK_KIND_FOREVER:
      if (rec->destroy != NULL)
        rec->destroy (rec->user_data);
      break;
    case TASK_KIND_SOURCE:
      g_source_unref (rec->source);
      break;
    case TASK_KIND_GTASK:
      g_object_set_qdata (G_OBJECT (rec->task), adopted_quark, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Frees a record that was never accepted, with what it was given. */
static void
task_record_release (TaskRecord *rec)
{
  g_clear_pointer (&rec->watch, owner_watch_unref);
  task_record_release_data (rec);
  g_clear_object (&rec->task);
  g_free (rec);
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

/* Frees a record that has ended. Its GTask's cancellable is the service's
 * own, unless the GTask was given to the service. */
static void
task_record_free (AsabTaskService *self,
                  TaskRecord      *rec)
{
  GCancellable *cancellable = NULL;

  if (rec->kind == TASK_KIND_GTASK)
    {
      g_signal_handler_disconnect (rec->task, rec->completed_handler);
      g_object_set_qdata (G_OBJECT (rec->task), gtask_id_quark, NULL);
    }
  else
    cancellable = g_task_get_cancellable (rec->task);

  if (rec->watch != NULL)
    task_record_unwatch_owner (rec);
  task_record_release_data (rec);
  g_object_unref (rec->task);
  if (cancellable != NULL)
    service_recycle_cancellable (self, cancellable);
  g_free (rec);
}

/* Whether the calling thread holds the service's context, and so may touch
 * what belongs to the context's thread. Pushing a context as the
 * thread-default one acquires it until it is popped; a thread that runs it
 * in a main loop, or iterates it, holds it meanwhile.
 */
static inline gboolean
service_is_owner (AsabTaskService *self)
{
  return g_main_context_get_thread_default () == self->context ||
         g_main_context_is_owner (self->context);
}

/* Makes the calling thread the owner of the context for one call, as
 * g_main_context_invoke() decides whether it may call a function at once:
 * when it holds the context already, or when the context is its
 * thread-default one (the global default counts for a thread without one)
 * and nobody else holds it. Returns FALSE when the call must be handed
 * over; otherwise service_leave() ends it. The context stays acquired
 * until the call has done what belongs to the context's thread.
 */
static gboolean
service_enter (AsabTaskService *self,
               gboolean        *acquired)
{
  GMainContext *thread_default = g_main_context_get_thread_default ();

  *acquired = FALSE;
  if (thread_default == self->context || g_main_context_is_owner (self->context))
    return TRUE;

  if ((thread_default != NULL ? thread_default : g_main_context_default ()) != self->context)
    return FALSE;

  *acquired = g_main_context_acquire (self->context);

  return *acquired;
}

static inline void
service_leave (AsabTaskService *self,
               gboolean         acquired)
{
  if (acquired)
    g_main_context_release (self->context);
}

/* A GTask completes on the thread-default context of the thread that
 * created it, so the service's context must be the thread-default one
 * whenever the service creates a GTask. The owner of the context can push
 * it when it is not: a thread may run a context that it never pushed.
 */
static GTask *
service_gtask_new (AsabTaskService     *self,
                   gpointer             source_object,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             callback_data)
{
  GMainContext *thread_default = g_main_context_get_thread_default ();
  GTask *task;

  g_assert (service_is_owner (self));

  if ((thread_default != NULL ? thread_default : g_main_context_default ()) == self->context)
    return g_task_new (source_object, cancellable, callback, callback_data);

  g_main_context_push_thread_default (self->context);
  task = g_task_new (source_object, cancellable, callback, callback_data);
  g_main_context_pop_thread_default (self->context);

  return task;
}

/* Makes the GTask of a task. Its cancellable is taken from the spares, and
 * recycled when the task has ended. */
static GTask *
service_task_new (AsabTaskService *self,
                  TaskRecord      *rec,
                  const char      *name,
                  GCancellable    *cancellable)
{
  GTask *task;

  if (rec->kind == TASK_KIND_THREAD)
    {
      /* A worker's task completes on a context of its own, which the
       * service runs when the worker's function has returned
       * (thread_task_deliver()). */
      g_autoptr(GMainContext) own = g_main_context_new ();

      g_main_context_push_thread_default (own);
      task = g_task_new (self, cancellable, task_completed_cb, rec);
      g_main_context_pop_thread_default (own);
    }
  else
    task = service_gtask_new (self, self, cancellable, task_completed_cb, rec);

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

  g_assert (n_recs <= PRIME_BATCH);

  for (guint i = 0; i < n_recs; i++)
    tasks[i] = service_task_new (self, recs[i], task_record_name (recs[i]),
                                 service_take_cancellable (self));

  /* cancel() reads the GTask from other threads, under the lock. */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < n_recs; i++)
    {
      recs[i]->task = tasks[i];
      recs[i]->gtask_iteration = iteration;
      if (recs[i]->cancel_requested)
        cancelled[n_cancelled++] = g_task_get_cancellable (tasks[i]);
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < n_recs; i++)
    {
      if (recs[i]->state == TASK_STATE_QUEUED)
        self->n_primed++;
      task_record_map_gtask (self, recs[i]);
    }

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

      /* A worker's task gets its GTask, and the context of its own that
       * comes with it, when it starts. */
      if (rec->task != NULL || rec->kind == TASK_KIND_THREAD)
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

/* ----------------------------------------------------------------------
 * Scheduling on the context's thread
 *
 * A call on the thread that holds the context queues its task at once;
 * any other call is handed over (next section). Refused calls release
 * what they were given at once.
 */

/* Checks a precondition like g_return_val_if_fail(), and also releases what
 * the call was given, so that a refused call leaks nothing.
 */
#define return_refused_if_fail(expr, data, release) \
  G_STMT_START { \
    if (G_LIKELY (expr)) \
      { } \
    else \
      { \
        g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, #expr); \
        if ((release) != NULL) \
          (release) (data); \
        return 0; \
      } \
  } G_STMT_END

static inline void
service_log_refusal (AsabTaskService *self,
                     AsabRefusal      reason,
                     const char      *name)
{
  asab_refusal_log_warn (&self->refusal_log, reason, name,
                         g_atomic_int_get (&self->max_queued));
}

/* Refuses a call: says so in the log, rate-limited, and releases at once
 * what the call was given. */
static guint64
service_refuse (AsabTaskService *self,
                AsabRefusal      reason,
                const char      *name,
                gpointer         data,
                GDestroyNotify   release)
{
  service_log_refusal (self, reason, name);
  if (release != NULL)
    release (data);

  return 0;
}

/* Whether a new task must be refused, and why. Reads without the lock: a
 * stop or a full queue that another thread causes at the same moment may
 * come just after this call. */
static gboolean
service_must_refuse (AsabTaskService *self,
                     AsabRefusal     *reason)
{
  if (service_is_stopping (self))
    *reason = ASAB_REFUSED_STOPPED;
  else if (service_queue_is_full (self))
    *reason = ASAB_REFUSED_FULL;
  else
    return FALSE;

  return TRUE;
}

/* Gives a record its id and counts it, on the context's thread. */
static guint64
service_register (AsabTaskService *self,
                  TaskRecord      *rec)
{
  guint64 id;

  g_mutex_lock (&self->lock);
  id = asab_id_table_insert (&self->ids, &rec->id);
  counter_add (rec->started ? &self->n_running : &self->n_queued, 1);
  service_keep_alive_locked (self);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  return id;
}

/* Queues a task on the context's thread. */
static guint64
service_queue_task (AsabTaskService    *self,
                    TaskKind            kind,
                    const char         *name,
                    AsabTaskFunc        func,
                    gpointer            user_data,
                    GDestroyNotify      destroy,
                    struct _OwnerWatch *watch)
{
  TaskRecord *rec;
  gboolean prime_now;
  guint64 id;

  service_take_hand_overs (self);

  /* Primed now when every task ahead of it is, and few are: then it starts
   * on the next dispatch. Otherwise its turn will come. */
  prime_now = self->n_primed == self->queued.length && self->n_primed < PRIME_AHEAD &&
              kind != TASK_KIND_THREAD;

  rec = task_record_new_func (kind, prime_now ? NULL : name, func, user_data, destroy);
  rec->watch = watch;
  if (prime_now)
    {
      rec->task = service_task_new (self, rec, name, service_take_cancellable (self));
      rec->gtask_iteration = service_iteration (self);
    }

  id = service_register (self, rec);
  task_record_set_state (self, rec, TASK_STATE_QUEUED);
  task_record_show (self, rec);
  service_update_hold (self);

  return id;
}

/* Schedules a task from any thread. The record takes @watch, if given. */
static guint64
service_schedule (AsabTaskService    *self,
                  TaskKind            kind,
                  const char         *name,
                  AsabTaskFunc        func,
                  gpointer            user_data,
                  GDestroyNotify      destroy,
                  struct _OwnerWatch *watch)
{
  AsabRefusal reason;
  gboolean acquired;
  guint64 id;

  if (service_must_refuse (self, &reason))
    {
      g_clear_pointer (&watch, owner_watch_unref);
      return service_refuse (self, reason, name, user_data, destroy);
    }

  if (!service_enter (self, &acquired))
    {
      TaskRecord *rec = task_record_new_func (kind, name, func, user_data, destroy);

      rec->watch = watch;
      return service_hand_over (self, rec);
    }

  id = service_queue_task (self, kind, name, func, user_data, destroy, watch);
  service_leave (self, acquired);

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
 * warning (at most one every ten seconds for each reason, with the number
 * of refusals in between), calls @destroy and returns 0.
 *
 * It may be called from any thread. On the thread that holds the service's
 * context, or from one whose thread-default context it is and that can
 * acquire it for the call (g_main_context_invoke() decides the same way),
 * the task is queued at once; from any other thread it is handed over as
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
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), user_data, destroy);
  return_refused_if_fail (func != NULL, user_data, destroy);

  return service_schedule (self, TASK_KIND_FUNC, name, func, user_data, destroy, NULL);
}

/* ----------------------------------------------------------------------
 * Hand-off from other threads
 *
 * A thread that does not hold the context hands its record over in a
 * locked queue, with one g_main_context_invoke() per burst; the thread
 * that holds the context receives the hand-overs and takes them into its
 * own queues, in order. cancel() is a request of the same kind.
 */

/* Receives what other threads handed over, for the dispatcher to take. It
 * runs on whichever thread holds the context, which may be the thread that
 * scheduled, for a moment: it never runs a task, nor touches what belongs
 * to the thread that dispatches.
 */
static void
service_receive_hand_overs (AsabTaskService *self)
{
  g_mutex_lock (&self->lock);
  self->hand_over_pending = FALSE;
  if (self->handed_over.length > 0)
    {
      queue_splice_tail (&self->received, &self->handed_over);
      service_wake_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
hand_over_cb (gpointer data)
{
  AsabTaskService *self = data;

  service_receive_hand_overs (self);
  /* Whoever runs this holds the context, so g_application_run() is not
   * iterating it elsewhere: hold the application now, or it could return
   * before the dispatcher runs. */
  service_update_hold (self);

  return G_SOURCE_REMOVE;
}

/* Hands a record over to the context's thread, from a thread that cannot
 * own the context: the record waits in a locked queue, and a burst of calls
 * costs one g_main_context_invoke(). Its id is given at once, so that it
 * can be cancelled on its way.
 */
static guint64
service_hand_over (AsabTaskService *self,
                   TaskRecord      *rec)
{
  gboolean need_hand_over = FALSE;
  gboolean refused = TRUE;
  AsabRefusal reason;
  guint64 id = 0;

  task_record_set_state (self, rec, TASK_STATE_HANDED_OVER);

  g_mutex_lock (&self->lock);
  /* Checked again under the lock: cancelling all takes what was handed
   * over under it, and nothing may join after that; producers that race
   * for the last places in the queue are told apart here. */
  if (service_is_stopping (self))
    reason = ASAB_REFUSED_STOPPED;
  else if (!rec->started && service_queue_is_full (self))
    reason = ASAB_REFUSED_FULL;
  else
    {
      refused = FALSE;
      id = asab_id_table_insert (&self->ids, &rec->id);
      g_queue_push_tail_link (&self->handed_over, &rec->link);
      counter_add (&self->n_handed_over, 1);
      service_keep_alive_locked (self);
      need_hand_over = !self->hand_over_pending;
      self->hand_over_pending = TRUE;
    }
  g_mutex_unlock (&self->lock);

  if (refused)
    {
      service_log_refusal (self, reason, task_record_describe (rec));
      task_record_release (rec);
      return 0;
    }

  if (need_hand_over)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT,
                                hand_over_cb, g_object_ref (self), g_object_unref);

  return id;
}

/* Lets the records that other threads handed over join the service: tasks
 * to run join the queue, in the order they were scheduled; GTasks and
 * GSources, which run already, are tracked or attached.
 */
static void
service_take_received (AsabTaskService *self)
{
  GQueue received = G_QUEUE_INIT;
  g_autoptr(GPtrArray) cancelled = NULL;
  guint n_started = 0;
  GList *link;

  /* The hand-off may run on a thread that holds the context for a moment
   * while another one schedules: it leaves the counts that only the
   * dispatching thread writes to this. */
  g_mutex_lock (&self->lock);
  received = self->received;
  g_queue_init (&self->received);
  for (GList *l = received.head; l != NULL; l = l->next)
    {
      TaskRecord *rec = l->data;

      n_started += rec->started;
      if (rec->cancel_requested && !rec->started)
        {
          if (cancelled == NULL)
            cancelled = g_ptr_array_new ();
          g_ptr_array_add (cancelled, rec);
        }
    }
  counter_add (&self->n_handed_over, -(int) received.length);
  counter_add (&self->n_running, n_started);
  counter_add (&self->n_queued, received.length - n_started);
  g_mutex_unlock (&self->lock);

  /* Most often only tasks to run, and nothing to show: they join the
   * queue in one go. */
  if (n_started == 0 && G_LIKELY (self->list == NULL))
    task_records_queue (self, &received);

  while ((link = g_queue_pop_head_link (&received)) != NULL)
    {
      TaskRecord *rec = link->data;

      switch ((TaskKind) rec->kind)
        {
        case TASK_KIND_GTASK:
          service_adopt_task (self, rec);
          break;
        case TASK_KIND_SOURCE:
          /* Its GTask comes now; a cancellation on the way comes with it. */
          service_prime_records (self, &rec, 1);
          g_task_set_name (rec->task, g_source_get_name (rec->source));
          service_attach_source (self, rec);
          break;
        case TASK_KIND_FUNC:
        case TASK_KIND_THREAD:
        case TASK_KIND_FOREVER:
          task_record_set_state (self, rec, TASK_STATE_QUEUED);
          break;
        default:
          g_assert_not_reached ();
        }
      task_record_show (self, rec);
    }

  /* Cancelled on the way: they end now, not when their turn comes. */
  for (guint i = 0; cancelled != NULL && i < cancelled->len; i++)
    {
      TaskRecord *rec = g_ptr_array_index (cancelled, i);

      service_prime_records (self, &rec, 1);
      task_record_complete_cancelled (self, rec);
    }
}

/* Takes what other threads handed over, so that a thread that could not
 * own the context a moment ago sees its tasks start in the order it
 * scheduled them. */
static inline void
service_take_hand_overs (AsabTaskService *self)
{
  if (counter_get (&self->n_handed_over) > 0)
    {
      service_receive_hand_overs (self);
      service_take_received (self);
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

  if (rec->info != NULL)
    task_record_show_cancelling (rec);

  if (rec->state == TASK_STATE_QUEUED || rec->state == TASK_STATE_DELAYED)
    {
      /* Its GTask comes now, to be given to task-done. */
      if (rec->task == NULL)
        service_prime_records (self, &rec, 1);
      task_record_complete_cancelled (self, rec);
    }
  else if (rec->kind == TASK_KIND_SOURCE && rec->state == TASK_STATE_RUNNING)
    g_source_destroy (rec->source);
}

static void
service_take_requests (AsabTaskService *self)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) destroyed = NULL;
  g_autoptr(GArray) progress_ids = NULL;
  gboolean fill_list;

  g_mutex_lock (&self->lock);
  fill_list = self->task_list != NULL && self->list == NULL;
  if (self->progress_ids->len > 0)
    {
      progress_ids = g_steal_pointer (&self->progress_ids);
      self->progress_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
    }
  if (self->cancelled_ids->len > 0)
    {
      ids = g_steal_pointer (&self->cancelled_ids);
      self->cancelled_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
    }
  if (self->destroyed_sources->len > 0)
    {
      destroyed = g_steal_pointer (&self->destroyed_sources);
      self->destroyed_sources = g_ptr_array_new ();
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; ids != NULL && i < ids->len; i++)
    service_cancel_by_id (self, g_array_index (ids, guint64, i));

  for (guint i = 0; destroyed != NULL && i < destroyed->len; i++)
    service_source_destroyed (self, g_ptr_array_index (destroyed, i));

  if (G_UNLIKELY (fill_list))
    service_show_tasks (self);
  if (G_UNLIKELY (progress_ids != NULL))
    service_show_progress (self, progress_ids);
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
 * The task is handed to the context with g_main_context_invoke(), without
 * asking which thread holds the context; a burst of calls shares one
 * hand-off. Tasks scheduled from one thread start in the order in which
 * they were scheduled, whichever of the two calls scheduled them: the
 * context takes what was handed over before it queues a task of
 * [method@Asab.TaskService.schedule_full]. @func runs, and @destroy is
 * called, on the service's context. When the call is refused, @destroy is
 * called at once, on the calling thread.
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
  AsabRefusal reason;

  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), user_data, destroy);
  return_refused_if_fail (func != NULL, user_data, destroy);

  /* Whoever calls it, the hand-off: asking which thread holds the context
   * would cost the context's own lock, which its thread takes at every
   * iteration, and gain nothing. */
  if (service_must_refuse (self, &reason))
    return service_refuse (self, reason, name, user_data, destroy);

  return service_hand_over (self, task_record_new_func (TASK_KIND_FUNC, name, func, user_data, destroy));
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
 * started again. The cancellable of a `GTask` given to
 * [method@Asab.TaskService.schedule_task] is cancelled even when other work
 * shares it.
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

/* ----------------------------------------------------------------------
 * Starting and ending tasks
 *
 * A task starts when its turn comes: its function runs with its GTask,
 * here or on a worker thread. It ends when its GTask has completed and
 * its function has returned: a failure is reported, task-done emitted,
 * the destroy notify called and the record freed.
 */

/* The function of a task given to schedule_in_thread() runs on a worker
 * thread through a GTask of the service's own, the runner. The task's own
 * GTask is not run in a thread, so that the service can tell whether the
 * function completed it, and completes on a context of its own: whoever
 * completes it, the completion waits there, and the service delivers it
 * when the runner says that the function has returned. So the function
 * never finds its task completed, or its data freed, under its feet.
 */
static void
thread_task_deliver (TaskRecord *rec)
{
  GMainContext *own = g_task_get_context (rec->task);

  /* Nobody else runs it. */
  if (!g_main_context_acquire (own))
    g_assert_not_reached ();
  while (g_main_context_iteration (own, FALSE))
    ;
  g_main_context_release (own);
}

/* Ends a task that the service itself brings to an end, by completing its
 * GTask; the end then takes the same path as any other.
 */
static void
task_record_complete (AsabTaskService *self,
                      TaskRecord      *rec,
                      GError          *error)
{
  task_record_set_state (self, rec, TASK_STATE_COMPLETING);

  if (error != NULL)
    g_task_return_error (rec->task, error);
  else
    g_task_return_boolean (rec->task, TRUE);

  /* A worker's task that never reached its worker. */
  if (rec->kind == TASK_KIND_THREAD)
    thread_task_deliver (rec);
}

static void
task_record_complete_cancelled (AsabTaskService *self,
                                TaskRecord      *rec)
{
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (rec->task), &error))
    error = asab_task_error_stopped ();

  task_record_complete (self, rec, error);
}

static void
thread_runner_run (GTask        *runner,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  TaskRecord *rec = task_data;

  rec->func (rec->task, g_task_get_cancellable (rec->task), rec->user_data);
  g_task_return_boolean (runner, TRUE);
}

static void
thread_runner_done_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  TaskRecord *rec = user_data;

  thread_task_deliver (rec);

  /* Then it ends as any other failure does. */
  if (rec->state == TASK_STATE_RUNNING)
    {
      g_task_return_error (rec->task, asab_task_error_not_completed ());
      thread_task_deliver (rec);
    }
}

static void
task_record_start_in_thread (AsabTaskService *self,
                             TaskRecord      *rec)
{
  GTask *runner = service_gtask_new (self, self, NULL, thread_runner_done_cb, rec);

  (g_task_set_source_tag) (runner, thread_runner_run);
  g_task_set_task_data (runner, rec, NULL);
  task_record_set_state (self, rec, TASK_STATE_RUNNING);
  g_task_run_in_thread (runner, thread_runner_run);
  g_object_unref (runner);
}

static void
task_record_start (AsabTaskService *self,
                   TaskRecord      *rec)
{
  if (!rec->started)
    {
      rec->started = TRUE;
      counter_add (&self->n_queued, -1);
      counter_add (&self->n_running, 1);
    }

  if (G_UNLIKELY (rec->info != NULL))
    task_record_show_started (self, rec);

  /* A worker's task gets its GTask now, a cancellation with it. */
  if (rec->task == NULL)
    service_prime_records (self, &rec, 1);

  if (g_cancellable_is_cancelled (g_task_get_cancellable (rec->task)))
    {
      task_record_complete_cancelled (self, rec);
      return;
    }

  if (rec->kind == TASK_KIND_THREAD)
    {
      task_record_start_in_thread (self, rec);
      return;
    }

  if (rec->kind == TASK_KIND_FOREVER)
    task_record_forever (rec)->time = g_get_monotonic_time ();

  /* Most functions complete their task before they return. */
  task_record_set_state (self, rec, TASK_STATE_IN_FUNC);
  rec->func (rec->task, g_task_get_cancellable (rec->task), rec->user_data);

  if (rec->state == TASK_STATE_COMPLETED_IN_FUNC)
    task_record_end (self, rec);
  else
    task_record_set_state (self, rec, TASK_STATE_RUNNING);
}

/* Called when a task's GTask has been completed, whatever completed it. A
 * task that ended for good leaves the id table at once, so that cancel()
 * tells it apart from a live one.
 */
static void
task_record_completed (AsabTaskService *self,
                       TaskRecord      *rec)
{
  /* The function's closure must outlive the function: end the task when
   * the function has returned, not under its feet. (A worker's task is
   * delivered when its function has returned.) */
  gboolean on_stack = rec->state == TASK_STATE_IN_FUNC;
  gboolean ends = rec->kind != TASK_KIND_FOREVER;

  g_mutex_lock (&self->lock);
  if (ends)
    asab_id_table_remove (&self->ids, &rec->id);
  if (!on_stack)
    service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  if (on_stack)
    task_record_set_state (self, rec, TASK_STATE_COMPLETED_IN_FUNC);
  else
    task_record_set_state (self, rec, TASK_STATE_COMPLETED);
}

static void
task_completed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  task_record_completed (ASAB_TASK_SERVICE (object), user_data);
}

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

      return asab_task_error_failed ();
    }

  if (g_task_propagate_boolean (rec->task, &error) || error == NULL)
    return asab_task_error_failed ();

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
    asab_task_log_failure (rec->id, g_task_get_name (rec->task), error);
}

static void
task_record_end (AsabTaskService *self,
                 TaskRecord      *rec)
{
  g_autoptr(GError) error = task_record_take_error (rec);

  /* Out of every queue, so that a handler that stops the service does not
   * process it again, and on the stack, so that the stop does not wait for
   * it. */
  task_record_set_state (self, rec, TASK_STATE_ENDING);

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

      /* It ends for good only when it was cancelled or the service
       * stopped, whatever its last run returned, which was reported
       * already if it failed. */
      if (error == NULL || !error_is_cancellation (error))
        {
          g_clear_error (&error);
          if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (rec->task), &error))
            error = asab_task_error_stopped ();
        }
    }

  task_record_set_state (self, rec, TASK_STATE_NONE);
  if (rec->started)
    counter_add (&self->n_running, -1);
  else
    counter_add (&self->n_queued, -1);

  if (G_UNLIKELY (rec->info != NULL))
    task_record_hide (self, rec);
  g_signal_emit (self, signals[TASK_DONE], 0, rec->task, error);

  task_record_free (self, rec);
  service_check_stops (self);
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
 * @func must complete its `GTask` before it returns; a function that
 * returns without completing it fails the task with the message “The
 * function returned without completing its task”. The task's end is
 * reported on the service's context once @func has returned, and @destroy
 * is called there. Unlike a `GTaskThreadFunc`, @func has a user data
 * argument, so that bindings can call it.
 *
 * The `GTask` that @func receives is not the one that GLib runs in the
 * thread, so that the service can tell whether @func completed it:
 * g_task_set_return_on_cancel() has no effect on it. For a blocking call
 * that cannot be cancelled, run a `GTask` of your own with
 * g_task_run_in_thread() and give it to
 * [method@Asab.TaskService.schedule_task].
 *
 * GJS cannot run a JavaScript function on another thread: from GJS, such a
 * task fails as above without the function running.
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
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), user_data, destroy);
  return_refused_if_fail (func != NULL, user_data, destroy);

  return service_schedule (self, TASK_KIND_THREAD, name, func, user_data, destroy, NULL);
}

/* ----------------------------------------------------------------------
 * Forever and back-off
 *
 * A forever task keeps its record and its id between runs: each run gets
 * a new GTask, and waits in the delayed queue, sorted by deadline, when it
 * is restarted after a back-off.
 */

static gboolean
forever_should_restart (AsabTaskService *self,
                        TaskRecord      *rec)
{
  return !service_is_stopping (self) && !g_cancellable_is_cancelled (g_task_get_cancellable (rec->task));
}

static void
service_insert_delayed (AsabTaskService *self,
                        TaskRecord      *rec)
{
  gint64 time = task_record_forever (rec)->time;
  GList *before;

  task_record_set_state (self, rec, TASK_STATE_DELAYED);

  /* Deadlines mostly grow: it mostly stays at the end. */
  before = rec->link.prev;
  if (before == NULL || task_record_forever (before->data)->time <= time)
    return;

  g_queue_unlink (&self->delayed, &rec->link);
  while (before != NULL && task_record_forever (before->data)->time > time)
    before = before->prev;
  if (before == NULL)
    g_queue_push_head_link (&self->delayed, &rec->link);
  else
    g_queue_insert_after_link (&self->delayed, before, &rec->link);
}

/* Gives a forever task a new GTask and a restart time: at once after a run
 * of FOREVER_HEALTHY_RUN_USEC or more, otherwise after a back-off that
 * doubles with each short run, so that a function that ends at once cannot
 * spin and one that keeps failing does not flood the log.
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

  if (now - forever->time >= FOREVER_HEALTHY_RUN_USEC)
    forever->backoff_ms = 0;
  else if (forever->backoff_ms == 0)
    forever->backoff_ms = FOREVER_BACKOFF_MIN_MS;
  else
    forever->backoff_ms = MIN (forever->backoff_ms * 2, FOREVER_BACKOFF_MAX_MS);

  if (error == NULL)
    asab_task_log_restart (rec->id, name, forever->backoff_ms);

  task = service_task_new (self, rec, name, cancellable);

  /* cancel() reads the GTask under the lock, from any thread. */
  g_mutex_lock (&self->lock);
  old_task = g_steal_pointer (&rec->task);
  rec->task = task;
  g_mutex_unlock (&self->lock);
  g_object_unref (old_task);
  task_record_map_gtask (self, rec);

  forever->time = g_get_monotonic_time () + forever->backoff_ms * (gint64) 1000;
  service_insert_delayed (self, rec);
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
 * After a run shorter than 5 s, the restart waits: 5 ms after the first
 * such run, twice as long after each further one, at most 2 s. After a run
 * of 5 s or more it restarts at once, and the delay starts again from 5 ms.
 * So a function that fails at once cannot spin, and a function that keeps
 * failing is not logged more than once every 2 s.
 * [method@Asab.TaskService.cancel] with the returned id, or
 * [method@Asab.TaskService.stop_async], ends it for good;
 * [signal@Asab.TaskService::task-done] is emitted then, once, with a
 * %G_IO_ERROR_CANCELLED error, whatever the last run returned.
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
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), user_data, destroy);
  return_refused_if_fail (func != NULL, user_data, destroy);

  return service_schedule (self, TASK_KIND_FOREVER, name, func, user_data, destroy, NULL);
}

/* ----------------------------------------------------------------------
 * Tracked GTasks and GSources
 *
 * A GTask or a GSource given to the service runs already: the service
 * follows it until it completes or is destroyed.
 */

static void
adopted_task_completed_cb (GObject    *object,
                           GParamSpec *pspec,
                           gpointer    user_data)
{
  task_record_completed (g_object_get_qdata (object, adopted_quark), user_data);
}

static void
source_watch_destroyed (gpointer data)
{
  TaskRecord *rec = data;
  AsabTaskService *self = g_task_get_source_object (rec->task);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->destroyed_sources, rec);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

/* What a refused call does with the GSource it was given. */
static void
source_release (gpointer source)
{
  g_source_unref (source);
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

/* Tracks a GTask given to schedule_task(): it counts as running until it
 * completes. One given from another thread may have completed on its way.
 */
static void
service_adopt_task (AsabTaskService *self,
                    TaskRecord      *rec)
{
  rec->completed_handler = g_signal_connect (rec->task, "notify::completed",
                                             G_CALLBACK (adopted_task_completed_cb), rec);
  task_record_set_state (self, rec, TASK_STATE_RUNNING);
  if (g_task_get_completed (rec->task))
    task_record_completed (self, rec);
}

/* Attaches a GSource given to schedule_source(), which has its GTask. */
static void
service_attach_source (AsabTaskService *self,
                       TaskRecord      *rec)
{
  GSource *watch;

  task_record_set_state (self, rec, TASK_STATE_RUNNING);

  /* Cancelled on its way from another thread: it ends without running. */
  if (g_cancellable_is_cancelled (g_task_get_cancellable (rec->task)))
    {
      task_record_complete_cancelled (self, rec);
      return;
    }

  /* A child source is destroyed with its parent, and its callback's destroy
   * notify then runs: that is how the service learns of the end without
   * taking the source's own callback over.
   */
  watch = g_source_new (&source_watch_funcs, sizeof (GSource));
  g_source_set_static_name (watch, "[asab] source task watch");
  g_source_set_callback (watch, source_watch_never, rec, source_watch_destroyed);
  g_source_add_child_source (rec->source, watch);
  g_source_unref (watch);

  g_source_attach (rec->source, self->context);
}

static void
service_source_destroyed (AsabTaskService *self,
                          TaskRecord      *rec)
{
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (rec->task), &error))
    task_record_complete (self, rec, error);
  else if (service_is_stopping (self))
    task_record_complete (self, rec, asab_task_error_stopped ());
  else
    task_record_complete (self, rec, NULL);
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
 * cancelled: a stop waits for it until its timeout. Cancelling it, by
 * [method@Asab.TaskService.cancel] or a stop, cancels its `GCancellable`,
 * and with it any other work that shares that cancellable.
 *
 * From a thread that does not hold the service's context, the task is
 * handed over as [method@Asab.TaskService.schedule_threadsafe] describes;
 * it may complete on its way.
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
  gboolean acquired;
  guint64 id;

  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), 0);
  g_return_val_if_fail (G_IS_TASK (task), 0);
  g_return_val_if_fail (!g_task_get_completed (task), 0);
  g_return_val_if_fail (g_task_get_source_tag (task) != asab_task_service_task_tag, 0);
  g_return_val_if_fail (g_object_get_qdata (G_OBJECT (task), adopted_quark) == NULL, 0);
  g_return_val_if_fail (g_task_get_context (task) == self->context, 0);

  if (service_is_stopping (self))
    return service_refuse (self, ASAB_REFUSED_STOPPED, g_task_get_name (task), NULL, NULL);

  rec = task_record_new (TASK_KIND_GTASK, NULL);
  rec->task = g_object_ref (task);
  rec->started = TRUE;
  /* Marks the task as tracked, and finds the service from it. */
  g_object_set_qdata (G_OBJECT (task), adopted_quark, self);

  if (!service_enter (self, &acquired))
    return service_hand_over (self, rec);

  id = service_register (self, rec);
  service_adopt_task (self, rec);
  task_record_show (self, rec);
  service_update_hold (self);
  service_leave (self, acquired);

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
 * From a thread that does not hold the service's context, the source is
 * handed over as [method@Asab.TaskService.schedule_threadsafe] describes,
 * and attached by the context's thread; cancelled on its way, it is never
 * attached.
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
  gboolean acquired;
  guint64 id;

  g_return_val_if_fail (source != NULL, 0);
  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), source, source_release);
  return_refused_if_fail (!g_source_is_destroyed (source), source, source_release);
  return_refused_if_fail (g_source_get_context (source) == NULL, source, source_release);

  if (service_is_stopping (self))
    return service_refuse (self, ASAB_REFUSED_STOPPED, g_source_get_name (source),
                           source, source_release);

  rec = task_record_new (TASK_KIND_SOURCE, NULL);
  rec->source = source;
  rec->started = TRUE;

  if (!service_enter (self, &acquired))
    return service_hand_over (self, rec);

  rec->task = service_task_new (self, rec, g_source_get_name (source),
                                service_take_cancellable (self));
  id = service_register (self, rec);
  service_attach_source (self, rec);
  task_record_show (self, rec);
  service_update_hold (self);
  service_leave (self, acquired);

  return id;
}

/* ----------------------------------------------------------------------
 * Lifetime and GApplication
 *
 * The service holds a reference on itself while it has live tasks, holds
 * its application while it has, and stops when the application shuts
 * down.
 */

/* Whether the dispatcher can drop the service's reference on itself. */
static gboolean
service_release_self (AsabTaskService *self)
{
  gboolean let_go;

  g_mutex_lock (&self->lock);
  let_go = self->kept_alive && service_n_live (self) == 0;
  if (let_go)
    {
      self->kept_alive = FALSE;
      asab_dispatch_source_set_kept (self->dispatcher, NULL);
    }
  g_mutex_unlock (&self->lock);

  return let_go;
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

/* GObject */

/* At the application's shutdown, every service of the application starts
 * its stop first, then each waits for its own: the stops overlap, and
 * g_application_run() returns within the longest stop timeout, not their
 * sum. */
static void
application_shutdown_cb (AsabTaskService *self)
{
  if (self->shutdown_stop != NULL)
    return;

  self->shutdown_stop = g_new0 (StopSync, 1);
  stop_sync_begin (self, self->shutdown_stop, NULL);
}

static void
application_shutdown_after_cb (AsabTaskService *self)
{
  if (self->shutdown_stop == NULL || self->shutdown_stop->context == NULL)
    return;

  /* The warning of a timeout is logged already. */
  stop_sync_wait (self->shutdown_stop);
  g_clear_error (&self->shutdown_stop->error);
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

/* ----------------------------------------------------------------------
 * The dispatch loop
 *
 * One GSource (asab-dispatch-source.c) does all the work on the context's
 * thread: it takes hand-overs and requests, ends completed tasks, starts
 * queued and delayed ones, primes the next, and sleeps until there is
 * something to do.
 */

/* Processing */

static void
service_notify_counts (AsabTaskService *self)
{
  guint n_running = service_n_running (self);
  guint n_queued = service_n_queued (self);

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
  return self->completed.length > 0 ||
         self->progress_ids->len > 0 ||
         (self->task_list != NULL && self->list == NULL) ||
         self->received.length > 0 ||
         self->cancelled_ids->len > 0 ||
         self->destroyed_sources->len > 0 ||
         (service_is_stopping (self) && !self->cancelled_all) ||
         (self->queued.length > 0 && service_has_free_slot (self));
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

/* The next queued task whose turn has come, if it was primed in an earlier
 * iteration. A stopping service has ended its queue. */
static TaskRecord *
service_next_queued (AsabTaskService *self,
                     guint32          iteration)
{
  TaskRecord *rec = g_queue_peek_head (&self->queued);

  if (rec == NULL || service_is_stopping (self) ||
      (rec->task == NULL && rec->kind != TASK_KIND_THREAD))
    return NULL;

  return rec->gtask_iteration != iteration && service_has_free_slot (self) ? rec : NULL;
}

static void
service_process (AsabTaskService *self)
{
  gint64 now = g_source_get_time (self->dispatcher);
  gint64 deadline = g_get_monotonic_time () + DISPATCH_BUDGET_USEC;

  g_object_ref (self);
  self->processing++;

  service_cancel_all_continue (self);
  service_take_received (self);
  service_take_requests (self);

  for (guint n = 1; ; n++)
    {
      TaskRecord *rec;

      if (service_is_stopping (self) && !self->cancelled_all)
        service_cancel_all (self);

      if ((n % 32) == 0 && g_get_monotonic_time () >= deadline)
        break;

      if ((rec = g_queue_peek_head (&self->completed)) != NULL)
        task_record_end (self, rec);
      /* A function or handler that runs the context makes this iteration
       * an earlier one. */
      else if ((rec = service_next_queued (self, service_iteration (self))) != NULL)
        task_record_start (self, rec);
      else if ((rec = service_next_delayed (self, now)) != NULL)
        task_record_start (self, rec);
      else
        break;
    }

  /* Those that can start on the next iteration. */
  service_prime (self);

  service_check_stops (self);
  if (service_n_live (self) == 0)
    service_trim (self);
  service_notify_counts (self);
  service_update_hold (self);
  service_update_ready_time (self);

  self->processing--;
  if (service_release_self (self))
    g_object_unref (self);
  g_object_unref (self);
}

static void
service_dispatch (gpointer owner)
{
  service_process (owner);
}

/* ----------------------------------------------------------------------
 * Stop
 *
 * A stop refuses new tasks, cancels all, and completes when every task has
 * ended or when its own timeout has passed. stop() waits for it.
 */

/* Marks the service stopped, from any thread: nothing is accepted from now
 * on, and the dispatcher cancels all on its next run.
 */
static void
service_request_stop (AsabTaskService *self)
{
  g_mutex_lock (&self->lock);
  g_atomic_int_set (&self->stopping, TRUE);
  service_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

/* Cancels what cancelling all has yet to cancel. A cancelled handler may
 * stop the service again or run its context: whoever comes first goes on,
 * so that no stop waits for cancellations that are stuck behind it on the
 * stack. */
static void
service_cancel_all_continue (AsabTaskService *self)
{
  while (self->to_cancel != NULL && self->to_cancel->len > 0)
    {
      g_autoptr(GCancellable) cancellable =
        g_ptr_array_steal_index (self->to_cancel, self->to_cancel->len - 1);

      g_cancellable_cancel (cancellable);
    }

  while (self->to_destroy != NULL && self->to_destroy->len > 0)
    {
      GSource *source = g_ptr_array_steal_index (self->to_destroy, self->to_destroy->len - 1);

      g_source_destroy (source);
      g_source_unref (source);
    }
}

/* Ends what has not started and cancels what has. Running tasks end when
 * their functions complete them.
 */
static void
service_cancel_all (AsabTaskService *self)
{
  self->cancelled_all = TRUE;

  service_receive_hand_overs (self);
  service_take_received (self);

  /* A task without its GTask gets one now: it returns from an idle source
   * of its own, since it is created in this iteration. */
  while (self->queued.head != NULL)
    {
      TaskRecord *rec = self->queued.head->data;

      if (rec->task == NULL)
        service_prime_records (self, &rec, 1);
      task_record_complete_cancelled (self, rec);
    }

  while (self->delayed.head != NULL)
    task_record_complete_cancelled (self, self->delayed.head->data);

  /* Functions on the stack that have not completed their tasks, and the
   * running tasks. A task that has completed is left alone: cancelling it
   * now would turn its result into a cancellation. Cancelling runs
   * handlers, which may end tasks and change the lists: cancel from a list
   * of their own, taken from the end. */
  self->to_cancel = g_ptr_array_new_with_free_func (g_object_unref);
  self->to_destroy = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  for (GList *l = self->running.tail; l != NULL; l = l->prev)
    {
      TaskRecord *rec = l->data;
      GCancellable *cancellable = g_task_get_cancellable (rec->task);

      if (cancellable != NULL)
        g_ptr_array_add (self->to_cancel, g_object_ref (cancellable));
      if (rec->kind == TASK_KIND_SOURCE)
        g_ptr_array_add (self->to_destroy, g_source_ref (rec->source));
      if (rec->info != NULL)
        task_record_show_cancelling (rec);
    }
  for (GList *l = self->in_func.tail; l != NULL; l = l->prev)
    {
      TaskRecord *rec = l->data;

      g_ptr_array_add (self->to_cancel, g_object_ref (g_task_get_cancellable (rec->task)));
      if (rec->info != NULL)
        task_record_show_cancelling (rec);
    }

  service_cancel_all_continue (self);
}

/* What one stop_async() call waits with: its own timeout, counted from
 * the call, and its cancellable. A handler on the cancellable, rather than
 * a GCancellableSource: GLib 2.74 leaks such a source when it is freed
 * while another thread is inside g_cancellable_cancel(), and disconnecting
 * a handler waits for that thread instead. */
typedef struct
{
  GSource *timer;
  GCancellable *cancellable;
  gulong cancelled_handler;
} StopWait;

static void
stop_wait_disconnect (StopWait *wait)
{
  if (wait->cancelled_handler != 0)
    g_cancellable_disconnect (wait->cancellable, wait->cancelled_handler);
  wait->cancelled_handler = 0;
}

static void
stop_wait_free (gpointer data)
{
  StopWait *wait = data;

  g_source_destroy (wait->timer);
  g_source_unref (wait->timer);
  stop_wait_disconnect (wait);
  g_clear_object (&wait->cancellable);
  g_free (wait);
}

/* Ends one stop_async() call's wait: the stop goes on. */
static void
stop_wait_return (GTask  *task,
                  GError *error)
{
  AsabTaskService *self = g_task_get_source_object (task);
  StopWait *wait = g_task_get_task_data (task);

  g_ptr_array_remove (self->stop_tasks, task);

  /* Destroying the timer drops the reference that its callback holds. */
  g_source_destroy (wait->timer);
  stop_wait_disconnect (wait);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
service_complete_stops (AsabTaskService *self)
{
  while (self->stop_tasks != NULL && self->stop_tasks->len > 0)
    {
      g_autoptr(GTask) task = g_object_ref (g_ptr_array_index (self->stop_tasks, 0));

      stop_wait_return (task, NULL);
    }
}

static void
service_check_stops (AsabTaskService *self)
{
  if (self->stop_tasks != NULL && self->cancelled_all &&
      service_n_live (self) == self->n_ended_on_stack)
    service_complete_stops (self);
}

/* Ends the wait of one stop_async() call, on the context; the stop goes
 * on. The wait may have ended meanwhile. */
static gboolean
stop_wait_cancelled_idle_cb (gpointer data)
{
  GTask *task = data;
  AsabTaskService *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (self->stop_tasks == NULL || !g_ptr_array_find (self->stop_tasks, task, NULL))
    return G_SOURCE_REMOVE;

  g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error);
  stop_wait_return (task, error);

  return G_SOURCE_REMOVE;
}

/* On whichever thread cancels. */
static void
stop_wait_cancelled_cb (GCancellable *cancellable,
                        GTask        *task)
{
  AsabTaskService *self = g_task_get_source_object (task);
  GSource *idle = g_idle_source_new ();

  g_source_set_static_name (idle, "[asab] stop wait cancelled");
  g_source_set_callback (idle, stop_wait_cancelled_idle_cb, g_object_ref (task), g_object_unref);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
}

static gboolean
stop_timer_cb (gpointer data)
{
  GTask *task = data;
  AsabTaskService *self = g_task_get_source_object (task);
  /* Tasks that have ended are not pending, even before their task-done. */
  guint n_running = service_n_running (self) - self->n_ended_started;
  guint n_queued = service_n_queued (self) - self->n_ended_unstarted;

  asab_task_log_pending (n_running, n_queued);
  stop_wait_return (task, asab_task_error_pending (n_running, n_queued));

  return G_SOURCE_REMOVE;
}

/* Starts one stop_async() call's wait, on the context's thread. */
static void
stop_wait_begin (AsabTaskService *self,
                 GTask           *task)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  StopWait *wait;

  if (self->cancelled_all && service_n_live (self) == self->n_ended_on_stack)
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
  g_task_set_task_data (task, wait, stop_wait_free);
  /* Connected last: it may run at once, when the wait is set up. */
  if (cancellable != NULL)
    {
      wait->cancellable = g_object_ref (cancellable);
      wait->cancelled_handler = g_cancellable_connect (cancellable,
                                                       G_CALLBACK (stop_wait_cancelled_cb),
                                                       task, NULL);
    }

  /* Inside the dispatcher, cancel all now rather than on its next run. */
  if (self->processing > 0)
    service_process (self);
}

static gboolean
stop_wait_begin_cb (gpointer data)
{
  GTask *task = data;

  stop_wait_begin (g_task_get_source_object (task), task);

  return G_SOURCE_REMOVE;
}

static void
stop_sync_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  StopSync *sync = user_data;

  sync->ok = asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, &sync->error);
  sync->done = TRUE;
}

/* Starts a stop whose result arrives on the thread-default context. */
static void
stop_sync_begin (AsabTaskService *self,
                 StopSync        *sync,
                 GCancellable    *cancellable)
{
  sync->context = g_main_context_ref_thread_default ();
  asab_task_service_stop_async (self, cancellable, stop_sync_cb, sync);
}

/* Runs the context where the stop's result arrives until it has. */
static void
stop_sync_wait (StopSync *sync)
{
  while (!sync->done)
    g_main_context_iteration (sync->context, TRUE);

  g_clear_pointer (&sync->context, g_main_context_unref);
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
 * It may be called from any thread; @callback is called on the
 * thread-default main context of the calling thread.
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
  gboolean acquired;

  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, asab_task_service_stop_async);
  g_task_set_name (task, "[asab] stop");

  service_request_stop (self);

  /* The wait belongs to the context's thread; the result comes back to
   * the caller's context, as a GTask returns from any thread. */
  if (!service_enter (self, &acquired))
    {
      g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT,
                                  stop_wait_begin_cb, g_steal_pointer (&task), g_object_unref);
      return;
    }

  stop_wait_begin (self, task);
  service_leave (self, acquired);
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

/**
 * asab_task_service_stop:
 * @self: a task service
 * @cancellable: (nullable): cancels the wait, not the stop
 * @error: return location for a #GError
 *
 * Stops the service like [method@Asab.TaskService.stop_async], and waits
 * until the stop has completed or timed out.
 *
 * From the thread that runs the service's context, or one that can
 * acquire it, it runs the context meanwhile, since the tasks end there. It
 * may be called from a signal handler of the service or from a task's
 * function: a task that has completed its `GTask` counts as ended even
 * while its function is still on the stack, but one that has not cannot
 * end before its function returns, so the stop then waits for it until the
 * stop timeout. From any other thread it waits for the thread that runs
 * the context to stop the service, so that thread must not be waiting for
 * this one.
 *
 * Returns: %TRUE when every task has ended; %FALSE with
 *   %G_IO_ERROR_TIMED_OUT when some were still pending after the stop
 *   timeout, or with %G_IO_ERROR_CANCELLED when @cancellable ended the
 *   wait
 *
 * Since: 1.0
 */
gboolean
asab_task_service_stop (AsabTaskService  *self,
                        GCancellable     *cancellable,
                        GError          **error)
{
  g_autoptr(GMainContext) wait_context = NULL;
  StopSync sync = { 0 };
  gboolean acquired;

  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (service_enter (self, &acquired))
    wait_context = g_main_context_ref (self->context);
  else
    wait_context = g_main_context_new ();

  g_object_ref (self);
  g_main_context_push_thread_default (wait_context);
  stop_sync_begin (self, &sync, cancellable);
  stop_sync_wait (&sync);
  g_main_context_pop_thread_default (wait_context);
  service_leave (self, acquired);
  g_object_unref (self);

  if (!sync.ok)
    g_propagate_error (error, sync.error);

  return sync.ok;
}

/* ----------------------------------------------------------------------
 * Showing tasks: the task list, progress, tasks tied to an object
 *
 * Until get_tasks() is first called the service keeps no list, and each of
 * these hooks costs a test of a pointer. Then every task that has joined
 * the service's queues has an AsabTaskInfo in the list, changed on the
 * context's thread only. set_progress() may come from any thread: it
 * leaves the values under the lock, and the dispatcher applies them once
 * per iteration. A task tied to an object is cancelled by a weak
 * reference's notify, which runs where the object is disposed.
 */

/* What set_progress() finds on a GTask: the task it belongs to. */
typedef struct
{
  AsabTaskService *service;
  guint64 id;
} GTaskMapping;

static AsabTaskKind
task_kind_public (TaskKind kind)
{
  switch (kind)
    {
    case TASK_KIND_FUNC:
      return ASAB_TASK_KIND_FUNCTION;
    case TASK_KIND_THREAD:
      return ASAB_TASK_KIND_IN_THREAD;
    case TASK_KIND_FOREVER:
      return ASAB_TASK_KIND_FOREVER;
    case TASK_KIND_GTASK:
      return ASAB_TASK_KIND_GTASK;
    case TASK_KIND_SOURCE:
      return ASAB_TASK_KIND_GSOURCE;
    default:
      g_assert_not_reached ();
    }
}

static void
task_record_map_gtask (AsabTaskService *self,
                       TaskRecord      *rec)
{
  GTaskMapping *mapping;

  if (G_LIKELY (self->list == NULL) || rec->task == NULL || rec->id == 0 ||
      g_object_get_qdata (G_OBJECT (rec->task), gtask_id_quark) != NULL)
    return;

  mapping = g_new (GTaskMapping, 1);
  mapping->service = self;
  mapping->id = rec->id;
  g_object_set_qdata_full (G_OBJECT (rec->task), gtask_id_quark, mapping, g_free);
}

/* Gives a task that joined the service its item, at the end of the list. */
static void
task_record_show (AsabTaskService *self,
                  TaskRecord      *rec)
{
  AsabTaskInfo *info;
  AsabTaskState state = rec->started ? ASAB_TASK_STATE_RUNNING : ASAB_TASK_STATE_QUEUED;
  gboolean cancelled;

  if (G_LIKELY (self->list == NULL) || rec->info != NULL)
    return;

  g_mutex_lock (&self->lock);
  cancelled = rec->cancel_requested;
  g_mutex_unlock (&self->lock);

  info = asab_task_info_new (rec->id, task_record_describe (rec),
                             task_kind_public (rec->kind),
                             cancelled ? ASAB_TASK_STATE_CANCELLING : state);
  if (rec->started)
    asab_task_info_set_started_at (info, rec->kind == TASK_KIND_FOREVER ?
                                   task_record_forever (rec)->time : g_get_monotonic_time ());

  /* set_progress() reads it under the lock. */
  g_mutex_lock (&self->lock);
  rec->info = info;
  g_mutex_unlock (&self->lock);

  asab_task_list_append (self->list, info);
  task_record_map_gtask (self, rec);
}

static void
task_record_show_started (AsabTaskService *self,
                          TaskRecord      *rec)
{
  if (asab_task_info_get_state (rec->info) == ASAB_TASK_STATE_QUEUED)
    asab_task_info_set_state (rec->info, ASAB_TASK_STATE_RUNNING);
  asab_task_info_set_started_at (rec->info, g_get_monotonic_time ());
}

static void
task_record_show_cancelling (TaskRecord *rec)
{
  asab_task_info_set_state (rec->info, ASAB_TASK_STATE_CANCELLING);
}

/* Takes a task's item out of the list, right before its task-done. */
static void
task_record_hide (AsabTaskService *self,
                  TaskRecord      *rec)
{
  g_autofree char *status = NULL;
  double progress = -1.0;
  gboolean pending;
  AsabTaskInfo *info;

  /* What the task said last is shown before it goes. */
  g_mutex_lock (&self->lock);
  pending = asab_task_info_take_pending_if_any (rec->info, &progress, &status);
  g_mutex_unlock (&self->lock);
  if (pending)
    asab_task_info_set_progress (rec->info, progress, status);

  asab_task_list_remove (self->list, rec->info);

  g_mutex_lock (&self->lock);
  info = g_steal_pointer (&rec->info);
  g_mutex_unlock (&self->lock);

  g_object_unref (info);
}

static void
collect_shown_record (gpointer item,
                      gpointer user_data)
{
  TaskRecord *rec = item;

  /* What is handed over joins the list when it is taken. */
  if (rec->state != TASK_STATE_HANDED_OVER)
    g_ptr_array_add (user_data, rec);
}

static int
compare_record_ids (gconstpointer a,
                    gconstpointer b)
{
  guint64 id_a = (*(TaskRecord **) a)->id;
  guint64 id_b = (*(TaskRecord **) b)->id;

  return id_a < id_b ? -1 : id_a > id_b;
}

/* Fills the list that get_tasks() made with the live tasks, in the order
 * they were accepted. */
static void
service_show_tasks (AsabTaskService *self)
{
  g_autoptr(GPtrArray) recs = g_ptr_array_new ();

  g_mutex_lock (&self->lock);
  self->list = g_object_ref (self->task_list);
  asab_id_table_foreach (&self->ids, collect_shown_record, recs);
  g_mutex_unlock (&self->lock);

  g_ptr_array_sort (recs, compare_record_ids);
  for (guint i = 0; i < recs->len; i++)
    task_record_show (self, g_ptr_array_index (recs, i));
}

/* Applies what set_progress() left, once for each task whatever the number
 * of calls since the last time. */
static void
service_show_progress (AsabTaskService *self,
                       GArray          *ids)
{
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(AsabTaskInfo) info = NULL;
      g_autofree char *status = NULL;
      double progress = -1.0;
      TaskRecord *rec;

      g_mutex_lock (&self->lock);
      rec = asab_id_table_lookup (&self->ids, g_array_index (ids, guint64, i));
      if (rec != NULL && rec->info != NULL)
        {
          info = g_object_ref (rec->info);
          asab_task_info_take_pending (info, &progress, &status);
        }
      g_mutex_unlock (&self->lock);

      if (info != NULL)
        asab_task_info_set_progress (info, progress, status);
    }
}

/* The owner of a task given to schedule_for_object(): the record holds a
 * reference, and so does the weak reference on the owner while it is
 * there. */
typedef struct _OwnerWatch
{
  gatomicrefcount ref_count;
  GWeakRef service;
  GObject *owner;
  /* The task's id, once it has one. */
  atomic_uint_least64_t id;
  /* Atomic: the weak reference is there. Whoever clears it (the notify, or
   * the task's end) drops the weak reference's share. */
  int watching;
} OwnerWatch;

static OwnerWatch *
owner_watch_new (AsabTaskService *service,
                 GObject         *owner)
{
  OwnerWatch *watch = g_new0 (OwnerWatch, 1);

  g_atomic_ref_count_init (&watch->ref_count);
  g_weak_ref_init (&watch->service, service);
  watch->owner = owner;

  return watch;
}

static OwnerWatch *
owner_watch_ref (OwnerWatch *watch)
{
  g_atomic_ref_count_inc (&watch->ref_count);

  return watch;
}

static void
owner_watch_unref (OwnerWatch *watch)
{
  if (g_atomic_ref_count_dec (&watch->ref_count))
    {
      g_weak_ref_clear (&watch->service);
      g_free (watch);
    }
}

static void
owner_disposed_cb (gpointer  data,
                   GObject  *where_the_object_was)
{
  OwnerWatch *watch = data;

  if (g_atomic_int_compare_and_exchange (&watch->watching, TRUE, FALSE))
    {
      g_autoptr(AsabTaskService) service = g_weak_ref_get (&watch->service);

      if (service != NULL)
        asab_task_service_cancel (service, atomic_load (&watch->id));
    }

  owner_watch_unref (watch);
}

/* The task has ended: the owner, if it is still there, is not watched any
 * more. */
static void
task_record_unwatch_owner (TaskRecord *rec)
{
  OwnerWatch *watch = g_steal_pointer (&rec->watch);

  if (g_atomic_int_compare_and_exchange (&watch->watching, TRUE, FALSE))
    {
      g_object_weak_unref (watch->owner, owner_disposed_cb, watch);
      owner_watch_unref (watch);
    }

  owner_watch_unref (watch);
}

/**
 * asab_task_service_get_tasks:
 * @self: a task service
 *
 * Gets a live list of the service's tasks, to show them: one
 * [class@Asab.TaskInfo] for each task that is queued or running, in the
 * order in which they joined the service.
 *
 * An item is added when its task is accepted (a task scheduled from
 * another thread, when the service's context has taken it) and removed
 * right before its [signal@Asab.TaskService::task-done]; a forever task is
 * one item for its whole life. The list and its items change on the
 * service's context only, where `items-changed` and the items'
 * notifications are emitted.
 *
 * Until the first call the service keeps no list and does no work for one;
 * from then on it keeps the list up to date for as long as it lives, and
 * every call returns the same list. Called from a thread that does not
 * hold the context, it returns the list at once, empty, and the context
 * fills it.
 *
 * Returns: (transfer full): a [iface@Gio.ListModel] of
 *   [class@Asab.TaskInfo]
 *
 * Since: 1.0
 */
GListModel *
asab_task_service_get_tasks (AsabTaskService *self)
{
  AsabTaskList *list;
  gboolean acquired;
  gboolean fill;

  g_return_val_if_fail (ASAB_IS_TASK_SERVICE (self), NULL);

  g_mutex_lock (&self->lock);
  fill = self->task_list == NULL;
  if (fill)
    self->task_list = asab_task_list_new (G_OBJECT (self));
  list = g_object_ref (self->task_list);
  if (fill)
    service_wake_locked (self);
  g_mutex_unlock (&self->lock);

  /* The caller sees the tasks at once when it can. */
  if (fill && service_enter (self, &acquired))
    {
      if (self->list == NULL)
        service_show_tasks (self);
      service_leave (self, acquired);
    }

  return G_LIST_MODEL (list);
}

/**
 * asab_task_service_set_progress:
 * @self: a task service
 * @task: the `GTask` of one of the service's tasks, as its function got it
 * @fraction: how much of its work the task has done, from 0 to 1, or a
 *   negative number when it does not know
 * @status: (nullable): what the task is doing, in a few words
 *
 * Tells how far a task has got, for the [class@Asab.TaskInfo] of
 * [method@Asab.TaskService.get_tasks].
 *
 * It may be called from any thread, a function of
 * [method@Asab.TaskService.schedule_in_thread] included, as often as the
 * work goes: the item's properties change on the service's context, at
 * most once per iteration of the context whatever the number of calls.
 * Without a task list, or once the task has ended, it does nothing.
 *
 * Since: 1.0
 */
void
asab_task_service_set_progress (AsabTaskService *self,
                                GTask           *task,
                                double           fraction,
                                const char      *status)
{
  GTaskMapping *mapping;
  TaskRecord *rec;

  g_return_if_fail (ASAB_IS_TASK_SERVICE (self));
  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (fraction <= 1.0);

  mapping = g_object_get_qdata (G_OBJECT (task), gtask_id_quark);
  if (mapping == NULL)
    return;
  g_return_if_fail (mapping->service == self);

  if (fraction < 0.0)
    fraction = -1.0;

  g_mutex_lock (&self->lock);
  rec = asab_id_table_lookup (&self->ids, mapping->id);
  if (rec != NULL && rec->info != NULL &&
      !asab_task_info_set_pending (rec->info, fraction, status))
    {
      g_array_append_val (self->progress_ids, mapping->id);
      service_wake_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

/**
 * asab_task_service_schedule_for_object:
 * @self: a task service
 * @owner: the object whose life the task is tied to
 * @name: (nullable): the task's name
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that runs the task
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task has ended, or at
 *   once if the call is refused
 *
 * Schedules a task like [method@Asab.TaskService.schedule_full], and
 * cancels it when @owner is disposed or finalized: a window that closes, a
 * view that goes away. The service holds no reference to @owner: it
 * watches it with a weak reference, which it releases when the task ends.
 *
 * The weak reference's notify runs where @owner is disposed, and cancels
 * the task from there, as [method@Asab.TaskService.cancel] may be called
 * from any thread; dispose @owner on the thread that runs the service's
 * context, as GTK does with its widgets, so that it cannot go away while
 * the task ends.
 *
 * Returns: the id of the task, or 0 if it was refused
 *
 * Since: 1.0
 */
guint64
asab_task_service_schedule_for_object (AsabTaskService *self,
                                       GObject         *owner,
                                       const char      *name,
                                       AsabTaskFunc     func,
                                       gpointer         user_data,
                                       GDestroyNotify   destroy)
{
  OwnerWatch *watch;
  guint64 id;

  return_refused_if_fail (ASAB_IS_TASK_SERVICE (self), user_data, destroy);
  return_refused_if_fail (G_IS_OBJECT (owner), user_data, destroy);
  return_refused_if_fail (func != NULL, user_data, destroy);

  /* Watched before the task exists, so that its end always finds the weak
   * reference there. An owner that goes away meanwhile cancels nothing: the
   * task is cancelled here then. */
  watch = owner_watch_new (self, owner);
  g_atomic_int_set (&watch->watching, TRUE);
  g_object_weak_ref (owner, owner_disposed_cb, owner_watch_ref (watch));

  id = service_schedule (self, TASK_KIND_FUNC, name, func, user_data, destroy,
                         owner_watch_ref (watch));
  if (id == 0)
    {
      if (g_atomic_int_compare_and_exchange (&watch->watching, TRUE, FALSE))
        {
          g_object_weak_unref (owner, owner_disposed_cb, watch);
          owner_watch_unref (watch);
        }
    }
  else
    {
      atomic_store (&watch->id, id);
      if (!g_atomic_int_get (&watch->watching))
        asab_task_service_cancel (self, id);
    }
  owner_watch_unref (watch);

  return id;
}

/* ----------------------------------------------------------------------
 * GObject and properties
 */

static void
asab_task_service_constructed (GObject *object)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);
  g_autoptr(GApplication) application = NULL;

  G_OBJECT_CLASS (asab_task_service_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();

  self->dispatcher = asab_dispatch_source_new (object, service_dispatch);
  g_source_set_static_name (self->dispatcher, "[asab] task service");
  g_source_attach (self->dispatcher, self->context);

  application = g_weak_ref_get (&self->application);
  self->has_application = application != NULL;
  if (application != NULL)
    {
      g_signal_connect_object (application, "shutdown",
                               G_CALLBACK (application_shutdown_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (application, "shutdown",
                               G_CALLBACK (application_shutdown_after_cb), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
    }
}

static void
asab_task_service_dispose (GObject *object)
{
  AsabTaskService *self = ASAB_TASK_SERVICE (object);
  gboolean acquired;

  /* Only g_object_run_dispose() gets here with live tasks, which keep the
   * service alive. Stop while the handlers are still connected, waiting as
   * stop() does when this thread can run the context; tasks that end later
   * still end, and their destroy notifies run, through the reference they
   * hold. */
  if (service_n_live (self) > 0)
    {
      if (service_enter (self, &acquired))
        {
          asab_task_service_stop (self, NULL, NULL);
          service_leave (self, acquired);
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
  g_clear_pointer (&self->to_cancel, g_ptr_array_unref);
  g_clear_pointer (&self->to_destroy, g_ptr_array_unref);
  if (self->shutdown_stop != NULL)
    {
      g_clear_pointer (&self->shutdown_stop->context, g_main_context_unref);
      g_clear_error (&self->shutdown_stop->error);
      g_clear_pointer (&self->shutdown_stop, g_free);
    }
  g_clear_pointer (&self->spare_cancellables, g_ptr_array_unref);
  g_clear_pointer (&self->cancelled_ids, g_array_unref);
  g_clear_pointer (&self->progress_ids, g_array_unref);
  g_clear_object (&self->list);
  g_clear_object (&self->task_list);
  g_clear_pointer (&self->destroyed_sources, g_ptr_array_unref);
  asab_id_table_clear (&self->ids);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_weak_ref_clear (&self->application);
  asab_refusal_log_clear (&self->refusal_log);
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
      g_value_set_uint (value, service_n_running (self));
      break;
    case PROP_N_QUEUED:
      g_value_set_uint (value, service_n_queued (self));
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

  asab_task_log_bind_textdomain ();

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
   * [property@Asab.TaskService:stop-timeout] for its tasks. All the
   * services of one application start their stops before any of them
   * waits, so the stops overlap. The service does not keep the application
   * alive.
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
   * Every task that has been accepted and has not started counts, what
   * [property@Asab.TaskService:n-queued] counts: a task that a thread has
   * handed over and the context has not received yet, and a task that
   * starts on the next iteration of the context even when
   * [property@Asab.TaskService:max-concurrent] is 0. So a burst of calls
   * made before the context runs again is refused beyond the limit. A
   * `GTask` or `GSource` given to the service runs at once and does not
   * count.
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
  gtask_id_quark = g_quark_from_static_string ("asab-task-service-task-id");
}

static void
asab_task_service_init (AsabTaskService *self)
{
  g_mutex_init (&self->lock);
  asab_refusal_log_init (&self->refusal_log);
  g_weak_ref_init (&self->application, NULL);
  asab_id_table_init (&self->ids);
  self->cancelled_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->progress_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->destroyed_sources = g_ptr_array_new ();
  self->spare_cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  self->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
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

  return service_n_running (self);
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

  return service_n_queued (self);
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
