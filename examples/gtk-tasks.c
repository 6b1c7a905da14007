/* gtk-tasks.c: a GTK 4 window that shows what an AsabTaskService runs
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *     gtk-tasks [--script [--screenshot FILE.png]]
 *
 * The window lists the tasks of the application's service, as
 * asab_task_service_get_tasks() gives them, in a GtkListView: each row shows
 * a task's name, a progress bar bound to its progress (pulsing while the
 * task cannot tell), its status, and a button that cancels it. A row
 * appears when its task is accepted and goes away when the task ends. The
 * buttons above the list start tasks of each kind:
 *
 * - Copy: copies a 128 MiB temporary file with g_file_copy_async(). The
 *   copy is a GTask of the window's own, given to
 *   asab_task_service_schedule_task(); its progress callback reports to
 *   asab_task_service_set_progress().
 * - Checksum: computes that file's SHA-256 with GChecksum on a worker thread
 *   (asab_task_service_schedule_in_thread()), and reports its progress from
 *   there.
 * - Fail: reads a file that does not exist; the window shows the error.
 * - Watch: a forever task (asab_task_service_run_forever()) that counts the
 *   changes in the temporary folder.
 * - Reminder: a GSource (asab_task_service_schedule_source()) that fires
 *   after a minute.
 * - New Window: opens a window with a clock and a countdown, two tasks
 *   scheduled with asab_task_service_schedule_for_object() for that window:
 *   closing it cancels them.
 *
 * With --script, the program drives itself (gtk-tasks-script.c): it starts
 * tasks of each kind, checks the list at fixed points (names, kinds,
 * states, progress that moves, rows removed as their tasks end, the second
 * window's tasks cancelled when it closes), prints each step as a TAP line,
 * and exits with status 0 when every check held, 1 otherwise. A checksum
 * then reads no further than the script lets it, so that its progress can
 * be checked at known points. --screenshot FILE.png also saves the main
 * window as a PNG image while tasks show their progress. Without a
 * display, run it under Xvfb:
 *
 *     xvfb-run -a -s '-screen 0 1280x1024x24' gtk-tasks --script --screenshot tasks.png
 */

#include "gtk-tasks.h"

#include <locale.h>

#define BLOCK_SIZE (1024 * 1024)
#define REMINDER_SECONDS 60
#define COUNTDOWN_SECONDS 60
#define PULSE_INTERVAL_USEC (100 * 1000)

char *
demo_format_bytes_of (goffset done,
                      goffset total)
{
  g_autofree char *done_str = g_format_size_full (done, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *total_str = g_format_size_full (total, G_FORMAT_SIZE_IEC_UNITS);

  return g_strdup_printf ("%s of %s", done_str, total_str);
}

static void demo_show_message (Demo       *demo,
                               const char *format,
                               ...) G_GNUC_PRINTF (2, 3);

/* Shows the outcome of a task under the list. */
static void
demo_show_message (Demo       *demo,
                   const char *format,
                   ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (demo->message != NULL)
    {
      gtk_label_set_text (demo->message, text);
      gtk_widget_set_visible (GTK_WIDGET (demo->message), TRUE);
    }

  if (demo->script != NULL)
    script_poke (demo->script);
}

/* A row of the list */

struct _DemoTaskRow
{
  GtkWidget parent_instance;

  AsabTaskInfo *info;
  GBinding *name_binding;
  GBinding *progress_binding;
  gulong notify_id;
  guint pulse_id;
  gint64 last_pulse;

  GtkWidget *name_label;
  GtkWidget *progress_bar;
  GtkWidget *status_label;
  GtkWidget *cancel_button;
};

G_DEFINE_FINAL_TYPE (DemoTaskRow, demo_task_row, GTK_TYPE_WIDGET)

static const char *
task_state_describe (AsabTaskState state)
{
  switch (state)
    {
    case ASAB_TASK_STATE_QUEUED:
      return "Waiting to start";
    case ASAB_TASK_STATE_RUNNING:
      return "Running";
    case ASAB_TASK_STATE_CANCELLING:
      return "Cancelling…";
    default:
      g_assert_not_reached ();
    }
}

static const char *
task_kind_describe (AsabTaskKind kind)
{
  switch (kind)
    {
    case ASAB_TASK_KIND_FUNCTION:
      return "A function on the main thread";
    case ASAB_TASK_KIND_IN_THREAD:
      return "A function on a worker thread";
    case ASAB_TASK_KIND_FOREVER:
      return "Restarted whenever it ends";
    case ASAB_TASK_KIND_GTASK:
      return "A GTask of the application's own";
    case ASAB_TASK_KIND_GSOURCE:
      return "A GSource";
    default:
      g_assert_not_reached ();
    }
}

static gboolean
name_to_label (GBinding     *binding,
               const GValue *from,
               GValue       *to,
               gpointer      user_data)
{
  const char *name = g_value_get_string (from);

  g_value_set_string (to, name != NULL ? name : "Unnamed task");

  return TRUE;
}

/* An unknown progress (-1) leaves the bar to pulse. */
static gboolean
progress_to_fraction (GBinding     *binding,
                      const GValue *from,
                      GValue       *to,
                      gpointer      user_data)
{
  double progress = g_value_get_double (from);

  if (progress < 0.0)
    return FALSE;

  g_value_set_double (to, CLAMP (progress, 0.0, 1.0));

  return TRUE;
}

static gboolean
demo_task_row_pulse (GtkWidget     *widget,
                     GdkFrameClock *frame_clock,
                     gpointer       user_data)
{
  DemoTaskRow *self = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (frame_clock);

  if (now - self->last_pulse >= PULSE_INTERVAL_USEC)
    {
      gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->progress_bar));
      self->last_pulse = now;
    }

  return G_SOURCE_CONTINUE;
}

