#!/usr/bin/env bash
# Times `sr4g eval` on the full SR2D set: 31,680 prompts x 4 images (126,720 images, ~2.5 detections per image, of
# which 25,280 prompts / 101,120 images are scored), synthetic JSONL detections. Prints one wall time per run.
#
#   scripts/bench-eval.sh [RUNS] [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
work="${2:-/tmp/sr4g-bench-eval}"
mkdir -p "$work"
"$root/sr4g" prompts sr2d --out "$work/sr2d.json" 2>/dev/null
[ -f "$work/dets.jsonl" ] || "$root/sr4g" eval synth --prompts "$work/sr2d.json" --out "$work/dets.jsonl" --accuracy 0.6 2>/dev/null
python3 - "$work/dets.jsonl" <<'PY'
import json, sys
n = d = 0
for line in open(sys.argv[1]):
    n += 1; d += len(json.loads(line)["detections"])
print(f"images {n}, detections {d} ({d/n:.2f} per image)")
PY
lscpu | grep -E '^Model name|^CPU\(s\)'
uptime
for i in $(seq "$runs"); do
  /usr/bin/time -f "run $i: %e s wall, %U s user, %M KB max RSS" \
    "$root/sr4g" eval --prompts "$work/sr2d.json" --detections "$work/dets.jsonl" --out "$work/out" --quiet 2>&1 \
    | grep -v -e 'WARNING: Using incubator' -e '^wrote '
done
