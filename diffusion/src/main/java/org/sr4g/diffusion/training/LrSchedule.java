package org.sr4g.diffusion.training;

import org.sr4g.OptionValue;
import org.sr4g.UserInputException;

/**
 * diffusers' {@code get_scheduler} multipliers; update {@code k} (0-based) uses {@code lr · factor(k)}, as diffusers
 * calls {@code lr_scheduler.step()} after each optimizer step. Cosine is {@code get_cosine_schedule_with_warmup} with
 * half a cycle (decays to 0 at {@code total}).
 */
public record LrSchedule(Kind kind, int warmup, long total) {
  /** {@code --lr-scheduler}: the diffusers names sr4g implements. */
  public enum Kind implements OptionValue {
    CONSTANT,
    CONSTANT_WITH_WARMUP,
    COSINE;

    @Override
    public String toString() {
      return spelling();
    }

    /** {@code constant}, {@code constant_with_warmup} or {@code cosine}; anything else is a user error. */
    public static Kind parse(String s) {
      return OptionValue.parse(Kind.class, "--lr-scheduler", s);
    }
  }


  public LrSchedule {
    if (warmup < 0) throw new UserInputException("--lr-warmup-steps must be >= 0");
  }

  /** The schedule named {@code kind} (see {@link Kind#parse}). */
  public LrSchedule(String kind, int warmup, long total) {
    this(Kind.parse(kind), warmup, total);
  }

  public double factor(long k) {
    return switch (kind) {
      case CONSTANT -> 1.0;
      case CONSTANT_WITH_WARMUP -> k < warmup ? (double) k / Math.max(1, warmup) : 1.0;
      case COSINE -> {
        if (k < warmup) yield (double) k / Math.max(1, warmup);
        double progress = (double) (k - warmup) / Math.max(1, total - warmup);
        yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
      }
    };
  }
}