static void
demo_task_row_set_pulsing (DemoTaskRow *self,
                           gboolean     pulsing)
{
  if (pulsing && self->pulse_id == 0)
    {
      self->last_pulse = 0;
      self->pulse_id = gtk_widget_add_tick_callback (self->progress_bar,
                                                     demo_task_row_pulse,
                                                     self, NULL);
    }
  else if (!pulsing && self->pulse_id != 0)
    {
      gtk_widget_remove_tick_callback (self->progress_bar, self->pulse_id);
      self->pulse_id = 0;
    }
}

/* What the bindings cannot say alone: the status line, the cancel button,
 * and whether the bar pulses. */
static void
demo_task_row_sync (DemoTaskRow *self)
{
  AsabTaskState state = asab_task_info_get_state (self->info);
  const char *status = asab_task_info_get_status (self->info);
  double progress = asab_task_info_get_progress (self->info);

  if (state == ASAB_TASK_STATE_RUNNING && status != NULL)
    gtk_label_set_text (GTK_LABEL (self->status_label), status);
  else
    gtk_label_set_text (GTK_LABEL (self->status_label), task_state_describe (state));

  gtk_widget_set_sensitive (self->cancel_button, state != ASAB_TASK_STATE_CANCELLING);
  demo_task_row_set_pulsing (self, state == ASAB_TASK_STATE_RUNNING && progress < 0.0);
}

static void
demo_task_row_info_notify (AsabTaskInfo *info,
                           GParamSpec   *pspec,
                           DemoTaskRow  *self)
{
  demo_task_row_sync (self);
}

static void
demo_task_row_set_info (DemoTaskRow  *self,
                        AsabTaskInfo *info)
{
  if (self->info == info)
    return;

  if (self->info != NULL)
    {
      g_clear_pointer (&self->name_binding, g_binding_unbind);
      g_clear_pointer (&self->progress_binding, g_binding_unbind);
      g_clear_signal_handler (&self->notify_id, self->info);
      g_clear_object (&self->info);
      demo_task_row_set_pulsing (self, FALSE);
    }

  if (info == NULL)
    return;

  self->info = g_object_ref (info);
  /* A recycled row starts from an empty bar. */
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar), 0.0);
  self->name_binding =
    g_object_bind_property_full (info, "name", self->name_label, "label",
                                 G_BINDING_SYNC_CREATE,
                                 name_to_label, NULL, NULL, NULL);
  self->progress_binding =
    g_object_bind_property_full (info, "progress", self->progress_bar, "fraction",
                                 G_BINDING_SYNC_CREATE,
                                 progress_to_fraction, NULL, NULL, NULL);
  self->notify_id = g_signal_connect (info, "notify",
                                      G_CALLBACK (demo_task_row_info_notify), self);
  gtk_widget_set_tooltip_text (self->name_label,
                               task_kind_describe (asab_task_info_get_kind (info)));
  demo_task_row_sync (self);
}

static void
demo_task_row_cancel_clicked (GtkButton   *button,
                              DemoTaskRow *self)
{
  if (self->info != NULL)
    asab_task_info_cancel (self->info);
}

static void
demo_task_row_dispose (GObject *object)
{
  DemoTaskRow *self = DEMO_TASK_ROW (object);
  GtkWidget *child;

  demo_task_row_set_info (self, NULL);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (demo_task_row_parent_class)->dispose (object);
}

static void
demo_task_row_class_init (DemoTaskRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = demo_task_row_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "taskrow");
}

