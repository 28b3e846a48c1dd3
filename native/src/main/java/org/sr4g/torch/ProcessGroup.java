package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One process's membership in a group of processes that train together: PyTorch's own c10d process group (Gloo for
 * CPU tensors, NCCL for CUDA tensors) over a rendezvous store — a {@code TCPStore} hosted by rank 0
 * ({@code tcp://HOST:PORT}) or a {@code FileStore} ({@code file://PATH}). Every collective must be called by every rank
 * in the same order; each is bounded by the group's timeout, and a failure (a peer gone, a timeout) is a
 * {@link TorchException} carrying the backend's message.
 *
 * <p>Ownership: the caller owns the group and closes it; a {@link GradientReducer} made from it keeps its own
 * reference, so the two may be closed in any order. {@link #liveHandles()} counts groups and reducers not yet closed.
 */
public final class ProcessGroup implements AutoCloseable {
  /** The collective backend: Gloo (CPU tensors) or NCCL (CUDA tensors, one device per rank). */
  public enum Backend {
    GLOO,
    NCCL;

    /** What torch picks for a device: NCCL for CUDA, Gloo for the CPU. */
    public static Backend forDevice(Device d) {
      return d.isCuda() ? NCCL : GLOO;
    }
  }

  private long handle;
  private final int rank;
  private final int size;
  private final Backend backend;
  private final Duration timeout;
  private final String init;

  private ProcessGroup(long handle, int rank, int size, Backend backend, Duration timeout, String init) {
    this.handle = handle;
    this.rank = rank;
    this.size = size;
    this.backend = backend;
    this.timeout = timeout;
    this.init = init;
  }

  /**
   * Joins the group as {@code rank} of {@code size}: waits (at most {@code timeout}) for every rank to join the
   * rendezvous {@code init}, then connects the backend. {@code device} is the CPU for Gloo and this rank's CUDA
   * device for NCCL. A rank that does not join in time is named in the exception.
   */
  public static ProcessGroup join(String init, int rank, int size, Backend backend, Device device, Duration timeout) {
    return join(init, rank, size, backend, device, timeout, rank == 0, "");
  }

  /**
   * {@link #join(String, int, int, Backend, Device, Duration)} where a launcher may host the {@code tcp://} store
   * itself: {@code hostsStore} says whether this rank starts the store's server (rank 0 otherwise; no rank under
   * torchrun's static rendezvous, whose agent hosts it), and every key goes under {@code keyPrefix} (torchrun's
   * {@code /worker/attempt_N}, so a restarted group does not see an earlier attempt's keys; "" for none).
   */
  public static ProcessGroup join(String init, int rank, int size, Backend backend, Device device, Duration timeout,
      boolean hostsStore, String keyPrefix) {
    Native.require();
    if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " of " + size);
    if (backend == Backend.NCCL != device.isCuda())
      throw new IllegalArgumentException(backend + " needs " + (device.isCuda() ? "the CPU" : "a CUDA device") + ", not " + device);
    long ms = Math.max(1, timeout.toMillis());
    Native.Scratch s = Native.scratch();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment text = a.allocateFrom(init), prefix = a.allocateFrom(keyPrefix);
      Native.check((long) DistNative.INIT.invokeExact(text.address(), rank, size, backend.ordinal(),
          device.isCuda() ? device.code() : -1, ms, hostsStore ? 1 : 0, prefix.address(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return new ProcessGroup(s.out(0), rank, size, backend, timeout, init);
  }

  /** Whether this build has the backend; empty when it does, else why not (with the install hint). */
  public static Optional<String> unavailableReason(Backend backend) {
    if (!Torch.isAvailable()) return Torch.unavailableReason();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) DistNative.FEATURES.invokeExact(s.outAddr(0), s.outAddr(1)));
    boolean on = s.out.get(JAVA_INT, backend == Backend.GLOO ? 0 : 8) != 0;
    if (on) return Optional.empty();
    return Optional.of(backend == Backend.GLOO
        ? "this build has no Gloo backend (build-native.sh found no c10d/Gloo headers: apt-get install -y"
            + " --no-install-recommends libgloo-dev, then rebuild)"
        : "this build has no NCCL backend (it needs a CUDA libtorch with nccl.h at build time)");
  }

  /** NCCL's version as libtorch reports it (e.g. {@code 2.21.5}); a {@link TorchException} without NCCL. */
  public static String ncclVersion() {
    Native.require();
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) DistNative.NCCL_VERSION.invokeExact(s.outAddr(0)));
    return MemorySegment.ofAddress(s.out(0)).reinterpret(256).getString(0);
  }

  /** Groups and reducers not yet closed, in this process (the leak tests' meter). */
  public static long liveHandles() {
    Native.require();
    try {
      return (long) DistNative.LIVE.invokeExact();
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  public int rank() {
    return rank;
  }

  public int size() {
    return size;
  }

  public Backend backend() {
    return backend;
  }

  public Duration timeout() {
    return timeout;
  }

  /** The rendezvous this group was made from ({@code tcp://HOST:PORT} or {@code file://PATH}). */
  public String init() {
    return init;
  }

  long handle() {
    if (handle == 0) throw new IllegalStateException("process group used after close()");
    return handle;
  }

  /** Returns when every rank has called it. */
  public void barrier() {
    Native.call(c -> (long) DistNative.BARRIER.invokeExact(handle()));
  }

  /** Copies {@code root}'s values of {@code tensors} into every rank's, in place (same shapes everywhere). */
  public void broadcast(List<Tensor> tensors, int root) {
    Native.Scratch s = Native.scratch();
    long h = handle();
    Native.call(c -> (long) DistNative.BROADCAST.invokeExact(h, s.handles(tensors.toArray(Tensor[]::new)),
        (long) tensors.size(), root));
  }

  /** {@code values[i]} becomes the sum over the ranks of their {@code values[i]}. */
  public void allReduceSum(double[] values) {
    allReduceSum(MemorySegment.ofArray(values), values.length, DistNative.ALLREDUCE_F64);
  }

  /** {@code values[i]} becomes the sum over the ranks of their {@code values[i]}. */
  public void allReduceSum(long[] values) {
    allReduceSum(MemorySegment.ofArray(values), values.length, DistNative.ALLREDUCE_I64);
  }

  /** Copies the 8-byte values of a Java array out to native memory, sums them over the ranks, copies them back. */
  private void allReduceSum(MemorySegment array, long n, java.lang.invoke.MethodHandle sum) {
    long h = handle();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment m = a.allocate(JAVA_LONG, Math.max(1, n)).copyFrom(array);
      Native.check((long) sum.invokeExact(h, m.address(), n));
      array.copyFrom(m.asSlice(0, array.byteSize()));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /**
   * Replaces every parameter's gradient by its mean over the ranks, after the backward: DDP's bucket sizes
   * ({@link GradientReducer#FIRST_BUCKET_BYTES}, then {@link GradientReducer#BUCKET_BYTES}), one flattened all-reduce per
   * bucket, scaled by 1/size before the sum as DDP does. The same result as a {@link GradientReducer}, without its
   * overlap with the backward; {@code sr4g bench train} times it as the all-reduce cost of a step.
   */
  public void averageGradients(List<Tensor> params, long firstBucketBytes, long bucketBytes) {
    Native.Scratch s = Native.scratch();
    long h = handle();
    Native.call(c -> (long) DistNative.ALLREDUCE_GRADS.invokeExact(h, s.handles(params.toArray(Tensor[]::new)),
        (long) params.size(), firstBucketBytes, bucketBytes));
  }

  /** Sets {@code key} in the rendezvous store (visible to every rank). */
  public void storeSet(String key, String value) {
    long h = handle();
    try (Arena a = Arena.ofConfined()) {
      Native.check((long) DistNative.STORE_SET.invokeExact(h, a.allocateFrom(key).address(),
          a.allocateFrom(value).address()));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /** The value of {@code key} in the rendezvous store, without waiting; empty when no rank has set it. */
  public Optional<String> storeGet(String key) {
    long h = handle();
    Native.Scratch s = Native.scratch();
    int cap = 4096;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(cap);
      Native.check((long) DistNative.STORE_GET.invokeExact(h, a.allocateFrom(key).address(), buf.address(), (long) cap,
          s.outAddr(0)));
      long len = s.out(0);
      if (len < 0) return Optional.empty();
      return Optional.of(new String(buf.asSlice(0, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
          StandardCharsets.UTF_8));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  @Override
  public synchronized void close() {
    if (handle == 0) return;
    long h = handle;
    handle = 0;
    Native.call(c -> (long) DistNative.FREE.invokeExact(h));
  }
}
