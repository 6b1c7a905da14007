/* asab.h
 *
 * Copyright 2026 The asab-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ASAB_INSIDE
# include "asab-version.h"
# include "asab-version-macros.h"
# include "asab-enum-types.h"
# include "asab-task-info.h"
# include "asab-task-service.h"
#undef ASAB_INSIDE

G_END_DECLS
