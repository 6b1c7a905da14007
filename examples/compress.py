#!/usr/bin/python3
# compress.py: compresses files concurrently, one task per file
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Compresses files concurrently, one task per file: compress.c, in Python.

    compress.py [--jobs N] [--verbose] [--output-dir DIR] [FILE...]

Each FILE becomes FILE.gz, next to it or in DIR. Each file is a task on an
Asab.TaskService that runs at most N of them at once. A task does nothing
but asynchronous GIO calls on the main thread: it opens the file, opens
FILE.gz, and splices the one into the other through a Gio.ZlibCompressor.

Without FILE, it writes sample files to a temporary folder on a worker
thread, compresses them there, and removes the folder at exit.

Exit status: 0 when every file was compressed, 1 when some file failed,
2 on a usage error, 128 + the signal's number after SIGINT or SIGTERM.

Run it from a build tree with `meson devenv -C BUILDDIR /usr/bin/python3
examples/compress.py`.
"""

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile

import gi
gi.require_version('Asab', '1.0')
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Asab, Gio, GLib  # noqa: E402

DEFAULT_JOBS = 4

EXIT_ALL_COMPRESSED = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2

PRIORITY = GLib.PRIORITY_DEFAULT


class Job:
    """One file: what its task's callbacks and task-done need."""

    def __init__(self, input_file, output_file):
        self.input = input_file
        self.output = output_file
        self.source = None
        self.output_created = False
        self.size_in = 0
        self.size_out = 0


# The task: func(task, cancellable, job), then one callback per GIO call.
# Each step completes the task, or passes it on to the next one.

def compress_file(task, cancellable, job, verbose):
    # task-done receives this same Python object.
    task.job = job
    if verbose:
        print('started %s' % task.get_name())
    job.input.read_async(PRIORITY, cancellable, input_opened, task)


def input_opened(input_file, result, task):
    job = task.job
    try:
        job.source = input_file.read_finish(result)
    except GLib.Error as error:
        fail(task, error)
        return
    job.output.replace_async(None, False, Gio.FileCreateFlags.NONE, PRIORITY,
                             task.get_cancellable(), output_opened, task)


def output_opened(output_file, result, task):
    job = task.job
    try:
        file_stream = output_file.replace_finish(result)
    except GLib.Error as error:
        fail(task, error)
        return
    job.output_created = True

    compressor = Gio.ZlibCompressor(format=Gio.ZlibCompressorFormat.GZIP)
    gzip_stream = Gio.ConverterOutputStream(base_stream=file_stream, converter=compressor)
    source, job.source = job.source, None
    # The splice closes both streams, the source included.
    gzip_stream.splice_async(source,
                             (Gio.OutputStreamSpliceFlags.CLOSE_SOURCE |
                              Gio.OutputStreamSpliceFlags.CLOSE_TARGET),
                             PRIORITY, task.get_cancellable(), input_spliced, task)


def input_spliced(gzip_stream, result, task):
    job = task.job
    try:
        job.size_in = gzip_stream.splice_finish(result)
    except GLib.Error as error:
        fail(task, error)
        return
    # FILE.gz has its final size now that the splice has closed it.
    job.output.query_info_async(Gio.FILE_ATTRIBUTE_STANDARD_SIZE, Gio.FileQueryInfoFlags.NONE,
                                PRIORITY, task.get_cancellable(), output_measured, task)


def output_measured(output_file, result, task):
    job = task.job
    try:
        info = output_file.query_info_finish(result)
    except GLib.Error as error:
        fail(task, error)
        return
    job.size_out = info.get_size()
    task.return_boolean(True)


def fail(task, error):
    """Fails the task with error, after deleting what it wrote: a truncated
    FILE.gz must not look like a good one."""
    job = task.job
    if job.source is not None:
        job.source.close_async(PRIORITY, None, None, None)
        job.source = None
    if not job.output_created:
        task.return_error(error)
        return

    def partial_output_deleted(output_file, result, task):
        try:
            output_file.delete_finish(result)
        except GLib.Error:
            pass  # What made the output worthless is the error to report.
        task.return_error(error)

    # Not with the task's cancellable: it may be why the task failed.
    job.output.delete_async(PRIORITY, None, partial_output_deleted, task)


