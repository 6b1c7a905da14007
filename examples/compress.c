/* compress.c: compresses files concurrently, one task per file
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *     compress [--jobs N] [--verbose] [--output-dir DIR] [FILE…]
 *
 * Each FILE becomes FILE.gz, next to it or in DIR. Each file is a task on
 * an AsabTaskService that follows the application: the service holds the
 * application while files are being compressed, so g_application_run()
 * returns when the last one is done. A task does nothing but asynchronous
 * GIO calls on the main thread: it opens the file, opens FILE.gz, and
 * splices the one into the other through a GZlibCompressor.
 *
 * Without FILE, it writes sample files to a temporary folder, compresses
 * them there, and removes the folder at exit.
 *
 * Exit status: 0 when every file was compressed, 1 when some file failed,
 * 2 on a usage error, 128 + the signal's number after SIGINT or SIGTERM.
 */

#include <asab.h>

#include <errno.h>
#include <locale.h>
#include <glib/gstdio.h>

#ifdef G_OS_UNIX
# include <glib-unix.h>
# include <signal.h>
#endif

#define DEFAULT_JOBS 4

enum
{
  EXIT_ALL_COMPRESSED = 0,
  EXIT_SOME_FAILED = 1,
  EXIT_USAGE = 2,
};

typedef struct
{
  GApplication *app;
  AsabTaskService *service;
  /* Setup work before the tasks are scheduled. */
  GCancellable *cancellable;

  /* From the command line, while it is being handled. */
  GApplicationCommandLine *cmdline;
  gboolean options_parsed;
  gboolean verbose;
  GFile *output_dir;
  GPtrArray *inputs;

  /* The temporary folder of the sample files, removed at exit. */
  char *sample_dir;

  guint n_files;
  guint n_compressed;
  guint n_failed;
  goffset bytes_in;
  goffset bytes_out;
  int exit_status;

  int signal_number;
  guint sigint_id;
  guint sigterm_id;
} Compress;

/* One file. It is the task's user data, and is attached to the task's GTask
 * when the task starts, so that the callbacks and task-done can find it.
 */
typedef struct
{
  Compress *compress;
  GFile *input;
  GFile *output;
  GFileInputStream *source;
  goffset size_in;
  goffset size_out;
  gboolean output_created;
  /* The failure being reported once the partial output has been deleted. */
  GError *error;
} CompressJob;

#define COMPRESS_JOB_KEY "compress-job"

static CompressJob *
compress_job_new (Compress *compress,
                  GFile    *input)
{
  CompressJob *job = g_new0 (CompressJob, 1);

  job->compress = compress;
  job->input = g_object_ref (input);

  return job;
}

static void
compress_job_free (gpointer data)
{
  CompressJob *job = data;

  g_clear_object (&job->input);
  g_clear_object (&job->output);
  g_clear_object (&job->source);
  g_clear_error (&job->error);
  g_free (job);
}

static CompressJob *
compress_job_from_task (GTask *task)
{
  return g_object_get_data (G_OBJECT (task), COMPRESS_JOB_KEY);
}

/* The task */

static void
partial_output_deleted (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CompressJob *job = compress_job_from_task (task);

  /* What made the output worthless is the error to report, not this. */
  g_file_delete_finish (G_FILE (object), result, NULL);
  g_task_return_error (task, g_steal_pointer (&job->error));
}

/* Fails the task with @error (transfer full), after deleting what it wrote:
 * a truncated FILE.gz must not look like a good one.
 */
static void
compress_job_fail (GTask  *task,
                   GError *error)
{
  CompressJob *job = compress_job_from_task (task);

  /* Opened but not handed to the splice yet: close it here, not in the
   * stream's dispose, which would close it synchronously.
   */
  if (job->source != NULL)
    g_input_stream_close_async (G_INPUT_STREAM (job->source), G_PRIORITY_DEFAULT,
                                NULL, NULL, NULL);

  if (!job->output_created)
    {
      g_task_return_error (task, error);
      return;
    }

  job->error = error;
  /* Not with the task's cancellable: it may be why the task failed. */
  g_file_delete_async (job->output, G_PRIORITY_DEFAULT, NULL,
                       partial_output_deleted, g_object_ref (task));
}

