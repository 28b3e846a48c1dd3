# Sourced by ./sr4g, scripts/bench.sh, scripts/bench-engine.sh and scripts/device-check.sh: preloads a thread-caching
# malloc (Debian's libtcmalloc-minimal4) into the process about to be started. With glibc's malloc every large tensor
# temporary is a fresh mmap that page-faults on first touch: libtorch runs up to ~10x slower on the CPU, in Python as
# in Java (bench/results/engine-cpu.md).
#   SR4G_MALLOC unset or tcmalloc  preload libtcmalloc_minimal.so.4 when it is installed; otherwise say why on stderr
#   SR4G_MALLOC=system             glibc malloc, nothing preloaded, nothing said
#   SR4G_MALLOC=/path/to/lib.so    preload that library instead (e.g. to measure jemalloc)
# Exports SR4G_MALLOC_STATUS (what was decided and why), which `sr4g doctor` shows.

# The path of libtcmalloc_minimal.so.4, or nothing.
sr4g_tcmalloc_path() {
  local d
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
    if [ -e "$d/libtcmalloc_minimal.so.4" ]; then echo "$d/libtcmalloc_minimal.so.4"; return 0; fi
  done
  command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | awk '/libtcmalloc_minimal\.so\.4 /{print $NF; exit}'
}

sr4g_preload_malloc() {
  local want="${SR4G_MALLOC:-tcmalloc}" lib=""
  case "$want" in
    system)
      export SR4G_MALLOC_STATUS="glibc malloc (SR4G_MALLOC=system)"
      return 0 ;;
    tcmalloc)
      lib="$(sr4g_tcmalloc_path)"
      if [ -z "$lib" ]; then
        export SR4G_MALLOC_STATUS="glibc malloc: libtcmalloc_minimal.so.4 not found (apt-get install -y libtcmalloc-minimal4)"
        echo "sr4g: $SR4G_MALLOC_STATUS; the engine runs up to ~10x slower on the CPU (SR4G_MALLOC=system silences this)" >&2
        return 0
      fi ;;
    *)
      if [ ! -f "$want" ]; then
        export SR4G_MALLOC_STATUS="glibc malloc: SR4G_MALLOC=$want is neither tcmalloc, system nor a library file"
        echo "sr4g: $SR4G_MALLOC_STATUS" >&2
        return 0
      fi
      lib="$want" ;;
  esac
  case ":${LD_PRELOAD:-}:" in
    *":$lib:"*) ;;
    *) export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" ;;
  esac
  export SR4G_MALLOC_STATUS="preloaded $lib"
}
