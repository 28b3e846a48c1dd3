package org.sr4g.torch;

import java.util.Locale;

/**
 * How {@link Nn#attention} splits the query rows into chunks, so that at most one chunk's score matrix
 * {@code [..., rows, Lk]} exists at a time (diffusers' sliced attention, over query rows rather than heads: a
 * 65,536-token self-attention, the tiny UNet at 512 px, would otherwise need 16 GiB of scores per head). A sliced
 * forward equals the whole one (each output row depends on its own query row only); with gradients it recomputes each
 * chunk's probabilities in the backward instead of keeping them.
 *
 * <ul>
 *   <li>{@code auto} (the default): slice only when the scores of the whole call would exceed {@link #budgetBytes}
 *       (default 256 MiB, {@code -Dsr4g.attention.budget.mib}); never on CUDA with libtorch ≥ 2, whose
 *       scaled_dot_product_attention kernels do not hold the scores;</li>
 *   <li>{@code N}: always chunks of N query rows;</li>
 *   <li>{@code off}: never (the scores of the whole call at once).</li>
 * </ul>
 *
 * The setting is process-wide ({@link #set}); {@code sr4g sample/train/bench --attention-slice} set it.
 *
 * @param rows query rows per chunk when fixed (&gt; 0); 0 with {@code auto} or {@code off}
 */
public record AttentionSlicing(Mode mode, long rows, long budgetBytes) {
  public enum Mode { AUTO, ROWS, OFF }

  public static final long DEFAULT_BUDGET_BYTES = Long.getLong("sr4g.attention.budget.mib", 256) << 20;
  public static final AttentionSlicing AUTO = new AttentionSlicing(Mode.AUTO, 0, DEFAULT_BUDGET_BYTES);
  public static final AttentionSlicing OFF = new AttentionSlicing(Mode.OFF, 0, 0);

  private static volatile AttentionSlicing current = AUTO;

  public AttentionSlicing {
    if (mode == Mode.ROWS && rows < 1) throw new IllegalArgumentException("attention slice rows must be at least 1");
    if (mode == Mode.AUTO && budgetBytes < 1) throw new IllegalArgumentException("attention budget must be positive");
  }

  /** Fixed chunks of {@code rows} query rows. */
  public static AttentionSlicing rows(long rows) {
    return new AttentionSlicing(Mode.ROWS, rows, 0);
  }

  /** {@code auto}, {@code off} or a positive number of query rows (the CLI's {@code --attention-slice}). */
  public static AttentionSlicing parse(String s) {
    String v = s.strip().toLowerCase(Locale.ROOT);
    if (v.equals("auto")) return AUTO;
    if (v.equals("off")) return OFF;
    try {
      long n = Long.parseLong(v);
      if (n >= 1) return rows(n);
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException("attention slice must be auto, off or a positive number of query rows, got '" + s + "'");
  }

  /** The process-wide setting every {@link Nn#attention} call uses. */
  public static AttentionSlicing current() {
    return current;
  }

  public static void set(AttentionSlicing s) {
    current = java.util.Objects.requireNonNull(s);
  }

  /** The C layer's encoding: rows (&gt; 0), 0 = unsliced, −budget = auto. */
  long nativeCode() {
    return switch (mode) {
      case AUTO -> -budgetBytes;
      case ROWS -> rows;
      case OFF -> 0;
    };
  }

  @Override
  public String toString() {
    return switch (mode) {
      case AUTO -> "auto (budget " + (budgetBytes >> 20) + " MiB)";
      case ROWS -> rows + " rows";
      case OFF -> "off";
    };
  }
}
