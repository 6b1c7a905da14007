#!/usr/bin/python3
# bench.py
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Workload 8 of asab-bench: trivial Python tasks through AsabTaskService.

Schedules N trivial Python tasks on the service, each completing its GTask
at once, counted in a Python "task-done" handler, and compares the rate with
a plain PyGObject baseline measured in the same run: a Gio.Task with a
source object and a Gio.Cancellable of its own per task, completed from one
GLib.idle_add() each, counted in the task's callback.

It uses the Asab override's ``svc.schedule(func, *args, name=None)`` when
the override is importable, and the raw GI call ``svc.schedule(name, func,
user_data)`` otherwise; the rows say which.

Run it with PyGObject's interpreter, against a build tree::

    GI_TYPELIB_PATH=BUILD/introspection LD_LIBRARY_PATH=BUILD/src \\
    PYTHONPATH=SOURCE/introspection /usr/bin/python3 bench/bench.py

``--machine`` prints tab-separated rows for asab-bench, which runs this
script itself. Exit status 77 means it could not run here (no PyGObject,
no Asab typelib).
"""

import argparse
import gc
import importlib.util
import statistics
import sys
import time

SKIP = 77
TARGET = 1.0


def load():
    try:
        import gi
        gi.require_version("GLib", "2.0")
        gi.require_version("GObject", "2.0")
        gi.require_version("Gio", "2.0")
        gi.require_version("Asab", "1.0")
    except (ImportError, ValueError) as e:
        print(f"SKIP\t{e}")
        sys.exit(SKIP)

    # An override that exists but fails to import is an error, not a skip.
    from gi.repository import GLib, GObject, Gio, Asab

    has_override = "gi.overrides.Asab" in sys.modules
    if not has_override and importlib.util.find_spec("gi.overrides.Asab") is not None:
        raise RuntimeError("gi/overrides/Asab.py exists but was not loaded")

    raw = gi.module.get_introspection_module("Asab")
    return GLib, GObject, Gio, Asab, raw, has_override


GLib, GObject, Gio, Asab, AsabRaw, HAS_OVERRIDE = load()


def iterate_until(context, done, n):
    while done[0] < n:
        context.iteration(True)


def drain(context):
    while context.iteration(False):
        pass


def run_service(n, api):
    """Seconds from the first schedule until the handler has counted n ends."""
    context = GLib.MainContext.default()
    service = Asab.TaskService.new(context)
    done = [0]

    def on_task_done(svc, task, error):
        done[0] += 1

    handler = service.connect("task-done", on_task_done)

    if api == "override":
        def func(task, cancellable):
            task.return_boolean(True)

        schedule = service.schedule
        start = time.perf_counter()
        for _ in range(n):
            schedule(func)
    else:
        def func(task, cancellable, user_data):
            task.return_boolean(True)

        schedule = AsabRaw.TaskService.schedule
        start = time.perf_counter()
        for _ in range(n):
            schedule(service, None, func, None)

    iterate_until(context, done, n)
    end = time.perf_counter()

    service.disconnect(handler)
    del service
    drain(context)
    return end - start


def run_baseline(n):
    """The same work with a plain Gio.Task and one GLib.idle_add each."""
    context = GLib.MainContext.default()
    source_object = GObject.Object()
    done = [0]

    def callback(source, result, user_data):
        done[0] += 1

    def complete(task):
        task.return_boolean(True)
        return GLib.SOURCE_REMOVE

    start = time.perf_counter()
    for _ in range(n):
        task = Gio.Task.new(source_object, Gio.Cancellable(), callback, None)
        GLib.idle_add(complete, task)
    del task
    iterate_until(context, done, n)
    end = time.perf_counter()

    drain(context)
    return end - start


def measure(n, warmups, reps, variants, note):
    """Runs the variants interleaved, rep after rep, in an order that rotates
    from one rep to the next; returns the median rates."""
    rates = {name: [] for name in variants}
    names = list(variants)
    for rep in range(warmups + reps):
        seconds = {}
        for i in range(len(names)):
            name = names[(i + rep) % len(names)]
            run = variants[name]
            gc.collect()
            seconds[name] = run(n)
            if rep >= warmups:
                rates[name].append(n / seconds[name])
        kind = "warm-up" if rep < warmups else "rep"
        note(f"{kind} {rep}: " + ", ".join(f"{name} {seconds[name]:.3f} s" for name in names))
    return {name: statistics.median(values) for name, values in rates.items()}


def fmt(rate):
    if rate >= 1e6:
        return f"{rate / 1e6:.3f} M tasks/s"
    return f"{rate / 1e3:.1f} k tasks/s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmups", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="10 times fewer tasks, one repetition")
    parser.add_argument("--machine", action="store_true",
                        help="print tab-separated rows for asab-bench")
    args = parser.parse_args()
    if args.quick:
        args.tasks //= 10
        args.reps = 1

    api = "override" if HAS_OVERRIDE else "raw"
    variants = {
        "baseline": run_baseline,
        api: lambda n: run_service(n, api),
    }
    if HAS_OVERRIDE:
        variants["raw"] = lambda n: run_service(n, "raw")

    def note(text):
        if args.machine:
            print("NOTE\t" + text, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    medians = measure(args.tasks, args.warmups, args.reps, variants, note)
    base = medians["baseline"]
    workload = f"8. Python, {args.tasks} trivial tasks"
    baseline_label = ("plain PyGObject: Gio.Task + source object + own Gio.Cancellable, "
                      f"one GLib.idle_add each: {fmt(base)}")
    rows = []
    if HAS_OVERRIDE:
        label = "svc.schedule(func) (override), counted in a Python task-done handler"
    else:
        label = ("svc.schedule(None, func, None) (raw GI: override not found), "
                 "counted in a Python task-done handler")
    ratio = medians[api] / base
    rows.append((workload, f"{label}: {fmt(medians[api])}", baseline_label,
                 f"{ratio:.2f}×", f"≥ {TARGET:.2f}×", "yes" if ratio >= TARGET else "**NO**"))
    if HAS_OVERRIDE:
        raw_ratio = medians["raw"] / base
        rows.append((workload, f"raw GI svc.schedule(None, func, None): {fmt(medians['raw'])}",
                     baseline_label, f"{raw_ratio:.2f}×", "— (for reference)", "—"))

    if args.machine:
        for row in rows:
            print("ROW\t" + "\t".join(row))
    else:
        print("| workload | figure | baseline | ratio | target | met? |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
