/* asab-version-macros.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASAB_INSIDE) && !defined(ASAB_COMPILATION)
# error "Only <asab.h> can be included directly."
#endif

#include <glib.h>

#include "asab-version.h"

#ifndef _ASAB_EXTERN
# define _ASAB_EXTERN __attribute__((visibility("default"))) extern
#endif

#define ASAB_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#define ASAB_VERSION_CUR_STABLE (G_ENCODE_VERSION (ASAB_MAJOR_VERSION, ASAB_MINOR_VERSION))

#ifndef ASAB_VERSION_MIN_REQUIRED
# define ASAB_VERSION_MIN_REQUIRED ASAB_VERSION_CUR_STABLE
#endif

#ifndef ASAB_VERSION_MAX_ALLOWED
# define ASAB_VERSION_MAX_ALLOWED ASAB_VERSION_CUR_STABLE
#endif

#define ASAB_AVAILABLE_IN_ALL _ASAB_EXTERN

#if ASAB_VERSION_MAX_ALLOWED < ASAB_VERSION_1_0
# define ASAB_AVAILABLE_IN_1_0 G_UNAVAILABLE (1, 0) _ASAB_EXTERN
#else
# define ASAB_AVAILABLE_IN_1_0 _ASAB_EXTERN
#endif
