#!/usr/bin/env bash
# `sr4g generate` against the machine's floor for the same bytes (issue 15): the floor is `cat` of the input plus
# `dd` of as many output bytes as generate wrote (same files, same folder), timed by the same method in the same run,
# interleaved with generate (floor, generate with the AOT cache, generate without it, floor, ...), REPEATS times.
# Wall time by `date +%s%N` around each command, JVM start and exit included (what a user waits for), and CPU time
# (user + sys of the command and its children, GNU time), which a loaded machine disturbs far less than wall time.
# Each run writes into an empty folder; the previous run's output is deleted and `sync`ed before the clock starts.
#
#   scripts/bench-generate-floor.sh [REPEATS] > bench/results/generate-floor.md
#
# Environment: SIZES (default "20000 118287": synthetic train files from `sr4g synth --seed 0`), MEDIA (default
# "tmpfs disk"), TMPFS_DIR (default /dev/shm/sr4g-floor), DISK_DIR (default /var/tmp/sr4g-floor), NO_AOT_SIZES
# (sizes also run without the AOT cache; default "20000"), BASELINE (another sr4g checkout, built, e.g. the commit
# before a change: its ./sr4g runs interleaved too, for BASELINE_SIZES, default "20000"). Needs ~6.5 GB free in each
# medium for 118287 images.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeats="${1:-3}"
sizes="${SIZES:-20000 118287}"
media="${MEDIA:-tmpfs disk}"
no_aot_sizes="${NO_AOT_SIZES:-20000}"
tmpfs="${TMPFS_DIR:-/dev/shm/sr4g-floor}"
disk="${DISK_DIR:-/var/tmp/sr4g-floor}"
sr4g="$root/sr4g"
baseline="${BASELINE:-}"
baseline_sizes="${BASELINE_SIZES:-20000}"
. "$root/scripts/jdk.sh"
sr4g_find_jdk

"$sr4g" --version > /dev/null 2>&1 # builds the CLI and its AOT cache when missing or stale (not timed)
[ -z "$baseline" ] || "$baseline/sr4g" --version > /dev/null 2>&1
if SR4G_AOT_LOG=1 "$sr4g" --version 2>&1 | grep -q 'starting without the AOT cache'; then
  echo "note: ./sr4g does not use the AOT cache (cli/target/sr4g.aot missing, stale or made by another JVM): the AOT and no-AOT columns measure the same thing" >&2
fi

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

dir_of() { case "$1" in tmpfs) echo "$tmpfs" ;; disk) echo "$disk" ;; esac; }

input() { # medium, images -> path (made once per medium)
  local f
  f="$(dir_of "$1")/synth$2.json"
  if [ ! -s "$f" ]; then
    mkdir -p "$(dirname "$f")"
    "$sr4g" synth --images "$2" --seed 0 --out "$f" > /dev/null
  fi
  echo "$f"
}

clean() { rm -rf "$1"; sync; }

timed() { # command... -> "wall_ms cpu_ms"
  local t0 t1 cpu
  t0=$(now)
  cpu=$(/usr/bin/time -f '%U %S' "$@" 2>&1 > /dev/null | tail -1 | awk '{printf "%d", ($1 + $2) * 1000}')
  t1=$(now)
  echo "$(ms "$t0" "$t1") $cpu"
}

run_generate() { # aot|noaot|baseline, input, out -> "wall_ms cpu_ms"
  clean "$3"
  case "$1" in
    aot) timed "$sr4g" generate -q --train "$2" --out "$3" ;;
    noaot) timed env SR4G_NO_AOT=1 "$sr4g" generate -q --train "$2" --out "$3" ;;
    baseline) timed "$baseline/sr4g" generate -q --train "$2" --out "$3" ;;
  esac
}

