package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Downcall handles for sr4g_dist.h (process groups, collectives, DDP's Reducer), kept apart from {@link Native}'s
 * tensor ops. Same conventions: pointers as {@code JAVA_LONG}, every function returns an error string or NULL. Null
 * handles when the library is not there ({@link Native#require} reports that first).
 */
final class DistNative {
  private DistNative() {}

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB =
      Native.UNAVAILABLE == null ? SymbolLookup.libraryLookup(Native.LIBRARY, Arena.global()) : null;

  static final MethodHandle FEATURES = fn("sr4g_dist_features", JAVA_LONG, JAVA_LONG);
  static final MethodHandle NCCL_VERSION = fn("sr4g_dist_nccl_version", JAVA_LONG);
  static final MethodHandle LIVE = LIB == null ? null
      : LINKER.downcallHandle(LIB.find("sr4g_dist_live").orElseThrow(), FunctionDescriptor.of(JAVA_LONG));
  static final MethodHandle INIT = fn("sr4g_dist_init", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG,
      JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final MethodHandle FREE = fn("sr4g_dist_free", JAVA_LONG);
  static final MethodHandle BARRIER = fn("sr4g_dist_barrier", JAVA_LONG);
  static final MethodHandle BROADCAST = fn("sr4g_dist_broadcast", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT);
  static final MethodHandle ALLREDUCE_F64 = fn("sr4g_dist_allreduce_f64", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle ALLREDUCE_I64 = fn("sr4g_dist_allreduce_i64", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle ALLREDUCE_GRADS = fn("sr4g_dist_allreduce_grads", JAVA_LONG, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_LONG);
  static final MethodHandle STORE_SET = fn("sr4g_dist_store_set", JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle STORE_GET = fn("sr4g_dist_store_get", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final MethodHandle REDUCER_NEW = fn("sr4g_reducer_new", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
      JAVA_LONG);
  static final MethodHandle REDUCER_PREPARE = fn("sr4g_reducer_prepare", JAVA_LONG);
  static final MethodHandle REDUCER_CHECK = fn("sr4g_reducer_check", JAVA_LONG);
  static final MethodHandle REDUCER_FREE = fn("sr4g_reducer_free", JAVA_LONG);

  private static MethodHandle fn(String name, MemoryLayout... args) {
    if (LIB == null) return null;
    return LINKER.downcallHandle(LIB.find(name).orElseThrow(() -> new IllegalStateException("missing symbol " + name)),
        FunctionDescriptor.of(JAVA_LONG, args));
  }
}