static void
demo_task_row_init (DemoTaskRow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkWidget *text;

  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (gtk_widget_get_layout_manager (widget)), 12);
  gtk_widget_set_margin_top (widget, 8);
  gtk_widget_set_margin_bottom (widget, 8);
  gtk_widget_set_margin_start (widget, 12);
  gtk_widget_set_margin_end (widget, 6);

  text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_widget_set_parent (text, widget);

  self->name_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->name_label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (self->name_label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->name_label, "heading");
  gtk_box_append (GTK_BOX (text), self->name_label);

  self->progress_bar = gtk_progress_bar_new ();
  gtk_progress_bar_set_pulse_step (GTK_PROGRESS_BAR (self->progress_bar), 0.1);
  gtk_box_append (GTK_BOX (text), self->progress_bar);

  self->status_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (self->status_label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->status_label, "caption");
  gtk_widget_add_css_class (self->status_label, "dim-label");
  gtk_box_append (GTK_BOX (text), self->status_label);

  self->cancel_button = gtk_button_new_from_icon_name ("process-stop-symbolic");
  gtk_widget_set_valign (self->cancel_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->cancel_button, "Cancel");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->cancel_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Cancel",
                                  -1);
  gtk_widget_add_css_class (self->cancel_button, "flat");
  gtk_widget_add_css_class (self->cancel_button, "circular");
  g_signal_connect (self->cancel_button, "clicked",
                    G_CALLBACK (demo_task_row_cancel_clicked), self);
  gtk_widget_set_parent (self->cancel_button, widget);
}

static GtkWidget *
demo_task_row_new (void)
{
  return g_object_new (DEMO_TYPE_TASK_ROW, NULL);
}

AsabTaskInfo *
demo_task_row_get_info (DemoTaskRow *self)
{
  return self->info;
}

GtkWidget *
demo_task_row_get_cancel_button (DemoTaskRow *self)
{
  return self->cancel_button;
}

/* Copy: a GTask of the application's own, tracked by the service */

typedef struct
{
  Demo *demo;
  GFile *destination;
  /* The task's name: GLib 2.74's g_task_set_name() does not copy it. */
  char *name;
} CopyJob;

static void
copy_job_free (gpointer data)
{
  CopyJob *job = data;

  g_clear_object (&job->destination);
  g_free (job->name);
  g_free (job);
}

static void
copy_progress_cb (goffset  current_num_bytes,
                  goffset  total_num_bytes,
                  gpointer user_data)
{
  GTask *task = user_data;
  CopyJob *job = g_task_get_task_data (task);
  g_autofree char *status = NULL;

  if (total_num_bytes <= 0)
    return;

  status = demo_format_bytes_of (current_num_bytes, total_num_bytes);
  asab_task_service_set_progress (job->demo->service, task,
                                  (double) current_num_bytes / total_num_bytes,
                                  status);
}

static void
copy_ready_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (g_file_copy_finish (G_FILE (source_object), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
copy_deleted_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  /* A copy left behind goes with the folder at exit. */
  g_file_delete_finish (G_FILE (source_object), result, NULL);
}

static void
copy_measured_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Demo *demo = user_data;
  GFile *destination = G_FILE (source_object);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *basename = g_file_get_basename (destination);
  g_autofree char *size = NULL;

  info = g_file_query_info_finish (destination, result, &error);
  if (info == NULL)
    {
      demo_show_message (demo, "Cannot read %s: %s", basename, error->message);
      return;
    }

  demo->last_copy_size = g_file_info_get_size (info);
  size = g_format_size_full (demo->last_copy_size, G_FORMAT_SIZE_IEC_UNITS);
  demo_show_message (demo, "Copied %s to %s (%s)", BIG_FILE_NAME, basename, size);

  /* Only the progress was of interest: the copy goes at once. */
  g_file_delete_async (destination, G_PRIORITY_DEFAULT, NULL, copy_deleted_cb, NULL);
}

/* The GTask's own callback: the service leaves reporting to it. */
static void
copy_done_cb (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Demo *demo = user_data;
  GTask *task = G_TASK (result);
  CopyJob *job = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (task, &error))
    {
      demo_show_message (demo, "%s failed: %s", job->name, error->message);
      g_file_delete_async (job->destination, G_PRIORITY_DEFAULT, NULL, copy_deleted_cb, NULL);
      return;
    }

  g_file_query_info_async (job->destination, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, NULL,
                           copy_measured_cb, demo);
}

static void
copy_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  Demo *demo = user_data;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = NULL;
  g_autofree char *basename = NULL;
  CopyJob *job;

  basename = g_strdup_printf ("copy-%u.bin", ++demo->n_copies);
  job = g_new0 (CopyJob, 1);
  job->demo = demo;
  job->destination = g_file_get_child (demo->folder, basename);
  job->name = g_strdup_printf ("Copy %s to %s", BIG_FILE_NAME, basename);

  task = g_task_new (NULL, cancellable, copy_done_cb, demo);
  g_task_set_source_tag (task, copy_activated);
  g_task_set_name (task, job->name);
  g_task_set_task_data (task, job, copy_job_free);

  /* Before the copy starts, so that its first progress has a row. */
  if (asab_task_service_schedule_task (demo->service, task) == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED,
                               "The application is closing");
      return;
    }

  g_file_copy_async (demo->big_file, job->destination, G_FILE_COPY_OVERWRITE,
                     G_PRIORITY_DEFAULT, cancellable,
                     copy_progress_cb, task,
                     copy_ready_cb, g_object_ref (task));
}

/* Checksum: blocking reads on a worker thread */