# Sample files

SAMPLES = [
    ('chapter-1.txt', 'prose', 100 * 1024),
    ('sensors.csv', 'csv', 250 * 1024),
    ('service.log', 'log', 400 * 1024),
    ('chapter-2.txt', 'prose', 550 * 1024),
    ('weather.csv', 'csv', 800 * 1024),
    ('access.log', 'log', 1000 * 1024),
]

WORDS = (
    'task service main loop context stream file source signal callback '
    'cancellable application the a of and to in is runs waits ends schedules '
    'compresses every background work quietly later again before after while '
    'never once each event thread queue'
).split()
SENSORS = ['attic', 'cellar', 'garage', 'kitchen', 'porch', 'shed', 'study']
LOG_LEVELS = ['INFO ', 'INFO ', 'INFO ', 'DEBUG', 'WARN ']
LOG_EVENTS = ['started after', 'done in', 'waited', 'retried after']


def sample_lines(kind, rng):
    row = 0
    if kind == 'csv':
        yield 'row,sensor,celsius,humidity\n'
    while True:
        if kind == 'prose':
            sentence = ' '.join(rng.choices(WORDS, k=rng.randrange(5, 17)))
            yield sentence.capitalize() + ('.\n\n' if rng.randrange(6) == 0 else '. ')
        elif kind == 'csv':
            yield '%d,%s,%d.%d,%d\n' % (row, rng.choice(SENSORS), rng.randrange(-5, 31),
                                        rng.randrange(10), rng.randrange(20, 90))
        else:
            seconds = row * 7 + rng.randrange(7)
            yield '2026-03-01 %02d:%02d:%02d.%03d %s task %d %s %d ms\n' % (
                seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, rng.randrange(1000),
                rng.choice(LOG_LEVELS), rng.randrange(1, 50), rng.choice(LOG_EVENTS),
                rng.randrange(1, 5000))
        row += 1


def sample_text(kind, size, seed):
    """Text of exactly size bytes, the same on every run."""
    rng = random.Random(seed)
    parts = []
    length = 0
    for line in sample_lines(kind, rng):
        parts.append(line)
        length += len(line)
        if length >= size:
            break
    return ''.join(parts)[:size - 1] + '\n'


def make_samples(cancellable, directory):
    """Writes the sample files: blocking work, for a worker thread."""
    for seed, (name, kind, size) in enumerate(SAMPLES, start=1):
        cancellable.set_error_if_cancelled()
        with open(os.path.join(directory, name), 'w', encoding='ascii') as sample:
            sample.write(sample_text(kind, size, seed))


# The application