static void
output_measured (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CompressJob *job = compress_job_from_task (task);
  g_autoptr(GFileInfo) info = NULL;
  GError *error = NULL;

  info = g_file_query_info_finish (G_FILE (object), result, &error);
  if (info == NULL)
    {
      compress_job_fail (task, error);
      return;
    }

  job->size_out = g_file_info_get_size (info);
  g_task_return_boolean (task, TRUE);
}

static void
input_spliced (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CompressJob *job = compress_job_from_task (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  gssize n_read;

  n_read = g_output_stream_splice_finish (G_OUTPUT_STREAM (object), result, &error);
  if (n_read < 0)
    {
      compress_job_fail (task, error);
      return;
    }

  job->size_in = n_read;

  /* The splice gives the bytes it read; the size of FILE.gz is known once
   * the compressor has been flushed and the file closed, which the splice
   * has just done.
   */
  g_file_query_info_async (job->output, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, cancellable,
                           output_measured, g_steal_pointer (&task));
}

static void
output_opened (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CompressJob *job = compress_job_from_task (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GFileOutputStream) file_stream = NULL;
  g_autoptr(GZlibCompressor) compressor = NULL;
  g_autoptr(GOutputStream) gzip_stream = NULL;
  GError *error = NULL;

  file_stream = g_file_replace_finish (G_FILE (object), result, &error);
  if (file_stream == NULL)
    {
      compress_job_fail (task, error);
      return;
    }

  job->output_created = TRUE;

  compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  gzip_stream = g_converter_output_stream_new (G_OUTPUT_STREAM (file_stream),
                                               G_CONVERTER (compressor));

  /* The splice holds both streams and closes them, the source included. */
  g_output_stream_splice_async (gzip_stream, G_INPUT_STREAM (job->source),
                                (G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
                                 G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET),
                                G_PRIORITY_DEFAULT, cancellable,
                                input_spliced, g_steal_pointer (&task));
  g_clear_object (&job->source);
}

static void
input_opened (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CompressJob *job = compress_job_from_task (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autofree char *basename = NULL;
  g_autofree char *gz_name = NULL;
  g_autoptr(GFile) dir = NULL;
  GError *error = NULL;

  job->source = g_file_read_finish (G_FILE (object), result, &error);
  if (job->source == NULL)
    {
      compress_job_fail (task, error);
      return;
    }

  /* Only the root has no parent, and it is a folder: it cannot be read. */
  basename = g_file_get_basename (job->input);
  gz_name = g_strconcat (basename, ".gz", NULL);
  if (job->compress->output_dir != NULL)
    dir = g_object_ref (job->compress->output_dir);
  else
    dir = g_file_get_parent (job->input);
  job->output = g_file_get_child (dir, gz_name);

  g_file_replace_async (job->output, NULL, FALSE, G_FILE_CREATE_NONE,
                        G_PRIORITY_DEFAULT, cancellable,
                        output_opened, g_steal_pointer (&task));
}

static void
compress_file (GTask        *task,
               GCancellable *cancellable,
               gpointer      user_data)
{
  CompressJob *job = user_data;
  Compress *compress = job->compress;

  g_object_set_data (G_OBJECT (task), COMPRESS_JOB_KEY, job);

  if (compress->verbose)
    g_application_command_line_print (compress->cmdline, "started %s\n",
                                      g_task_get_name (task));

  g_file_read_async (job->input, G_PRIORITY_DEFAULT, cancellable,
                     input_opened, g_object_ref (task));
}

/* The application */

static void
compress_quit (Compress *compress,
               int       exit_status)
{
  compress->exit_status = exit_status;
  if (compress->signal_number != 0)
    compress->exit_status = 128 + compress->signal_number;

  if (compress->cmdline != NULL)
    g_application_command_line_set_exit_status (compress->cmdline, compress->exit_status);
  g_clear_object (&compress->cmdline);

  g_application_release (compress->app);
}

static void
service_stopped (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Compress *compress = user_data;
  g_autoptr(GError) error = NULL;

  if (!asab_task_service_stop_finish (ASAB_TASK_SERVICE (object), result, &error))
    g_printerr ("compress: %s\n", error->message);

  compress_quit (compress, compress->n_failed > 0 ? EXIT_SOME_FAILED : EXIT_ALL_COMPRESSED);
}

static void
compress_finish (Compress *compress)
{
  g_application_command_line_print (compress->cmdline,
                                    "%u %s, %u compressed, %u failed, "
                                    "%" G_GOFFSET_FORMAT " -> %" G_GOFFSET_FORMAT " bytes\n",
                                    compress->n_files,
                                    compress->n_files == 1 ? "file" : "files",
                                    compress->n_compressed, compress->n_failed,
                                    compress->bytes_in, compress->bytes_out);

  g_application_hold (compress->app);
  asab_task_service_stop_async (compress->service, NULL, service_stopped, compress);
}

static void
file_done (AsabTaskService *service,
           GTask           *task,
           const GError    *error,
           gpointer         user_data)
{
  Compress *compress = user_data;
  CompressJob *job = compress_job_from_task (task);

  if (error == NULL)
    {
      compress->n_compressed++;
      compress->bytes_in += job->size_in;
      compress->bytes_out += job->size_out;
      g_application_command_line_print (compress->cmdline,
                                        "compressed %s: %" G_GOFFSET_FORMAT
                                        " -> %" G_GOFFSET_FORMAT " bytes\n",
                                        g_task_get_name (task),
                                        job->size_in, job->size_out);
    }
  else
    {
      compress->n_failed++;
      g_application_command_line_printerr (compress->cmdline, "failed %s: %s\n",
                                           g_task_get_name (task), error->message);
    }

  if (compress->n_compressed + compress->n_failed == compress->n_files)
    compress_finish (compress);
}

/* The failure is reported by file_done(): keep it out of the log. */
static gboolean
file_failed (AsabTaskService *service,
             GTask           *task,
             const GError    *error,
             gpointer         user_data)
{
  return TRUE;
}

static void
compress_schedule_files (Compress *compress)
{
  for (guint i = 0; i < compress->inputs->len; i++)
    {
      GFile *input = g_ptr_array_index (compress->inputs, i);
      g_autofree char *basename = g_file_get_basename (input);
      g_autofree char *name = g_filename_display_name (basename);

      compress->n_files++;

      /* Refused once a signal has stopped the service, or beyond
       * max-queued, which is not set here.
       */
      if (asab_task_service_schedule_full (compress->service, name, compress_file,
                                           compress_job_new (compress, input),
                                           compress_job_free) == 0)
        {
          compress->n_failed++;
          g_application_command_line_printerr (compress->cmdline,
                                               "failed %s: the task service refused it\n",
                                               name);
        }
    }

  /* Tasks never end inside the call that schedules them: only refusals
   * can have ended them all.
   */
  if (compress->n_failed == compress->n_files)
    compress_finish (compress);

  /* From now on, the service holds the application. */
  g_application_release (compress->app);
}

/* Sample files */

typedef enum
{
  SAMPLE_PROSE,
  SAMPLE_CSV,
  SAMPLE_LOG,
} SampleKind;

static const struct
{
  const char *name;
  SampleKind kind;
  gsize size;
} samples[] = {
  { "chapter-1.txt", SAMPLE_PROSE, 100 * 1024 },
  { "sensors.csv", SAMPLE_CSV, 250 * 1024 },
  { "service.log", SAMPLE_LOG, 400 * 1024 },
  { "chapter-2.txt", SAMPLE_PROSE, 550 * 1024 },
  { "weather.csv", SAMPLE_CSV, 800 * 1024 },
  { "access.log", SAMPLE_LOG, 1000 * 1024 },
};

static const char * const words[] = {
  "task", "service", "main", "loop", "context", "stream", "file", "source",
  "signal", "callback", "cancellable", "application", "the", "a", "of",
  "and", "to", "in", "is", "runs", "waits", "ends", "schedules", "compresses",
  "every", "background", "work", "quietly", "later", "again", "before",
  "after", "while", "never", "once", "each", "event", "thread", "queue",
};

static const char * const sensors[] = {
  "attic", "cellar", "garage", "kitchen", "porch", "shed", "study",
};

static const char * const log_levels[] = {
  "INFO ", "INFO ", "INFO ", "DEBUG", "WARN ",
};

static const char * const log_events[] = {
  "started after", "done in", "waited", "retried after",
};

#define PICK(rng, array) ((array)[g_rand_int_range ((rng), 0, G_N_ELEMENTS (array))])

static void
append_sentence (GString *text,
                 GRand   *rng)
{
  int n_words = g_rand_int_range (rng, 5, 17);
  gsize start = text->len;

  for (int i = 0; i < n_words; i++)
    {
      if (i > 0)
        g_string_append_c (text, ' ');
      g_string_append (text, PICK (rng, words));
    }
  text->str[start] = g_ascii_toupper (text->str[start]);
  g_string_append (text, g_rand_int_range (rng, 0, 6) == 0 ? ".\n\n" : ". ");
}

static void
append_reading (GString *text,
                GRand   *rng,
                guint    row)
{
  if (row == 0)
    g_string_append (text, "row,sensor,celsius,humidity\n");

  g_string_append_printf (text, "%u,%s,%d.%d,%d\n",
                          row, PICK (rng, sensors),
                          g_rand_int_range (rng, -5, 31), g_rand_int_range (rng, 0, 10),
                          g_rand_int_range (rng, 20, 90));
}

static void
append_log_line (GString *text,
                 GRand   *rng,
                 guint    row)
{
  guint seconds = row * 7 + g_rand_int_range (rng, 0, 7);

  g_string_append_printf (text, "2026-03-01 %02u:%02u:%02u.%03d %s task %d %s %d ms\n",
                          (seconds / 3600) % 24, (seconds / 60) % 60, seconds % 60,
                          g_rand_int_range (rng, 0, 1000),
                          PICK (rng, log_levels),
                          g_rand_int_range (rng, 1, 50),
                          PICK (rng, log_events),
                          g_rand_int_range (rng, 1, 5000));
}

/* Text of exactly @size bytes, the same on every run. */
static GString *
sample_text_new (SampleKind kind,
                 gsize      size,
                 guint32    seed)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (seed);
  GString *text = g_string_sized_new (size + 256);

  for (guint row = 0; text->len < size; row++)
    {
      switch (kind)
        {
        case SAMPLE_PROSE:
          append_sentence (text, rng);
          break;
        case SAMPLE_CSV:
          append_reading (text, rng, row);
          break;
        case SAMPLE_LOG:
          append_log_line (text, rng, row);
          break;
        default:
          g_assert_not_reached ();
        }
    }

  g_string_truncate (text, size - 1);
  g_string_append_c (text, '\n');

  return text;
}

static void
remove_sample_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_unlink (child) != 0)
        g_printerr ("compress: cannot remove %s: %s\n", child, g_strerror (errno));
    }

  if (g_rmdir (path) != 0)
    g_printerr ("compress: cannot remove %s: %s\n", path, g_strerror (errno));
}

