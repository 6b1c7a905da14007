/* asab-bench.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Measures AsabTaskService against baselines built from plain GLib in the
 * same process and the same run, and prints the medians and their ratios as
 * a Markdown table. It is a program, not a test: a missed target is
 * reported, never turned into a failure. The exit status is non-zero only
 * when a measurement could not be taken at all (a child crashed).
 *
 * Every figure is measured here; nothing is copied in from elsewhere.
 */

#include <asab.h>

#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_BUILD_ROOT
# define BENCH_BUILD_ROOT "."
#endif
#ifndef BENCH_SOURCE_ROOT
# define BENCH_SOURCE_ROOT "."
#endif
#ifndef BENCH_PYTHON
# define BENCH_PYTHON "/usr/bin/python3"
#endif

/* Configuration */

typedef struct
{
  gboolean quick;
  guint n_tasks;            /* workloads 1, 2 and 9 */
  guint window;             /* tasks per batch in the windowed pattern */
  guint warmups;
  guint reps;
  guint n_producers;
  guint latency_pending;
  guint latency_samples;
  guint scale_small;
  guint scale_large;
  guint scale_tasks;
  guint memory_tasks;
  guint idle_pending;
  gint64 idle_usec;
  gint64 forever_usec;
  guint python_tasks;
  guint list_tasks;         /* workload 10 */
  char *python;
  gboolean no_python;
  char *only;
} Config;

static Config config;

static gboolean
workload_enabled (guint number)
{
  g_auto(GStrv) parts = NULL;

  if (config.only == NULL)
    return TRUE;

  parts = g_strsplit (config.only, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if ((guint) g_ascii_strtoull (parts[i], NULL, 10) == number)
      return TRUE;

  return FALSE;
}

/* Clocks and statistics */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static gint64
cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = values->len;

  if (n == 0)
    return NAN;

  sorted = g_array_copy (values);
  g_array_sort (sorted, compare_doubles);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);

  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

/* Nearest-rank percentile of a sorted array. */
static double
percentile (GArray *sorted,
            double  p)
{
  guint rank;

  if (sorted->len == 0)
    return NAN;

  rank = (guint) ceil (p / 100.0 * sorted->len);
  rank = CLAMP (rank, 1, sorted->len);

  return g_array_index (sorted, double, rank - 1);
}

/* The table */

typedef struct
{
  char *workload;
  char *figure;
  char *baseline;
  char *ratio;
  char *target;
  char *met;
} Row;

static GPtrArray *rows;
static guint n_errors;

static void
row_free (Row *row)
{
  g_free (row->workload);
  g_free (row->figure);
  g_free (row->baseline);
  g_free (row->ratio);
  g_free (row->target);
  g_free (row->met);
  g_free (row);
}

static void
add_row (const char *workload,
         const char *figure,
         const char *baseline,
         const char *ratio,
         const char *target,
         const char *met)
{
  Row *row = g_new0 (Row, 1);

  row->workload = g_strdup (workload);
  row->figure = g_strdup (figure);
  row->baseline = g_strdup (baseline);
  row->ratio = g_strdup (ratio);
  row->target = g_strdup (target);
  row->met = g_strdup (met);
  g_ptr_array_add (rows, row);
}

static const char *
met_str (gboolean met)
{
  return met ? "yes" : "**NO**";
}

static char *
format_rate (double per_second,
             const char *unit)
{
  if (per_second >= 1e6)
    return g_strdup_printf ("%.3f M %s/s", per_second / 1e6, unit);

  return g_strdup_printf ("%.1f k %s/s", per_second / 1e3, unit);
}

static char *
format_ratio (double ratio)
{
  return g_strdup_printf ("%.2f×", ratio);
}

/* Adds a row comparing a figure to a baseline, both higher-is-better. */
static void
add_ratio_row (const char *workload,
               const char *figure_label,
               double      figure,
               const char *baseline_label,
               double      baseline,
               double      min_ratio,
               const char *unit)
{
  g_autofree char *f = format_rate (figure, unit);
  g_autofree char *b = format_rate (baseline, unit);
  g_autofree char *fig = g_strdup_printf ("%s: %s", figure_label, f);
  g_autofree char *base = g_strdup_printf ("%s: %s", baseline_label, b);
  g_autofree char *ratio = format_ratio (figure / baseline);
  g_autofree char *target = NULL;

  if (min_ratio > 0)
    {
      target = g_strdup_printf ("≥ %.2f×", min_ratio);
      add_row (workload, fig, base, ratio, target, met_str (figure / baseline >= min_ratio));
    }
  else
    add_row (workload, fig, base, ratio, "— (for reference)", "—");
}

/* printf(), not g_print(): the table is UTF-8 whatever the locale. */
static void
print_table (void)
{
  printf ("| workload | figure | baseline | ratio | target | met? |\n");
  printf ("|---|---|---|---|---|---|\n");
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = g_ptr_array_index (rows, i);

      printf ("| %s | %s | %s | %s | %s | %s |\n",
              row->workload, row->figure, row->baseline, row->ratio, row->target, row->met);
    }
  fflush (stdout);
}

static void
progress (const char *format,
          ...) G_GNUC_PRINTF (1, 2);

static void
progress (const char *format,
          ...)
{
  va_list args;

  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  fflush (stderr);
}

/* Contexts */

static GMainContext *
context_new_pushed (void)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  return context;
}

/* Runs what is left (idle sources of freed tasks and the like), then drops
 * the context.
 */
static void
context_pop_free (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

static void
attach_idle (GMainContext *context,
             GSourceFunc   func,
             gpointer      data)
{
  /* What g_idle_add() does, on a context of our own. */
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, context);
  g_source_unref (source);
}

/* Workload 1 and 9: throughput */

typedef enum
{
  BASELINE_BARE,      /* GTask with no source object, no cancellable, drained by one idle */
  BASELINE_FULL,      /* GTask with a source object and its own cancellable, drained by one idle */
  BASELINE_IDLE_EACH, /* GTask with a source object and its own cancellable, one idle each */
} BaselineKind;

typedef struct
{
  GMainContext *context;
  AsabTaskService *service;
  GObject *source_object;
  BaselineKind kind;
  guint n_total;
  guint window;
  guint n_created;
  guint n_done;
  GPtrArray *pending;
  GPtrArray *spare;
  gboolean drain_active;
} Run;

