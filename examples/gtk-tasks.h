/* gtk-tasks.h: what the GTK 4 demo and its script share
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <asab.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BIG_FILE_NAME "big.bin"
#define BIG_FILE_SIZE ((goffset) 128 * 1024 * 1024)

typedef struct _Script Script;

typedef struct
{
  GtkApplication *app;
  AsabTaskService *service;
  GListModel *tasks;

  /* The main window and its widgets, owned by GTK. */
  GtkWindow *window;
  GtkListView *list_view;
  GtkStack *stack;
  GtkLabel *message;

  /* The temporary folder and the big file in it, removed at exit. */
  GFile *folder;
  GFile *big_file;

  guint n_copies;
  guint n_windows;
  /* What the forever task has seen, over all its runs. */
  guint n_changes;
  /* The size of the last copy, measured once it has ended. */
  goffset last_copy_size;
  /* The last window opened by New Window, while it lives. */
  GtkWindow *second_window;
  /* The tasks that end with the main window: forever tasks, reminders. */
  GArray *main_window_tasks;

  /* A checksum reads no further than gate_bytes: the whole file, unless
   * the script holds it at known points to watch its progress. */
  GMutex gate_lock;
  GCond gate_cond;
  guint64 gate_bytes;

  gboolean scripted;
  char *screenshot_path;
  Script *script;
  int exit_status;
} Demo;

#define DEMO_TYPE_TASK_ROW (demo_task_row_get_type ())
G_DECLARE_FINAL_TYPE (DemoTaskRow, demo_task_row, DEMO, TASK_ROW, GtkWidget)

AsabTaskInfo *demo_task_row_get_info          (DemoTaskRow  *self);
GtkWidget    *demo_task_row_get_cancel_button (DemoTaskRow  *self);

char         *demo_format_bytes_of            (goffset       done,
                                               goffset       total);
void          demo_gate_set                   (Demo         *demo,
                                               guint64       bytes);

/* The script, in gtk-tasks-script.c. */
void          script_start                    (Demo         *demo);
void          script_poke                     (Script       *script);
void          script_task_failed              (Script       *script,
                                               GTask        *task,
                                               const GError *error);
void          script_task_done                (Script       *script,
                                               GTask        *task,
                                               const GError *error);
void          script_ended                    (Script       *script);
void          script_free                     (Script       *script);

G_END_DECLS
