/* gtk-tasks-script.c: the scripted run of the GTK 4 demo, gtk-tasks --script
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A list of steps, each of which starts something and then waits until
 * what it expects holds. What the list does is followed from outside, as
 * a user of the model would: a shadow copy to which every items-changed is
 * applied, and the properties of each item as they were notified. Every
 * event that can complete a step pokes the script, which then checks the
 * current step again.
 */

#include "gtk-tasks.h"

#include <string.h>

#define STEP_TIMEOUT_SECONDS 30
#define ZEROS_128_MIB_SHA256 "254bcc3fc4f27172636df4bf32de9f107f620d559b20d760197e452b97453917"

typedef enum
{
  STEP_EMPTY,
  STEP_WATCH,
  STEP_REMINDER,
  STEP_WINDOW,
  STEP_CHECKSUM_QUARTER,
  STEP_CHECKSUM_HALF,
  STEP_COPY,
  STEP_SCREENSHOT,
  STEP_FAIL,
  STEP_CLOSE_WINDOW,
  STEP_CHECKSUM_END,
  STEP_CANCEL_WATCH,
  STEP_CANCEL_REMINDER,
  STEP_ALL_ENDED,
  N_STEPS
} Step;

static const char * const step_names[N_STEPS] = {
  "the list is empty at start",
  "a forever task: queued, then running, with a status",
  "a GSource task runs",
  "the second window's two tasks run, the countdown's progress moves",
  "the checksum, on a worker thread, reports a quarter",
  "the checksum reports half",
  "the copy, a GTask, reports progress and its row goes when it ends",
  "a screenshot of the list while tasks show progress",
  "a failing task: task-failed, then task-done with its error",
  "closing the second window cancels its tasks",
  "the checksum ends with the right SHA-256",
  "the forever task's cancel button cancels it",
  "asab_task_info_cancel() cancels the GSource task",
  "every task ended once, after its row went; the list is empty",
};

/* What the script saw of one item. */
typedef struct
{
  AsabTaskInfo *info;
  gulong notify_id;
  GArray *progress;
  guint states_seen;
  gboolean removed;
  guint n_ended;
  gboolean removed_before_end;
  gboolean failed;
  GError *error;
} Seen;

struct _Script
{
  Demo *demo;
  Step step;
  gboolean finished;
  guint poke_id;
  guint timeout_id;
  gulong items_changed_id;

  /* The model as its items-changed signals told it. */
  GPtrArray *shadow;
  /* Every item ever seen, by task id. */
  GHashTable *seen;

  gulong after_paint_id;
  GdkFrameClock *frame_clock;
  gboolean screenshot_saved;
};

static void
seen_free (gpointer data)
{
  Seen *seen = data;

  g_clear_signal_handler (&seen->notify_id, seen->info);
  g_clear_object (&seen->info);
  g_array_unref (seen->progress);
  g_clear_error (&seen->error);
  g_free (seen);
}

static void
script_disconnect_paint (Script *script)
{
  if (script->frame_clock != NULL)
    {
      g_clear_signal_handler (&script->after_paint_id, script->frame_clock);
      g_clear_object (&script->frame_clock);
    }
}

void
script_free (Script *script)
{
  g_clear_handle_id (&script->poke_id, g_source_remove);
  g_clear_handle_id (&script->timeout_id, g_source_remove);
  if (script->demo->tasks != NULL)
    g_clear_signal_handler (&script->items_changed_id, script->demo->tasks);
  script_disconnect_paint (script);
  g_ptr_array_unref (script->shadow);
  g_hash_table_unref (script->seen);
  g_free (script);
}

static void script_fail (Script     *script,
                         const char *format,
                         ...) G_GNUC_PRINTF (2, 3);

/* Ends the script with a failure: the application quits, and its
 * service's stop cancels what is left. */
static void
script_fail (Script     *script,
             const char *format,
             ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (script->finished)
    return;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("not ok %u - %s\n# %s\n", script->step + 1,
           script->step < N_STEPS ? step_names[script->step] : "after the last step", text);
  script->finished = TRUE;
  script->demo->exit_status = 1;
  g_clear_handle_id (&script->timeout_id, g_source_remove);
  script_disconnect_paint (script);
  g_application_quit (G_APPLICATION (script->demo->app));
}

