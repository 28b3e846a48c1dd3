package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Comparisons of tensors in tests (shared with the other modules through the test-jar). */
public final class TensorDiff {
  private TensorDiff() {}

  /** max|actual − expected| / max|expected| over all elements (both read back as float32). */
  public static double relative(Tensor actual, Tensor expected) {
    float[] x = actual.toFloatArray(), y = expected.toFloatArray();
    assertEquals(y.length, x.length, "element count");
    double d = 0, m = 0;
    for (int i = 0; i < x.length; i++) {
      d = Math.max(d, Math.abs(x[i] - y[i]));
      m = Math.max(m, Math.abs(y[i]));
    }
    return d / m;
  }
}
