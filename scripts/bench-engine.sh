#!/usr/bin/env bash
# sr4g's engine against PyTorch eager on the same libtorch, side by side, interleaved, as each is launched:
#   ./sr4g bench infer --shape sd15 --res 64     vs  scripts/reference_unet.py infer --shape sd15 --res 64
#   ./sr4g bench train --shape tiny --batch 4 --res 64   vs  scripts/reference_unet.py train (same)
# then sr4g sample's batching (bench sample --batch 4) and, with MEMORY=1, the tiny model at 512 px (sample and train,
# peak RSS). ./sr4g is run as a user runs it (it preloads tcmalloc itself: no environment variable is set here);
# Python gets the same tcmalloc through scripts/malloc.sh, as `LD_PRELOAD=... python3` would.
#
#   scripts/bench-engine.sh [OUT]       OUT: raw log (default bench/results/engine-cpu-raw.txt); ROUNDS=3 STEPS=5
#                                       WORK="infer train sample" (any subset), MEMORY=1 adds the 512 px runs
#
# Needs Debian's python3-torch (apt-get install -y --no-install-recommends python3-torch), the same libtorch 1.13 as
# libtorch-dev; the reference is first checked against ../shared/golden/unet_a (outputs and gradients) and nothing is
# timed if it fails. Every process runs under a watchdog that kills it past LIMIT_MIB (default 5120) of RSS.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-bench/results/engine-cpu-raw.txt}"
rounds="${ROUNDS:-3}" steps="${STEPS:-5}" limit="${LIMIT_MIB:-5120}"
py=/usr/bin/python3

# run LABEL CMD...: the command under an RSS watchdog, its output and the load around it appended to $out
run() {
  local label="$1"; shift
  { echo "### $label"; echo "\$ $*"; echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } >>"$out"
  "$@" >>"$out" 2>&1 &
  local pid=$! peak=0 rss r
  while kill -0 "$pid" 2>/dev/null; do
    rss=0
    for p in $pid $(pgrep -P "$pid"); do
      r=$(awk '/^VmRSS:/{print $2}' /proc/"$p"/status 2>/dev/null) # empty once the process is gone
      rss=$((rss + ${r:-0}))
    done
    [ "$rss" -gt "$peak" ] && peak=$rss
    if [ "$rss" -gt $((limit * 1024)) ]; then echo "WATCHDOG: RSS ${rss} kB > ${limit} MiB: killed" >>"$out"; kill -9 "$pid" $(pgrep -P "$pid"); fi
    sleep 0.5
  done
  wait "$pid"
  { echo "exit $?; watchdog peak RSS $((peak / 1024)) MiB; load after: $(cut -d' ' -f1-3 /proc/loadavg)"; echo; } >>"$out"
}

pytorch() { # the reference with the same malloc ./sr4g preloads
  ( . scripts/malloc.sh; sr4g_preload_malloc; exec "$py" scripts/reference_unet.py "$@" )
}

mkdir -p "$(dirname "$out")"
{
  echo "# scripts/bench-engine.sh — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null)"
  echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(free -g | awk '/Mem:/{print $2}') GiB RAM"
  echo "# isa: $(grep -o -w -E 'avx2|avx512f|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "# uptime: $(uptime)"
  echo "# rounds $rounds, $steps timed steps + 1 warm-up per run"
} >"$out"
"$py" -c 'import torch' 2>/dev/null || { echo "no python3-torch: apt-get install -y --no-install-recommends python3-torch" | tee -a "$out"; exit 1; }
./sr4g doctor >/dev/null 2>&1 || true # builds the CLI if needed
jv=$(./sr4g doctor --json 2>/dev/null | "$py" -c 'import json,sys; print(json.load(sys.stdin)["libtorch"]["version"])')
pv=$("$py" -c 'import torch; print(torch.__version__)')
echo "# libtorch: sr4g $jv, python3-torch $pv" >>"$out"
echo "# $(./sr4g doctor 2>/dev/null | grep '^blas' | tr -s ' ')" >>"$out"
case "$pv" in "${jv%.*}"*) ;; *) echo "libtorch versions differ (sr4g $jv, python $pv): not comparable" | tee -a "$out"; exit 1 ;; esac
run "reference check against the golden unet_a" pytorch check
grep -q "reference_unet check: PASS" "$out" || { echo "the reference UNet does not match the golden values" >&2; exit 1; }