#define expect(script, condition, ...) \
  G_STMT_START { \
    if (!(condition)) \
      { \
        script_fail ((script), __VA_ARGS__); \
        return FALSE; \
      } \
  } G_STMT_END

static gboolean
script_on_context (Script *script)
{
  return g_main_context_is_owner (asab_task_service_get_context (script->demo->service));
}

static void
script_info_notify (AsabTaskInfo *info,
                    GParamSpec   *pspec,
                    Seen         *seen)
{
  Script *script = g_object_get_data (G_OBJECT (info), "demo-script");

  if (!script_on_context (script))
    {
      script_fail (script, "%s of task %" G_GUINT64_FORMAT " notified outside the service's context",
                   pspec->name, asab_task_info_get_id (info));
      return;
    }

  if (g_str_equal (pspec->name, "progress"))
    {
      double progress = asab_task_info_get_progress (info);

      g_array_append_val (seen->progress, progress);
    }
  else if (g_str_equal (pspec->name, "state"))
    {
      seen->states_seen |= 1u << asab_task_info_get_state (info);
    }

  script_poke (script);
}

static gboolean
script_check_shadow (Script *script)
{
  GListModel *tasks = script->demo->tasks;
  guint n_items = g_list_model_get_n_items (tasks);

  expect (script, n_items == script->shadow->len,
          "the model has %u items, its items-changed signals told of %u",
          n_items, script->shadow->len);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (tasks, i);

      expect (script, item == g_ptr_array_index (script->shadow, i),
              "item %u of the model is not the one items-changed told of", i);
    }

  return TRUE;
}

static void
script_items_changed (GListModel *tasks,
                      guint       position,
                      guint       removed,
                      guint       added,
                      Script     *script)
{
  if (script->finished)
    return;

  if (!script_on_context (script))
    {
      script_fail (script, "items-changed was emitted outside the service's context");
      return;
    }
  if (position + removed > script->shadow->len)
    {
      script_fail (script, "items-changed (%u, %u, %u) removes more than the %u items",
                   position, removed, added, script->shadow->len);
      return;
    }

  for (guint i = 0; i < removed; i++)
    {
      AsabTaskInfo *info = g_ptr_array_index (script->shadow, position + i);
      Seen *seen = g_hash_table_lookup (script->seen, &(guint64) { asab_task_info_get_id (info) });

      seen->removed = TRUE;
    }
  g_ptr_array_remove_range (script->shadow, position, removed);

  for (guint i = 0; i < added; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (tasks, position + i);
      AsabTaskInfo *info;
      guint64 *id;
      Seen *seen;
      double progress;

      if (!ASAB_IS_TASK_INFO (item))
        {
          script_fail (script, "item %u is not an AsabTaskInfo", position + i);
          return;
        }

      info = ASAB_TASK_INFO (item);
      if (g_hash_table_contains (script->seen, &(guint64) { asab_task_info_get_id (info) }))
        {
          script_fail (script, "task %" G_GUINT64_FORMAT " (%s) was added a second time",
                       asab_task_info_get_id (info), asab_task_info_get_name (info));
          return;
        }

      seen = g_new0 (Seen, 1);
      seen->info = g_object_ref (info);
      seen->progress = g_array_new (FALSE, FALSE, sizeof (double));
      progress = asab_task_info_get_progress (info);
      g_array_append_val (seen->progress, progress);
      seen->states_seen = 1u << asab_task_info_get_state (info);
      g_object_set_data (G_OBJECT (info), "demo-script", script);
      seen->notify_id = g_signal_connect (info, "notify", G_CALLBACK (script_info_notify), seen);

      id = g_new (guint64, 1);
      *id = asab_task_info_get_id (info);
      g_hash_table_insert (script->seen, id, seen);
      g_ptr_array_insert (script->shadow, position + i, info);
    }

  if (script_check_shadow (script))
    script_poke (script);
}

static Seen *
script_find (Script     *script,
             const char *name)
{
  GHashTableIter iter;
  Seen *seen;

  g_hash_table_iter_init (&iter, script->seen);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &seen))
    {
      if (g_strcmp0 (asab_task_info_get_name (seen->info), name) == 0)
        return seen;
    }

  return NULL;
}

