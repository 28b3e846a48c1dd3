#!/usr/bin/env bash
# GPU verification of the native engine, in two halves.
#
#   scripts/device-check.sh --prepare      here (JDK 25 + Maven): builds the jars and writes .device/ with a jlink
#                                          runtime (jre.tar.xz), sr4g.jar, benchmarks.jar, the test classes (native,
#                                          core, diffusion, detection), the golden fixtures, the JUnit console
#                                          launcher and the fatbin built here.
#   scripts/device-check.sh [out-dir]      on a machine with CUDA and PyTorch but no Java (carry .device/): unpacks
#                                          the runtime, builds the C layer against the machine's PyTorch, runs
#                                          `sr4g doctor`, the native, diffusion and detection tests (the CUDA ones run
#                                          there), NCCL with one rank (NcclTest, NCCL's version), the relation-kernel
#                                          benchmark, `sr4g bench infer` / `bench train` on the SD 1.5 shape, `sr4g
#                                          bench detect` on the OWL-ViT shapes, and the per-op overhead benchmark on
#                                          that machine's CPU, and
#                                          writes the results to out-dir (default $OUT or .device/out).
#   QUICK=1 scripts/device-check.sh        the same without the benchmarks (tests and doctor only).
# The Java and Python processes run with tcmalloc preloaded (scripts/malloc.sh) where the machine has it, as ./sr4g.
# Engine comparisons (issue 17): the SD 1.5 UNet step at 512 px, f16 and bf16, batch 1 and 8, `sr4g bench infer`
# against PyTorch eager with scaled_dot_product_attention (scripts/reference_unet.py infer --device cuda), and images/s
# of `sr4g bench sample` against diffusers' StableDiffusionPipeline on the same random SD 1.5-shaped folder
# (scripts/device_pipeline.py; needs diffusers and transformers there, else that step records exit 3).
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
  ./mvnw -B -ntp -q -DskipTests package
  ./mvnw -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version -DoutputDirectory="$dev"
  rm -rf "$dev/jre" "$dev/jre.tar.gz" "$dev/jre.tar.xz" "$dev/golden"
  mkdir -p "$dev"
  # An uncompressed image packed with xz is about a third of a zip-compressed image packed with gzip (the carry
  # limit is 64 MiB for everything).
  jlink --add-modules java.base,java.desktop,java.logging,java.management,java.naming,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
    --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$dev/jre"
  tar -C "$dev" -cJf "$dev/jre.tar.xz" jre
  rm -rf "$dev/jre"
  cp cli/target/sr4g.jar bench/target/benchmarks.jar "$dev/"
  jar cf "$dev/native-tests.jar" -C native/target/test-classes .
  jar cf "$dev/diffusion-tests.jar" -C diffusion/target/test-classes .
  jar cf "$dev/detection-tests.jar" -C detection/target/test-classes .
  cp core/target/sr4g-core-*-tests.jar "$dev/core-tests.jar"
  # The golden fixtures (6 MB) for the CUDA parity tests: the GPU machine has no ../shared.
  golden="${SR4G_GOLDEN_DIR:-$root/../shared/golden}"
  if [ -d "$golden" ]; then cp -r "$golden" "$dev/golden"; else echo "WARN: no golden fixtures at $golden: the CUDA parity tests will skip"; fi
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
rm -rf "$jre" && mkdir -p "$jre" && tar -C "$jre" --strip-components=1 -xJf "$dev/jre.tar.xz"
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

