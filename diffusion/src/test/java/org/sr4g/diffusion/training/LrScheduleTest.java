package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;

/**
 * {@link LrSchedule} against diffusers' {@code get_scheduler} (diffusers/optimization.py), values worked out by hand
 * from its formulas. diffusers wraps each multiplier in torch's {@code LambdaLR}, which evaluates {@code lr_lambda(0)}
 * when it is built, and its training scripts call {@code lr_scheduler.step()} after every optimizer step: update
 * {@code k} (0-based) therefore runs at {@code lr * lr_lambda(k)}, which is {@code factor(k)} here. The formulas, for
 * warmup {@code w} and training steps {@code N} (one process: the scripts multiply both by {@code num_processes}):
 *
 * <ul>
 *   <li>{@code constant}: 1 ({@code get_scheduler} does not pass the warmup to it);
 *   <li>{@code constant_with_warmup}: {@code k / max(1.0, w)} while {@code k < w}, then 1;
 *   <li>{@code cosine}: {@code k / max(1, w)} while {@code k < w}, then with {@code p = (k - w) / max(1, N - w)}:
 *       {@code max(0, 0.5 * (1 + cos(pi * c * 2 * p)))}, {@code c = 0.5} ({@code get_scheduler} does not pass its
 *       {@code num_cycles} to the cosine schedule, whose own default is half a cycle). {@code p} is not clamped.
 * </ul>
 *
 * diffusers' other names (linear, cosine_with_restarts, polynomial, piecewise_constant) are refused by {@code sr4g
 * train}, which this test checks too.
 */
class LrScheduleTest {
  /** The exact values below, to 17 digits, against double arithmetic: a few ulps of slack. */
  private static final double EXACT = 1e-15;

  @Test
  void constantIgnoresTheWarmup() {
    LrSchedule s = new LrSchedule("constant", 10, 100);
    for (long k : new long[] {0, 1, 9, 10, 99, 100, 1000}) assertEquals(1.0, s.factor(k), "k=" + k);
  }

  @Test
  void constantWithWarmupRisesLinearlyFromZero() {
    LrSchedule s = new LrSchedule("constant_with_warmup", 4, 100);
    // k / 4 for k = 0..3: the first update runs at lr 0, as in diffusers.
    assertEquals(0.0, s.factor(0));
    assertEquals(0.25, s.factor(1));
    assertEquals(0.5, s.factor(2));
    assertEquals(0.75, s.factor(3));
    assertEquals(1.0, s.factor(4));
    assertEquals(1.0, s.factor(500), "no decay, also past the training steps");
    // w = 3: 1/3 and 2/3 as doubles.
    LrSchedule thirds = new LrSchedule("constant_with_warmup", 3, 100);
    assertEquals(0.3333333333333333, thirds.factor(1), EXACT);
    assertEquals(0.6666666666666666, thirds.factor(2), EXACT);
    // w = 0: max(1.0, 0) = 1 and k < 0 never holds, so every update is at full lr.
    assertEquals(1.0, new LrSchedule("constant_with_warmup", 0, 100).factor(0));
  }

  @Test
  void cosineWithWarmupIsHalfACosineFromOneToZero() {
    LrSchedule s = new LrSchedule("cosine", 10, 110); // w = 10, N = 110: the decay spans N - w = 100 updates
    assertEquals(0.0, s.factor(0));
    assertEquals(0.5, s.factor(5), "5 / 10");
    assertEquals(0.9, s.factor(9), EXACT);
    assertEquals(1.0, s.factor(10), "p = 0: 0.5 * (1 + cos 0)");
    // p = 0.25: 0.5 * (1 + cos(pi / 4)) = 0.5 + sqrt(2) / 4 = 0.853553390593273762...
    assertEquals(0.8535533905932737, s.factor(35), EXACT);
    // p = 0.5: 0.5 * (1 + cos(pi / 2)) = 0.5
    assertEquals(0.5, s.factor(60), EXACT);
    // p = 0.75: 0.5 * (1 + cos(3 pi / 4)) = 0.5 - sqrt(2) / 4 = 0.146446609406726237...
    assertEquals(0.14644660940672624, s.factor(85), EXACT);
    // p = 0.99: 0.5 * (1 + cos(0.99 pi)) = 0.5 * (1 - cos(0.01 pi)) = 2.46719817134221499...e-4
    assertEquals(2.467198171342215e-4, s.factor(109), EXACT);
    assertEquals(0.0, s.factor(110), EXACT, "p = 1: 0.5 * (1 + cos pi) = 0");
    // p = 1.1 (past N; diffusers does not clamp p): 0.5 * (1 + cos(1.1 pi)) = 0.5 * (1 - cos(0.1 pi))
    //   = 0.5 * (1 - 0.951056516295153572...) = 0.0244717418524232139...
    assertEquals(0.024471741852423214, s.factor(120), EXACT);
  }

  @Test
  void cosineWithoutWarmupAndWithAllWarmup() {
    LrSchedule none = new LrSchedule("cosine", 0, 4); // w = 0: p = k / 4 from the first update
    assertEquals(1.0, none.factor(0));
    assertEquals(0.8535533905932737, none.factor(1), EXACT); // p = 1/4, as above
    assertEquals(0.5, none.factor(2), EXACT);
    assertEquals(0.14644660940672624, none.factor(3), EXACT);
    LrSchedule all = new LrSchedule("cosine", 10, 10); // N - w = 0: the divisor is max(1, 0) = 1
    assertEquals(0.9, all.factor(9), EXACT);
    assertEquals(1.0, all.factor(10), "p = 0 / 1");
    assertEquals(0.0, all.factor(11), EXACT, "p = 1 / 1");
  }

  @Test
  void otherDiffusersSchedulesAndNegativeWarmupAreUserErrors() {
    for (String kind : new String[] {"linear", "cosine_with_restarts", "polynomial", "piecewise_constant", "Cosine"}) {
      UserInputException e = assertThrows(UserInputException.class, () -> new LrSchedule(kind, 0, 10), kind);
      assertTrue(e.getMessage().contains("--lr-scheduler"), e.getMessage());
    }
    assertThrows(UserInputException.class, () -> new LrSchedule("cosine", -1, 10));
  }
}