void
script_task_failed (Script       *script,
                    GTask        *task,
                    const GError *error)
{
  Seen *seen = script_find (script, g_task_get_name (task));

  if (seen != NULL)
    seen->failed = TRUE;
}

void
script_task_done (Script       *script,
                  GTask        *task,
                  const GError *error)
{
  Seen *seen;

  if (script->finished)
    return;

  seen = script_find (script, g_task_get_name (task));
  if (seen == NULL)
    {
      script_fail (script, "task-done for “%s”, which never had an item", g_task_get_name (task));
      return;
    }

  if (seen->n_ended++ == 0)
    {
      seen->removed_before_end = seen->removed;
      if (error != NULL)
        seen->error = g_error_copy (error);
    }

  script_poke (script);
}

static double
seen_last_progress (Seen *seen)
{
  return g_array_index (seen->progress, double, seen->progress->len - 1);
}

/* Progress may stay unknown, then only moves forward, within [0, 1]. */
static gboolean
script_check_progress (Script *script,
                       Seen   *seen)
{
  double last = -1.0;

  for (guint i = 0; i < seen->progress->len; i++)
    {
      double progress = g_array_index (seen->progress, double, i);

      expect (script, progress == -1.0 || (progress >= 0.0 && progress <= 1.0),
              "%s: progress %g", asab_task_info_get_name (seen->info), progress);
      expect (script, progress >= last,
              "%s: progress went back from %g to %g",
              asab_task_info_get_name (seen->info), last, progress);
      last = progress;
    }

  return TRUE;
}

/* The item of a task that was just scheduled from this thread: there at
 * once, and not started before the next iteration of the context. */
static Seen *
script_expect_new (Script       *script,
                   const char   *name,
                   AsabTaskKind  kind,
                   AsabTaskState state)
{
  Seen *seen = script_find (script, name);
  AsabTaskInfo *info;

  if (seen == NULL)
    {
      script_fail (script, "no item named “%s” right after it was scheduled", name);
      return NULL;
    }

  info = seen->info;
  if (seen->removed ||
      asab_task_info_get_kind (info) != kind ||
      asab_task_info_get_state (info) != state ||
      (state == ASAB_TASK_STATE_QUEUED && asab_task_info_get_started_at (info) != 0) ||
      (state == ASAB_TASK_STATE_RUNNING && asab_task_info_get_started_at (info) <= 0) ||
      asab_task_info_get_progress (info) != -1.0 ||
      asab_task_info_get_status (info) != NULL ||
      asab_task_info_get_id (info) == 0)
    {
      script_fail (script, "“%s”: removed %d, kind %d, state %d, started-at %" G_GINT64_FORMAT
                   ", progress %g, status “%s”, id %" G_GUINT64_FORMAT
                   "; expected kind %d, state %d, progress -1, no status",
                   name, seen->removed, asab_task_info_get_kind (info),
                   asab_task_info_get_state (info), asab_task_info_get_started_at (info),
                   asab_task_info_get_progress (info), asab_task_info_get_status (info),
                   asab_task_info_get_id (info), kind, state);
      return NULL;
    }

  return seen;
}

static gboolean
seen_running (Seen *seen)
{
  return seen != NULL && !seen->removed &&
         asab_task_info_get_state (seen->info) == ASAB_TASK_STATE_RUNNING &&
         asab_task_info_get_started_at (seen->info) > 0;
}

/* The task ended once, with @code in G_IO_ERROR (0 for success), after its
 * item had gone. */
static gboolean
script_check_ended (Script *script,
                    Seen   *seen,
                    int     code)
{
  const char *name = asab_task_info_get_name (seen->info);

  expect (script, seen->n_ended == 1, "%s: task-done %u times", name, seen->n_ended);
  expect (script, seen->removed_before_end, "%s: its item was still in the list at task-done", name);
  if (code == 0)
    expect (script, seen->error == NULL, "%s: failed: %s", name, seen->error->message);
  else
    expect (script, g_error_matches (seen->error, G_IO_ERROR, code),
            "%s: ended with “%s”, expected G_IO_ERROR code %d", name,
            seen->error != NULL ? seen->error->message : "success", code);

  return TRUE;
}

static void
script_activate (Script     *script,
                 const char *action)
{
  g_action_group_activate_action (G_ACTION_GROUP (script->demo->app), action, NULL);
}

