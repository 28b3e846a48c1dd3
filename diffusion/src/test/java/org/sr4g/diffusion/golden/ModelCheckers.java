package org.sr4g.diffusion.golden;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.Torch;

/** Shared bits of the model checkers (not a checker itself: the registry only picks GoldenChecker classes). */
final class ModelCheckers {
  private ModelCheckers() {}

  /** Skips visibly without the engine, except under CI=true (as the native module's tests do). */
  static void requireTorch() {
    if (Torch.isAvailable()) return;
    String why = "libtorch engine unavailable: " + Torch.unavailableReason().orElse("?");
    if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(why + " — required when CI=true");
    Assumptions.abort(why);
  }

  static float[] floats(Tensor t) {
    return t.contiguous().toFloatArray();
  }
}
