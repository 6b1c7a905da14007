/* test-i18n.c: messages speak the user's language
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <libintl.h>

#include <asab.h>

#include "test-util.h"

static void
fail_now (GTask        *task,
          GCancellable *cancellable,
          gpointer      user_data)
{
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "boom");
}

static void
count_done (AsabTaskService *service,
            GTask           *task,
            const GError    *error,
            guint           *n_done)
{
  (*n_done)++;
}

static void
test_failure_in_czech (void)
{
  GMainContext *context = test_context_new ();
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);
  guint n_done = 0;

  g_signal_connect (service, "task-done", G_CALLBACK (count_done), &n_done);
  asab_task_service_schedule_full (service, "komprese", fail_now, NULL, NULL);
  test_iterate_until (context, n_done == 1);

  g_assert_cmpuint (test_captured_count (G_LOG_LEVEL_WARNING), ==, 1);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "Úloha „komprese“ (1) selhala: boom");

  g_clear_object (&service);
  test_context_free (context);
}

static void
test_stop_warning_in_czech (void)
{
  GMainContext *context = test_context_new ();
  g_autoptr(AsabTaskService) service = asab_task_service_new (NULL);

  asab_task_service_stop (service, NULL, NULL);
  g_assert_cmpuint (asab_task_service_schedule (service, fail_now, NULL), ==, 0);
  g_assert_cmpstr (test_captured_nth (G_LOG_LEVEL_WARNING, 0)->message, ==,
                   "Služba úloh byla zastavena: nepojmenovaná úloha byla odmítnuta");

  g_clear_object (&service);
  test_context_free (context);
}

static void
test_keeps_application_binding (gconstpointer localedir)
{
  g_assert_cmpstr (bindtextdomain ("asab-1.0", NULL), ==, localedir);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *localedir = NULL;

  /* LANGUAGE is honoured in any locale but C; C.UTF-8 is on every system. */
  g_setenv ("LANGUAGE", "cs", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  setlocale (LC_ALL, "");

  g_test_init (&argc, &argv, NULL);
  test_capture_logs_init ();

  /* As a relocated application does: the domain points at the build
   * tree's catalogues before the library's class is first used, which
   * binds it to the installed ones only when nobody did. */
  localedir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  bindtextdomain ("asab-1.0", localedir);
  g_type_class_unref (g_type_class_ref (ASAB_TYPE_TASK_SERVICE));

  g_test_add_data_func ("/i18n/keeps-application-binding", localedir,
                        test_keeps_application_binding);
  g_test_add_func ("/i18n/failure-in-czech", test_failure_in_czech);
  g_test_add_func ("/i18n/stop-warning-in-czech", test_stop_warning_in_czech);

  return g_test_run ();
}