static void
trivial_func (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

static void
service_schedule_batch (Run *run)
{
  guint n = MIN (run->window, run->n_total - run->n_created);

  for (guint i = 0; i < n; i++)
    asab_task_service_schedule (run->service, trivial_func, NULL);
  run->n_created += n;
}

static void
service_task_done_cb (AsabTaskService *service,
                      GTask           *task,
                      GError          *error,
                      gpointer         user_data)
{
  Run *run = user_data;

  run->n_done++;
  if (run->n_done == run->n_created && run->n_created < run->n_total)
    service_schedule_batch (run);
}

static guint
run_n_live (AsabTaskService *service)
{
  return asab_task_service_get_n_running (service) + asab_task_service_get_n_queued (service);
}

typedef enum
{
  COUNT_TASK_DONE,   /* a task-done handler counts each end */
  COUNT_N_LIVE,      /* no handler; until n-running + n-queued is 0 */
  COUNT_WITH_LIST,   /* a task-done handler, and a task list alive */
} CountMode;

static double last_teardown_seconds;

/* Returns the seconds from the first schedule until every task has ended. */
static double
measure_service (guint     n,
                 guint     window,
                 guint     max_concurrent,
                 CountMode mode)
{
  Run run = { 0 };
  g_autoptr(GListModel) list = NULL;
  gint64 start, end;

  run.context = context_new_pushed ();
  run.service = asab_task_service_new (run.context);
  run.n_total = n;
  run.window = window;
  if (max_concurrent > 0)
    asab_task_service_set_max_concurrent (run.service, max_concurrent);
  if (mode != COUNT_N_LIVE)
    g_signal_connect (run.service, "task-done", G_CALLBACK (service_task_done_cb), &run);
  if (mode == COUNT_WITH_LIST)
    list = asab_task_service_get_tasks (run.service);

  start = now_ns ();
  service_schedule_batch (&run);
  if (mode != COUNT_N_LIVE)
    {
      while (run.n_done < n)
        g_main_context_iteration (run.context, TRUE);
    }
  else
    {
      while (run_n_live (run.service) > 0)
        g_main_context_iteration (run.context, TRUE);
    }
  end = now_ns ();

  /* Not timed, but shown: work the service would put off until it is
   * freed (a pool of spare objects, say) should not go unnoticed. */
  g_clear_object (&list);
  g_object_unref (run.service);
  context_pop_free (run.context);
  last_teardown_seconds = (now_ns () - end) / 1e9;

  return (end - start) / 1e9;
}

static void baseline_create_batch (Run *run);

static void
baseline_task_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Run *run = user_data;

  run->n_done++;
  if (run->n_done == run->n_created && run->n_created < run->n_total)
    baseline_create_batch (run);
}

static GTask *
baseline_task_new (Run *run)
{
  GCancellable *cancellable;
  GTask *task;

  if (run->kind == BASELINE_BARE)
    return g_task_new (NULL, NULL, baseline_task_cb, run);

  cancellable = g_cancellable_new ();
  task = g_task_new (run->source_object, cancellable, baseline_task_cb, run);
  g_object_unref (cancellable);

  return task;
}

/* Returns every task queued before this dispatch; tasks queued while it
 * runs were created in this iteration, so they wait for the next one, which
 * is what lets GTask complete each of them at once.
 */