/* Writing a few megabytes takes a while: it runs on a worker thread. */
static void
make_samples_in_thread (GTask        *task,
                        gpointer      source_object,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  g_autofree char *dir = NULL;
  GError *error = NULL;

  dir = g_dir_make_tmp ("compress-XXXXXX", &error);
  if (dir == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *path = g_build_filename (dir, samples[i].name, NULL);
      g_autoptr(GString) text = sample_text_new (samples[i].kind, samples[i].size, i + 1);

      if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
          !g_file_set_contents_full (path, text->str, text->len,
                                     G_FILE_SET_CONTENTS_NONE, 0644, &error))
        {
          remove_sample_dir (dir);
          g_task_return_error (task, error);
          return;
        }
    }

  g_task_return_pointer (task, g_steal_pointer (&dir), g_free);
}

static void
samples_made (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Compress *compress = user_data;
  g_autoptr(GError) error = NULL;

  compress->sample_dir = g_task_propagate_pointer (G_TASK (result), &error);
  if (compress->sample_dir == NULL)
    {
      g_application_command_line_printerr (compress->cmdline,
                                           "compress: cannot make sample files: %s\n",
                                           error->message);
      compress_quit (compress, EXIT_SOME_FAILED);
      return;
    }

  g_application_command_line_print (compress->cmdline, "sample files in %s\n",
                                    compress->sample_dir);

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    g_ptr_array_add (compress->inputs,
                     g_file_new_build_filename (compress->sample_dir, samples[i].name, NULL));

  compress_schedule_files (compress);
}

