package org.sr4g.torch;

import java.util.List;

/**
 * DistributedDataParallel's gradient averaging, done by DDP's own C++ engine ({@code c10d::Reducer}): autograd hooks
 * on the parameters copy each gradient into its bucket as soon as it is computed and all-reduce a bucket as soon as it
 * is full, during the backward; at the end of the backward the averaged buckets are copied back into the gradients.
 * Buckets as DDP: one at first, rebuilt after the first synchronised backward in the order the gradients became
 * ready, with a {@value #FIRST_BUCKET_BYTES}-byte first bucket and {@value #BUCKET_BYTES}-byte ones after it.
 *
 * <p>Per optimizer step: {@link #prepare()} before the backward pass(es) whose gradients must be averaged, then
 * {@link #check()} after them. Backward passes without {@code prepare()} only accumulate locally — DDP's
 * {@code no_sync()}, for the earlier micro-batches of gradient accumulation. It works with several backward calls per
 * step (gradient checkpointing's segmented backward): a parameter's hook fires in whichever pass produces its gradient,
 * and the reduction finishes in the pass that completes the last bucket. Every parameter must receive a gradient in a
 * synchronised step ({@code find_unused_parameters=false}), else {@link #check()} fails.
 *
 * <p>The reducer keeps its own references to the parameters and the group; the caller owns it and closes it (which
 * removes the hooks).
 */
public final class GradientReducer implements AutoCloseable {
  /** DDP's {@code _DEFAULT_FIRST_BUCKET_BYTES}. */
  public static final long FIRST_BUCKET_BYTES = 1L << 20;
  /** DDP's default {@code bucket_cap_mb} (25 MiB). */
  public static final long BUCKET_BYTES = 25L << 20;

  private long handle;

  /** DDP's bucket sizes. Checks, with every rank, that all have the same parameter shapes (a collective). */
  public GradientReducer(ProcessGroup group, List<Tensor> params) {
    this(group, params, FIRST_BUCKET_BYTES, BUCKET_BYTES);
  }

  public GradientReducer(ProcessGroup group, List<Tensor> params, long firstBucketBytes, long bucketBytes) {
    if (params.isEmpty()) throw new IllegalArgumentException("no parameters to reduce");
    Native.Scratch s = Native.scratch();
    long g = group.handle();
    long list = s.handles(params.toArray(Tensor[]::new));
    Native.call(c -> (long) DistNative.REDUCER_NEW.invokeExact(g, list, (long) params.size(), firstBucketBytes,
        bucketBytes, s.outAddr(0)));
    handle = s.out(0);
  }

  private long handle() {
    if (handle == 0) throw new IllegalStateException("gradient reducer used after close()");
    return handle;
  }

  /** Arms the hooks: the next backward pass(es) average the gradients over the ranks. */
  public void prepare() {
    Native.call(c -> (long) DistNative.REDUCER_PREPARE.invokeExact(handle()));
  }

  /** Fails unless the backward since {@link #prepare()} reduced every bucket and wrote the averages back. */
  public void check() {
    Native.call(c -> (long) DistNative.REDUCER_CHECK.invokeExact(handle()));
  }

  @Override
  public synchronized void close() {
    if (handle == 0) return;
    long h = handle;
    handle = 0;
    Native.call(c -> (long) DistNative.REDUCER_FREE.invokeExact(h));
  }
}