static gboolean
drain_cb (gpointer user_data)
{
  Run *run = user_data;
  GPtrArray *batch = run->pending;

  run->pending = run->spare;
  run->spare = NULL;

  for (guint i = 0; i < batch->len; i++)
    {
      GTask *task = g_ptr_array_index (batch, i);

      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
  g_ptr_array_set_size (batch, 0);
  run->spare = batch;

  if (run->pending->len > 0)
    return G_SOURCE_CONTINUE;

  run->drain_active = FALSE;
  return G_SOURCE_REMOVE;
}

static gboolean
return_one_cb (gpointer user_data)
{
  GTask *task = user_data;

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

static void
baseline_create_batch (Run *run)
{
  guint n = MIN (run->window, run->n_total - run->n_created);

  for (guint i = 0; i < n; i++)
    {
      GTask *task = baseline_task_new (run);

      if (run->kind == BASELINE_IDLE_EACH)
        attach_idle (run->context, return_one_cb, task);
      else
        g_ptr_array_add (run->pending, task);
    }
  run->n_created += n;

  if (run->kind != BASELINE_IDLE_EACH && !run->drain_active)
    {
      run->drain_active = TRUE;
      attach_idle (run->context, drain_cb, run);
    }
}

static double
measure_baseline (BaselineKind kind,
                  guint        n,
                  guint        window)
{
  Run run = { 0 };
  gint64 start, end;

  run.context = context_new_pushed ();
  run.source_object = g_object_new (G_TYPE_OBJECT, NULL);
  run.kind = kind;
  run.n_total = n;
  run.window = window;
  run.pending = g_ptr_array_sized_new (window);
  run.spare = g_ptr_array_sized_new (window);

  start = now_ns ();
  baseline_create_batch (&run);
  while (run.n_done < n)
    g_main_context_iteration (run.context, TRUE);
  end = now_ns ();

  g_ptr_array_unref (run.pending);
  g_ptr_array_unref (run.spare);
  g_object_unref (run.source_object);
  context_pop_free (run.context);

  return (end - start) / 1e9;
}

/* Workload 2: cross-thread */

typedef struct
{
  Run *run;
  guint n;
} Producer;

static gpointer
service_producer_thread (gpointer data)
{
  Producer *producer = data;

  for (guint i = 0; i < producer->n; i++)
    asab_task_service_schedule_threadsafe (producer->run->service, NULL, trivial_func, NULL, NULL);

  return NULL;
}

static gboolean
invoke_item_cb (gpointer user_data)
{
  Run *run = user_data;
  GCancellable *cancellable = g_cancellable_new ();
  GTask *task = g_task_new (run->source_object, cancellable, baseline_task_cb, run);

  g_object_unref (cancellable);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

static gpointer
invoke_producer_thread (gpointer data)
{
  Producer *producer = data;

  for (guint i = 0; i < producer->n; i++)
    g_main_context_invoke (producer->run->context, invoke_item_cb, producer->run);

  return NULL;
}

/* Returns the seconds from the producers' start until every item has
 * ended; the context's own thread only dispatches.
 */
static double
measure_cross_thread (gboolean service,
                      guint    n)
{
  Run run = { 0 };
  g_autofree Producer *producers = g_new0 (Producer, config.n_producers);
  g_autofree GThread **threads = g_new0 (GThread *, config.n_producers);
  gint64 start, end;

  run.context = context_new_pushed ();
  run.n_total = n;
  run.n_created = n;
  run.window = n;
  if (service)
    {
      run.service = asab_task_service_new (run.context);
      g_signal_connect (run.service, "task-done", G_CALLBACK (service_task_done_cb), &run);
    }
  else
    run.source_object = g_object_new (G_TYPE_OBJECT, NULL);

  start = now_ns ();
  for (guint i = 0; i < config.n_producers; i++)
    {
      producers[i].run = &run;
      producers[i].n = n / config.n_producers + (i < n % config.n_producers ? 1 : 0);
      threads[i] = g_thread_new ("bench-producer",
                                 service ? service_producer_thread : invoke_producer_thread,
                                 &producers[i]);
    }
  while (run.n_done < n)
    g_main_context_iteration (run.context, TRUE);
  end = now_ns ();

  for (guint i = 0; i < config.n_producers; i++)
    g_thread_join (threads[i]);

  g_clear_object (&run.service);
  g_clear_object (&run.source_object);
  context_pop_free (run.context);

  return (end - start) / 1e9;
}

/* Pending tasks: started, never completing until released */

static void
hold_func (GTask        *task,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GPtrArray *held = user_data;

  g_ptr_array_add (held, g_object_ref (task));
}

/* Completing from inside a dispatch lets each GTask complete at once. */
static gboolean
release_held_cb (gpointer user_data)
{
  GPtrArray *held = user_data;

  for (guint i = 0; i < held->len; i++)
    g_task_return_boolean (g_ptr_array_index (held, i), TRUE);
  g_ptr_array_set_size (held, 0);

  return G_SOURCE_REMOVE;
}

static void
schedule_held (AsabTaskService *service,
               GPtrArray       *held,
               guint            n)
{
  for (guint i = 0; i < n; i++)
    asab_task_service_schedule (service, hold_func, held);

  while (asab_task_service_get_n_queued (service) > 0)
    g_main_context_iteration (asab_task_service_get_context (service), TRUE);
  while (g_main_context_iteration (asab_task_service_get_context (service), FALSE))
    ;
}

static void
release_held (AsabTaskService *service,
              GPtrArray       *held)
{
  GMainContext *context = asab_task_service_get_context (service);

  attach_idle (context, release_held_cb, held);
  while (held->len > 0 || run_n_live (service) > 0)
    g_main_context_iteration (context, TRUE);
}

/* Workload 3: latency */

typedef struct
{
  AsabTaskService *service;
  GArray *start_latency;   /* µs */
  GArray *done_latency;    /* µs */
  GTask *probe;
  gboolean in_flight;
  gboolean started;
  gint64 scheduled_at;
  gint64 completed_at;
  guint target;
} Latency;

static void
probe_func (GTask        *task,
            GCancellable *cancellable,
            gpointer      user_data)
{
  Latency *lat = user_data;
  double usec = (now_ns () - lat->scheduled_at) / 1e3;

  g_array_append_val (lat->start_latency, usec);
  lat->probe = g_object_ref (task);
  lat->started = TRUE;
}

static void
probe_done_cb (AsabTaskService *service,
               GTask           *task,
               GError          *error,
               gpointer         user_data)
{
  Latency *lat = user_data;
  double usec;

  if (lat->completed_at == 0)
    return;

  usec = (now_ns () - lat->completed_at) / 1e3;
  g_array_append_val (lat->done_latency, usec);
  lat->completed_at = 0;
  lat->in_flight = FALSE;
}

/* Each tick either completes the started probe, as another source's
 * callback would, or schedules the next one.
 */
static gboolean
latency_tick_cb (gpointer user_data)
{
  Latency *lat = user_data;

  if (lat->in_flight && lat->started)
    {
      GTask *probe = g_steal_pointer (&lat->probe);

      lat->started = FALSE;
      lat->completed_at = now_ns ();
      g_task_return_boolean (probe, TRUE);
      g_object_unref (probe);
    }
  else if (!lat->in_flight && lat->start_latency->len < lat->target)
    {
      lat->in_flight = TRUE;
      lat->scheduled_at = now_ns ();
      asab_task_service_schedule (lat->service, probe_func, lat);
    }

  return G_SOURCE_CONTINUE;
}

static void
measure_latency (guint   n_pending,
                 guint   n_samples,
                 GArray *start_latency,
                 GArray *done_latency)
{
  GMainContext *context = context_new_pushed ();
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  Latency lat = { 0 };
  GSource *tick;

  lat.service = asab_task_service_new (context);
  lat.start_latency = start_latency;
  lat.done_latency = done_latency;
  lat.target = n_samples;
  schedule_held (lat.service, held, n_pending);
  g_signal_connect (lat.service, "task-done", G_CALLBACK (probe_done_cb), &lat);

  tick = g_timeout_source_new (1);
  g_source_set_callback (tick, latency_tick_cb, &lat, NULL);
  g_source_attach (tick, context);
  while (lat.done_latency->len < n_samples)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);

  release_held (lat.service, held);
  g_object_unref (lat.service);
  context_pop_free (context);
}

/* Workload 4: scale */

typedef struct
{
  AsabTaskService *service;
  GPtrArray *held;
  Run run;
} ScaleSetup;

static void
scale_setup (ScaleSetup  *setup,
             GMainContext *context,
             guint        n_pending)
{
  setup->service = asab_task_service_new (context);
  setup->held = g_ptr_array_new_with_free_func (g_object_unref);
  schedule_held (setup->service, setup->held, n_pending);
  setup->run.service = setup->service;
  setup->run.context = context;
  g_signal_connect (setup->service, "task-done", G_CALLBACK (service_task_done_cb), &setup->run);
}

/* Process CPU nanoseconds per task for scheduling and completing n trivial
 * tasks while the setup's tasks stay pending.
 */
static double
scale_measure (ScaleSetup *setup,
               guint       n)
{
  gint64 start;

  setup->run.n_total = n;
  setup->run.window = n;
  setup->run.n_created = 0;
  setup->run.n_done = 0;

  start = cpu_ns ();
  service_schedule_batch (&setup->run);
  while (setup->run.n_done < n)
    g_main_context_iteration (setup->run.context, TRUE);

  return (double) (cpu_ns () - start) / n;
}

static void
scale_teardown (ScaleSetup *setup)
{
  /* Released tasks end through the same handler: make it a no-op. */
  setup->run.n_total = 0;
  setup->run.n_created = 0;
  release_held (setup->service, setup->held);
  g_ptr_array_unref (setup->held);
  g_object_unref (setup->service);
}

/* Workload 5: memory, measured in a fresh process per figure */

static gboolean
read_status_kb (const char *field,
                gint64     *kb)
{
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &contents, NULL, NULL))
    return FALSE;

  line = strstr (contents, field);
  if (line == NULL)
    return FALSE;

  *kb = g_ascii_strtoll (line + strlen (field), NULL, 10);
  return TRUE;
}

static void
memory_child_task_cb (GObject      *source_object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
}

static int
memory_child (const char *kind,
              guint       n)
{
  GMainContext *context = context_new_pushed ();
  GObject *source_object = g_object_new (G_TYPE_OBJECT, NULL);
  AsabTaskService *service = NULL;
  GPtrArray *tasks = NULL;
  gint64 rss_before, rss_after, hwm_after;

  /* Types, classes and the service itself exist before the measurement. */
  {
    GCancellable *cancellable = g_cancellable_new ();
    GTask *task = g_task_new (source_object, cancellable, memory_child_task_cb, NULL);

    g_object_unref (task);
    g_object_unref (cancellable);
  }
  if (g_str_equal (kind, "service"))
    service = asab_task_service_new (context);
  else
    tasks = g_ptr_array_new ();

  malloc_trim (0);
  if (!read_status_kb ("VmRSS:", &rss_before))
    return 1;

  if (service != NULL)
    {
      /* Scheduled without iterating the context: all of them stay queued. */
      for (guint i = 0; i < n; i++)
        asab_task_service_schedule (service, trivial_func, NULL);
      if (asab_task_service_get_n_queued (service) != n)
        return 1;
    }
  else
    {
      for (guint i = 0; i < n; i++)
        {
          GCancellable *cancellable = g_cancellable_new ();

          g_ptr_array_add (tasks, g_task_new (source_object, cancellable,
                                              memory_child_task_cb, NULL));
          g_object_unref (cancellable);
        }
    }

  if (!read_status_kb ("VmRSS:", &rss_after) || !read_status_kb ("VmHWM:", &hwm_after))
    return 1;

  printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
          (hwm_after - rss_before) * 1024, (rss_after - rss_before) * 1024);
  fflush (stdout);

  /* The process ends here; freeing a million tasks would only cost time. */
  _exit (0);
}

static char *self_exe;

/* Runs one memory measurement in a fresh process, so that neither earlier
 * allocations nor another figure's peak can hide in it.
 */