# WORK picks the comparisons (default "infer train sample"); within a round the side that runs first alternates, so
# a drift of the machine's speed does not favour one side.
work=" ${WORK:-infer train sample} "
pair() { # pair ROUND WHAT SR4G_ARGS... -- PYTORCH_ARGS...
  local r="$1" what="$2"; shift 2
  local sargs=() pargs=()
  while [ "$1" != "--" ]; do sargs+=("$1"); shift; done
  shift; pargs=("$@")
  if [ $((r % 2)) = 1 ]; then
    run "round $r: sr4g $what" ./sr4g "${sargs[@]}"
    run "round $r: pytorch $what" pytorch "${pargs[@]}"
  else
    run "round $r: pytorch $what" pytorch "${pargs[@]}"
    run "round $r: sr4g $what" ./sr4g "${sargs[@]}"
  fi
}
for r in $(seq 1 "$rounds"); do
  case "$work" in *" infer "*)
    pair "$r" "infer sd15 res 64" bench infer --shape sd15 --res 64 --steps "$steps" -- infer --shape sd15 --res 64 --steps "$steps" ;;
  esac
  case "$work" in *" train "*)
    pair "$r" "train tiny batch 4 res 64" bench train --shape tiny --batch 4 --res 64 --steps "$steps" \
      -- train --shape tiny --batch 4 --res 64 --steps "$steps" ;;
  esac
done
case "$work" in *" sample "*) run "sr4g sample batching" ./sr4g bench sample --batch 4 --steps 10 --repeats 3 ;; esac
if [ "${MEMORY:-0}" = 1 ]; then
  run "tiny model samples at 512 px" ./sr4g bench sample --res 512 --images 1 --steps 1 --warmup 0
  run "tiny model trains at 512 px" ./sr4g bench train --res 512 --batch 1 --steps 1 --warmup 0
fi
echo "# uptime at the end: $(uptime)" >>"$out"

# Summary: per round, the median step of each side (wall and this thread's CPU time) and their ratios.
"$py" - "$out" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
runs = {r.split("\n", 1)[0]: r for r in re.split(r"^### ", text, flags=re.M)[1:]}
def grab(label, pat):
    m = re.search(pat, runs.get(label, ""), re.M)
    return float(m.group(1)) if m else None
rounds = sorted({int(m) for m in re.findall(r"^### round (\d+):", text, re.M)})
lines = ["", "## summary: median step in ms (wall / this thread's CPU time), sr4g over pytorch, first timed step over the median"]
pats = {"sr4g infer": (r"^unet_step_median_ms: ([0-9.]+)", r"^unet_step_cpu_median_ms: ([0-9.]+)", r"^first_step_over_median: ([0-9.]+)"),
        "sr4g train": (r"^median step ([0-9.]+) ms", r"^step cpu ms: .*\(median ([0-9.]+)", r"^first step / median: ([0-9.]+)"),
        "pytorch": (r"^step_median_ms: ([0-9.]+)", r"^step_cpu_median_ms: ([0-9.]+)", r"^first_step_over_median: ([0-9.]+)")}
for what, kind in (("infer sd15 res 64", "sr4g infer"), ("train tiny batch 4 res 64", "sr4g train")):
    wall, cpu = [], []
    for k in rounds:
        s = [grab("round %d: sr4g %s" % (k, what), p) for p in pats[kind]]
        p = [grab("round %d: pytorch %s" % (k, what), q) for q in pats["pytorch"]]
        if s[0] and p[0]:
            wall.append(s[0] / p[0])
            if s[1] and p[1]:
                cpu.append(s[1] / p[1])
            lines.append("%-26s round %d: sr4g %8.1f / %8s  pytorch %8.1f / %8s  ratio wall %.2f cpu %s  first/median sr4g %s pytorch %s"
                         % (what, k, s[0], s[1], p[0], p[1], s[0] / p[0], "%.2f" % (s[1] / p[1]) if s[1] and p[1] else "-", s[2], p[2]))
    if wall:
        lines.append("%-26s median ratio: wall %.2f (%.2f..%.2f)%s" % (what, statistics.median(wall), min(wall), max(wall),
                     ", cpu %.2f (%.2f..%.2f)" % (statistics.median(cpu), min(cpu), max(cpu)) if cpu else ""))
print("\n".join(lines))
open(sys.argv[1], "a").write("\n".join(lines) + "\n")
PY
