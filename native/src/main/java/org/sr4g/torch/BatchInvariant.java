package org.sr4g.torch;

import java.util.function.Supplier;

/**
 * A scope in which every sample of a batch gets the values it would get alone. A BLAS's matrix product can give a row
 * other last bits when the call has another number of rows (OpenBLAS does: it blocks and unrolls over the rows; the
 * reference BLAS does not), so a batched forward pass is not bit-equal to per-sample ones. Inside the scope
 * {@link Nn#linear} runs one sample at a time, each call shaped as for batch 1; convolutions, norms, softmax and the
 * attention products already compute each sample (and head) on its own. Sampling uses it so that an image does not
 * depend on the batch it is in; the cost is one matrix product per sample instead of one per batch.
 */
public final class BatchInvariant {
  private static final ScopedValue<Boolean> ACTIVE = ScopedValue.newInstance();

  private BatchInvariant() {}

  /** Runs {@code work} with batch-invariant layers on this thread. */
  public static <T> T call(Supplier<T> work) {
    return ScopedValue.where(ACTIVE, Boolean.TRUE).call(work::get);
  }

  /** Whether this thread is inside {@link #call}. */
  public static boolean active() {
    return ACTIVE.isBound();
  }
}