static gboolean
memory_measure (const char *kind,
                guint       n,
                double     *peak_per_task,
                double     *rss_per_task)
{
  g_autofree char *n_str = g_strdup_printf ("%u", n);
  const char *argv[] = { self_exe, "--memory-child", kind, "--tasks", n_str, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  gint64 peak = 0, rss = 0;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error) ||
      sscanf (out, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT, &peak, &rss) != 2)
    {
      progress ("memory child (%s) failed: %s", kind, error != NULL ? error->message : out);
      return FALSE;
    }

  *peak_per_task = (double) peak / n;
  *rss_per_task = (double) rss / n;
  return TRUE;
}

/* Workload 6: idle wake-ups */

typedef struct
{
  GMainContext *context;
  gboolean with_service;
  guint n_pending;
  gint polls_returned;
  gint iterations;
  gint settled;
  gint stop;
} IdleRun;

static IdleRun *current_idle_run;

static gint
counting_poll (GPollFD *fds,
               guint    nfds,
               gint     timeout)
{
  gint ret = g_poll (fds, nfds, timeout);

  g_atomic_int_inc (&current_idle_run->polls_returned);
  return ret;
}

static gpointer
idle_thread (gpointer data)
{
  IdleRun *idle = data;
  AsabTaskService *service = NULL;
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);

  g_main_context_push_thread_default (idle->context);
  if (idle->with_service)
    {
      service = asab_task_service_new (idle->context);
      schedule_held (service, held, idle->n_pending);
    }
  while (g_main_context_iteration (idle->context, FALSE))
    ;

  g_atomic_int_set (&idle->settled, 1);
  while (!g_atomic_int_get (&idle->stop))
    {
      g_main_context_iteration (idle->context, TRUE);
      g_atomic_int_inc (&idle->iterations);
    }

  if (service != NULL)
    {
      release_held (service, held);
      g_object_unref (service);
    }
  while (g_main_context_iteration (idle->context, FALSE))
    ;
  g_main_context_pop_thread_default (idle->context);

  return NULL;
}

/* Counts the iterations that return, and the polls that return, while the
 * context's thread is left alone for the window.
 */
static void
measure_idle (gboolean with_service,
              guint    n_pending,
              gint64   window_usec,
              guint   *iterations,
              guint   *polls)
{
  IdleRun idle = { 0 };
  GThread *thread;
  guint it0, p0;

  idle.context = g_main_context_new ();
  idle.with_service = with_service;
  idle.n_pending = n_pending;
  current_idle_run = &idle;
  g_main_context_set_poll_func (idle.context, counting_poll);

  thread = g_thread_new ("bench-idle", idle_thread, &idle);
  while (!g_atomic_int_get (&idle.settled))
    g_usleep (1000);
  /* Let it reach its poll. */
  g_usleep (50000);

  it0 = g_atomic_int_get (&idle.iterations);
  p0 = g_atomic_int_get (&idle.polls_returned);
  g_usleep (window_usec);
  *iterations = g_atomic_int_get (&idle.iterations) - it0;
  *polls = g_atomic_int_get (&idle.polls_returned) - p0;

  g_atomic_int_set (&idle.stop, 1);
  g_main_context_wakeup (idle.context);
  g_thread_join (thread);

  current_idle_run = NULL;
  g_main_context_unref (idle.context);
}

/* Workload 7: forever */

typedef struct
{
  gint64 last;
  gint64 max_late;
  gint64 interval;
  guint fires;
} Ticker;

static gboolean
ticker_cb (gpointer user_data)
{
  Ticker *ticker = user_data;
  gint64 now = g_get_monotonic_time ();

  if (ticker->last != 0)
    ticker->max_late = MAX (ticker->max_late, now - ticker->last - ticker->interval);
  ticker->last = now;
  ticker->fires++;

  return G_SOURCE_CONTINUE;
}

static void
failing_func (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  guint *runs = user_data;

  (*runs)++;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "benchmark failure");
}

static gboolean
task_failed_handled_cb (AsabTaskService *service,
                        GTask           *task,
                        GError          *error,
                        gpointer         user_data)
{
  return TRUE;
}

typedef enum
{
  FOREVER_NONE,       /* the timer alone: the baseline */
  FOREVER_HANDLED,    /* task-failed returns TRUE */
  FOREVER_LOGGED,     /* the default log writer, stderr on /dev/null */
} ForeverMode;

typedef struct
{
  double cpu_percent;
  double max_late_ms;
  guint fires;
  guint expected_fires;
  guint runs;
} ForeverResult;

static void
measure_forever (ForeverMode    mode,
                 gint64         duration_usec,
                 ForeverResult *result)
{
  GMainContext *context = context_new_pushed ();
  AsabTaskService *service = NULL;
  Ticker ticker = { 0 };
  GSource *timer;
  guint64 id = 0;
  int saved_stderr = -1;
  gint64 wall_start, wall_end, cpu_start, cpu_end;
  guint runs = 0;

  if (mode == FOREVER_LOGGED)
    {
      int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);

      fflush (stderr);
      saved_stderr = dup (STDERR_FILENO);
      dup2 (devnull, STDERR_FILENO);
      close (devnull);
    }

  ticker.interval = 10 * 1000;
  timer = g_timeout_source_new (10);
  g_source_set_callback (timer, ticker_cb, &ticker, NULL);

  wall_start = g_get_monotonic_time ();
  cpu_start = cpu_ns ();
  g_source_attach (timer, context);
  if (mode != FOREVER_NONE)
    {
      service = asab_task_service_new (context);
      if (mode == FOREVER_HANDLED)
        g_signal_connect (service, "task-failed", G_CALLBACK (task_failed_handled_cb), NULL);
      id = asab_task_service_run_forever (service, "bench-forever", failing_func, &runs, NULL);
    }
  while ((wall_end = g_get_monotonic_time ()) < wall_start + duration_usec)
    g_main_context_iteration (context, TRUE);
  cpu_end = cpu_ns ();

  if (service != NULL)
    {
      asab_task_service_cancel (service, id);
      while (run_n_live (service) > 0)
        g_main_context_iteration (context, TRUE);
      g_object_unref (service);
    }
  g_source_destroy (timer);
  g_source_unref (timer);
  context_pop_free (context);

  if (saved_stderr >= 0)
    {
      dup2 (saved_stderr, STDERR_FILENO);
      close (saved_stderr);
    }

  result->cpu_percent = 100.0 * (cpu_end - cpu_start) / ((wall_end - wall_start) * 1e3);
  result->max_late_ms = ticker.max_late / 1e3;
  result->fires = ticker.fires;
  result->expected_fires = (wall_end - wall_start) / ticker.interval;
  result->runs = runs;
}

/* Workload 8: Python, in a child interpreter */