typedef struct
{
  Demo *demo;
  GFile *file;
} ChecksumJob;

static void
checksum_job_free (gpointer data)
{
  ChecksumJob *job = data;

  g_clear_object (&job->file);
  g_free (job);
}

static void
gate_cancelled_cb (GCancellable *cancellable,
                   Demo         *demo)
{
  g_mutex_lock (&demo->gate_lock);
  g_cond_broadcast (&demo->gate_cond);
  g_mutex_unlock (&demo->gate_lock);
}

/* Waits until a checksum may read past @offset. Returns FALSE if
 * @cancellable was cancelled first. */
static gboolean
gate_pass (Demo         *demo,
           guint64       offset,
           GCancellable *cancellable)
{
  gboolean open;
  gulong handler;

  g_mutex_lock (&demo->gate_lock);
  open = offset < demo->gate_bytes;
  g_mutex_unlock (&demo->gate_lock);
  if (open)
    return TRUE;

  handler = g_cancellable_connect (cancellable, G_CALLBACK (gate_cancelled_cb), demo, NULL);
  g_mutex_lock (&demo->gate_lock);
  while (offset >= demo->gate_bytes && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&demo->gate_cond, &demo->gate_lock);
  g_mutex_unlock (&demo->gate_lock);
  g_cancellable_disconnect (cancellable, handler);

  return !g_cancellable_is_cancelled (cancellable);
}

void
demo_gate_set (Demo    *demo,
               guint64  bytes)
{
  g_mutex_lock (&demo->gate_lock);
  demo->gate_bytes = bytes;
  g_cond_broadcast (&demo->gate_cond);
  g_mutex_unlock (&demo->gate_lock);
}

typedef struct
{
  Demo *demo;
  char *text;
} Message;

static gboolean
message_show_cb (gpointer data)
{
  Message *message = data;

  demo_show_message (message->demo, "%s", message->text);

  return G_SOURCE_REMOVE;
}

static void
message_free (gpointer data)
{
  Message *message = data;

  g_free (message->text);
  g_free (message);
}

static void
checksum_in_thread (GTask        *task,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  ChecksumJob *job = user_data;
  Demo *demo = job->demo;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buffer = g_malloc (BLOCK_SIZE);
  goffset size;
  goffset done = 0;
  Message *message;
  GError *error = NULL;

  stream = g_file_read (job->file, cancellable, &error);
  if (stream != NULL)
    info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                           cancellable, &error);
  if (info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  size = g_file_info_get_size (info);
  for (;;)
    {
      g_autofree char *status = NULL;
      gssize n_read;

      if (!gate_pass (demo, done, cancellable))
        {
          g_task_return_error_if_cancelled (task);
          return;
        }

      n_read = g_input_stream_read (G_INPUT_STREAM (stream), buffer, BLOCK_SIZE,
                                    cancellable, &error);
      if (n_read < 0)
        {
          g_task_return_error (task, error);
          return;
        }
      if (n_read == 0)
        break;

      g_checksum_update (checksum, buffer, n_read);
      done += n_read;
      status = demo_format_bytes_of (done, size);
      asab_task_service_set_progress (demo->service, task,
                                      size > 0 ? (double) MIN (done, size) / size : -1.0,
                                      status);
    }

  /* The service discards what a task returns: the result goes to the
   * window on its own. */
  message = g_new0 (Message, 1);
  message->demo = demo;
  message->text = g_strdup_printf ("SHA-256 of %s: %s", BIG_FILE_NAME,
                                   g_checksum_get_string (checksum));
  g_main_context_invoke_full (asab_task_service_get_context (demo->service),
                              G_PRIORITY_DEFAULT, message_show_cb, message, message_free);

  g_task_return_boolean (task, TRUE);
}

static void
checksum_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  Demo *demo = user_data;
  ChecksumJob *job = g_new0 (ChecksumJob, 1);

  job->demo = demo;
  job->file = g_object_ref (demo->big_file);
  asab_task_service_schedule_in_thread (demo->service, "Checksum of " BIG_FILE_NAME,
                                        checksum_in_thread, job, checksum_job_free);
}

/* Fail: a task whose work fails */