static DemoTaskRow *
find_row (GtkWidget    *widget,
          AsabTaskInfo *info)
{
  if (DEMO_IS_TASK_ROW (widget) && demo_task_row_get_info (DEMO_TASK_ROW (widget)) == info)
    return DEMO_TASK_ROW (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      DemoTaskRow *row = find_row (child, info);

      if (row != NULL)
        return row;
    }

  return NULL;
}

static gboolean
save_screenshot (GtkWidget   *widget,
                 const char  *path,
                 GError     **error)
{
  GdkPaintable *paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_object_unref (paintable);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The window drew nothing");
      return FALSE;
    }

  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write %s", path);
      return FALSE;
    }

  return TRUE;
}

/* After a frame was painted, the window shows the model as it is now:
 * nothing has run since the frame's layout. */
static void
script_after_paint (GdkFrameClock *frame_clock,
                    Script        *script)
{
  Seen *copy = script_find (script, "Copy " BIG_FILE_NAME " to copy-1.bin");
  g_autoptr(GError) error = NULL;

  if (script->screenshot_saved || script->finished)
    return;

  /* During the copy, only while it is halfway; after it, at once. */
  if (script->step == STEP_COPY &&
      !(copy != NULL && !copy->removed &&
        asab_task_info_get_progress (copy->info) > 0.0 &&
        asab_task_info_get_progress (copy->info) < 1.0))
    return;

  if (!save_screenshot (GTK_WIDGET (script->demo->window), script->demo->screenshot_path, &error))
    {
      script_fail (script, "%s", error->message);
      return;
    }

  script->screenshot_saved = TRUE;
  g_print ("# screenshot saved: %s\n", script->demo->screenshot_path);
  script_poke (script);
}

static gboolean
script_watch_paint (Script *script)
{
  GdkFrameClock *frame_clock = gtk_widget_get_frame_clock (GTK_WIDGET (script->demo->window));

  expect (script, frame_clock != NULL, "the main window has no frame clock: is it shown?");

  if (script->frame_clock == NULL)
    {
      script->frame_clock = g_object_ref (frame_clock);
      script->after_paint_id = g_signal_connect (frame_clock, "after-paint",
                                                 G_CALLBACK (script_after_paint), script);
    }
  gtk_widget_queue_draw (GTK_WIDGET (script->demo->window));

  return TRUE;
}

static gboolean
script_check_screenshot (Script *script)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  int width = gtk_widget_get_width (GTK_WIDGET (script->demo->window));
  int height = gtk_widget_get_height (GTK_WIDGET (script->demo->window));

  texture = gdk_texture_new_from_filename (script->demo->screenshot_path, &error);
  expect (script, texture != NULL, "the screenshot does not load: %s", error->message);
  expect (script, gdk_texture_get_width (texture) == width &&
                  gdk_texture_get_height (texture) == height,
          "the screenshot is %d×%d, the window %d×%d",
          gdk_texture_get_width (texture), gdk_texture_get_height (texture), width, height);

  return TRUE;
}

