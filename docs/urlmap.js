// SPDX-License-Identifier: LGPL-2.1-or-later
// The online documentation of the namespaces that the Asab docs link to.
baseURLs = [
    [ 'GLib', 'https://docs.gtk.org/glib/' ],
    [ 'GObject', 'https://docs.gtk.org/gobject/' ],
    [ 'Gio', 'https://docs.gtk.org/gio/' ],
]