static void
run_python (void)
{
  g_autofree char *script = g_build_filename (BENCH_SOURCE_ROOT, "bench", "bench.py", NULL);
  g_autofree char *typelib_dir = g_build_filename (BENCH_BUILD_ROOT, "introspection", NULL);
  g_autofree char *lib_dir = g_build_filename (BENCH_BUILD_ROOT, "src", NULL);
  g_autofree char *override_dir = g_build_filename (BENCH_SOURCE_ROOT, "introspection", NULL);
  g_autofree char *tasks = g_strdup_printf ("%u", config.python_tasks);
  g_autofree char *reps = g_strdup_printf ("%u", config.reps);
  g_autofree char *warmups = g_strdup_printf ("%u", config.warmups);
  const char *argv[] = { config.python, script, "--machine", "--tasks", tasks,
                         "--reps", reps, "--warmups", warmups, NULL };
  g_auto(GStrv) env = g_get_environ ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;
  guint n_rows = 0;

  env = g_environ_setenv (env, "GI_TYPELIB_PATH", typelib_dir, TRUE);
  env = g_environ_setenv (env, "LD_LIBRARY_PATH", lib_dir, TRUE);
  env = g_environ_setenv (env, "PYTHONPATH", override_dir, TRUE);

  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &status, &error))
    {
      g_autofree char *why = g_strdup_printf ("not run: %s", error->message);

      add_row ("8. Python", why, "—", "—", "≥ 1.00×", "skipped");
      return;
    }

  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cells = NULL;

      if (g_str_has_prefix (lines[i], "NOTE\t"))
        progress ("python: %s", lines[i] + 5);
      if (!g_str_has_prefix (lines[i], "ROW\t"))
        continue;

      cells = g_strsplit (lines[i] + 4, "\t", -1);
      if (g_strv_length (cells) != 6)
        continue;
      add_row (cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]);
      n_rows++;
    }

  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      g_autofree char *why = g_strdup_printf ("skipped: %s", g_strstrip (out));

      add_row ("8. Python", why, "—", "—", "≥ 1.00×", "skipped");
    }
  else if (!g_spawn_check_wait_status (status, NULL) || n_rows == 0)
    {
      g_autofree char *tail = g_strdup (err != NULL ? g_strstrip (err) : "");
      g_autofree char *why = NULL;
      char *last = strrchr (tail, '\n');

      why = g_strdup_printf ("failed: %s", last != NULL ? last + 1 : tail);
      add_row ("8. Python", why, "—", "—", "≥ 1.00×", "error");
      progress ("python stderr:\n%s", err != NULL ? err : "");
      n_errors++;
    }
}

/* Driving the workloads */

static void
append_seconds_as_rate (GArray *rates,
                        guint   n,
                        double  seconds)
{
  double rate = n / seconds;

  g_array_append_val (rates, rate);
}

static guint
n_runs (void)
{
  return config.warmups + config.reps;
}

static gboolean
is_warmup (guint rep)
{
  return rep < config.warmups;
}

typedef struct
{
  GArray *service;          /* counted by task-done */
  GArray *run_n_live;   /* counted by n-running + n-queued reaching 0 */
  GArray *service_mc;       /* max-concurrent 64 */
  GArray *full;
  GArray *idle_each;
  GArray *bare;
} ThroughputRates;

