#!/bin/sh
# A bounded fuzzing run, then a replay with LeakSanitizer of every input it
# kept: run-fuzzer.sh FUZZER REPLAY SEEDS WORKDIR SECONDS
set -eu

fuzzer=$1 replay=$2 seeds=$3 work=$4 seconds=$5

mkdir -p "$work/corpus" "$work/artifacts"

# libFuzzer's own leak check after each input mistakes the per-thread memory
# of GLib's GTask worker threads for leaks: the replay checks leaks instead.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$fuzzer" -max_total_time="$seconds" -max_len=256 -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds" 2>"$work/fuzzer.log" || {
  tail -n 60 "$work/fuzzer.log"
  exit 1
}
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/fuzzer.log" | sed 's/^/# /'

ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$replay" "$work/corpus" "$seeds"
