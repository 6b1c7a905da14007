#!/usr/bin/python3
# bench.py
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Workload 8 of asab-bench: trivial Python tasks through AsabTaskService.

Callbacks: schedules N trivial Python tasks on the service, each completing
its GTask at once, counted in a Python "task-done" handler, and compares the
rate with a plain PyGObject baseline measured in the same run: a Gio.Task
with a source object and a Gio.Cancellable of its own per task, completed
from one GLib.idle_add() each, counted in the task's callback. It uses the
Asab override's ``svc.schedule(func, *args, name=None)`` when the override
is importable, and the raw GI call ``svc.schedule(name, func, user_data)``
otherwise; the rows say which.

Coroutines (with the override): N/2 trivial coroutines through
``svc.schedule(coro)``, counted in a "task-done" handler, against plain
``loop.create_task(coro)`` with a done callback on the same asyncio loop on
GLib (PyGObject's gi.events, or gbulb), in the same run.

ASAB: when ``$ASAB_BENCH_ASAB`` (or ``--asab``) names a folder that holds
ASAB's ``asab`` package and its ``asab_bench.py`` script, the callback form
is compared with ASAB's own TaskService running the same trivial workload,
one run right after the other, each run in an interpreter of its own, as
ASAB's script needs one. ASAB is never imported here; it needs Debian's
python3-aiohttp, python3-yaml and python3-fastjsonschema.

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
import os
import re
import statistics
import subprocess
import sys
import time

SKIP = 77
TARGET = 1.0
ASAB_TARGET = 1.5
COROUTINE_TARGET = 0.8


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


def glib_event_loops():
    """A function that makes asyncio event loops on GLib's default main
    context, and the name of their kind; (None, None) without one."""
    try:
        from gi.events import GLibEventLoop
    except ImportError:
        try:
            from gbulb import GLibEventLoop
        except ImportError:
            return None, None
        return lambda: GLibEventLoop(context=GLib.MainContext.default()), "gbulb"
    return lambda: GLibEventLoop(GLib.MainContext.default()), "gi.events"


def on_new_loop(new_loop, run):
    """Runs run(loop, n) on a loop of its own, closed after: the sources of
    an open loop (gbulb's watches a pipe) would slow the other workloads down."""
    def run_on_new_loop(n):
        loop = new_loop()
        try:
            return run(loop, n)
        finally:
            loop.close()
            drain(GLib.MainContext.default())
    return run_on_new_loop


async def trivial():
    pass


def run_coroutines_plain(loop, n):
    """Seconds for n coroutines through loop.create_task(), counted by a done callback."""
    async def main():
        finished = loop.create_future()
        done = [0]

        def on_done(task):
            done[0] += 1
            if done[0] == n:
                finished.set_result(None)

        start = time.perf_counter()
        for _ in range(n):
            loop.create_task(trivial()).add_done_callback(on_done)
        await finished
        return time.perf_counter() - start

    return loop.run_until_complete(main())


def run_coroutines_service(loop, n):
    """Seconds for n coroutines through svc.schedule(coro), counted by task-done."""
    service = Asab.TaskService.new(GLib.MainContext.default())

    async def main():
        finished = loop.create_future()
        done = [0]

        def on_task_done(svc, task, error):
            done[0] += 1
            if done[0] == n:
                finished.set_result(None)

        handler = service.connect("task-done", on_task_done)
        schedule = service.schedule
        start = time.perf_counter()
        for _ in range(n):
            schedule(trivial())
        await finished
        end = time.perf_counter()
        service.disconnect(handler)
        return end - start

    seconds = loop.run_until_complete(main())
    del service
    return seconds


ASAB_RATE_RE = re.compile(r"= ([0-9.]+) tasks/s")


def run_in_child(n, api):
    """Seconds that run_service(n, api) takes in a new interpreter, as ASAB's
    script runs in one: the heap and the collector of this long-lived
    process, after the other workloads, would weigh on one side only."""
    result = subprocess.run([sys.executable, __file__, "--one", api, "--tasks", str(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=600)
    if result.returncode != 0 or not result.stdout.startswith("SECONDS\t"):
        raise RuntimeError("bench.py --one %s failed: %s" % (api, result.stderr.strip()[-500:]))
    return float(result.stdout.split("\t")[1])


def run_asab(folder, n):
    """Seconds that ASAB's own TaskService takes for n trivial tasks, in a child process.

    Its script times from the first schedule to the last task_done message,
    as run_service() does here.
    """
    env = dict(os.environ, N=str(n), MODE="trivial", ASAB_SRC=os.path.join(folder, "asab"))
    result = subprocess.run([sys.executable, os.path.join(folder, "asab_bench.py")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=600)
    match = ASAB_RATE_RE.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError("ASAB's asab_bench.py failed: %s" % (result.stderr.strip()[-500:]))
    return n / float(match.group(1))


def measure(warmups, reps, variants, note):
    """Runs the variants, {name: (n, run)}, interleaved, rep after rep, in an
    order that rotates from one rep to the next; returns the median rates."""
    rates = {name: [] for name in variants}
    names = list(variants)
    for rep in range(warmups + reps):
        seconds = {}
        for i in range(len(names)):
            name = names[(i + rep) % len(names)]
            n, run = variants[name]
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
    parser.add_argument("--asab", default=os.environ.get("ASAB_BENCH_ASAB"),
                        help="folder with ASAB's asab package and asab_bench.py "
                             "(default $ASAB_BENCH_ASAB), for ASAB's figure beside ours")
    parser.add_argument("--one", choices=("override", "raw"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        # One measurement, for run_in_child().
        print(f"SECONDS\t{run_service(args.tasks, args.one)}")
        return
    if args.quick:
        args.tasks //= 10
        args.reps = 1
    n_coroutines = args.tasks // 2

    api = "override" if HAS_OVERRIDE else "raw"
    variants = {
        "baseline": (args.tasks, run_baseline),
        api: (args.tasks, lambda n: run_service(n, api)),
    }
    if HAS_OVERRIDE:
        variants["raw"] = (args.tasks, lambda n: run_service(n, "raw"))
    if args.asab:
        variants["asab"] = (args.tasks, lambda n: run_asab(args.asab, n))
        variants[api + ", own process"] = (args.tasks, lambda n: run_in_child(n, api))
    new_loop, loop_kind = glib_event_loops() if HAS_OVERRIDE else (None, None)
    if new_loop is not None:
        # Half as many: asyncio on GLib is several times slower.
        variants["coroutines, plain"] = (n_coroutines,
                                         on_new_loop(new_loop, run_coroutines_plain))
        variants["coroutines, service"] = (n_coroutines,
                                           on_new_loop(new_loop, run_coroutines_service))

    def note(text):
        if args.machine:
            print("NOTE\t" + text, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    medians = measure(args.warmups, args.reps, variants, note)
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
    if "asab" in medians:
        ours = medians[api + ", own process"]
        asab_ratio = ours / medians["asab"]
        rows.append((workload, f"{label}, each run in an interpreter of its own: {fmt(ours)}",
                     f"ASAB's own TaskService, trivial coroutines counted by its "
                     f"task_done! message, each run in an interpreter of its own: "
                     f"{fmt(medians['asab'])}",
                     f"{asab_ratio:.2f}×", f"≥ {ASAB_TARGET:.2f}×",
                     "yes" if asab_ratio >= ASAB_TARGET else "**NO**"))
    elif HAS_OVERRIDE:
        rows.append((workload, f"{label}: {fmt(medians[api])}",
                     "ASAB's own TaskService: not run (set ASAB_BENCH_ASAB to a folder with "
                     "ASAB's asab package and asab_bench.py)", "—",
                     f"≥ {ASAB_TARGET:.2f}×", "skipped"))
    if HAS_OVERRIDE:
        raw_ratio = medians["raw"] / base
        rows.append((workload, f"raw GI svc.schedule(None, func, None): {fmt(medians['raw'])}",
                     baseline_label, f"{raw_ratio:.2f}×", "— (for reference)", "—"))
    coroutine_workload = f"8. Python, {n_coroutines} trivial coroutines"
    if new_loop is not None:
        plain = medians["coroutines, plain"]
        ours = medians["coroutines, service"]
        coroutine_ratio = ours / plain
        rows.append((coroutine_workload,
                     f"svc.schedule(coro), counted in a Python task-done handler: {fmt(ours)}",
                     f"loop.create_task(coro) + a done callback, same {loop_kind} loop: "
                     f"{fmt(plain)}",
                     f"{coroutine_ratio:.2f}×", f"≥ {COROUTINE_TARGET:.2f}×",
                     "yes" if coroutine_ratio >= COROUTINE_TARGET else "**NO**"))
    elif HAS_OVERRIDE:
        rows.append((coroutine_workload, "not run: no asyncio loop on GLib "
                     "(PyGObject's gi.events or python3-gbulb)", "—", "—",
                     f"≥ {COROUTINE_TARGET:.2f}×", "skipped"))

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
