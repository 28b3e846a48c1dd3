package org.sr4g.diffusion.schedulers;

/** Small float32 helpers; every operation rounds to float32 as PyTorch's float32 kernels do. */
final class Elementwise {
  private Elementwise() {}

  /** Correctly rounded float32 square root (double sqrt rounded once is exact for float inputs). */
  static float sqrt(float x) {
    return (float) Math.sqrt(x);
  }

  static void sameLength(float[] a, float[] b) {
    if (a.length != b.length) throw new IllegalArgumentException("arrays differ in length: " + a.length + " vs " + b.length);
  }
}