static void
settings_loaded_cb (GObject      *source_object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autofree char *contents = NULL;
  GError *error = NULL;

  if (g_file_load_contents_finish (G_FILE (source_object), result, &contents, NULL, NULL, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
read_settings (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  g_file_load_contents_async (G_FILE (user_data), cancellable,
                              settings_loaded_cb, g_object_ref (task));
}

static void
fail_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  Demo *demo = user_data;

  /* Nobody wrote it: the task fails with G_IO_ERROR_NOT_FOUND. */
  asab_task_service_schedule_full (demo->service, "Read settings.ini", read_settings,
                                   g_file_get_child (demo->folder, "settings.ini"),
                                   g_object_unref);
}

/* Watch: a forever task that counts the changes in the folder */

#define WATCH_MONITOR_KEY "demo-watch-monitor"
#define WATCH_DEMO_KEY "demo-watch-demo"

static char *
watch_describe (guint n_changes)
{
  if (n_changes == 0)
    return g_strdup ("No change yet");

  if (n_changes == 1)
    return g_strdup ("1 change");

  return g_strdup_printf ("%u changes", n_changes);
}

static void
folder_changed_cb (GFileMonitor      *monitor,
                   GFile             *file,
                   GFile             *other_file,
                   GFileMonitorEvent  event,
                   GTask             *task)
{
  Demo *demo = g_object_get_data (G_OBJECT (task), WATCH_DEMO_KEY);
  g_autofree char *status = NULL;

  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_RENAMED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
      break;
    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
    case G_FILE_MONITOR_EVENT_PRE_UNMOUNT:
    case G_FILE_MONITOR_EVENT_UNMOUNTED:
    case G_FILE_MONITOR_EVENT_MOVED:
    default:
      return;
    }

  status = watch_describe (++demo->n_changes);
  asab_task_service_set_progress (demo->service, task, -1.0, status);
}

static gboolean
watch_cancelled_cb (GCancellable *cancellable,
                    gpointer      user_data)
{
  GTask *task = user_data;
  GFileMonitor *monitor = g_object_get_data (G_OBJECT (task), WATCH_MONITOR_KEY);

  g_signal_handlers_disconnect_by_data (monitor, task);
  g_file_monitor_cancel (monitor);
  g_task_return_error_if_cancelled (task);

  return G_SOURCE_REMOVE;
}

static void
watch_folder (GTask        *task,
              GCancellable *cancellable,
              gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GSource) cancelled = NULL;
  g_autofree char *status = NULL;
  GFileMonitor *monitor;
  GError *error = NULL;

  monitor = g_file_monitor_directory (demo->folder, G_FILE_MONITOR_WATCH_MOVES,
                                      cancellable, &error);
  if (monitor == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_object_set_data (G_OBJECT (task), WATCH_DEMO_KEY, demo);
  g_object_set_data_full (G_OBJECT (task), WATCH_MONITOR_KEY, monitor, g_object_unref);
  g_signal_connect (monitor, "changed", G_CALLBACK (folder_changed_cb), task);

  status = watch_describe (demo->n_changes);
  asab_task_service_set_progress (demo->service, task, -1.0, status);

  /* Cancellation may come from any thread: it is acted on here. */
  cancelled = g_cancellable_source_new (cancellable);
  g_task_attach_source (task, cancelled, (GSourceFunc) watch_cancelled_cb);
}

static void
watch_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  Demo *demo = user_data;
  guint64 id;

  id = asab_task_service_run_forever (demo->service, "Watch the folder", watch_folder, demo, NULL);
  if (id != 0)
    g_array_append_val (demo->main_window_tasks, id);
}

/* Reminder: a GSource */

static gboolean
reminder_fired_cb (gpointer user_data)
{
  Demo *demo = user_data;

  demo_show_message (demo, "Reminder: a minute has passed");

  return G_SOURCE_REMOVE;
}

static void
remind_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  Demo *demo = user_data;
  GSource *source = g_timeout_source_new_seconds (REMINDER_SECONDS);
  guint64 id;

  g_source_set_name (source, "Reminder in 1 minute");
  g_source_set_callback (source, reminder_fired_cb, demo, NULL);
  id = asab_task_service_schedule_source (demo->service, source);
  if (id != 0)
    g_array_append_val (demo->main_window_tasks, id);
}

/* New Window: tasks that end with their window */

/* What a task of a window works on: a widget in it, never the window,
 * whose life the service watches. */
typedef struct
{
  Demo *demo;
  GtkWidget *widget;
} WidgetJob;

static WidgetJob *
widget_job_new (Demo      *demo,
                GtkWidget *widget)
{
  WidgetJob *job = g_new0 (WidgetJob, 1);

  job->demo = demo;
  job->widget = g_object_ref (widget);

  return job;
}

static void
widget_job_free (gpointer data)
{
  WidgetJob *job = data;

  g_clear_object (&job->widget);
  g_free (job);
}

/* A task that ticks on a timer until it is done or cancelled. */
typedef struct
{
  WidgetJob *job;
  GSource *timer;
  GSource *cancelled;
  gint64 started_at;
} Ticker;

#define TICKER_KEY "demo-ticker"

static void
ticker_free (gpointer data)
{
  Ticker *ticker = data;

  g_clear_pointer (&ticker->timer, g_source_unref);
  g_clear_pointer (&ticker->cancelled, g_source_unref);
  g_free (ticker);
}

static Ticker *
ticker_from_task (GTask *task)
{
  return g_object_get_data (G_OBJECT (task), TICKER_KEY);
}

/* Destroys the ticker's sources, which hold the task. */
static void
ticker_stop (Ticker *ticker)
{
  g_source_destroy (ticker->timer);
  g_source_destroy (ticker->cancelled);
}