static void
throughput_rates_init (ThroughputRates *rates)
{
  rates->service = g_array_new (FALSE, FALSE, sizeof (double));
  rates->run_n_live = g_array_new (FALSE, FALSE, sizeof (double));
  rates->service_mc = g_array_new (FALSE, FALSE, sizeof (double));
  rates->full = g_array_new (FALSE, FALSE, sizeof (double));
  rates->idle_each = g_array_new (FALSE, FALSE, sizeof (double));
  rates->bare = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
throughput_rates_clear (ThroughputRates *rates)
{
  g_array_unref (rates->service);
  g_array_unref (rates->run_n_live);
  g_array_unref (rates->service_mc);
  g_array_unref (rates->full);
  g_array_unref (rates->idle_each);
  g_array_unref (rates->bare);
}

typedef enum
{
  MEASURE_SERVICE,
  MEASURE_FULL,
  MEASURE_IDLE_EACH,
  MEASURE_BARE,
  MEASURE_N_LIVE,
  MEASURE_MC,
  N_MEASURES
} Measure;

static double
measure_one (Measure measure,
             guint   n,
             guint   window)
{
  switch (measure)
    {
    case MEASURE_SERVICE:
      return measure_service (n, window, 0, COUNT_TASK_DONE);
    case MEASURE_FULL:
      return measure_baseline (BASELINE_FULL, n, window);
    case MEASURE_IDLE_EACH:
      return measure_baseline (BASELINE_IDLE_EACH, n, window);
    case MEASURE_BARE:
      return measure_baseline (BASELINE_BARE, n, window);
    case MEASURE_N_LIVE:
      return measure_service (n, window, 0, COUNT_N_LIVE);
    case MEASURE_MC:
      return measure_service (n, window, 64, COUNT_TASK_DONE);
    case N_MEASURES:
    default:
      g_assert_not_reached ();
    }
}

/* Runs the throughput workloads of one pattern, interleaved within each
 * repetition so that drift in the machine's speed hits all of them alike,
 * and in an order that rotates from one repetition to the next, since what
 * ran just before (the state of the heap, say) can move a figure by 10 %.
 */
static void
run_throughput_pattern (guint            window,
                        gboolean         with_mc,
                        ThroughputRates *rates)
{
  guint n = config.n_tasks;
  Measure order[N_MEASURES];
  guint n_order = 0;

  order[n_order++] = MEASURE_SERVICE;
  order[n_order++] = MEASURE_FULL;
  order[n_order++] = MEASURE_IDLE_EACH;
  order[n_order++] = MEASURE_BARE;
  if (window == n)
    order[n_order++] = MEASURE_N_LIVE;
  if (with_mc)
    order[n_order++] = MEASURE_MC;

  for (guint rep = 0; rep < n_runs (); rep++)
    {
      double seconds[N_MEASURES] = { 0 };
      double teardown = 0;
      g_autoptr(GString) line = g_string_new (NULL);

      for (guint i = 0; i < n_order; i++)
        {
          Measure measure = order[(i + rep) % n_order];

          seconds[measure] = measure_one (measure, n, window);
          if (measure == MEASURE_SERVICE)
            teardown = last_teardown_seconds;
        }

      g_string_append_printf (line, "  %s %u: service %.3f s (then %.1f ms to free it), full %.3f s, "
                              "idle-each %.3f s, bare %.3f s",
                              is_warmup (rep) ? "warm-up" : "rep", rep,
                              seconds[MEASURE_SERVICE], teardown * 1e3, seconds[MEASURE_FULL],
                              seconds[MEASURE_IDLE_EACH], seconds[MEASURE_BARE]);
      if (window == n)
        g_string_append_printf (line, ", n-live %.3f s", seconds[MEASURE_N_LIVE]);
      if (with_mc)
        g_string_append_printf (line, ", mc64 %.3f s", seconds[MEASURE_MC]);
      progress ("%s", line->str);
      if (is_warmup (rep))
        continue;

      append_seconds_as_rate (rates->service, n, seconds[MEASURE_SERVICE]);
      append_seconds_as_rate (rates->full, n, seconds[MEASURE_FULL]);
      append_seconds_as_rate (rates->idle_each, n, seconds[MEASURE_IDLE_EACH]);
      append_seconds_as_rate (rates->bare, n, seconds[MEASURE_BARE]);
      if (window == n)
        append_seconds_as_rate (rates->run_n_live, n, seconds[MEASURE_N_LIVE]);
      if (with_mc)
        append_seconds_as_rate (rates->service_mc, n, seconds[MEASURE_MC]);
    }
}

static void
report_throughput (const char      *pattern,
                   gboolean         upfront,
                   ThroughputRates *rates)
{
  g_autofree char *workload = g_strdup_printf ("1. throughput, %s", pattern);
  double service = median (rates->service);

  add_ratio_row (workload, "service (counted by task-done)", service,
                 "GTask + source object + own GCancellable, one idle drains the queue",
                 median (rates->full), 0.80, "tasks");
  add_ratio_row (workload, "service (counted by task-done)", service,
                 "GTask + source object + own GCancellable, one g_idle_add each",
                 median (rates->idle_each), 1.0, "tasks");
  add_ratio_row (workload, "service (counted by task-done)", service,
                 "floor: bare GTask (no source object, no cancellable), one idle drains the queue",
                 median (rates->bare), 0, "tasks");
  if (upfront)
    add_ratio_row (workload, "service, no handler, until n-running + n-queued = 0",
                   median (rates->run_n_live),
                   "service counted by task-done", service, 0, "tasks");
}

static void
workload_throughput (ThroughputRates *upfront,
                     ThroughputRates *windowed)
{
  gboolean with_mc = workload_enabled (9);

  progress ("1%s. throughput, %u tasks all up front", with_mc ? "+9" : "", config.n_tasks);
  run_throughput_pattern (config.n_tasks, with_mc, upfront);
  progress ("1%s. throughput, %u tasks in windows of %u", with_mc ? "+9" : "",
            config.n_tasks, config.window);
  run_throughput_pattern (config.window, with_mc, windowed);

  if (workload_enabled (1))
    {
      g_autofree char *a = g_strdup_printf ("all %u scheduled up front", config.n_tasks);
      g_autofree char *b = g_strdup_printf ("windows of %u scheduled from task-done", config.window);

      report_throughput (a, TRUE, upfront);
      report_throughput (b, FALSE, windowed);
    }
}

static void
workload_max_concurrent (ThroughputRates *upfront,
                         ThroughputRates *windowed)
{
  add_ratio_row ("9. max-concurrent 64, all up front", "service, max-concurrent 64",
                 median (upfront->service_mc), "workload 1 service, same pattern",
                 median (upfront->service), 0.80, "tasks");
  add_ratio_row ("9. max-concurrent 64, windowed", "service, max-concurrent 64",
                 median (windowed->service_mc), "workload 1 service, same pattern",
                 median (windowed->service), 0.80, "tasks");
}

static void
workload_cross_thread (ThroughputRates *upfront,
                       ThroughputRates *windowed)
{
  g_autoptr(GArray) service = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) invoke = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) own_upfront = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) own_windowed = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *workload = NULL;
  guint n = config.n_tasks;

  progress ("2. cross-thread, %u schedule_threadsafe calls from %u threads", n, config.n_producers);
  for (guint rep = 0; rep < n_runs (); rep++)
    {
      double s_service, s_invoke, s_upfront = 0, s_windowed = 0;

      /* Alternate which goes first. */
      if (rep % 2 == 0)
        {
          s_service = measure_cross_thread (TRUE, n);
          s_invoke = measure_cross_thread (FALSE, n);
        }
      else
        {
          s_invoke = measure_cross_thread (FALSE, n);
          s_service = measure_cross_thread (TRUE, n);
        }

      /* The service's own schedule throughput in this run, unless
       * workload 1 has measured it already. */
      if (upfront == NULL)
        {
          s_upfront = measure_service (n, n, 0, COUNT_TASK_DONE);
          s_windowed = measure_service (n, config.window, 0, COUNT_TASK_DONE);
        }

      progress ("  %s %u: threadsafe %.3f s, invoke %.3f s",
                is_warmup (rep) ? "warm-up" : "rep", rep, s_service, s_invoke);
      if (is_warmup (rep))
        continue;

      append_seconds_as_rate (service, n, s_service);
      append_seconds_as_rate (invoke, n, s_invoke);
      if (upfront == NULL)
        {
          append_seconds_as_rate (own_upfront, n, s_upfront);
          append_seconds_as_rate (own_windowed, n, s_windowed);
        }
    }

  workload = g_strdup_printf ("2. cross-thread, %u producer threads", config.n_producers);
  add_ratio_row (workload, "schedule_threadsafe", median (service),
                 "service schedule in this run, all up front",
                 median (upfront != NULL ? upfront->service : own_upfront), 0.9, "tasks");
  add_ratio_row (workload, "schedule_threadsafe", median (service),
                 "service schedule in this run, windowed",
                 median (windowed != NULL ? windowed->service : own_windowed), 0.9, "tasks");
  add_ratio_row (workload, "schedule_threadsafe", median (service),
                 "one g_main_context_invoke per item (creates + completes a GTask)",
                 median (invoke), 1.5, "tasks");
}

static void
report_latency (const char *what,
                GArray     *figure,
                GArray     *baseline)
{
  g_autofree char *workload = g_strdup_printf ("3. latency, %s, %u pending",
                                               what, config.latency_pending);
  g_autofree char *fig = NULL;
  g_autofree char *base = NULL;
  g_autofree char *ratio = NULL;
  double p50, p99, max, b50, b99;

  g_array_sort (figure, compare_doubles);
  g_array_sort (baseline, compare_doubles);
  p50 = percentile (figure, 50);
  p99 = percentile (figure, 99);
  max = percentile (figure, 100);
  b50 = percentile (baseline, 50);
  b99 = percentile (baseline, 99);

  fig = g_strdup_printf ("p50 %.1f µs, p99 %.1f µs (max %.1f µs, %u samples)",
                         p50, p99, max, figure->len);
  base = g_strdup_printf ("same with 0 pending: p50 %.1f µs, p99 %.1f µs", b50, b99);
  ratio = g_strdup_printf ("p99 %.2f×", p99 / b99);
  add_row (workload, fig, base, ratio, "p99 ≤ 1 ms", met_str (p99 <= 1000.0));
}

static void
workload_latency (void)
{
  g_autoptr(GArray) start = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) done = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) start0 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) done0 = g_array_new (FALSE, FALSE, sizeof (double));

  progress ("3. latency, %u samples each with %u and 0 pending",
            config.latency_samples, config.latency_pending);
  /* A few samples first, not kept, to warm up. */
  measure_latency (config.latency_pending, 20, start, done);
  g_array_set_size (start, 0);
  g_array_set_size (done, 0);

  measure_latency (config.latency_pending, config.latency_samples, start, done);
  measure_latency (0, config.latency_samples, start0, done0);

  report_latency ("schedule → func starts", start, start0);
  report_latency ("g_task_return_* (from another source) → task-done", done, done0);
}