/* Starts @step: what it does, and what must hold at once. */
static gboolean
script_start_step (Script *script,
                   Step    step)
{
  Demo *demo = script->demo;
  Seen *seen;

  switch (step)
    {
    case STEP_EMPTY:
      break;

    case STEP_WATCH:
      script_activate (script, "watch");
      if (script_expect_new (script, "Watch the folder",
                             ASAB_TASK_KIND_FOREVER, ASAB_TASK_STATE_QUEUED) == NULL)
        return FALSE;
      break;

    case STEP_REMINDER:
      script_activate (script, "remind");
      expect (script, script_find (script, "Reminder in 1 minute") != NULL,
              "no item for the reminder right after it was scheduled");
      break;

    case STEP_WINDOW:
      script_activate (script, "new-window");
      expect (script, demo->second_window != NULL, "no second window");
      if (script_expect_new (script, "Clock of window 2",
                             ASAB_TASK_KIND_FUNCTION, ASAB_TASK_STATE_QUEUED) == NULL ||
          script_expect_new (script, "Countdown in window 2",
                             ASAB_TASK_KIND_FUNCTION, ASAB_TASK_STATE_QUEUED) == NULL)
        return FALSE;
      break;

    case STEP_CHECKSUM_QUARTER:
      script_activate (script, "checksum");
      if (script_expect_new (script, "Checksum of " BIG_FILE_NAME,
                             ASAB_TASK_KIND_IN_THREAD, ASAB_TASK_STATE_QUEUED) == NULL)
        return FALSE;
      demo_gate_set (demo, BIG_FILE_SIZE / 4);
      break;

    case STEP_CHECKSUM_HALF:
      demo_gate_set (demo, BIG_FILE_SIZE / 2);
      break;

    case STEP_COPY:
      if (demo->screenshot_path != NULL && !script_watch_paint (script))
        return FALSE;
      script_activate (script, "copy");
      /* The GTask was running before the service was given it. */
      if (script_expect_new (script, "Copy " BIG_FILE_NAME " to copy-1.bin",
                             ASAB_TASK_KIND_GTASK, ASAB_TASK_STATE_RUNNING) == NULL)
        return FALSE;
      break;

    case STEP_SCREENSHOT:
      if (demo->screenshot_path != NULL && !script_watch_paint (script))
        return FALSE;
      break;

    case STEP_FAIL:
      script_disconnect_paint (script);
      script_activate (script, "fail");
      if (script_expect_new (script, "Read settings.ini",
                             ASAB_TASK_KIND_FUNCTION, ASAB_TASK_STATE_QUEUED) == NULL)
        return FALSE;
      break;

    case STEP_CLOSE_WINDOW:
      expect (script, demo->second_window != NULL, "the second window went away by itself");
      expect (script, seen_running (script_find (script, "Clock of window 2")) &&
                      seen_running (script_find (script, "Countdown in window 2")),
              "the second window's tasks no longer run");
      gtk_window_destroy (demo->second_window);
      break;

    case STEP_CHECKSUM_END:
      seen = script_find (script, "Checksum of " BIG_FILE_NAME);
      expect (script, seen_running (seen) && asab_task_info_get_progress (seen->info) == 0.5,
              "the checksum moved on past the gate");
      demo_gate_set (demo, G_MAXUINT64);
      break;

    case STEP_CANCEL_WATCH:
      {
        DemoTaskRow *row;

        seen = script_find (script, "Watch the folder");
        expect (script, seen_running (seen), "the forever task no longer runs");
        row = find_row (GTK_WIDGET (demo->list_view), seen->info);
        expect (script, row != NULL, "no row shows the forever task");
        expect (script, gtk_widget_is_sensitive (demo_task_row_get_cancel_button (row)),
                "the forever task's cancel button is insensitive");
        expect (script, gtk_widget_activate (demo_task_row_get_cancel_button (row)),
                "the cancel button cannot be activated");
      }
      break;

    case STEP_CANCEL_REMINDER:
      seen = script_find (script, "Reminder in 1 minute");
      expect (script, seen_running (seen), "the reminder no longer runs");
      expect (script, asab_task_info_cancel (seen->info),
              "asab_task_info_cancel() refused a running task");
      break;

    case STEP_ALL_ENDED:
    case N_STEPS:
    default:
      break;
    }

  return TRUE;
}

/* Whether @step is complete; fails the script when something it checks is
 * wrong rather than not there yet. */