static void
compress_make_samples (Compress *compress)
{
  g_autoptr(GTask) task = g_task_new (NULL, compress->cancellable, samples_made, compress);

  g_task_set_source_tag (task, compress_make_samples);
  g_task_run_in_thread (task, make_samples_in_thread);
}

/* Command line */

static void
compress_start (Compress *compress)
{
  if (compress->inputs->len == 0)
    compress_make_samples (compress);
  else
    compress_schedule_files (compress);
}

static void
output_dir_checked (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Compress *compress = user_data;
  GFile *output_dir = G_FILE (object);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *parse_name = NULL;

  info = g_file_query_info_finish (output_dir, result, &error);
  if (info != NULL && g_file_info_get_file_type (info) != G_FILE_TYPE_DIRECTORY)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                         "Not a directory");
  else if (info != NULL &&
           g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE) &&
           !g_file_info_get_attribute_boolean (info, G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE))
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                         "Permission denied");

  if (error != NULL)
    {
      parse_name = g_file_get_parse_name (output_dir);
      g_application_command_line_printerr (compress->cmdline,
                                           "compress: cannot write to %s: %s\n",
                                           parse_name, error->message);
      compress_quit (compress, EXIT_USAGE);
      return;
    }

  compress_start (compress);
}

static int
compress_command_line (GApplication            *app,
                       GApplicationCommandLine *cmdline,
                       gpointer                 user_data)
{
  Compress *compress = user_data;
  GVariantDict *options = g_application_command_line_get_options_dict (cmdline);
  g_auto(GStrv) arguments = NULL;
  const char *jobs_arg = NULL;
  const char *output_dir = NULL;
  gint64 jobs = DEFAULT_JOBS;
  int n_arguments;

  g_variant_dict_lookup (options, "jobs", "&s", &jobs_arg);
  g_variant_dict_lookup (options, "verbose", "b", &compress->verbose);
  g_variant_dict_lookup (options, "output-dir", "^&ay", &output_dir);

  if (jobs_arg != NULL &&
      !g_ascii_string_to_signed (jobs_arg, 10, 1, G_MAXINT, &jobs, NULL))
    {
      g_application_command_line_printerr (cmdline,
                                           "compress: --jobs wants a number from 1 up, not “%s”\n",
                                           jobs_arg);
      return EXIT_USAGE;
    }

  asab_task_service_set_max_concurrent (compress->service, (guint) jobs);
  compress->cmdline = g_object_ref (cmdline);

  arguments = g_application_command_line_get_arguments (cmdline, &n_arguments);
  for (int i = 1; i < n_arguments; i++)
    g_ptr_array_add (compress->inputs,
                     g_application_command_line_create_file_for_arg (cmdline, arguments[i]));

  /* Released once the tasks have been scheduled, or on failure. */
  g_application_hold (app);

  if (output_dir != NULL)
    {
      compress->output_dir = g_application_command_line_create_file_for_arg (cmdline, output_dir);
      g_file_query_info_async (compress->output_dir,
                               G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE,
                               G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT,
                               compress->cancellable, output_dir_checked, compress);
    }
  else
    compress_start (compress);

  /* With the main loop running, g_application_run() ignores this status:
   * main() uses compress->exit_status instead.
   */
  return EXIT_ALL_COMPRESSED;
}

