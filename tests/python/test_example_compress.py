# test_example_compress.py: runs examples/compress.py
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gzip
import os
import re
import subprocess
import sys

import pytest

EXAMPLES_DIR = os.environ.get('ASAB_EXAMPLES_DIR',
                              os.path.join(os.path.dirname(__file__), '..', '..', 'examples'))

COMPRESSED = re.compile(r'^compressed ([^ ]+): ([0-9]+) -> ([0-9]+) bytes$')
SUMMARY = re.compile(r'^([0-9]+) files?, ([0-9]+) compressed, ([0-9]+) failed, '
                     r'([0-9]+) -> ([0-9]+) bytes$')


def compress(cwd, *args):
    """Runs compress.py in cwd; gives its exit status, stdout lines and stderr lines."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES_DIR, 'compress.py'), *args],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=30)
    return result.returncode, result.stdout.splitlines(), result.stderr.splitlines()


def write_text_file(path, n_lines=2000):
    path.write_text(''.join('line %d of a text that compresses well\n' % i
                            for i in range(n_lines)))


def summary(lines):
    [match] = [m for m in map(SUMMARY.match, lines) if m]
    return tuple(int(group) for group in match.groups())


def test_sample_files_are_compressed_then_removed(tmp_path):
    status, out, err = compress(tmp_path)

    assert status == 0, err
    [sample_dir] = [line[len('sample files in '):] for line in out
                    if line.startswith('sample files in ')]
    compressed = [m.groups() for m in map(COMPRESSED.match, out) if m]
    assert sorted(name for name, size_in, size_out in compressed) == [
        'access.log', 'chapter-1.txt', 'chapter-2.txt', 'sensors.csv', 'service.log',
        'weather.csv']
    assert all(int(size_out) < int(size_in) for name, size_in, size_out in compressed)
    n_files, n_compressed, n_failed, bytes_in, bytes_out = summary(out)
    assert (n_files, n_compressed, n_failed) == (6, 6, 0)
    assert bytes_in == sum(int(size_in) for name, size_in, size_out in compressed)
    assert bytes_in == 3174400
    assert not os.path.exists(sample_dir)


def test_missing_file_fails_alone(tmp_path):
    present = tmp_path / 'present.txt'
    write_text_file(present)

    status, out, err = compress(tmp_path, 'present.txt', 'does-not-exist.txt')

    assert status == 1
    assert [m.group(1) for m in map(COMPRESSED.match, out) if m] == ['present.txt']
    assert [line for line in err if line.startswith('failed does-not-exist.txt: ')] != []
    assert summary(out)[:3] == (2, 1, 1)
    assert gzip.decompress((tmp_path / 'present.txt.gz').read_bytes()) == present.read_bytes()
    assert not (tmp_path / 'does-not-exist.txt.gz').exists()


def test_output_dir(tmp_path):
    write_text_file(tmp_path / 'a.txt')
    (tmp_path / 'out').mkdir()

    status, out, err = compress(tmp_path, '--output-dir', 'out', 'a.txt')

    assert status == 0, err
    assert gzip.decompress((tmp_path / 'out' / 'a.txt.gz').read_bytes()) == \
        (tmp_path / 'a.txt').read_bytes()
    assert not (tmp_path / 'a.txt.gz').exists()


@pytest.mark.parametrize('jobs', [1, 2])
def test_jobs_bounds_the_files_compressed_at_once(tmp_path, jobs):
    names = ['f%d.txt' % i for i in range(5)]
    for name in names:
        write_text_file(tmp_path / name)

    status, out, err = compress(tmp_path, '--verbose', '-j', str(jobs), *names)

    assert status == 0, err
    in_flight = most = 0
    for line in out:
        if line.startswith('started '):
            in_flight += 1
            most = max(most, in_flight)
        elif COMPRESSED.match(line):
            in_flight -= 1
    assert most == jobs
    assert summary(out)[:3] == (5, 5, 0)


@pytest.mark.parametrize('args, mentions', [
    (['--jobs', '0'], 'jobs'),
    (['-j', 'many'], 'jobs'),
    (['--no-such-option'], 'no-such-option'),
    (['--output-dir', 'no-such-dir', 'a.txt'], 'no-such-dir'),
])
def test_usage_errors_exit_with_2(tmp_path, args, mentions):
    write_text_file(tmp_path / 'a.txt')

    status, out, err = compress(tmp_path, *args)

    assert status == 2
    assert out == []
    assert any(mentions in line for line in err)
    assert not (tmp_path / 'a.txt.gz').exists()