static gboolean
script_step_reached (Script *script,
                     Step    step)
{
  Demo *demo = script->demo;
  Seen *seen;
  Seen *other;
  g_autofree char *expected = NULL;

  switch (step)
    {
    case STEP_EMPTY:
      expect (script, g_list_model_get_n_items (demo->tasks) == 0,
              "the list has %u items before any task was scheduled",
              g_list_model_get_n_items (demo->tasks));
      expect (script, g_list_model_get_item_type (demo->tasks) == ASAB_TYPE_TASK_INFO,
              "the list's item type is %s", g_type_name (g_list_model_get_item_type (demo->tasks)));
      return TRUE;

    case STEP_WATCH:
      seen = script_find (script, "Watch the folder");
      return seen_running (seen) &&
             asab_task_info_get_progress (seen->info) == -1.0 &&
             g_strcmp0 (asab_task_info_get_status (seen->info), "No change yet") == 0;

    case STEP_REMINDER:
      seen = script_find (script, "Reminder in 1 minute");
      expect (script, asab_task_info_get_kind (seen->info) == ASAB_TASK_KIND_GSOURCE,
              "the reminder's kind is %d", asab_task_info_get_kind (seen->info));
      return seen_running (seen) && asab_task_info_get_progress (seen->info) == -1.0;

    case STEP_WINDOW:
      seen = script_find (script, "Clock of window 2");
      other = script_find (script, "Countdown in window 2");
      return seen_running (seen) && asab_task_info_get_status (seen->info) != NULL &&
             seen_running (other) && asab_task_info_get_progress (other->info) > 0.0 &&
             g_str_has_suffix (asab_task_info_get_status (other->info), " s left");

    case STEP_CHECKSUM_QUARTER:
    case STEP_CHECKSUM_HALF:
      {
        double fraction = step == STEP_CHECKSUM_QUARTER ? 0.25 : 0.5;

        seen = script_find (script, "Checksum of " BIG_FILE_NAME);
        if (!script_check_progress (script, seen))
          return FALSE;
        expect (script, asab_task_info_get_progress (seen->info) <= fraction,
                "the checksum reports %g, past the gate at %g",
                asab_task_info_get_progress (seen->info), fraction);
        expected = demo_format_bytes_of ((goffset) (BIG_FILE_SIZE * fraction), BIG_FILE_SIZE);
        return seen_running (seen) &&
               asab_task_info_get_progress (seen->info) == fraction &&
               g_strcmp0 (asab_task_info_get_status (seen->info), expected) == 0;
      }

    case STEP_COPY:
      seen = script_find (script, "Copy " BIG_FILE_NAME " to copy-1.bin");
      if (!script_check_progress (script, seen))
        return FALSE;
      if (seen->n_ended == 0)
        return FALSE;
      if (!script_check_ended (script, seen, 0))
        return FALSE;
      /* Measured once the copy has ended. */
      if (demo->last_copy_size == 0)
        return FALSE;
      expect (script, demo->last_copy_size == BIG_FILE_SIZE,
              "the copy has %" G_GOFFSET_FORMAT " bytes", demo->last_copy_size);
      g_print ("# the copy's progress was notified %u times, last %g\n",
               seen->progress->len - 1, seen_last_progress (seen));
      return TRUE;

    case STEP_SCREENSHOT:
      if (demo->screenshot_path == NULL)
        return TRUE;
      return script->screenshot_saved && script_check_screenshot (script);

    case STEP_FAIL:
      seen = script_find (script, "Read settings.ini");
      if (seen->n_ended == 0)
        return FALSE;
      expect (script, seen->failed, "task-failed was not emitted for a task that failed");
      if (!script_check_ended (script, seen, G_IO_ERROR_NOT_FOUND))
        return FALSE;
      expect (script, strstr (gtk_label_get_text (demo->message), "settings.ini") != NULL,
              "the window does not tell of the failure: “%s”", gtk_label_get_text (demo->message));
      return TRUE;

    case STEP_CLOSE_WINDOW:
      seen = script_find (script, "Clock of window 2");
      other = script_find (script, "Countdown in window 2");
      if (demo->second_window != NULL || seen->n_ended == 0 || other->n_ended == 0)
        return FALSE;
      expect (script, (seen->states_seen & other->states_seen & (1u << ASAB_TASK_STATE_CANCELLING)) != 0,
              "the window's tasks were never shown as cancelling");
      return script_check_ended (script, seen, G_IO_ERROR_CANCELLED) &&
             script_check_ended (script, other, G_IO_ERROR_CANCELLED);

    case STEP_CHECKSUM_END:
      seen = script_find (script, "Checksum of " BIG_FILE_NAME);
      if (!script_check_progress (script, seen))
        return FALSE;
      if (seen->n_ended == 0 || !g_str_has_prefix (gtk_label_get_text (demo->message), "SHA-256"))
        return FALSE;
      if (!script_check_ended (script, seen, 0))
        return FALSE;
      expect (script, g_str_equal (gtk_label_get_text (demo->message),
                                   "SHA-256 of " BIG_FILE_NAME ": " ZEROS_128_MIB_SHA256),
              "wrong checksum: “%s”", gtk_label_get_text (demo->message));
      return TRUE;

    case STEP_CANCEL_WATCH:
      seen = script_find (script, "Watch the folder");
      if (seen->n_ended == 0)
        return FALSE;
      expect (script, (seen->states_seen & (1u << ASAB_TASK_STATE_CANCELLING)) != 0,
              "the forever task was never shown as cancelling");
      return script_check_ended (script, seen, G_IO_ERROR_CANCELLED);

    case STEP_CANCEL_REMINDER:
      seen = script_find (script, "Reminder in 1 minute");
      if (seen->n_ended == 0)
        return FALSE;
      if (!script_check_ended (script, seen, G_IO_ERROR_CANCELLED))
        return FALSE;
      expect (script, !asab_task_info_cancel (seen->info),
              "asab_task_info_cancel() accepted a task that had ended");
      return TRUE;

    case STEP_ALL_ENDED:
      {
        GHashTableIter iter;

        if (g_list_model_get_n_items (demo->tasks) != 0 || !script_check_shadow (script))
          return FALSE;
        expect (script, asab_task_service_get_n_running (demo->service) +
                        asab_task_service_get_n_queued (demo->service) == 0,
                "the list is empty, and the service has %u tasks running, %u queued",
                asab_task_service_get_n_running (demo->service),
                asab_task_service_get_n_queued (demo->service));

        g_hash_table_iter_init (&iter, script->seen);
        while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &seen))
          expect (script, seen->removed && seen->n_ended == 1 && seen->removed_before_end,
                  "%s: removed %d, task-done %u times",
                  asab_task_info_get_name (seen->info), seen->removed, seen->n_ended);
        return TRUE;
      }

    case N_STEPS:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
