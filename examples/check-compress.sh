#!/bin/sh
# Runs the compress example and checks its exit status and output.
#
#   check-compress.sh COMPRESS CASE
#
# CASE is one of: samples, missing-file, bad-jobs, bad-option, bad-output-dir.
# Exits 0 when the case passes, 1 when it fails.

set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 COMPRESS CASE" >&2
  exit 1
fi

compress=$1
case_name=$2

# compress runs in a folder of its own: meson may name it relative to here.
case $compress in
  /*) ;;
  *) compress="$(pwd)/$compress" ;;
esac

work="${TMPDIR:-/tmp}/check-compress.$$"
mkdir "$work" || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

fail () {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# run EXPECTED_STATUS [ARGUMENT...]: runs compress in $work, with its output
# (stdout and stderr) in $output, and fails unless it exits with
# EXPECTED_STATUS.
run () {
  expected=$1
  shift
  output=$(cd "$work" && "$compress" "$@" 2>&1)
  status=$?
  printf '%s\n' "$output"
  [ "$status" -eq "$expected" ] || fail "exit status $status, expected $expected"
}

# expect_line ERE: fails unless a line of the last output matches ERE.
expect_line () {
  printf '%s\n' "$output" | grep -Eq -- "$1" || fail "no line matches: $1"
}

# count_lines ERE: the number of lines of the last output that match ERE.
count_lines () {
  printf '%s\n' "$output" | grep -Ec -- "$1"
}

make_text_file () {
  i=0
  while [ $i -lt 2000 ]; do
    echo "line $i of a text that compresses well"
    i=$((i + 1))
  done >"$1"
}

case $case_name in
  samples)
    run 0
    expect_line '^6 files, 6 compressed, 0 failed, [0-9]+ -> [0-9]+ bytes$'
    [ "$(count_lines '^compressed [^ ]+: [0-9]+ -> [0-9]+ bytes$')" -eq 6 ] ||
      fail "expected 6 compressed files"
    dir=$(printf '%s\n' "$output" | sed -n 's/^sample files in //p')
    [ -n "$dir" ] || fail "the sample folder is not named"
    [ ! -e "$dir" ] || fail "$dir has not been removed"
    ;;

  missing-file)
    make_text_file "$work/present.txt"
    run 1 present.txt does-not-exist.txt
    expect_line '^compressed present\.txt: [0-9]+ -> [0-9]+ bytes$'
    expect_line '^failed does-not-exist\.txt: .+'
    expect_line '^2 files, 1 compressed, 1 failed, [0-9]+ -> [0-9]+ bytes$'
    [ -f "$work/present.txt.gz" ] || fail "present.txt.gz is missing"
    [ ! -e "$work/does-not-exist.txt.gz" ] || fail "does-not-exist.txt.gz was written"
    if command -v gzip >/dev/null 2>&1; then
      gzip -dc "$work/present.txt.gz" | cmp -s - "$work/present.txt" ||
        fail "present.txt.gz does not decompress to present.txt"
    fi
    ;;

  bad-jobs)
    run 2 --jobs 0
    expect_line 'jobs'
    ;;

  bad-option)
    run 2 --no-such-option
    ;;

  bad-output-dir)
    make_text_file "$work/present.txt"
    run 2 --output-dir "$work/no-such-dir" present.txt
    expect_line 'no-such-dir'
    [ ! -e "$work/present.txt.gz" ] || fail "present.txt.gz was written"
    ;;

  *)
    fail "unknown case: $case_name"
    ;;
esac

echo "PASS: $case_name"