static gboolean
ticker_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  GTask *task = user_data;

  ticker_stop (ticker_from_task (task));
  g_task_return_error_if_cancelled (task);

  return G_SOURCE_REMOVE;
}

static Ticker *
ticker_start (GTask       *task,
              WidgetJob   *job,
              guint        interval_ms,
              GSourceFunc  tick)
{
  Ticker *ticker = g_new0 (Ticker, 1);

  ticker->job = job;
  ticker->started_at = g_get_monotonic_time ();
  g_object_set_data_full (G_OBJECT (task), TICKER_KEY, ticker, ticker_free);

  ticker->cancelled = g_cancellable_source_new (g_task_get_cancellable (task));
  g_task_attach_source (task, ticker->cancelled, (GSourceFunc) ticker_cancelled_cb);
  ticker->timer = g_timeout_source_new (interval_ms);
  g_task_attach_source (task, ticker->timer, tick);

  return ticker;
}

static gboolean
clock_tick_cb (gpointer user_data)
{
  GTask *task = user_data;
  Ticker *ticker = ticker_from_task (task);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *text = g_date_time_format (now, "%H:%M:%S");

  gtk_label_set_text (GTK_LABEL (ticker->job->widget), text);
  asab_task_service_set_progress (ticker->job->demo->service, task, -1.0, text);

  return G_SOURCE_CONTINUE;
}

static void
run_clock (GTask        *task,
           GCancellable *cancellable,
           gpointer      user_data)
{
  ticker_start (task, user_data, 1000, clock_tick_cb);
  clock_tick_cb (task);
}

static gboolean
countdown_tick_cb (gpointer user_data)
{
  GTask *task = user_data;
  Ticker *ticker = ticker_from_task (task);
  GtkProgressBar *bar = GTK_PROGRESS_BAR (ticker->job->widget);
  gint64 elapsed = g_get_monotonic_time () - ticker->started_at;
  double fraction = MIN (1.0, (double) elapsed / (COUNTDOWN_SECONDS * G_USEC_PER_SEC));
  gint64 left = COUNTDOWN_SECONDS - elapsed / G_USEC_PER_SEC;
  g_autofree char *status = g_strdup_printf ("%" G_GINT64_FORMAT " s left", MAX (left, 0));

  gtk_progress_bar_set_fraction (bar, fraction);
  gtk_progress_bar_set_text (bar, status);
  asab_task_service_set_progress (ticker->job->demo->service, task, fraction, status);

  if (fraction < 1.0)
    return G_SOURCE_CONTINUE;

  gtk_progress_bar_set_text (bar, "Time is up");
  ticker_stop (ticker);
  g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

static void
run_countdown (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  ticker_start (task, user_data, 250, countdown_tick_cb);
}

static void
new_window_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  Demo *demo = user_data;
  GtkWidget *window;
  GtkWidget *box;
  GtkWidget *clock;
  GtkWidget *countdown;
  GtkWidget *label;
  g_autofree char *title = NULL;
  g_autofree char *clock_name = NULL;
  g_autofree char *countdown_name = NULL;
  guint number = ++demo->n_windows + 1;

  title = g_strdup_printf ("Window %u", number);
  clock_name = g_strdup_printf ("Clock of window %u", number);
  countdown_name = g_strdup_printf ("Countdown in window %u", number);

  window = gtk_application_window_new (demo->app);
  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_titlebar (GTK_WINDOW (window), gtk_header_bar_new ());
  gtk_window_set_default_size (GTK_WINDOW (window), 360, -1);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_window_set_child (GTK_WINDOW (window), box);

  clock = gtk_label_new (NULL);
  gtk_widget_add_css_class (clock, "title-1");
  gtk_box_append (GTK_BOX (box), clock);

  countdown = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (countdown), TRUE);
  gtk_box_append (GTK_BOX (box), countdown);

  label = gtk_label_new ("The clock and the countdown are tasks of this window: "
                         "closing it cancels them.");
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  /* The service holds no reference on the window: it is finalized when it
   * closes, and the two tasks are cancelled then. */
  asab_task_service_schedule_for_object (demo->service, G_OBJECT (window), clock_name,
                                         run_clock, widget_job_new (demo, clock),
                                         widget_job_free);
  asab_task_service_schedule_for_object (demo->service, G_OBJECT (window), countdown_name,
                                         run_countdown, widget_job_new (demo, countdown),
                                         widget_job_free);

  if (demo->second_window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (demo->second_window),
                                  (gpointer *) &demo->second_window);
  demo->second_window = GTK_WINDOW (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &demo->second_window);

  gtk_window_present (GTK_WINDOW (window));
}

/* The application */

static gboolean
on_task_failed (AsabTaskService *service,
                GTask           *task,
                const GError    *error,
                gpointer         user_data)
{
  Demo *demo = user_data;
  const char *name = g_task_get_name (task);

  if (demo->script != NULL)
    script_task_failed (demo->script, task, error);

  demo_show_message (demo, "%s failed: %s", name != NULL ? name : "A task", error->message);

  /* Shown to the user: the service need not log it too. */
  return TRUE;
}

