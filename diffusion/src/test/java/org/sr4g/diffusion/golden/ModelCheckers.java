package org.sr4g.diffusion.golden;

import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;

/** Shared bits of the model checkers (not a checker itself: the registry only picks GoldenChecker classes). */
final class ModelCheckers {
  private ModelCheckers() {}

  /** Skips visibly without the engine, except under CI=true (as the native module's tests do). */
  static void requireTorch() {
    NativeAssume.torch();
  }

  static float[] floats(Tensor t) {
    return t.contiguous().toFloatArray();
  }
}
