package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The downcall handles into libsr4g_torch.so and the per-thread scratch memory for out-pointers.
 *
 * <p>Why pointers are declared {@code JAVA_LONG}: on the LP64 ABIs we support (x86-64 SysV, AArch64) a pointer and an
 * int64 travel in the same register, and passing raw addresses avoids building a {@link MemorySegment} per argument on
 * the hot path. Every C function returns {@code const char*} (NULL = success), also read as a long.
 */
final class Native {
  private Native() {}

  static final String UNAVAILABLE;
  static final Path LIBRARY;
  private static final SymbolLookup LIB;
  private static final Linker LINKER = Linker.nativeLinker();

  static {
    String reason = null;
    SymbolLookup lib = null;
    Optional<Path> path = NativeFiles.locate(NativeFiles.LIBRARY);
    if (path.isEmpty()) {
      reason = "libsr4g_torch.so is not in this build (native/build-native.sh found no libtorch at build time; install it"
          + " with: apt-get install -y --no-install-recommends libtorch-dev, then rebuild)";
    } else {
      try {
        lib = SymbolLookup.libraryLookup(path.get(), Arena.global());
      } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
        reason = "cannot load " + path.get() + ": " + e.getMessage()
            + " (is the libtorch it was built against still installed? apt-get install -y libtorch-dev)";
      }
    }
    UNAVAILABLE = reason;
    LIBRARY = path.orElse(null);
    LIB = lib;
  }

  static final MethodHandle VERSION = fn("sr4g_version", JAVA_LONG);
  static final MethodHandle CUDA_BUILT = fn("sr4g_cuda_built", JAVA_LONG);
  static final MethodHandle LIVE = LIB == null ? null
      : LINKER.downcallHandle(LIB.find("sr4g_live_tensors").orElseThrow(), FunctionDescriptor.of(JAVA_LONG),
          Linker.Option.critical(false));
  static final MethodHandle FREE = fn("sr4g_free", JAVA_LONG);
  static final MethodHandle THREADS = fn("sr4g_threads", JAVA_LONG, JAVA_LONG);
  static final MethodHandle RELEASE_FREE_MEMORY = fn("sr4g_release_free_memory");
  static final MethodHandle BLAS = fn("sr4g_blas", JAVA_LONG, JAVA_LONG);
  static final MethodHandle FREE_MANY = fn("sr4g_free_many", JAVA_LONG, JAVA_LONG);
  static final MethodHandle INFO = fn("sr4g_info", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle FROM_DATA = fn("sr4g_from_data", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle TO_DATA = fn("sr4g_to_data", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle FULL = fn("sr4g_full", JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle ARANGE = fn("sr4g_arange", JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle GEN_NEW = fn("sr4g_generator_new", JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final MethodHandle GEN_FREE = fn("sr4g_generator_free", JAVA_LONG);
  static final MethodHandle RANDOM = fn("sr4g_random", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle ITEM = fn("sr4g_item", JAVA_LONG, JAVA_LONG);
  static final MethodHandle UNARY = fn("sr4g_unary", JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final MethodHandle BINARY = fn("sr4g_binary", JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle SCALAR = fn("sr4g_scalar", JAVA_INT, JAVA_LONG, JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle CLAMP = fn("sr4g_clamp", JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle REDUCE = fn("sr4g_reduce", JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG);
  static final MethodHandle SOFTMAX = fn("sr4g_softmax", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle BADDBMM = fn("sr4g_baddbmm", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle WHERE = fn("sr4g_where", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle LINEAR = fn("sr4g_linear", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle LINEAR_PER_SAMPLE = fn("sr4g_linear_per_sample", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle CONV2D = fn("sr4g_conv2d", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle CONV2D_PACK = fn("sr4g_conv2d_pack", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_LONG);
  static final MethodHandle IS_PACKED = fn("sr4g_is_packed", JAVA_LONG, JAVA_LONG);
  static final MethodHandle GROUP_NORM = fn("sr4g_group_norm", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle LAYER_NORM = fn("sr4g_layer_norm", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
      JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle ATTENTION = fn("sr4g_attention", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG,
      JAVA_LONG, JAVA_LONG);
  static final MethodHandle EMBEDDING = fn("sr4g_embedding", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle UPSAMPLE2X = fn("sr4g_upsample_nearest2x", JAVA_LONG, JAVA_LONG);
  static final MethodHandle RESHAPE = fn("sr4g_reshape", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG);
  static final MethodHandle PERMUTE = fn("sr4g_permute", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle TRANSPOSE = fn("sr4g_transpose", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle CAT = fn("sr4g_cat", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle SPLIT = fn("sr4g_split", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle SLICE = fn("sr4g_slice", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle INDEX_SELECT = fn("sr4g_index_select", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle TO = fn("sr4g_to", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle CHANNELS_LAST = fn("sr4g_channels_last", JAVA_LONG, JAVA_LONG);
  static final MethodHandle IS_CHANNELS_LAST = fn("sr4g_is_channels_last", JAVA_LONG, JAVA_LONG);
  static final MethodHandle COPY_ = fn("sr4g_copy_", JAVA_LONG, JAVA_LONG);
  static final MethodHandle SET_REQUIRES_GRAD = fn("sr4g_set_requires_grad", JAVA_LONG, JAVA_INT);
  static final MethodHandle BACKWARD = fn("sr4g_backward", JAVA_LONG);
  static final MethodHandle BACKWARD_WITH = fn("sr4g_backward_with", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle GRAD = fn("sr4g_grad", JAVA_LONG, JAVA_LONG);
  static final MethodHandle ZERO_GRAD = fn("sr4g_zero_grad", JAVA_LONG, JAVA_LONG);
  static final MethodHandle SET_GRAD_ENABLED = fn("sr4g_set_grad_enabled", JAVA_INT, JAVA_LONG);
  static final MethodHandle CLIP_GRAD_NORM = fn("sr4g_clip_grad_norm", JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle ADAMW = fn("sr4g_adamw_step", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_DOUBLE,
      JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle CUDA_COUNT = fn("sr4g_cuda_device_count", JAVA_LONG);
  static final MethodHandle CUDA_SYNC = fn("sr4g_cuda_synchronize", JAVA_INT);
  static final MethodHandle CUDA_MEMORY = fn("sr4g_cuda_memory", JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final MethodHandle AUTOCAST_ENTER = fn("sr4g_autocast_enter", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final MethodHandle AUTOCAST_EXIT = fn("sr4g_autocast_exit", JAVA_INT, JAVA_INT, JAVA_INT);
  static final MethodHandle AUTOCAST_STATE = fn("sr4g_autocast_state", JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final MethodHandle AMP_UNSCALE = fn("sr4g_amp_unscale", JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_LONG);
  static final MethodHandle DATA_PTR = fn("sr4g_data_ptr", JAVA_LONG, JAVA_LONG);
  static final MethodHandle ALLOW_TF32 = fn("sr4g_allow_tf32", JAVA_INT, JAVA_LONG);
  static final MethodHandle CODE_NAME = fn("sr4g_code_name", JAVA_INT, JAVA_INT, JAVA_LONG);
  static final MethodHandle SPECIAL_CODES = fn("sr4g_special_codes", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle CHECKPOINT_CALLBACKS = fn("sr4g_checkpoint_callbacks", JAVA_LONG, JAVA_LONG);
  static final MethodHandle CHECKPOINT = fn("sr4g_checkpoint", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);

  /** sr4g_torch.h's SR4G_DTYPE_KEEP: {@code sr4g_to} keeps the tensor's dtype ({@code OpTableTest} checks the value). */
  static final int DTYPE_KEEP = -1;
  /** sr4g_torch.h's SR4G_DEVICE_KEEP: {@code sr4g_to} keeps the tensor's device. */
  static final int DEVICE_KEEP = -2;

  private static MethodHandle fn(String name, MemoryLayout... args) {
    if (LIB == null) return null;
    return LINKER.downcallHandle(LIB.find(name).orElseThrow(() -> new IllegalStateException("missing symbol " + name)),
        FunctionDescriptor.of(JAVA_LONG, args));
  }

  /** Throws when the library is not there: called by every path that creates a tensor from nothing. */
  static void require() {
    if (UNAVAILABLE != null) throw new IllegalStateException("sr4g native engine unavailable: " + UNAVAILABLE);
  }

  /** Turns the C layer's error string into a Java exception; the message is copied before any other native call. */
  static void check(long err) {
    if (err != 0) throw new TorchException(message(err));
  }

  static String message(long err) {
    String m = MemorySegment.ofAddress(err).reinterpret(1 << 20).getString(0).strip();
    // libtorch 1.x appends the C++ frames of TORCH_CHECK's caller to some messages; the first lines say what went wrong.
    String[] lines = m.split("\n");
    if (lines.length > 4) m = String.join("\n", java.util.Arrays.copyOf(lines, 4)) + "\n…";
    return m;
  }

  /**
   * One downcall: {@code invoke} calls a handle with {@code invokeExact}, passing the scratch's out-addresses, and
   * returns the C layer's error pointer. The lambda's exact type is known at each call site, so C2 can inline the
   * helpers and drop the allocation (not re-measured against the hand-written blocks: NativeOverheadBench).
   */
  @FunctionalInterface
  interface Call {
    long invoke(Scratch s) throws Throwable;
  }

  /** Makes the call, throws its error (a {@link TorchException}) if any, returns the scratch for its out-values. */
  static Scratch call(Call call) {
    Scratch s = scratch();
    try {
      check(call.invoke(s));
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return s;
  }

  /** Makes a call whose out-value 0 is a new tensor handle, and wraps it ({@link Tensor#adopt(Scratch)}). */
  static Tensor tensor(Call call) {
    return Tensor.adopt(call(call));
  }

  /** Makes a call whose out-value 0 is an {@code int32_t} flag. */
  static boolean flag(Call call) {
    Scratch s = scratch();
    s.out.set(JAVA_LONG, 0, 0);
    return (call(call).out(0) & 0xffffffffL) != 0;
  }

  /** Wraps a Throwable from invokeExact: only our own RuntimeExceptions can come out, anything else is a bug. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) return r;
    if (t instanceof Error e) throw e;
    return new IllegalStateException(t);
  }

  /**
   * Per-thread native scratch: out-pointers and argument arrays, so a call allocates nothing. Valid only until the
   * thread's next native call, which is why every user copies the results out at once.
   */
  static final class Scratch {
    final MemorySegment out; // 32 longs of out-values
    final long outAddr;
    MemorySegment longs; // int64 arrays (shapes, dims, handle lists)
    long longsAddr;
    /** The innermost open {@link TensorScope} of this thread (kept here to save a second thread-local lookup per op). */
    TensorScope scope;
    /** Query-row chunks of this thread's last attention call (Nn.lastAttentionChunks). */
    long attentionChunks;

    Scratch() {
      Arena arena = Arena.ofAuto();
      out = arena.allocate(JAVA_LONG, 32);
      outAddr = out.address();
      longs = arena.allocate(JAVA_LONG, 64);
      longsAddr = longs.address();
    }

    /** Copies {@code values} into the int64 buffer and returns its address. */
    long longs(long[] values) {
      ensure(values.length);
      MemorySegment.copy(values, 0, longs, JAVA_LONG, 0, values.length);
      return longsAddr;
    }

    long handles(Tensor[] ts) {
      ensure(ts.length);
      for (int i = 0; i < ts.length; i++) longs.setAtIndex(JAVA_LONG, i, ts[i].handle());
      return longsAddr;
    }

    void ensure(long n) {
      if (n > longs.byteSize() / 8) {
        longs = Arena.ofAuto().allocate(JAVA_LONG, Math.max(n, longs.byteSize() / 4));
        longsAddr = longs.address();
      }
    }

    long out(int i) {
      return out.getAtIndex(JAVA_LONG, i);
    }

    long outAddr(int i) {
      return outAddr + 8L * i;
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  static Scratch scratch() {
    return SCRATCH.get();
  }
}
