package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** AdamW against the reference update of torch.optim.AdamW, computed here in double over several steps. */
class AdamWTest {
  @BeforeEach
  void need() {
    NativeAssume.torch();
  }

  @Test
  void equalsReferenceFormulaOverSteps() {
    double lr = 0.05, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.1;
    float[] p0 = {0.5f, -1.0f, 2.0f, 0.0f};
    double[] p = new double[4], m = new double[4], v = new double[4];
    for (int i = 0; i < 4; i++) p[i] = p0[i];
    try (Params params = new Params()) {
      Tensor w = params.add("w", Tensor.of(p0, 4));
      try (AdamW adam = new AdamW(List.of(w), lr, b1, b2, eps, wd)) {
        for (int step = 1; step <= 6; step++) {
          // loss = sum(w^3 / 3 + w): grad = w^2 + 1 (different per element and per step)
          try (TensorScope scope = TensorScope.open()) {
            params.zeroGrad();
            w.pow(3).div(3).add(w).sum().backward();
            adam.step();
          }
          for (int i = 0; i < 4; i++) {
            double g = p[i] * p[i] + 1;
            p[i] *= 1 - lr * wd;
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double mhat = m[i] / (1 - Math.pow(b1, step));
            double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, step)) + eps;
            p[i] -= lr * mhat / denom;
          }
          float[] got = w.toFloatArray();
          for (int i = 0; i < 4; i++) assertEquals(p[i], got[i], 2e-6, "step " + step + " param " + i);
        }
        assertEquals(6, adam.stepCount());
        float[] ea = adam.expAvg(0).toFloatArray(), eas = adam.expAvgSq(0).toFloatArray();
        for (int i = 0; i < 4; i++) {
          assertEquals(m[i], ea[i], 1e-5 * Math.max(1, Math.abs(m[i])));
          assertEquals(v[i], eas[i], 1e-5 * Math.max(1, Math.abs(v[i])));
        }
      }
    }
  }

  @Test
  void stateRoundTripsThroughLoadState() {
    try (Params params = new Params(); TensorScope scope = TensorScope.open()) {
      Tensor a = params.add("a", Tensor.of(new float[] {1, 2}, 2));
      Tensor b = params.add("b", Tensor.of(new float[] {3, 4}, 2));
      try (AdamW one = new AdamW(List.of(a), 0.1); AdamW two = new AdamW(List.of(b), 0.1)) {
        a.mul(a).sum().backward();
        one.step();
        two.loadState(one.stepCount(), List.of(one.expAvg(0)), List.of(one.expAvgSq(0)));
        assertEquals(1, two.stepCount());
        assertArrayEquals(one.expAvg(0).toFloatArray(), two.expAvg(0).toFloatArray());
        assertArrayEquals(one.expAvgSq(0).toFloatArray(), two.expAvgSq(0).toFloatArray());
      }
    }
  }

  @Test
  void clipGradNormScalesToMaxNorm() {
    try (Params params = new Params(); TensorScope scope = TensorScope.open()) {
      Tensor a = params.add("a", Tensor.of(new float[] {0, 0}, 2));
      Tensor b = params.add("b", Tensor.of(new float[] {0}, 1));
      // grads: a = (3, 0), b = (4): global norm 5
      a.mul(Tensor.of(new float[] {3, 0}, 2)).sum().add(b.mul(4).sum()).backward();
      double norm = Autograd.clipGradNorm(params.list(), 1.0);
      assertEquals(5.0, norm, 1e-6);
      assertArrayEquals(new float[] {0.6f, 0}, a.grad().toFloatArray(), 1e-6f);
      assertArrayEquals(new float[] {0.8f}, b.grad().toFloatArray(), 1e-6f);
      assertEquals(1.0, Autograd.clipGradNorm(params.list(), 10.0), 1e-5); // under the cap: unchanged
      assertArrayEquals(new float[] {0.8f}, b.grad().toFloatArray(), 1e-6f);
    }
  }
}
