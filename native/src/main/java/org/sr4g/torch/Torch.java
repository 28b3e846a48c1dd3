package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;

/** Engine-wide facts and switches: availability, version, live handles, CUDA helpers, bf16 autocast. */
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
    try {
      Native.check((long) Native.VERSION.invokeExact(s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return MemorySegment.ofAddress(s.out(0)).reinterpret(256).getString(0);
  }

  /** Whether the C layer was compiled against a libtorch with CUDA (memory stats, synchronize). */
  public static boolean builtWithCuda() {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CUDA_BUILT.invokeExact(s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
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

  /** CUDA devices libtorch can use (0 without CUDA support or driver). */
  public static int cudaDeviceCount() {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CUDA_COUNT.invokeExact(s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return (int) s.out(0);
  }

  public static void cudaSynchronize(int device) {
    Native.require();
    try {
      Native.check((long) Native.CUDA_SYNC.invokeExact(device));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /** {allocated, peak} bytes of libtorch's CUDA caching allocator on {@code device}. */
  public static long[] cudaMemory(int device) {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CUDA_MEMORY.invokeExact(device, s.outAddr(0), s.outAddr(1)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return new long[] {s.out(0), s.out(1)};
  }

  /** bf16 autocast for CUDA ops on this thread until closed (torch.autocast("cuda", dtype=torch.bfloat16)). */
  public static ModeGuard autocastBf16() {
    boolean previous = setAutocast(true);
    return () -> setAutocast(previous);
  }

  private static boolean setAutocast(boolean on) {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.AUTOCAST.invokeExact(on ? 1 : 0, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return s.out.get(JAVA_INT, 0) != 0;
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
    try {
      Native.check((long) Native.ALLOW_TF32.invokeExact(on ? 1 : 0, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return s.out.get(JAVA_INT, 0) != 0;
  }
}