static void
on_task_done (AsabTaskService *service,
              GTask           *task,
              const GError    *error,
              gpointer         user_data)
{
  Demo *demo = user_data;

  if (demo->script != NULL)
    script_task_done (demo->script, task, error);
}

static void
on_tasks_changed (GListModel *tasks,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GtkStack   *stack)
{
  gtk_stack_set_visible_child_name (stack, g_list_model_get_n_items (tasks) > 0 ? "tasks" : "empty");
}

static void
row_setup_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_child (item, demo_task_row_new ());
}

static void
row_bind_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  user_data)
{
  demo_task_row_set_info (DEMO_TASK_ROW (gtk_list_item_get_child (item)),
                          gtk_list_item_get_item (item));
}

static void
row_unbind_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  demo_task_row_set_info (DEMO_TASK_ROW (gtk_list_item_get_child (item)), NULL);
}

/* Closing the main window ends what only it showed: the forever tasks and
 * the reminders. A copy or a checksum goes on, and the service holds the
 * application until it ends. */
static void
demo_window_destroyed (GtkWidget *window,
                       Demo      *demo)
{
  for (guint i = 0; i < demo->main_window_tasks->len; i++)
    asab_task_service_cancel (demo->service, g_array_index (demo->main_window_tasks, guint64, i));
  g_array_set_size (demo->main_window_tasks, 0);

  demo->window = NULL;
  demo->list_view = NULL;
  demo->stack = NULL;
  demo->message = NULL;
}

static void
append_button (GtkWidget  *box,
               const char *label,
               const char *action,
               const char *tooltip)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_box_append (GTK_BOX (box), button);
}

static void
demo_build_window (Demo *demo)
{
  GtkWidget *window;
  GtkWidget *box;
  GtkWidget *buttons;
  GtkWidget *scrolled;
  GtkWidget *empty;
  GtkWidget *message;
  GtkListItemFactory *factory;
  GtkSelectionModel *selection;

  window = gtk_application_window_new (demo->app);
  gtk_window_set_title (GTK_WINDOW (window), "Tasks");
  gtk_window_set_titlebar (GTK_WINDOW (window), gtk_header_bar_new ());
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 600);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_window_set_child (GTK_WINDOW (window), box);

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_set_homogeneous (GTK_BOX (buttons), TRUE);
  append_button (buttons, "_Copy", "app.copy",
                 "Copy a 128 MiB file, with g_file_copy_async()");
  append_button (buttons, "C_hecksum", "app.checksum",
                 "Compute the file's SHA-256 on a worker thread");
  append_button (buttons, "_Fail", "app.fail", "Read a file that does not exist");
  append_button (buttons, "_Watch", "app.watch",
                 "Count the changes in the folder, forever");
  append_button (buttons, "_Reminder", "app.remind", "A GSource that fires in a minute");
  append_button (buttons, "_New Window", "app.new-window",
                 "Open a window whose tasks end when it closes");
  gtk_box_append (GTK_BOX (box), buttons);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (row_setup_cb), demo);
  g_signal_connect (factory, "bind", G_CALLBACK (row_bind_cb), demo);
  g_signal_connect (factory, "unbind", G_CALLBACK (row_unbind_cb), demo);

  selection = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (demo->tasks)));
  demo->list_view = GTK_LIST_VIEW (gtk_list_view_new (selection, factory));
  gtk_list_view_set_show_separators (demo->list_view, TRUE);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_has_frame (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (demo->list_view));

  empty = gtk_label_new ("No task runs. Start one with the buttons above.");
  gtk_widget_add_css_class (empty, "dim-label");

  demo->stack = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (demo->stack), TRUE);
  gtk_stack_add_named (demo->stack, empty, "empty");
  gtk_stack_add_named (demo->stack, scrolled, "tasks");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (demo->stack));
  g_signal_connect_object (demo->tasks, "items-changed",
                           G_CALLBACK (on_tasks_changed), demo->stack, G_CONNECT_DEFAULT);
  on_tasks_changed (demo->tasks, 0, 0, 0, demo->stack);

  message = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (message), 0.0);
  gtk_label_set_wrap (GTK_LABEL (message), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (message), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (message), TRUE);
  gtk_widget_set_visible (message, FALSE);
  gtk_box_append (GTK_BOX (box), message);
  demo->message = GTK_LABEL (message);

  demo->window = GTK_WINDOW (window);
  g_signal_connect (window, "destroy", G_CALLBACK (demo_window_destroyed), demo);
}

