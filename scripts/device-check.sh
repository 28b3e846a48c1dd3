#!/usr/bin/env bash
# GPU verification of the native engine, in two halves.
#
#   scripts/device-check.sh --prepare      here (JDK 25 + Maven): builds the jars and writes .device/ with a jlink
#                                          runtime (jre.tar.gz), sr4g.jar, benchmarks.jar, the test classes, the JUnit
#                                          console launcher and the fatbin built here.
#   scripts/device-check.sh [out-dir]      on a machine with CUDA and PyTorch but no Java (carry .device/): unpacks
#                                          the runtime, builds the C layer against the machine's PyTorch, runs
#                                          `sr4g doctor`, the GPU (and all native) tests and the relation-kernel
#                                          benchmark, and writes the results to out-dir (default $OUT or .device/out).
# Every step runs even if an earlier one failed; summary.txt lists each step's exit code.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dev="$root/.device"
junit_version=1.14.1

if [ "${1:-}" = "--prepare" ]; then
  set -e
  . scripts/jdk.sh
  sr4g_find_jdk
  export PATH="$JAVA_HOME/bin:$PATH"
  mvn -B -ntp -q -DskipTests package
  mvn -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version -DoutputDirectory="$dev"
  rm -rf "$dev/jre" "$dev/jre.tar.gz"
  mkdir -p "$dev"
  jlink --add-modules java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
    --strip-debug --no-man-pages --no-header-files --compress=zip-6 --output "$dev/jre"
  tar -C "$dev" -czf "$dev/jre.tar.gz" jre
  rm -rf "$dev/jre"
  cp cli/target/sr4g.jar bench/target/benchmarks.jar "$dev/"
  jar cf "$dev/native-tests.jar" -C native/target/test-classes .
  cp core/target/sr4g-core-*-tests.jar "$dev/core-tests.jar"
  if [ -f native/target/native-build/sr4g_kernels.fatbin ]; then cp native/target/native-build/sr4g_kernels.fatbin "$dev/"; fi
  du -sh "$dev"/* && echo "prepared $dev: carry it to the GPU machine and run scripts/device-check.sh there"
  exit 0
fi

out="${1:-${OUT:-$dev/out}}"
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
step() { # step NAME LOGFILE CMD...: runs, logs, records the exit code
  local name="$1" log="$2"
  shift 2
  echo "== $name" >&2
  "$@" >"$out/$log" 2>&1
  local rc=$?
  echo "$name rc=$rc ($log)" | tee -a "$summary" >&2
  return 0
}

{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi: unavailable"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "abi", torch._C._GLIBCXX_USE_CXX11_ABI)' 2>&1
  command -v nvcc && nvcc --version | tail -1
  command -v g++ && g++ --version | head -1
  lscpu | sed -n 's/^Model name: *//p'
} >"$out/machine.txt" 2>&1

jre=/tmp/sr4g-jre
rm -rf "$jre" && mkdir -p "$jre" && tar -C "$jre" --strip-components=1 -xzf "$dev/jre.tar.gz"
java="$jre/bin/java"
"$java" -version >>"$out/machine.txt" 2>&1

# The C layer against this machine's PyTorch (libtorch 2.x with CUDA), nvcc kernels if nvcc is here.
native="$dev/native"
mkdir -p "$native"
step build-native build-native.log env TORCH_FROM_PYTHON="${TORCH_FROM_PYTHON:-1}" NATIVE_REQUIRE=true bash native/build-native.sh "$dev/native-build" "$native"
if [ ! -f "$native/sr4g_kernels.fatbin" ] && [ -f "$dev/sr4g_kernels.fatbin" ]; then
  # No nvcc here: use the fatbin built on the build machine (sm_80/sm_90 SASS, compute_90 PTX).
  cp "$dev/sr4g_kernels.fatbin" "$native/" && echo "using the carried fatbin (no nvcc here)" >>"$out/build-native.log"
fi

# PyTorch's CUDA libraries (pip nvidia-* wheels) are found through libtorch_cuda's RUNPATH; to be safe when something
# is dlopen'ed later (cuDNN sub-libraries, NVRTC), put them on the loader path as python's torch/__init__ would.
tdir=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
if [ -n "$tdir" ]; then
  extra="$tdir/lib"
  for d in "$tdir"/../nvidia/*/lib; do [ -d "$d" ] && extra="$extra:$(cd "$d" && pwd)"; done
  export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >>"$out/machine.txt"
fi

J=("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dsr4g.native.path="$native")
step doctor-json doctor.json "${J[@]}" -jar "$dev/sr4g.jar" doctor --json --steps 20
step doctor doctor.txt "${J[@]}" -jar "$dev/sr4g.jar" doctor --steps 20
# All native tests (CPU ones included: they check the 2.x code paths), with the GPU ones not skipped here.
step tests tests.txt env CI=true "${J[@]}" -jar "$dev/junit-platform-console-standalone-$junit_version.jar" execute \
  --class-path "$dev/native-tests.jar:$dev/core-tests.jar:$dev/sr4g.jar" \
  --select-package org.sr4g.torch --select-package org.sr4g.cuda \
  --details=tree --disable-banner --reports-dir "$out/junit"
step relation-bench relation-bench.txt "${J[@]}" -cp "$dev/benchmarks.jar" org.sr4g.bench.GpuRelationKernelBench 100 1000 4000
cat "$summary"