/* Only called once the options have been parsed: GApplication reports an
 * option that it could not parse with status 1, before this.
 */
static int
compress_handle_local_options (GApplication *app,
                               GVariantDict *options,
                               gpointer      user_data)
{
  Compress *compress = user_data;

  compress->options_parsed = TRUE;

  return -1;
}

#ifdef G_OS_UNIX
/* Cancels every file, and lets a second signal end the process at once. */
static gboolean
compress_interrupt (Compress *compress,
                    int       signal_number,
                    guint    *source_id)
{
  *source_id = 0;
  if (compress->signal_number == 0)
    {
      compress->signal_number = signal_number;
      g_cancellable_cancel (compress->cancellable);
      asab_task_service_stop_async (compress->service, NULL, NULL, NULL);
    }

  return G_SOURCE_REMOVE;
}

static gboolean
sigint_received (gpointer user_data)
{
  Compress *compress = user_data;

  return compress_interrupt (compress, SIGINT, &compress->sigint_id);
}

static gboolean
sigterm_received (gpointer user_data)
{
  Compress *compress = user_data;

  return compress_interrupt (compress, SIGTERM, &compress->sigterm_id);
}
#endif

static const GOptionEntry option_entries[] = {
  /* A string: GApplication would leave an int of 0 out of the options. */
  { "jobs", 'j', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    "Compress at most N files at once (default: " G_STRINGIFY (DEFAULT_JOBS) ")", "N" },
  { "verbose", 'v', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    "Also say when each file starts", NULL },
  { "output-dir", 'o', G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
    "Write FILE.gz to DIR instead of next to FILE", "DIR" },
  G_OPTION_ENTRY_NULL
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GApplication) app = NULL;
  g_autoptr(AsabTaskService) service = NULL;
  Compress compress = { 0 };
  int status;

  setlocale (LC_ALL, "");

  app = g_application_new ("org.asab.Compress",
                           G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (app, option_entries);
  g_application_set_option_context_parameter_string (app, "[FILE…]");
  g_application_set_option_context_summary (app,
    "Compresses each FILE to FILE.gz, several at a time. Without FILE,\n"
    "compresses sample files in a temporary folder, then removes it.");
  g_application_set_option_context_description (app,
    "Exit status: 0 if every file was compressed, 1 if some file failed,\n"
    "2 on a usage error.");

  service = asab_task_service_new_for_application (app);

  compress.app = app;
  compress.service = service;
  compress.cancellable = g_cancellable_new ();
  compress.inputs = g_ptr_array_new_with_free_func (g_object_unref);

  g_signal_connect (app, "handle-local-options",
                    G_CALLBACK (compress_handle_local_options), &compress);
  g_signal_connect (app, "command-line", G_CALLBACK (compress_command_line), &compress);
  g_signal_connect (service, "task-done", G_CALLBACK (file_done), &compress);
  g_signal_connect (service, "task-failed", G_CALLBACK (file_failed), &compress);

#ifdef G_OS_UNIX
  compress.sigint_id = g_unix_signal_add (SIGINT, sigint_received, &compress);
  compress.sigterm_id = g_unix_signal_add (SIGTERM, sigterm_received, &compress);
#endif

  status = g_application_run (app, argc, argv);

  if (!compress.options_parsed && status != 0)
    {
      g_printerr ("Run “%s --help” to see the options.\n", g_get_prgname ());
      status = EXIT_USAGE;
    }
  else if (status == 0)
    status = compress.exit_status;

  /* The main loop has stopped: nothing waits on this thread any more. */
  if (compress.sample_dir != NULL)
    remove_sample_dir (compress.sample_dir);

  g_clear_handle_id (&compress.sigint_id, g_source_remove);
  g_clear_handle_id (&compress.sigterm_id, g_source_remove);
  g_clear_object (&compress.cmdline);
  g_clear_object (&compress.output_dir);
  g_clear_object (&compress.cancellable);
  g_clear_pointer (&compress.inputs, g_ptr_array_unref);
  g_clear_pointer (&compress.sample_dir, g_free);

  return status;
}
