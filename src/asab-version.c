/* asab-version.c
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "asab-version.h"

/**
 * asab_get_major_version:
 *
 * Gets the major version of the asab-glib library that the program runs
 * with: 1 in version 1.2.3.
 *
 * `ASAB_MAJOR_VERSION` is the version of the headers that the program was
 * compiled with, which may be older.
 *
 * Returns: the major version of the library
 *
 * Since: 1.0
 */
guint
asab_get_major_version (void)
{
  return ASAB_MAJOR_VERSION;
}

/**
 * asab_get_minor_version:
 *
 * Gets the minor version of the asab-glib library that the program runs
 * with: 2 in version 1.2.3.
 *
 * `ASAB_MINOR_VERSION` is the version of the headers that the program was
 * compiled with, which may be older.
 *
 * Returns: the minor version of the library
 *
 * Since: 1.0
 */
guint
asab_get_minor_version (void)
{
  return ASAB_MINOR_VERSION;
}

/**
 * asab_get_micro_version:
 *
 * Gets the micro version of the asab-glib library that the program runs
 * with: 3 in version 1.2.3.
 *
 * `ASAB_MICRO_VERSION` is the version of the headers that the program was
 * compiled with, which may be older.
 *
 * Returns: the micro version of the library
 *
 * Since: 1.0
 */
guint
asab_get_micro_version (void)
{
  return ASAB_MICRO_VERSION;
}

/**
 * asab_check_version:
 * @required_major: the required major version
 * @required_minor: the required minor version
 * @required_micro: the required micro version
 *
 * Checks that the asab-glib library that the program runs with is
 * compatible with the given version: it has the same major version, and
 * is the given version or a later one.
 *
 * Pass the version of the headers the program was compiled with,
 * `ASAB_MAJOR_VERSION`, `ASAB_MINOR_VERSION` and `ASAB_MICRO_VERSION`, to
 * find out whether it runs with a library at least as new, or an earlier
 * version, to find out whether the library has what the program needs. A
 * module loaded into a program can check this way that the program's
 * asab-glib is new enough before it uses it. `ASAB_CHECK_VERSION()` checks
 * the headers at compile time instead.
 *
 * As glib_check_version() does, it describes a mismatch in English, for a
 * log or an error message of the caller's.
 *
 * Returns: (nullable): `NULL` if the library is compatible, or a string
 *   that describes the mismatch, owned by the library
 *
 * Since: 1.0
 */
const char *
asab_check_version (guint required_major,
                    guint required_minor,
                    guint required_micro)
{
  if (required_major > ASAB_MAJOR_VERSION)
    return "asab-glib version too old (major mismatch)";
  if (required_major < ASAB_MAJOR_VERSION)
    return "asab-glib version too new (major mismatch)";
  if (required_minor > ASAB_MINOR_VERSION)
    return "asab-glib version too old (minor mismatch)";
  if (required_minor == ASAB_MINOR_VERSION && required_micro > ASAB_MICRO_VERSION)
    return "asab-glib version too old (micro mismatch)";

  return NULL;
}