script_timeout_cb (gpointer user_data)
{
  Script *script = user_data;

  script->timeout_id = 0;
  script_fail (script, "not done after %u s", STEP_TIMEOUT_SECONDS);

  return G_SOURCE_REMOVE;
}

/* The last step is the application's end, once the main window closes. */
#define LAST_STEP_NAME "the application ends with its main window, no task left"

static gboolean
script_exit_timeout_cb (gpointer user_data)
{
  Script *script = user_data;

  script->timeout_id = 0;
  g_print ("not ok %u - %s\n# not done after %u s\n", N_STEPS + 1, LAST_STEP_NAME,
           STEP_TIMEOUT_SECONDS);
  script->demo->exit_status = 1;
  g_application_quit (G_APPLICATION (script->demo->app));

  return G_SOURCE_REMOVE;
}

void
script_ended (Script *script)
{
  if (script->step == N_STEPS && script->demo->exit_status == 0)
    g_print ("ok %u - %s\n", N_STEPS + 1, LAST_STEP_NAME);
}

static gboolean
script_run_cb (gpointer user_data)
{
  Script *script = user_data;

  script->poke_id = 0;

  while (!script->finished && script_step_reached (script, script->step))
    {
      g_print ("ok %u - %s\n", script->step + 1, step_names[script->step]);
      g_clear_handle_id (&script->timeout_id, g_source_remove);

      if (++script->step == N_STEPS)
        {
          /* With no task and no window left, the application ends. */
          script->finished = TRUE;
          script->timeout_id = g_timeout_add_seconds (STEP_TIMEOUT_SECONDS,
                                                      script_exit_timeout_cb, script);
          gtk_window_destroy (script->demo->window);
          break;
        }

      script->timeout_id = g_timeout_add_seconds (STEP_TIMEOUT_SECONDS, script_timeout_cb, script);
      if (!script_start_step (script, script->step))
        break;
    }

  return G_SOURCE_REMOVE;
}

/* Checks the current step again, from an idle, out of the signal
 * emission that poked it. */
void
script_poke (Script *script)
{
  if (script->poke_id == 0 && !script->finished)
    script->poke_id = g_idle_add (script_run_cb, script);
}

void
script_start (Demo *demo)
{
  Script *script = g_new0 (Script, 1);

  script->demo = demo;
  script->shadow = g_ptr_array_new ();
  script->seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, seen_free);
  script->items_changed_id = g_signal_connect (demo->tasks, "items-changed",
                                               G_CALLBACK (script_items_changed), script);
  demo->script = script;

  g_print ("1..%u\n", N_STEPS + 1);
  script->timeout_id = g_timeout_add_seconds (STEP_TIMEOUT_SECONDS, script_timeout_cb, script);
  script_poke (script);
}
