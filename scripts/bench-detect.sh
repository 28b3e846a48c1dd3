#!/usr/bin/env bash
# CPU throughput of OWL-ViT detection: `sr4g bench detect` and the PyTorch-eager reference
# (scripts/bench-detect-eager.py, Debian's python3-torch on the same libtorch), interleaved, REPEATS (2) times, for the
# google/owlvit-base-patch32 shape at 768 px, batch 1 and 8. Writes the raw output to OUT (default
# bench/results/detect-cpu.txt); bench/results/detect-cpu.md summarises it.
#
#   scripts/bench-detect.sh                      # the machine's BLAS
#   BLAS_DIR=/path/to/openblas-pthread scripts/bench-detect.sh
#                                                # both processes on another libblas.so.3 (LD_LIBRARY_PATH), e.g. the
#                                                # files of Debian's libopenblas0-pthread unpacked with dpkg -x
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
sr4g_find_jdk
out="${OUT:-bench/results/detect-cpu.txt}"
repeats="${REPEATS:-2}"
[ -f cli/target/sr4g.jar ] || ./mvnw -B -ntp -q -DskipTests package
if [ -n "${BLAS_DIR:-}" ]; then export LD_LIBRARY_PATH="$BLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
sr4g=("$JAVA_HOME/bin/java" -Xmx2g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar cli/target/sr4g.jar)
{
  echo "date: $(date -u +%FT%TZ)"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GB RAM"
  echo "blas: ${BLAS_DIR:-the system's libblas.so.3: $(readlink -f "$(ldconfig -p | grep -m1 'libblas.so.3 ' | sed 's/.*=> //')")}"
  echo "java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
  echo "python torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
} >"$out"
for r in $(seq 1 "$repeats"); do
  for b in 1 8; do
    # A base-patch32 pass at batch 8 takes minutes on 2 loaded cores: fewer passes there, no warm-up (the first
    # pass of a batch-1 run already showed the warm-up is within the spread).
    steps=3 warm=1; [ "$b" = 8 ] && steps=2 warm=0
    for who in sr4g eager; do
      echo "== repeat $r batch $b $who   (uptime: $(uptime | sed 's/.*load/load/'))" | tee -a "$out"
      if [ "$who" = sr4g ]; then
        "${sr4g[@]}" bench detect --shape owlvit-b32 --batch "$b" --steps "$steps" --warmup "$warm" 2>/dev/null | tee -a "$out"
      else
        /usr/bin/python3 scripts/bench-detect-eager.py --shape owlvit-b32 --batch "$b" --steps "$steps" --warmup "$warm" | tee -a "$out"
      fi
    done
  done
done
echo "done: $out"