static void
workload_scale (void)
{
  GMainContext *context = context_new_pushed ();
  ScaleSetup small = { 0 }, large = { 0 };
  g_autoptr(GArray) small_ns = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) large_ns = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *workload = NULL;
  g_autofree char *fig = NULL;
  g_autofree char *base = NULL;
  g_autofree char *ratio = NULL;
  double s, l;

  progress ("4. scale: %u tasks while %u and %u are pending",
            config.scale_tasks, config.scale_small, config.scale_large);
  scale_setup (&small, context, config.scale_small);
  scale_setup (&large, context, config.scale_large);

  for (guint rep = 0; rep < n_runs (); rep++)
    {
      double ns_small, ns_large;

      if (rep % 2 == 0)
        {
          ns_small = scale_measure (&small, config.scale_tasks);
          ns_large = scale_measure (&large, config.scale_tasks);
        }
      else
        {
          ns_large = scale_measure (&large, config.scale_tasks);
          ns_small = scale_measure (&small, config.scale_tasks);
        }

      progress ("  %s %u: %.0f ns/task with %u pending, %.0f ns/task with %u pending",
                is_warmup (rep) ? "warm-up" : "rep", rep,
                ns_small, config.scale_small, ns_large, config.scale_large);
      if (is_warmup (rep))
        continue;
      g_array_append_val (small_ns, ns_small);
      g_array_append_val (large_ns, ns_large);
    }

  scale_teardown (&large);
  scale_teardown (&small);
  context_pop_free (context);

  s = median (small_ns);
  l = median (large_ns);
  workload = g_strdup_printf ("4. scale, CPU per completed task (%u trivial tasks)", config.scale_tasks);
  fig = g_strdup_printf ("%.0f ns/task with %u pending", l, config.scale_large);
  base = g_strdup_printf ("%.0f ns/task with %u pending", s, config.scale_small);
  ratio = format_ratio (l / s);
  add_row (workload, fig, base, ratio, "≤ 1.30×", met_str (l / s <= 1.3));
}

static void
workload_memory (void)
{
  g_autoptr(GArray) service_peak = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) service_rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) base_peak = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) base_rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *workload = NULL;
  g_autofree char *fig = NULL;
  g_autofree char *base = NULL;
  g_autofree char *ratio = NULL;
  guint n = config.memory_tasks;
  double sp, sr, bp, br;

  progress ("5. memory: %u queued tasks, one fresh process per figure", n);
  /* No warm-up: each figure comes from a fresh process. */
  for (guint rep = 0; rep < config.reps; rep++)
    {
      double peak, rss;

      if (!memory_measure ("service", n, &peak, &rss))
        {
          n_errors++;
          add_row ("5. memory", "child failed", "—", "—", "≤ 1.30×", "error");
          return;
        }
      g_array_append_val (service_peak, peak);
      g_array_append_val (service_rss, rss);

      if (!memory_measure ("baseline", n, &peak, &rss))
        {
          n_errors++;
          add_row ("5. memory", "child failed", "—", "—", "≤ 1.30×", "error");
          return;
        }
      g_array_append_val (base_peak, peak);
      g_array_append_val (base_rss, rss);
    }

  sp = median (service_peak);
  sr = median (service_rss);
  bp = median (base_peak);
  br = median (base_rss);
  workload = g_strdup_printf ("5. memory, peak RSS growth per queued task (%u queued)", n);
  fig = g_strdup_printf ("service: %.0f B/task peak (%.0f B/task at the end)", sp, sr);
  base = g_strdup_printf ("GTask + source object + own GCancellable in a GPtrArray: "
                          "%.0f B/task peak (%.0f at the end)", bp, br);
  ratio = format_ratio (sp / bp);
  add_row (workload, fig, base, ratio, "≤ 1.30×", met_str (sp / bp <= 1.3));
}

static void
workload_idle (void)
{
  guint base_it, base_polls, it, polls;
  double seconds = config.idle_usec / 1e6;
  struct {
    const char *what;
    guint n_pending;
  } cases[] = {
    { "no tasks", 0 },
    { "pending tasks, none progressing", config.idle_pending },
  };

  progress ("6. idle: %.1f s windows", seconds);
  measure_idle (FALSE, 0, config.idle_usec, &base_it, &base_polls);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *workload = NULL;
      g_autofree char *fig = NULL;
      g_autofree char *base = NULL;

      measure_idle (TRUE, cases[i].n_pending, config.idle_usec, &it, &polls);
      workload = g_strdup_printf ("6. idle, %s (%u pending), %.1f s", cases[i].what,
                                  cases[i].n_pending, seconds);
      fig = g_strdup_printf ("%u wake-ups (%u iterations returned, %u polls returned)",
                             MAX (it, polls), it, polls);
      base = g_strdup_printf ("empty context, no service: %u iterations, %u polls",
                              base_it, base_polls);
      add_row (workload, fig, base, "—", "0 wake-ups", met_str (it == 0 && polls == 0));
    }
}

static void
workload_forever (void)
{
  ForeverResult base, handled, logged;
  double seconds = config.forever_usec / 1e6;
  struct {
    const char *what;
    ForeverResult *result;
  } cases[] = {
    { "task-failed handler returns TRUE (no log)", &handled },
    { "default log writer, stderr on /dev/null", &logged },
  };

  progress ("7. forever: %.1f s per case", seconds);
  measure_forever (FOREVER_NONE, config.forever_usec, &base);
  measure_forever (FOREVER_HANDLED, config.forever_usec, &handled);
  measure_forever (FOREVER_LOGGED, config.forever_usec, &logged);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      ForeverResult *r = cases[i].result;
      g_autofree char *workload = g_strdup_printf ("7. forever, failing at once, %s, %.1f s",
                                                   cases[i].what, seconds);
      g_autofree char *fig = NULL;
      g_autofree char *b = NULL;
      g_autofree char *ratio = NULL;
      gboolean on_time = r->max_late_ms <= 5.0 && r->fires + 2 >= r->expected_fires * 95 / 100;

      fig = g_strdup_printf ("%.2f %% of a core, %u runs; 10 ms timer: %u/%u fires, max late %.2f ms",
                             r->cpu_percent, r->runs, r->fires, r->expected_fires, r->max_late_ms);
      b = g_strdup_printf ("timer alone: %.2f %% of a core, %u/%u fires, max late %.2f ms",
                           base.cpu_percent, base.fires, base.expected_fires, base.max_late_ms);
      ratio = g_strdup_printf ("%+.2f %% CPU", r->cpu_percent - base.cpu_percent);
      add_row (workload, fig, b, ratio, "≤ 2 % CPU; timer max late ≤ 5 ms, ≥ 95 % of fires",
               met_str (r->cpu_percent <= 2.0 && on_time));
    }
}

/* One measurement alone, so that a profiler sees nothing else. */
static int
run_profile_one (const char *kind,
                 guint       n)
{
  guint window = g_str_has_suffix (kind, "-windowed") ? 10000 : n;
  double seconds;

  config.n_producers = 2;
  if (g_str_has_prefix (kind, "service-n-live"))
    seconds = measure_service (n, n, 0, COUNT_N_LIVE);
  else if (g_str_has_prefix (kind, "service"))
    seconds = measure_service (n, window, 0, COUNT_TASK_DONE);
  else if (g_str_has_prefix (kind, "full"))
    seconds = measure_baseline (BASELINE_FULL, n, window);
  else if (g_str_has_prefix (kind, "idle-each"))
    seconds = measure_baseline (BASELINE_IDLE_EACH, n, window);
  else if (g_str_has_prefix (kind, "bare"))
    seconds = measure_baseline (BASELINE_BARE, n, window);
  else if (g_str_equal (kind, "threadsafe"))
    seconds = measure_cross_thread (TRUE, n);
  else if (g_str_equal (kind, "invoke"))
    seconds = measure_cross_thread (FALSE, n);
  else
    {
      fprintf (stderr, "unknown kind %s\n", kind);
      return 2;
    }

  printf ("%s: %u tasks in %.3f s, %.0f ns/task\n", kind, n, seconds, seconds * 1e9 / n);
  return 0;
}

