#!/usr/bin/env bash
# Runs JMH benchmarks and records them in bench/results/<name>.txt with a description of the machine.
# usage: scripts/bench.sh NAME [JMH args...]     e.g. scripts/bench.sh relation-kernel RelationKernelBench
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
sr4g_find_jdk
name="$1"; shift
./mvnw -B -q -ntp -DskipTests -pl bench -am package
# The engine's allocator, as ./sr4g runs it (JMH forks inherit the environment).
. scripts/malloc.sh
sr4g_preload_malloc
out="bench/results/$name.txt"
{
  echo "# $name — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p') — $(nproc) cores; $(free -g | awk '/Mem:/{print $2}') GiB RAM"
  echo "# isa: $(grep -o -w -E 'avx2|avx512f|avx512vl' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "# jvm: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# malloc: $SR4G_MALLOC_STATUS"
  echo "# command: java -jar bench/target/benchmarks.jar $*"
  "$JAVA_HOME/bin/java" -jar bench/target/benchmarks.jar "$@" -rf json -rff "bench/results/$name.json" 2>&1 \
    | grep -v -E '^WARNING: Using incubator' | sed -n '/^Benchmark /,$p'
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
