package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Autograd gradients against central finite differences of the same (f32) function. */
class GradCheckTest {
  @BeforeEach
  void need() {
    NativeAssume.torch();
  }

  /** Checks d f(x) / dx for x of {@code shape}, f returning a scalar tensor. */
  private static void check(String what, long[] shape, long seed, Function<Tensor, Tensor> f) {
    try (TensorScope scope = TensorScope.open(); Generator g = new Generator(Device.CPU, seed)) {
      float[] x0 = Tensor.randn(g, DType.F32, shape).toFloatArray();
      Tensor x = Tensor.of(x0, shape).requiresGrad(true);
      f.apply(x).backward();
      float[] analytic = x.grad().toFloatArray();
      float h = 1e-2f;
      for (int i = 0; i < x0.length; i++) {
        float[] p = x0.clone(), m = x0.clone();
        p[i] += h;
        m[i] -= h;
        double numeric;
        try (TensorScope inner = TensorScope.open()) {
          numeric = (f.apply(Tensor.of(p, shape)).item() - f.apply(Tensor.of(m, shape)).item()) / (2 * h);
        }
        assertEquals(numeric, analytic[i], 3e-3 + 3e-2 * Math.abs(numeric), what + " d/dx[" + i + "]");
      }
    }
  }

  @Test
  void elementwiseAndReductions() {
    check("silu·sin·exp", new long[] {6}, 1, x -> x.silu().mul(x.sin()).add(x.mul(0.3).exp()).sum());
    check("gelu, gelu-tanh, sigmoid", new long[] {5}, 2, x -> x.gelu().add(x.geluTanh().mul(2)).mul(x.sigmoid()).mean());
    check("pow, sqrt, clamp", new long[] {5}, 3, x -> x.square().add(1).sqrt().add(x.clamp(-0.5, 0.5).pow(3)).sum());
  }

  @Test
  void layers() {
    try (TensorScope scope = TensorScope.open(); Generator g = new Generator(Device.CPU, 9)) {
      Tensor w = Tensor.randn(g, DType.F32, 4, 2, 3, 3), b = Tensor.randn(g, DType.F32, 4);
      Tensor lw = Tensor.randn(g, DType.F32, 3, 4);
      check("conv2d → group_norm → silu", new long[] {1, 2, 4, 4}, 4,
          x -> Nn.groupNorm(Nn.conv2d(x, w, b, 1, 1, 1), 2, null, null, 1e-5).silu().mul(Nn.conv2d(x, w, b, 1, 1, 1)).mean());
      check("linear → layer_norm → softmax", new long[] {2, 4}, 5,
          x -> Nn.layerNorm(Nn.linear(x, lw, null), new long[] {3}, null, null, 1e-5).softmax(-1).mul(x.slice(1, 0, 3, 1)).sum());
      check("attention (q from x)", new long[] {1, 3, 4}, 6, x -> {
        Tensor k = x.mul(0.5).add(0.1), v = x.sin();
        return Nn.attention(x, k, v, null, false).square().sum();
      });
    }
  }

  @Test
  void noGradBlockRecordsNothing() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
      Tensor y;
      try (ModeGuard ng = Autograd.noGrad()) {
        y = x.mul(3).sum();
      }
      assertEquals(false, y.requiresGrad());
      Tensor z = x.mul(3).sum();
      z.backward();
      assertNotNull(x.grad());
      Autograd.zeroGrad(java.util.List.of(x));
      assertNull(x.grad());
    }
  }
}
