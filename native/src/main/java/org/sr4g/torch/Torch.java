package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;

/** Engine-wide facts and switches: availability, version, live handles, CUDA helpers, autocast. */
public final class Torch {
  private Torch() {}

  public static boolean isAvailable() {
    return Native.UNAVAILABLE == null;
  }

  /** Why the engine is unavailable (with the install command), or empty. */
  public static Optional<String> unavailableReason() {
    return Optional.ofNullable(Native.UNAVAILABLE);
  }

  public static Optional<Path> libraryPath() {
    return Optional.ofNullable(Native.LIBRARY);
  }

  /** libtorch's version as compiled into the C layer (TORCH_VERSION). */
  public static String version() {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.VERSION.invokeExact(s.outAddr(0)));
    return MemorySegment.ofAddress(s.out(0)).reinterpret(256).getString(0);
  }

  /** Whether the C layer was compiled against a libtorch with CUDA (memory stats, synchronize). */
  public static boolean builtWithCuda() {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.CUDA_BUILT.invokeExact(s.outAddr(0)));
    return s.out.get(JAVA_INT, 0) != 0;
  }

  /** Native tensor handles alive in this process (all threads): the leak tests' meter. */
  public static long liveTensors() {
    Native.require();
    try {
      return (long) Native.LIVE.invokeExact();
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /** libtorch's CPU threads: {intra-op (at::get_num_threads), inter-op}. */
  public static int[] threads() {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.THREADS.invokeExact(s.outAddr(0), s.outAddr(1)));
    return new int[] {s.out.get(JAVA_INT, 0), s.out.get(JAVA_INT, 8)};
  }

  /** The BLAS behind libtorch's matrix products in this process (see {@link Blas}). */
  public static Blas blas() {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.BLAS.invokeExact(s.outAddr(0), s.outAddr(1)));
    long lib = s.out(0);
    String library = lib == 0 ? "" : MemorySegment.ofAddress(lib).reinterpret(4096).getString(0);
    return new Blas(library, s.out.get(JAVA_INT, 8));
  }

  /**
   * Returns the allocator's free pages to the system (tcmalloc's ReleaseFreeMemory where it is loaded, else glibc's
   * malloc_trim): after a model's dense weights were replaced by packed ones, so the resident memory shows it.
   */
  public static void releaseFreeMemory() {
    Native.require();
    Native.call(c -> (long) Native.RELEASE_FREE_MEMORY.invokeExact());
  }

  /** CUDA devices libtorch can use (0 without CUDA support or driver). */
  public static int cudaDeviceCount() {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.CUDA_COUNT.invokeExact(s.outAddr(0)));
    return (int) s.out(0);
  }

  public static void cudaSynchronize(int device) {
    Native.require();
    Native.call(c -> (long) Native.CUDA_SYNC.invokeExact(device));
  }

  /** {allocated, peak} bytes of libtorch's CUDA caching allocator on {@code device}. */
  public static long[] cudaMemory(int device) {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.CUDA_MEMORY.invokeExact(device, s.outAddr(0), s.outAddr(1)));
    return new long[] {s.out(0), s.out(1)};
  }

  /** bf16 autocast for CUDA ops on this thread until closed: {@code autocast(Device.cuda(0), DType.BF16)}. */
  public static ModeGuard autocastBf16() {
    return autocast(Device.cuda(0), DType.BF16);
  }

  /**
   * Autocast for the ops of {@code device}'s type (CPU or CUDA; the index does not matter) on this thread until closed,
   * as {@code torch.autocast(device_type, dtype)}: ops on autocast's lower-precision list (matmul, linear, conv, …) run
   * in {@code dtype}, those on its float32 list in float32, parameters stay float32 (casts of leaf weights are cached
   * and dropped when the outermost autocast region closes). {@code close()} restores the previous enabled flag and
   * dtype of that device type, so guards nest. dtype: {@link DType#BF16} (CPU and CUDA) or {@link DType#F16} (CUDA;
   * CPU only with libtorch ≥ 2.4): anything else is an {@link IllegalArgumentException}, CPU f16 on an older libtorch
   * a {@link TorchException}. Backward passes run outside the guard, as torch recommends.
   */
  public static ModeGuard autocast(Device device, DType dtype) {
    if (dtype != DType.BF16 && dtype != DType.F16)
      throw new IllegalArgumentException("autocast dtype must be BF16 or F16, got " + dtype);
    Native.require();
    int type = device.isCuda() ? 1 : 0;
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.AUTOCAST_ENTER.invokeExact(type, dtype.code, s.outAddr(0), s.outAddr(1)));
    return new AutocastRestore(type, s.out.get(JAVA_INT, 0), s.out.get(JAVA_INT, 8));
  }

  private static final class AutocastRestore implements ModeGuard {
    private final int type, previousOn, previousDtype;
    private boolean closed;

    AutocastRestore(int type, int previousOn, int previousDtype) {
      this.type = type;
      this.previousOn = previousOn;
      this.previousDtype = previousDtype;
    }

    @Override
    public void close() {
      if (closed) return; // the nesting count must drop once per enter
      closed = true;
      Native.call(c -> (long) Native.AUTOCAST_EXIT.invokeExact(type, previousOn, previousDtype));
    }
  }

  /** Whether autocast is on for {@code device}'s type on this thread. */
  public static boolean autocastEnabled(Device device) {
    return autocastState(device)[0] != 0;
  }

  /** The dtype autocast uses (or would use when enabled) for {@code device}'s type on this thread. */
  public static DType autocastDtype(Device device) {
    return DType.of(autocastState(device)[1]);
  }

  private static int[] autocastState(Device device) {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.AUTOCAST_STATE.invokeExact(device.isCuda() ? 1 : 0, s.outAddr(0), s.outAddr(1)));
    return new int[] {s.out.get(JAVA_INT, 0), s.out.get(JAVA_INT, 8)};
  }

  /**
   * Allows or forbids TF32 for float32 CUDA convolutions (cuDNN) and matmuls (cuBLAS), process-wide, as
   * {@code torch.backends.cudnn.allow_tf32} / {@code torch.backends.cuda.matmul.allow_tf32}; returns whether either was
   * allowed before. libtorch's defaults: cuDNN on, cuBLAS off. TF32 keeps ~10 mantissa bits: off for parity checks
   * against float32 references. No effect on the CPU.
   */
  public static boolean allowTf32(boolean on) {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.ALLOW_TF32.invokeExact(on ? 1 : 0, s.outAddr(0)));
    return s.out.get(JAVA_INT, 0) != 0;
  }
}