run_floor() { # input, out, train bytes, other bytes -> "wall_ms cpu_ms"
  clean "$2"
  mkdir -p "$2"
  timed bash -c 'cat "$1" > /dev/null && dd if=/dev/zero of="$2/train.jsonl" bs=8M iflag=count_bytes count="$3" status=none \
    && dd if=/dev/zero of="$2/rest" bs=8M iflag=count_bytes count="$4" status=none' floor "$1" "$2" "$3" "$4"
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
list() { echo "$*" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ' | sed 's/ $//'; }

echo "# \`sr4g generate --emit one\` against the floor (cat input + dd output bytes) — $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
echo "- jvm: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1 || true); commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (+ local changes)')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- command: scripts/bench-generate-floor.sh $repeats (SIZES=\"$sizes\" MEDIA=\"$media\" BASELINE=\"$baseline\"); wall ms per run, JVM start included"
[ -z "$baseline" ] || echo "- baseline: $baseline at commit $(git -C "$baseline" rev-parse --short HEAD)"
echo
echo "| images | input MB | output MB | medium | floor wall ms (runs) | sr4g wall ms, AOT cache (runs) | wall ratio | floor CPU s | sr4g CPU s | CPU ratio | sr4g wall ms, no AOT cache (runs) | its CPU s | baseline wall ms (runs) | its CPU s |"
echo "|---:|---:|---:|---|---|---|---:|---:|---:|---:|---|---:|---|---:|"
for n in $sizes; do
  for m in $media; do
    in="$(input "$m" "$n")"
    out="$(dir_of "$m")/out"
    # One untimed run tells the output sizes (and warms the page cache for the input, as for every later run).
    run_generate aot "$in" "$out" > /dev/null
    tb=$(stat -c %s "$out/train.jsonl")
    all=$(du -sb --apparent-size "$out" | cut -f1)
    rb=$((all - tb))
    fw="" fc="" aw="" ac="" nw="" nc="" bw="" bc=""
    for _ in $(seq "$repeats"); do
      read -r w c < <(run_floor "$in" "$out" "$tb" "$rb"); fw="$fw $w"; fc="$fc $c"
      read -r w c < <(run_generate aot "$in" "$out"); aw="$aw $w"; ac="$ac $c"
      if [[ " $no_aot_sizes " == *" $n "* ]]; then
        read -r w c < <(run_generate noaot "$in" "$out"); nw="$nw $w"; nc="$nc $c"
      fi
      if [ -n "$baseline" ] && [[ " $baseline_sizes " == *" $n "* ]]; then
        read -r w c < <(run_generate baseline "$in" "$out"); bw="$bw $w"; bc="$bc $c"
      fi
    done
    clean "$out"
    fm=$(echo "$fw" | median) am=$(echo "$aw" | median) fcm=$(echo "$fc" | median) acm=$(echo "$ac" | median)
    row="| $n | $(($(stat -c %s "$in") / 1000000)) | $((all / 1000000)) | $m | $fm ($(list $fw)) | $am ($(list $aw))"
    row="$row | $(awk -v a="$am" -v f="$fm" 'BEGIN {printf "%.2f", a / f}')"
    row="$row | $(awk -v v="$fcm" 'BEGIN {printf "%.2f", v / 1000}') | $(awk -v v="$acm" 'BEGIN {printf "%.2f", v / 1000}')"
    row="$row | $(awk -v a="$acm" -v f="$fcm" 'BEGIN {printf "%.2f", a / f}') |"
    if [ -n "$nw" ]; then
      row="$row $(echo "$nw" | median) ($(list $nw)) | $(echo "$nc" | median | awk '{printf "%.2f", $1 / 1000}') |"
    else
      row="$row – | – |"
    fi
    if [ -n "$bw" ]; then
      row="$row $(echo "$bw" | median) ($(list $bw)) | $(echo "$bc" | median | awk '{printf "%.2f", $1 / 1000}') |"
    else
      row="$row – | – |"
    fi
    echo "$row"
  done
done
echo
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- ratios = median sr4g / median floor (wall, and CPU user + sys). Inputs stay in \`$tmpfs\` and \`$disk\` for reruns (delete them when done)."