. "$root/scripts/malloc.sh"
sr4g_preload_malloc
echo "malloc: $SR4G_MALLOC_STATUS" >>"$out/machine.txt"
J=("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dsr4g.native.path="$native")
step doctor-json doctor.json "${J[@]}" -jar "$dev/sr4g.jar" doctor --json --steps 20
step doctor doctor.txt "${J[@]}" -jar "$dev/sr4g.jar" doctor --steps 20
# All native tests (CPU ones included: they check the 2.x code paths), with the GPU ones not skipped here. The wheels
# have no Gloo headers, so the Gloo (CPU) process-group tests skip here; NCCL is checked by NcclTest (one rank).
step tests tests.txt env CI=true SR4G_GLOO_OPTIONAL=1 "${J[@]}" -jar "$dev/junit-platform-console-standalone-$junit_version.jar" execute \
  --class-path "$dev/native-tests.jar:$dev/core-tests.jar:$dev/sr4g.jar" \
  --select-package org.sr4g.torch --select-package org.sr4g.cuda \
  --details=tree --disable-banner --reports-dir "$out/junit"
# Distributed training's NCCL path with one rank on this GPU (NCCL refuses two ranks on one device): the process group,
# its collectives and DDP's Reducer on CUDA tensors; prints NCCL's version (also in doctor.txt, "distributed").
step nccl-one-rank nccl-one-rank.txt env CI=true "${J[@]}" -jar "$dev/junit-platform-console-standalone-$junit_version.jar" \
  execute --class-path "$dev/native-tests.jar:$dev/core-tests.jar:$dev/sr4g.jar" --select-class org.sr4g.torch.NcclTest \
  --details=tree --disable-banner --reports-dir "$out/junit-nccl"
# The model stack: golden parity on CUDA (f32, TF32 off), bf16, SDPA, gradient checkpointing (CudaModelsTest), and
# fp16 training with loss scaling (MixedPrecisionTest, whose other cases are quick CPU ones). Not the whole diffusion
# suite: its CPU tests already run in CI.
step diffusion-gpu-tests diffusion-gpu-tests.txt env CI=true SR4G_GOLDEN_DIR="$dev/golden" "${J[@]}" \
  -jar "$dev/junit-platform-console-standalone-$junit_version.jar" execute \
  --class-path "$dev/diffusion-tests.jar:$dev/native-tests.jar:$dev/core-tests.jar:$dev/sr4g.jar" \
  --select-package org.sr4g.diffusion --include-classname '.*(Cuda.*|MixedPrecisionTest)' \
  --details=tree --disable-banner --reports-dir "$out/junit-diffusion"
# OWL-ViT on CUDA: float32 parity with the golden fixture (TF32 off), f16/bf16 close to float32.
step detection-gpu-tests detection-gpu-tests.txt env CI=true SR4G_GOLDEN_DIR="$dev/golden" "${J[@]}" \
  -jar "$dev/junit-platform-console-standalone-$junit_version.jar" execute \
  --class-path "$dev/detection-tests.jar:$dev/diffusion-tests.jar:$dev/native-tests.jar:$dev/core-tests.jar:$dev/sr4g.jar" \
  --select-class org.sr4g.detection.CudaOwlVitTest --details=tree --disable-banner --reports-dir "$out/junit-detection"
if [ "${QUICK:-0}" != 1 ]; then
  step relation-bench relation-bench.txt "${J[@]}" -cp "$dev/benchmarks.jar" org.sr4g.bench.GpuRelationKernelBench 100 1000 4000
  S=("${J[@]}" -jar "$dev/sr4g.jar")
  step infer-sd15-f16 infer-sd15-f16.txt "${S[@]}" bench infer --shape sd15 --batch 4 --res 512 --steps 10 --device cuda --dtype f16
  step infer-sd15-bf16 infer-sd15-bf16.txt "${S[@]}" bench infer --shape sd15 --batch 4 --res 512 --steps 10 --device cuda --dtype bf16
  step infer-sd15-f32 infer-sd15-f32.txt "${S[@]}" bench infer --shape sd15 --batch 4 --res 512 --steps 10 --device cuda --dtype f32
  for mp in no bf16; do
    for gc in "" --gradient-checkpointing; do
      step "train-sd15-$mp${gc:+-gc}" "train-sd15-$mp${gc:+-gc}.txt" "${S[@]}" bench train --shape sd15 --batch 4 --res 512 \
        --steps 6 --device cuda --mixed-precision "$mp" $gc
    done
  done
  for dt in f32 f16; do
    for b in 1 8 32; do
      step "detect-b32-$dt-b$b" "detect-b32-$dt-b$b.txt" "${S[@]}" bench detect --shape owlvit-b32 --batch "$b" --steps 10 --device cuda --dtype "$dt"
    done
    step "detect-l14-$dt-b8" "detect-l14-$dt-b8.txt" "${S[@]}" bench detect --shape owlvit-l14 --batch 8 --steps 5 --device cuda --dtype "$dt"
  done
  # Engine against PyTorch eager (SDPA) on this GPU: the SD 1.5 UNet step at 512 px, interleaved per setting.
  for dt in f16 bf16; do
    for b in 1 8; do
      step "engine-sr4g-sd15-$dt-b$b" "engine-sr4g-sd15-$dt-b$b.txt" "${S[@]}" bench infer --shape sd15 --res 512 \
        --batch "$b" --steps 10 --warmup 2 --device cuda --dtype "$dt"
      step "engine-pytorch-sd15-$dt-b$b" "engine-pytorch-sd15-$dt-b$b.txt" python3 scripts/reference_unet.py infer \
        --shape sd15 --res 512 --batch "$b" --steps 10 --warmup 2 --device cuda --dtype "$dt" --attention sdpa
    done
  done
  # Whole images: sr4g bench sample against diffusers' pipeline on one random SD 1.5-shaped folder (f16, 20 steps).
  sdfolder="$out/sd15-random"
  step pipeline-write pipeline-write.txt python3 scripts/device_pipeline.py write "$sdfolder" "$dev/golden"
  if [ -f "$sdfolder/model_index.json" ]; then
    for b in 1 8; do
      step "sample-sr4g-b$b" "sample-sr4g-b$b.txt" "${S[@]}" bench sample --model "$sdfolder" --device cuda --dtype f16 \
        --batch "$b" --images 8 --steps 20 --res 512 --warmup 1
      step "sample-diffusers-b$b" "sample-diffusers-b$b.txt" python3 scripts/device_pipeline.py time "$sdfolder" \
        --batch "$b" --images 8 --steps 20 --res 512 --dtype f16
    done
    rm -rf "$sdfolder"
  fi
  # The binding's per-op cost on this machine's (quiet, 16-core) CPU, against the same ops in C++, in one JMH run.
  # (-jvmArgsAppend replaces the @Fork arguments, so it repeats --enable-native-access.)
  step native-overhead native-overhead.txt "${J[@]}" -jar "$dev/benchmarks.jar" NativeOverheadBench \
    -jvmArgsAppend "--enable-native-access=ALL-UNNAMED -Dsr4g.native.path=$native -Dsr4g.oploop=$dev/native-build/libsr4g_oploop.so" \
    -rf json -rff "$out/native-overhead.json"
fi
cat "$summary"