/* Workload 10: the task list */

static void
workload_task_list (void)
{
  g_autoptr(GArray) without = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) with = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *workload = NULL;
  g_autofree char *fig = NULL;
  g_autofree char *base = NULL;
  g_autofree char *ratio = NULL;
  guint n = config.list_tasks;
  double ns_without, ns_with;

  progress ("10. task list: %u tasks in windows of %u, with and without a list", n, config.window);
  for (guint rep = 0; rep < n_runs (); rep++)
    {
      /* Alternating, so that drift hits both alike. */
      double a = rep % 2 == 0 ? measure_service (n, config.window, 0, COUNT_TASK_DONE) : 0;
      double b = measure_service (n, config.window, 0, COUNT_WITH_LIST);

      if (rep % 2 == 1)
        a = measure_service (n, config.window, 0, COUNT_TASK_DONE);
      progress ("  %s %u: without %.3f s, with a list %.3f s", is_warmup (rep) ? "warm-up" : "rep",
                rep, a, b);
      if (is_warmup (rep))
        continue;
      g_array_append_val (without, a);
      g_array_append_val (with, b);
    }

  ns_without = median (without) * 1e9 / n;
  ns_with = median (with) * 1e9 / n;
  workload = g_strdup_printf ("10. task list, CPU per task (%u tasks, windows of %u)", n, config.window);
  fig = g_strdup_printf ("a task list alive (get_tasks()): %.0f ns/task", ns_with);
  base = g_strdup_printf ("no task list: %.0f ns/task", ns_without);
  ratio = g_strdup_printf ("+%.0f ns/task", ns_with - ns_without);
  add_row (workload, fig, base, ratio, "— (for reference)", "—");
}

/* main */

static void
config_set_defaults (void)
{
  guint scale = config.quick ? 10 : 1;

  if (config.n_tasks == 0)
    config.n_tasks = 1000000 / scale;
  if (config.reps == 0)
    config.reps = config.quick ? 1 : 5;
  if (config.warmups == (guint) -1)
    config.warmups = 1;
  config.window = 10000;
  config.n_producers = 2;
  config.latency_pending = 10000;
  config.latency_samples = config.quick ? 200 : 2000;
  config.scale_small = 1000;
  config.scale_large = 1000000 / scale;
  config.scale_tasks = 100000 / scale;
  config.memory_tasks = 1000000 / scale;
  config.idle_pending = 10000;
  config.idle_usec = config.quick ? G_USEC_PER_SEC / 2 : 2 * G_USEC_PER_SEC;
  config.forever_usec = config.quick ? G_USEC_PER_SEC : 5 * G_USEC_PER_SEC;
  config.python_tasks = 100000 / scale;
  config.list_tasks = 100000 / scale;
  if (config.python == NULL)
    config.python = g_strdup (g_getenv ("ASAB_BENCH_PYTHON") != NULL
                              ? g_getenv ("ASAB_BENCH_PYTHON") : BENCH_PYTHON);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) option_context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *memory_child_kind = NULL;
  g_autofree char *profile_one = NULL;
  int n_tasks = 0, reps = 0, warmups = -1;
  ThroughputRates upfront, windowed;
  gboolean have_throughput = FALSE;
  GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, &config.quick,
      "Ten times fewer tasks, one repetition: a smoke run of a few seconds", NULL },
    { "tasks", 0, 0, G_OPTION_ARG_INT, &n_tasks, "Tasks for workloads 1, 2 and 9", "N" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "Measured repetitions (median reported)", "N" },
    { "warmups", 0, 0, G_OPTION_ARG_INT, &warmups, "Repetitions run first and not kept", "N" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &config.only, "Only these workloads, e.g. 1,3", "LIST" },
    { "python", 0, 0, G_OPTION_ARG_FILENAME, &config.python,
      "Interpreter with PyGObject for workload 8 (default " BENCH_PYTHON ")", "PATH" },
    { "no-python", 0, 0, G_OPTION_ARG_NONE, &config.no_python, "Skip workload 8", NULL },
    { "memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &memory_child_kind, NULL, NULL },
    { "profile-one", 0, 0, G_OPTION_ARG_STRING, &profile_one,
      "Run one throughput measurement once, for a profiler: service, service-windowed, "
      "service-n-live, full, full-windowed, idle-each, idle-each-windowed, bare, "
      "threadsafe, invoke", "KIND" },
    { NULL }
  };

  option_context = g_option_context_new ("- benchmark AsabTaskService against plain GLib");
  g_option_context_add_main_entries (option_context, entries, NULL);
  if (!g_option_context_parse (option_context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }

  config.n_tasks = MAX (n_tasks, 0);
  config.reps = MAX (reps, 0);
  config.warmups = warmups < 0 ? (guint) -1 : (guint) warmups;

  if (memory_child_kind != NULL)
    return memory_child (memory_child_kind, n_tasks > 0 ? (guint) n_tasks : 1000000);
  if (profile_one != NULL)
    return run_profile_one (profile_one, n_tasks > 0 ? (guint) n_tasks : 100000);

  config_set_defaults ();
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe == NULL)
    self_exe = g_strdup (argv[0]);

  progress ("asab-bench: GLib %u.%u.%u, %u tasks, %u warm-up + %u repetitions (median)%s",
            glib_major_version, glib_minor_version, glib_micro_version,
            config.n_tasks, config.warmups, config.reps, config.quick ? ", quick" : "");

  throughput_rates_init (&upfront);
  throughput_rates_init (&windowed);
  if (workload_enabled (1) || workload_enabled (9))
    {
      workload_throughput (&upfront, &windowed);
      have_throughput = TRUE;
    }
  if (workload_enabled (2))
    workload_cross_thread (have_throughput ? &upfront : NULL, have_throughput ? &windowed : NULL);
  if (workload_enabled (3))
    workload_latency ();
  if (workload_enabled (4))
    workload_scale ();
  if (workload_enabled (5))
    workload_memory ();
  if (workload_enabled (6))
    workload_idle ();
  if (workload_enabled (7))
    workload_forever ();
  if (workload_enabled (8) && !config.no_python)
    {
      progress ("8. Python: %u tasks, %s", config.python_tasks, config.python);
      run_python ();
    }
  if (workload_enabled (9) && have_throughput)
    workload_max_concurrent (&upfront, &windowed);
  if (workload_enabled (10))
    workload_task_list ();
  throughput_rates_clear (&upfront);
  throughput_rates_clear (&windowed);

  printf ("\nAsabTaskService benchmark: GLib %u.%u.%u, %u tasks, median of %u after %u warm-up%s\n\n",
          glib_major_version, glib_minor_version, glib_micro_version,
          config.n_tasks, config.reps, config.warmups, config.quick ? " (--quick)" : "");
  print_table ();

  g_ptr_array_unref (rows);
  g_free (self_exe);
  g_free (config.python);
  g_free (config.only);

  return n_errors > 0 ? 1 : 0;
}