class Compress:
    def __init__(self, options):
        self.options = options
        self.loop = GLib.MainLoop()
        self.service = Asab.TaskService()
        self.service.props.max_concurrent = options.jobs
        self.sample_dir = None
        self.n_files = 0
        self.n_compressed = 0
        self.n_failed = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.exit_status = EXIT_ALL_COMPRESSED
        self.signal_number = 0
        # Each failure is reported by task-done: keep it out of the log.
        self.service.connect('task-failed', lambda service, task, error: True)

    def run(self):
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal_number, self.interrupted,
                                 signal_number)
        if self.options.files:
            self.schedule_files([Gio.File.new_for_commandline_arg(arg)
                                 for arg in self.options.files])
        else:
            self.schedule_samples()
        try:
            self.loop.run()
        finally:
            if self.sample_dir is not None:
                shutil.rmtree(self.sample_dir, ignore_errors=True)
        if self.signal_number != 0:
            return 128 + self.signal_number
        return self.exit_status

    def schedule_samples(self):
        self.sample_dir = tempfile.mkdtemp(prefix='compress-')
        handler = None

        def samples_made(service, task, error):
            service.disconnect(handler)
            if error is not None:
                print('compress: cannot make sample files: %s' % error.message, file=sys.stderr)
                self.quit(EXIT_SOME_FAILED)
                return
            print('sample files in %s' % self.sample_dir)
            self.schedule_files([Gio.File.new_for_path(os.path.join(self.sample_dir, name))
                                 for name, kind, size in SAMPLES])

        handler = self.service.connect('task-done', samples_made)
        self.service.schedule_in_thread(make_samples, self.sample_dir, name='make samples')

    def schedule_files(self, inputs):
        self.service.connect('task-done', self.file_done)
        output_dir = (Gio.File.new_for_commandline_arg(self.options.output_dir)
                      if self.options.output_dir is not None else None)
        for input_file in inputs:
            basename = input_file.get_basename()
            name = GLib.filename_display_name(basename)
            output_file = (output_dir or input_file.get_parent()).get_child(basename + '.gz')
            self.n_files += 1
            # Refused once a signal has stopped the service.
            if self.service.schedule(compress_file, Job(input_file, output_file),
                                     self.options.verbose, name=name) == 0:
                self.n_failed += 1
                print('failed %s: the task service refused it' % name, file=sys.stderr)
        # Tasks never end inside the call that schedules them.
        if self.n_failed == self.n_files:
            self.finish()

    def file_done(self, service, task, error):
        if error is None:
            job = task.job
            self.n_compressed += 1
            self.bytes_in += job.size_in
            self.bytes_out += job.size_out
            print('compressed %s: %d -> %d bytes' % (task.get_name(), job.size_in, job.size_out))
        else:
            self.n_failed += 1
            print('failed %s: %s' % (task.get_name(), error.message), file=sys.stderr)
        if self.n_compressed + self.n_failed == self.n_files:
            self.finish()

    def finish(self):
        print('%d %s, %d compressed, %d failed, %d -> %d bytes' % (
            self.n_files, 'file' if self.n_files == 1 else 'files',
            self.n_compressed, self.n_failed, self.bytes_in, self.bytes_out))
        self.service.stop_async(None, self.stopped)

    def stopped(self, service, result):
        try:
            service.stop_finish(result)
        except GLib.Error as error:
            print('compress: %s' % error.message, file=sys.stderr)
        self.quit(EXIT_SOME_FAILED if self.n_failed > 0 else EXIT_ALL_COMPRESSED)

    def quit(self, exit_status):
        self.exit_status = exit_status
        self.loop.quit()

    def interrupted(self, signal_number):
        """Cancels every file; a second signal ends the process at once."""
        if self.signal_number == 0:
            self.signal_number = signal_number
            self.service.stop_async(None, lambda service, result: self.loop.quit())
        return GLib.SOURCE_REMOVE


def parse_jobs(text):
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= GLib.MAXINT32:
        raise argparse.ArgumentTypeError('--jobs wants a number from 1 up, not “%s”' % text)
    return jobs


def parse_options(argv):
    parser = argparse.ArgumentParser(
        prog='compress.py',
        description='Compresses each FILE to FILE.gz, several at a time. Without FILE, '
                    'compresses sample files in a temporary folder, then removes it.',
        epilog='Exit status: 0 if every file was compressed, 1 if some file failed, '
               '2 on a usage error.')
    parser.add_argument('-j', '--jobs', type=parse_jobs, default=DEFAULT_JOBS, metavar='N',
                        help='compress at most N files at once (default: %d)' % DEFAULT_JOBS)
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='also say when each file starts')
    parser.add_argument('-o', '--output-dir', metavar='DIR',
                        help='write FILE.gz to DIR instead of next to FILE')
    parser.add_argument('files', nargs='*', metavar='FILE')
    options = parser.parse_args(argv)
    if options.output_dir is not None and not (os.path.isdir(options.output_dir) and
                                               os.access(options.output_dir, os.W_OK)):
        parser.error('cannot write to %s' % options.output_dir)
    return options


def main(argv):
    options = parse_options(argv)    # exits with EXIT_USAGE on a usage error
    return Compress(options).run()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
