#!/usr/bin/env bash
# Builds sr4g's native pieces; run by Maven (native/pom.xml) in the generate-resources phase, or by hand:
#   native/build-native.sh [build-dir] [resource-dir]
# 1. libsr4g_torch.so: the C layer over libtorch (make, incremental). libtorch is looked for, in this order, in
#    $TORCH_PREFIX, Debian's libtorch-dev, an unpacked libtorch archive ($LIBTORCH, /opt/libtorch, ~/libtorch),
#    and a Python PyTorch installation (python3 -c 'import torch'; only this one when TORCH_FROM_PYTHON=1).
# 2. sr4g_kernels.fatbin: our CUDA kernels, nvcc --fatbin for sm_80, sm_90 and compute_90 PTX.
# Anything missing prints one "SKIP" line naming the install command and the build goes on, unless
# NATIVE_REQUIRE=true (libtorch) / NATIVE_REQUIRE_CUDA=true (nvcc), which make it a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
B="$(mkdir -p "${1:-$here/target/native-build}" && cd "${1:-$here/target/native-build}" && pwd)"
R="${2:-$here/target/classes/org/sr4g/native/linux-x86_64}"
mkdir -p "$R"
require="${NATIVE_REQUIRE:-false}"
require_cuda="${NATIVE_REQUIRE_CUDA:-false}"
props="$B/native.properties.new"
: >"$props"

skip() { # $1 = what, $2 = message, $3 = required?
  if [ "$3" = true ]; then echo "[native] ERROR: $2" >&2; exit 1; fi
  echo "[native] SKIP $1: $2"
}

# --- find libtorch -------------------------------------------------------------------------------------------------
inc="" lib="" abi="" how=""
has_torch() { [ -f "$1/torch/csrc/api/include/torch/version.h" ] && [ -e "$2/libtorch_cpu.so" ]; }
if [ "${SR4G_NATIVE_SKIP_TORCH:-}" = 1 ]; then
  : # build as if no libtorch were installed (exercises the SKIP path)
elif [ "${TORCH_FROM_PYTHON:-}" = 1 ]; then
  : # scripts/device-check.sh: use the machine's PyTorch even if another libtorch is installed
elif [ -n "${TORCH_PREFIX:-}" ] && has_torch "$TORCH_PREFIX/include" "$TORCH_PREFIX/lib"; then
  inc="$TORCH_PREFIX/include" lib="$TORCH_PREFIX/lib" how="TORCH_PREFIX"
elif has_torch /usr/include /usr/lib/x86_64-linux-gnu; then
  inc=/usr/include lib=/usr/lib/x86_64-linux-gnu how="debian libtorch-dev"
else
  for d in "${LIBTORCH:-}" /opt/libtorch "$HOME/libtorch" "$here/libtorch"; do
    if [ -n "$d" ] && has_torch "$d/include" "$d/lib"; then inc="$d/include" lib="$d/lib" how="libtorch archive"; break; fi
  done
fi
if [ -z "$inc" ]; then
  for py in "${PYTHON:-python3}" python; do
    command -v "$py" >/dev/null 2>&1 || continue
    if out=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null); then
      t=$(echo "$out" | sed -n 1p)
      if has_torch "$t/include" "$t/lib"; then
        inc="$t/include" lib="$t/lib" abi=$(echo "$out" | sed -n 2p) how="python torch ($py)"; break
      fi
    fi
  done
fi

if [ -z "$inc" ]; then
  skip "libtorch" "no libtorch found (install: apt-get install -y --no-install-recommends libtorch-dev, or set TORCH_PREFIX); the Java torch API will report itself unavailable" "$require"
  rm -f "$R/libsr4g_torch.so"
