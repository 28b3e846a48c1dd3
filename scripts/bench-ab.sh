#!/usr/bin/env bash
# Interleaved A/B of whole commands (JVM start and exit included), for changes too small to see through the noise of
# a shared machine: each round runs every variant once, in turn, REPEATS rounds; per variant it prints the runs and the
# medians of wall time and CPU time (user + sys, children included, GNU time) and max RSS. CPU time is the column to
# read on a loaded machine; the load average is printed at start and end.
#
#   scripts/bench-ab.sh REPEATS 'label A=command A' 'label B=command B' ...
#
# Each command runs through `bash -c`; OUT (default /dev/shm/sr4g-ab/out) is deleted before each run, so a command
# may write there (`--out "$OUT"`). Example (docs/generate-speed.md):
#   scripts/bench-ab.sh 5 'g1=./sr4g generate -q --train /dev/shm/synth20000.json --out "$OUT"' \
#     'serial=SR4G_JAVA_OPTS="-Xmx2g -XX:+UseSerialGC" ./sr4g generate -q --train /dev/shm/synth20000.json --out "$OUT"'
set -euo pipefail
repeats="$1"; shift
export OUT="${OUT:-/dev/shm/sr4g-ab/out}"
mkdir -p "$(dirname "$OUT")"
declare -A wall cpu rss
labels=()
for v in "$@"; do labels+=("${v%%=*}"); done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$repeats"); do
  for v in "$@"; do
    l="${v%%=*}" c="${v#*=}"
    rm -rf "$OUT"; sync
    read -r e u s m < <(/usr/bin/time -f '%e %U %S %M' bash -c "$c" 2>&1 > /dev/null | tail -1)
    wall[$l]="${wall[$l]:-} $e"
    cpu[$l]="${cpu[$l]:-} $(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')"
    rss[$l]="${rss[$l]:-} $((m / 1024))"
  done
done
rm -rf "$OUT"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo
echo "| variant | CPU s median | CPU s (runs) | wall s median | wall s (runs) | max RSS MB median |"
echo "|---|---:|---|---:|---|---:|"
for l in "${labels[@]}"; do
  echo "| $l | $(echo "${cpu[$l]}" | median) |${cpu[$l]} | $(echo "${wall[$l]}" | median) |${wall[$l]} | $(echo "${rss[$l]}" | median) |"
done
