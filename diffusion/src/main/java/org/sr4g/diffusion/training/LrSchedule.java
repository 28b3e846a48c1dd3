package org.sr4g.diffusion.training;

import org.sr4g.UserInputException;

/**
 * diffusers' {@code get_scheduler} multipliers; update {@code k} (0-based) uses {@code lr · factor(k)}, as diffusers
 * calls {@code lr_scheduler.step()} after each optimizer step. Cosine is {@code get_cosine_schedule_with_warmup} with
 * half a cycle (decays to 0 at {@code total}).
 */
public record LrSchedule(String kind, int warmup, long total) {
  public LrSchedule {
    if (!kind.equals("constant") && !kind.equals("constant_with_warmup") && !kind.equals("cosine"))
      throw new UserInputException("--lr-scheduler must be constant, constant_with_warmup or cosine, got '" + kind + "'");
    if (warmup < 0) throw new UserInputException("--lr-warmup-steps must be >= 0");
  }

  public double factor(long k) {
    return switch (kind) {
      case "constant" -> 1.0;
      case "constant_with_warmup" -> k < warmup ? (double) k / Math.max(1, warmup) : 1.0;
      default -> {
        if (k < warmup) yield (double) k / Math.max(1, warmup);
        double progress = (double) (k - warmup) / Math.max(1, total - warmup);
        yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
      }
    };
  }
}