/* The big file is sparse: it costs no disk until it is copied. */
static gboolean
demo_make_folder (Demo    *demo,
                  GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GFileOutputStream) stream = NULL;

  path = g_dir_make_tmp ("asab-gtk-tasks-XXXXXX", error);
  if (path == NULL)
    return FALSE;

  demo->folder = g_file_new_for_path (path);
  demo->big_file = g_file_get_child (demo->folder, BIG_FILE_NAME);

  stream = g_file_replace (demo->big_file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);

  return stream != NULL &&
         g_seekable_truncate (G_SEEKABLE (stream), BIG_FILE_SIZE, NULL, error) &&
         g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, error);
}

static void
demo_remove_folder (Demo *demo)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GError) error = NULL;
  GFileInfo *info;
  GFile *child;

  if (demo->folder == NULL)
    return;

  children = g_file_enumerate_children (demo->folder, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, &error);
  while (children != NULL &&
         g_file_enumerator_iterate (children, &info, &child, NULL, &error) &&
         child != NULL)
    {
      if (!g_file_delete (child, NULL, &error))
        break;
    }

  if (error == NULL)
    g_file_delete (demo->folder, NULL, &error);
  if (error != NULL)
    g_printerr ("gtk-tasks: cannot remove the temporary folder: %s\n", error->message);
}

static const GActionEntry app_actions[] = {
  { .name = "copy", .activate = copy_activated },
  { .name = "checksum", .activate = checksum_activated },
  { .name = "fail", .activate = fail_activated },
  { .name = "watch", .activate = watch_activated },
  { .name = "remind", .activate = remind_activated },
  { .name = "new-window", .activate = new_window_activated },
};

static void
demo_startup (GApplication *app,
              Demo         *demo)
{
  g_autoptr(GError) error = NULL;

  if (!demo_make_folder (demo, &error))
    {
      g_printerr ("gtk-tasks: cannot make the temporary file: %s\n", error->message);
      demo->exit_status = 1;
      return;
    }

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), demo);
  demo->tasks = asab_task_service_get_tasks (demo->service);
}

static void
demo_activate (GApplication *app,
               Demo         *demo)
{
  if (demo->tasks == NULL)
    return;

  if (demo->window == NULL)
    {
      demo_build_window (demo);
      if (demo->scripted)
        script_start (demo);
    }

  gtk_window_present (demo->window);
}

static const GOptionEntry option_entries[] = {
  { "script", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    "Start tasks of each kind, check the task list at fixed points, then exit", NULL },
  { "screenshot", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
    "With --script, save the window as a PNG image while tasks run", "FILE.png" },
  G_OPTION_ENTRY_NULL
};

static int
demo_handle_local_options (GApplication *app,
                           GVariantDict *options,
                           Demo         *demo)
{
  g_variant_dict_lookup (options, "script", "b", &demo->scripted);
  g_variant_dict_lookup (options, "screenshot", "^ay", &demo->screenshot_path);

  if (demo->screenshot_path != NULL && !demo->scripted)
    {
      g_printerr ("gtk-tasks: --screenshot needs --script\n");
      return 2;
    }

  /* The script opens the gate as it goes. */
  demo->gate_bytes = demo->scripted ? 0 : G_MAXUINT64;

  return -1;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) app = NULL;
  g_autoptr(AsabTaskService) service = NULL;
  Demo demo = { 0 };
  int status;

  setlocale (LC_ALL, "");

  app = gtk_application_new ("org.asab.GtkTasks", G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (G_APPLICATION (app), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (app),
    "Shows the tasks of an AsabTaskService in a GtkListView, with their\n"
    "progress and a button to cancel each.");
  g_application_set_option_context_description (G_APPLICATION (app),
    "Exit status with --script: 0 if every check held, 1 otherwise.");

  /* The service holds the application while it has tasks, and stops when
   * the application shuts down. */
  service = asab_task_service_new_for_application (G_APPLICATION (app));

  demo.app = app;
  demo.service = service;
  demo.main_window_tasks = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_mutex_init (&demo.gate_lock);
  g_cond_init (&demo.gate_cond);

  g_signal_connect (app, "handle-local-options",
                    G_CALLBACK (demo_handle_local_options), &demo);
  g_signal_connect (app, "startup", G_CALLBACK (demo_startup), &demo);
  g_signal_connect (app, "activate", G_CALLBACK (demo_activate), &demo);
  g_signal_connect (service, "task-failed", G_CALLBACK (on_task_failed), &demo);
  g_signal_connect (service, "task-done", G_CALLBACK (on_task_done), &demo);

  status = g_application_run (G_APPLICATION (app), argc, argv);
  if (status == 0)
    status = demo.exit_status;

  /* The service stopped at the application's shutdown: no task runs. */
  if (demo.script != NULL)
    script_ended (demo.script);
  g_clear_pointer (&demo.script, script_free);
  g_clear_pointer (&demo.main_window_tasks, g_array_unref);
  demo_remove_folder (&demo);
  g_clear_object (&demo.tasks);
  g_clear_object (&demo.big_file);
  g_clear_object (&demo.folder);
  g_free (demo.screenshot_path);
  g_mutex_clear (&demo.gate_lock);
  g_cond_clear (&demo.gate_cond);

  return status;
}
