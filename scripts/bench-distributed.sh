#!/usr/bin/env bash
# The numbers of bench/results/train-distributed-cpu.md: data-parallel training steps and the gradient all-reduce with
# c10d's Gloo backend between processes on this machine (loopback), side by side with PyTorch's own torch.distributed
# on the same libtorch (Debian python3-torch; skipped when /usr/bin/python3 has no torch). Prints the load average
# before and after each part: on a shared machine, compare only numbers taken in the same run.
#   scripts/bench-distributed.sh [repeats]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
k="${1:-3}"
py=/usr/bin/python3
have_py=0
"$py" -c 'import torch.distributed as d; assert d.is_gloo_available()' 2>/dev/null && have_py=1
echo "## $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; commit $(git rev-parse --short HEAD)"
echo "load before: $(uptime)"
# Training steps: 1 process against 2, alternated $k times (tiny UNet, batch 4 per process, 32 px).
./sr4g bench train --shape tiny --batch 4 --res 32 --steps 5 --warmup 1 --nproc-per-node 2 --repeats "$k" 2>&1 | grep -v '^WARNING'
echo "load: $(uptime)"
# The all-reduce alone: the tiny UNet's 3.0 MiB of gradients and 10M floats, ours then torch.distributed's, $k times.
for mib in 3.02 38.15; do
  for i in $(seq "$k"); do
    ./sr4g bench allreduce --nproc-per-node 2 --mib "$mib" --repeats 20 2>&1 | grep '^bench allreduce'
    if [ "$have_py" = 1 ]; then "$py" scripts/reference_allreduce.py --nproc 2 --mib "$mib" --repeats 20 2>&1 | tail -1; fi
  done
done
echo "load after: $(uptime)"
