/* test-version.c: the version macros and functions agree with each other
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <asab.h>

static void
test_runtime (void)
{
  g_autofree char *version = NULL;

  g_test_summary ("The library's version is the version of its headers and of the project");

  g_assert_cmpuint (asab_get_major_version (), ==, ASAB_MAJOR_VERSION);
  g_assert_cmpuint (asab_get_minor_version (), ==, ASAB_MINOR_VERSION);
  g_assert_cmpuint (asab_get_micro_version (), ==, ASAB_MICRO_VERSION);

  version = g_strdup_printf ("%u.%u.%u", asab_get_major_version (),
                             asab_get_minor_version (), asab_get_micro_version ());
  g_assert_cmpstr (version, ==, ASAB_VERSION_S);
  g_assert_cmpstr (version, ==, PACKAGE_VERSION);
}

static void
test_encoding (void)
{
  g_test_summary ("Every version macro is encoded the same way, so that any two compare");

  g_assert_cmpint (ASAB_VERSION, ==,
                   ASAB_ENCODE_VERSION (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION, ASAB_MICRO_VERSION));
  g_assert_cmpint (ASAB_VERSION_1_0, ==, ASAB_ENCODE_VERSION (1, 0, 0));
  g_assert_cmpint (ASAB_VERSION_CUR_STABLE, ==,
                   ASAB_ENCODE_VERSION (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION, 0));

  /* The first version is 1.0.0: every later one compares greater. */
  g_assert_cmpint (ASAB_VERSION, >=, ASAB_VERSION_1_0);
  g_assert_cmpint (ASAB_VERSION, >=, ASAB_VERSION_CUR_STABLE);
  g_assert_cmpint (ASAB_VERSION_CUR_STABLE, >=, ASAB_VERSION_1_0);

  /* Unless the includer says otherwise, it needs and allows this version. */
  g_assert_cmpint (ASAB_VERSION_MIN_REQUIRED, ==, ASAB_VERSION_CUR_STABLE);
  g_assert_cmpint (ASAB_VERSION_MAX_ALLOWED, ==, ASAB_VERSION_CUR_STABLE);

  /* Each component outweighs every value of the ones after it. */
  g_assert_cmpint (ASAB_ENCODE_VERSION (1, 0, 1), >, ASAB_ENCODE_VERSION (1, 0, 0));
  g_assert_cmpint (ASAB_ENCODE_VERSION (1, 1, 0), >, ASAB_ENCODE_VERSION (1, 0, 255));
  g_assert_cmpint (ASAB_ENCODE_VERSION (2, 0, 0), >, ASAB_ENCODE_VERSION (1, 255, 255));
}

static void
test_check_macro (void)
{
  g_test_summary ("ASAB_CHECK_VERSION() holds for this version and older ones only");

  g_assert_true (ASAB_CHECK_VERSION (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION, ASAB_MICRO_VERSION));
  g_assert_true (ASAB_CHECK_VERSION (1, 0, 0));
  g_assert_true (ASAB_CHECK_VERSION (0, 99, 99));
  g_assert_false (ASAB_CHECK_VERSION (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION, ASAB_MICRO_VERSION + 1));
  g_assert_false (ASAB_CHECK_VERSION (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION + 1, 0));
  g_assert_false (ASAB_CHECK_VERSION (ASAB_MAJOR_VERSION + 1, 0, 0));

#if !ASAB_CHECK_VERSION (1, 0, 0)
  g_assert_not_reached ();
#endif
#if ASAB_CHECK_VERSION (ASAB_MAJOR_VERSION + 1, 0, 0)
  g_assert_not_reached ();
#endif
}

static void
test_check_runtime (void)
{
  g_test_summary ("asab_check_version() accepts this version and older ones of the same major version");

  g_assert_null (asab_check_version (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION, ASAB_MICRO_VERSION));
  g_assert_null (asab_check_version (ASAB_MAJOR_VERSION, 0, 0));

  g_assert_cmpstr (asab_check_version (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION, ASAB_MICRO_VERSION + 1),
                   ==, "asab-glib version too old (micro mismatch)");
  g_assert_cmpstr (asab_check_version (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION + 1, 0),
                   ==, "asab-glib version too old (minor mismatch)");
  g_assert_cmpstr (asab_check_version (ASAB_MAJOR_VERSION + 1, 0, 0),
                   ==, "asab-glib version too old (major mismatch)");
  g_assert_cmpstr (asab_check_version (ASAB_MAJOR_VERSION - 1, 99, 99),
                   ==, "asab-glib version too new (major mismatch)");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/version/runtime", test_runtime);
  g_test_add_func ("/version/encoding", test_encoding);
  g_test_add_func ("/version/check-macro", test_check_macro);
  g_test_add_func ("/version/check-runtime", test_check_runtime);

  return g_test_run ();
}