else
  if [ -z "$abi" ]; then
    # Archives come in both C++ ABIs; the library itself tells which one it was built with.
    # (grep without -q: -q exits early, nm dies of SIGPIPE, and pipefail would turn that into a wrong "0".)
    if nm -D --defined-only "$lib/libc10.so" 2>/dev/null | grep '__cxx11' >/dev/null; then abi=1; else abi=0; fi
  fi
  version=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$inc/torch/csrc/api/include/torch/version.h" | paste -sd.)
  # libtorch 2.10+ headers may use C++20; older ones are C++17 (1.13's do not all build as C++20).
  std=c++17
  case "$version" in 1.*|2.[0-9].*) ;; *) std=c++20 ;; esac
  cxxflags="-std=$std -O2 -fPIC -Wall -Wno-unused-parameter -D_GLIBCXX_USE_CXX11_ABI=$abi -I$inc -I$inc/torch/csrc/api/include"
  # -z defs: an ABI or version mismatch fails here, at link time, instead of at dlopen in the JVM.
  ldflags="-L$lib -Wl,-rpath,$lib -Wl,-z,defs -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10"
  cuda_torch=0
  if [ -e "$lib/libc10_cuda.so" ] && [ -f "$inc/c10/cuda/CUDAFunctions.h" ]; then
    # c10/cuda headers include cuda_runtime_api.h: take it from the toolkit or from the pip nvidia-* wheels.
    for d in "${CUDA_HOME:-/usr/local/cuda}/include" /usr/local/cuda/include "$lib"/../../nvidia/cuda_runtime/include "$lib"/../../nvidia/cu*/include; do
      [ -f "$d/cuda_runtime_api.h" ] && { cxxflags="$cxxflags -I$(cd "$d" && pwd)"; break; }
    done
    cxxflags="$cxxflags -DSR4G_WITH_CUDA"
    ldflags="$ldflags -ltorch_cuda -lc10_cuda"
    cuda_torch=1
  fi
  ldflags="$ldflags -Wl,--as-needed"
  # Distributed training (sr4g_dist.cpp only): c10d's headers, plus Gloo's (Debian: libgloo-dev; not in the PyTorch
  # wheels) and/or NCCL's (a CUDA libtorch and nccl.h, e.g. from the nvidia-nccl wheel next to torch's).
  dist_flags="" dist_gloo=0 dist_nccl=0
  c10d="$inc/torch/csrc/distributed/c10d"
  if [ -f "$c10d/reducer.hpp" ] && [ -f "$c10d/TCPStore.hpp" ]; then
    for d in "$inc" /usr/include /usr/local/include; do
      if [ -f "$c10d/ProcessGroupGloo.hpp" ] && [ -f "$d/gloo/algorithm.h" ]; then
        dist_gloo=1; dist_flags="$dist_flags -DUSE_C10D_GLOO"; [ "$d" = "$inc" ] || dist_flags="$dist_flags -I$d"; break
      fi
    done
    if [ "$cuda_torch" = 1 ] && [ -f "$c10d/ProcessGroupNCCL.hpp" ]; then
      for d in "$inc" /usr/include "$lib"/../../nvidia/nccl/include; do
        [ -f "$d/nccl.h" ] && { dist_nccl=1; dist_flags="$dist_flags -DUSE_C10D_NCCL -DSR4G_WITH_NCCL -I$(cd "$d" && pwd)"; break; }
      done
    fi
    # reducer.hpp includes distributed/autograd/context/context.h, which Debian's libtorch-dev 1.13 lacks: a
    # stand-in declaring the two types reducer.hpp uses (see the file; sr4g_dist.cpp checks the Reducer's layout).
    [ -f "$inc/torch/csrc/distributed/autograd/context/context.h" ] || dist_flags="$dist_flags -I$here/src/main/c/standin"
    if [ "$dist_gloo" = 1 ] || [ "$dist_nccl" = 1 ]; then dist_flags="-DSR4G_WITH_DIST$dist_flags"; else dist_flags=""; fi
  fi
  if [ -z "$dist_flags" ]; then
    skip "distributed training" "no c10d headers with Gloo or NCCL (install: apt-get install -y --no-install-recommends libgloo-dev); sr4g train --nproc-per-node will report itself unavailable" false
  fi
  cfg="CXX := ${CXX:-g++}
TORCH_CXXFLAGS := $cxxflags
TORCH_LDFLAGS := $ldflags
DIST_CXXFLAGS := $dist_flags"
  # Rewrite config.mk only when it changes: make then rebuilds exactly when the libtorch (or flags) changed.
  if [ ! -f "$B/config.mk" ] || [ "$(cat "$B/config.mk")" != "$cfg" ]; then printf '%s\n' "$cfg" >"$B/config.mk"; fi
  echo "[native] libtorch $version from $how ($lib, C++11 ABI=$abi, CUDA=$cuda_torch, c10d gloo=$dist_gloo nccl=$dist_nccl)"
  jobs=$(nproc 2>/dev/null || echo 2)
  make -s -C "$here" -j"$jobs" B="$B" lib
  # The C++ overhead baseline is optional: an executable needs every transitive libtorch dependency at link time.
  make -s -C "$here" B="$B" bench || echo "[native] WARN: op_loop (C++ benchmark baseline) did not link; the library is fine"
  cp -f "$B/libsr4g_torch.so" "$R/libsr4g_torch.so"
  {
    echo "libtorch.version=$version"
    echo "libtorch.lib=$lib"
    echo "libtorch.found=$how"
    echo "libtorch.cuda=$cuda_torch"
    echo "dist.gloo=$dist_gloo"
    echo "dist.nccl=$dist_nccl"
  } >>"$props"
fi

# --- CUDA kernels --------------------------------------------------------------------------------------------------
# NVCC=none builds without kernels even where nvcc exists (as CI, which has none).
if [ -n "${NVCC:-}" ]; then
  nvcc="$NVCC"
  [ -x "$nvcc" ] || command -v "$nvcc" >/dev/null 2>&1 || nvcc=""
else
  nvcc="$(command -v nvcc || true)"
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
fi
if [ -z "$nvcc" ]; then
  skip "CUDA kernels" "nvcc not found (install the CUDA toolkit: apt-get install -y nvidia-cuda-toolkit, or set NVCC); GPU kernels unavailable, their CPU equivalents still work" "$require_cuda"
  rm -f "$R/sr4g_kernels.fatbin"
else
  cu="$here/src/main/cuda/sr4g_kernels.cu"
  archs="sm_80,sm_90,compute_90"
  if [ ! -f "$B/sr4g_kernels.fatbin" ] || [ "$cu" -nt "$B/sr4g_kernels.fatbin" ]; then
    # -fmad=false: no FMA contraction, so the relation kernel's floats equal the Java CPU rules bit for bit.
    "$nvcc" --fatbin -fmad=false \
      -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
      -o "$B/sr4g_kernels.fatbin" "$cu"
  fi
  cp -f "$B/sr4g_kernels.fatbin" "$R/sr4g_kernels.fatbin"
  echo "[native] CUDA kernels: $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') fatbin ($archs)"
  { echo "fatbin.archs=$archs"; echo "fatbin.nvcc=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"; } >>"$props"
fi
mv -f "$props" "$R/native.properties"
