package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Forward ops against values worked out by hand (or with the formula they implement). */
class OpsTest {
  private TensorScope scope;

  @BeforeEach
  void open() {
    NativeAssume.torch();
    scope = TensorScope.open();
  }

  @AfterEach
  void close() {
    if (scope != null) scope.close();
  }

  private static Tensor t(float... v) {
    return Tensor.of(v, v.length);
  }

  private static void near(float[] expected, Tensor actual, float tol) {
    assertArrayEquals(expected, actual.toFloatArray(), tol);
  }

  @Test
  void arithmeticTensorAndScalar() {
    Tensor a = t(1, 2, 3), b = t(4, 5, 6);
    near(new float[] {5, 7, 9}, a.add(b), 0);
    near(new float[] {-3, -3, -3}, a.sub(b), 0);
    near(new float[] {4, 10, 18}, a.mul(b), 0);
    near(new float[] {0.25f, 0.4f, 0.5f}, a.div(b), 1e-7f);
    near(new float[] {3, 4, 5}, a.add(2), 0);
    near(new float[] {0, 1, 2}, a.sub(1), 0);
    near(new float[] {2, 4, 6}, a.mul(2), 0);
    near(new float[] {0.5f, 1, 1.5f}, a.div(2), 0);
    near(new float[] {9, 8, 7}, a.rsub(10), 0);
    near(new float[] {1, 4, 9}, a.pow(2), 0);
    near(new float[] {1, 32, 729}, a.pow(b), 0);
    near(new float[] {-1, -2, -3}, a.neg(), 0);
  }

  @Test
  void elementwiseFunctions() {
    Tensor x = t(-1, 0, 1, 4);
    near(new float[] {(float) Math.exp(-1), 1, (float) Math.E, (float) Math.exp(4)}, x.exp(), 1e-5f);
    near(new float[] {1, 0, 1, 2}, x.abs().sqrt(), 1e-7f);
    near(new float[] {(float) Math.sin(-1), 0, (float) Math.sin(1), (float) Math.sin(4)}, x.sin(), 1e-6f);
    near(new float[] {(float) Math.cos(-1), 1, (float) Math.cos(1), (float) Math.cos(4)}, x.cos(), 1e-6f);
    near(new float[] {-0.5f, 0, 1, 2}, x.clamp(-0.5, 2), 0);
    near(new float[] {0, 0, 1, 4}, x.clampMin(0), 0);
    near(new float[] {-1, 0, 1, 1}, x.clampMax(1), 0);
    float[] sig = new float[4], silu = new float[4], gelu = new float[4], geluT = new float[4];
    float[] xs = {-1, 0, 1, 4};
    for (int i = 0; i < 4; i++) {
      double v = xs[i], s = 1 / (1 + Math.exp(-v));
      sig[i] = (float) s;
      silu[i] = (float) (v * s);
      gelu[i] = (float) (0.5 * v * (1 + erf(v / Math.sqrt(2))));
      geluT[i] = (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
    }
    near(sig, x.sigmoid(), 1e-6f);
    near(silu, x.silu(), 1e-6f);
    near(gelu, x.gelu(), 1e-5f);
    near(geluT, x.geluTanh(), 1e-5f);
    assertFalse(java.util.Arrays.equals(x.gelu().toFloatArray(), x.geluTanh().toFloatArray()), "two GELU variants");
  }

  /** Abramowitz–Stegun 7.1.26 is too coarse; this series is exact to 1e-9 for |x| < 3. */
  static double erf(double x) {
    double sum = 0, term = x;
    for (int n = 0; n < 60; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  @Test
  void reductionsAndSoftmax() {
    Tensor m = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    assertEquals(21, m.sum().item(), 0);
    assertEquals(3.5, m.mean().item(), 1e-7);
    near(new float[] {6, 15}, m.sum(false, 1), 0);
    near(new float[] {2.5f, 3.5f, 4.5f}, m.mean(false, 0), 0);
    assertArrayEquals(new long[] {2, 1}, m.sum(true, 1).shape());
    double e1 = Math.exp(1), e2 = Math.exp(2), e3 = Math.exp(3), z = e1 + e2 + e3;
    near(new float[] {(float) (e1 / z), (float) (e2 / z), (float) (e3 / z)}, t(1, 2, 3).softmax(0), 1e-6f);
    assertEquals(1.0, m.softmax(1).sum(false, 1).toFloatArray()[1], 1e-6);
  }

  @Test
  void matmulFamily() {
    Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2), b = Tensor.of(new float[] {5, 6, 7, 8}, 2, 2);
    near(new float[] {19, 22, 43, 50}, a.matmul(b), 0);
    Tensor a3 = a.reshape(1, 2, 2), b3 = b.reshape(1, 2, 2);
    near(new float[] {19, 22, 43, 50}, a3.bmm(b3), 0);
    near(new float[] {19 * 2 + 1, 22 * 2 + 1, 43 * 2 + 1, 50 * 2 + 1},
        Nn.baddbmm(Tensor.ones(DType.F32, Device.CPU, 1, 2, 2), a3, b3, 1.0, 2.0), 0);
    // linear: x·wᵀ + b
    Tensor x = Tensor.of(new float[] {1, 2}, 1, 2), w = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
    near(new float[] {11, 22, 33}, Nn.linear(x, w, t(10, 20, 30)), 0);
    near(new float[] {1, 2, 3}, Nn.linear(x, w, null), 0);
  }

  @Test
  void conv2dStridePaddingGroups() {
    Tensor x = Tensor.arange(0, 16, 1, DType.F32, Device.CPU).reshape(1, 1, 4, 4);
    Tensor ones = Tensor.ones(DType.F32, Device.CPU, 1, 1, 2, 2);
    // 2×2 box sums, stride 2: {0+1+4+5, 2+3+6+7, 8+9+12+13, 10+11+14+15}
    near(new float[] {10, 18, 42, 50}, Nn.conv2d(x, ones, t(0.5f), 2, 0, 1), 0.5f + 1e-6f);
    Tensor padded = Nn.conv2d(x, Tensor.ones(DType.F32, Device.CPU, 1, 1, 3, 3), null, 1, 1, 1);
    assertArrayEquals(new long[] {1, 1, 4, 4}, padded.shape());
    assertEquals(0 + 1 + 4 + 5, padded.toFloatArray()[0], 0); // corner sees a 2×2 window
    // groups = 2: each output channel sees only its own input channel
    Tensor x2 = Tensor.cat(List.of(x, x.mul(10)), 1);
    Tensor w2 = Tensor.ones(DType.F32, Device.CPU, 2, 1, 1, 1);
    float[] y = Nn.conv2d(x2, w2, null, 1, 0, 2).toFloatArray();
    assertEquals(5, y[5], 0);
    assertEquals(50, y[16 + 5], 0);
  }

  @Test
  void normalisations() {
    Tensor x = Tensor.arange(0, 16, 1, DType.F32, Device.CPU).reshape(1, 4, 2, 2);
    float[] g = Nn.groupNorm(x, 2, null, null, 0).toFloatArray();
    // group 0 = 0..7: mean 3.5, population variance 5.25
    assertEquals((0 - 3.5) / Math.sqrt(5.25), g[0], 1e-5);
    assertEquals((15 - 11.5) / Math.sqrt(5.25), g[15], 1e-5);
    Tensor gw = Nn.groupNorm(x, 2, t(2, 2, 2, 2), t(1, 1, 1, 1), 0);
    assertEquals(2 * (0 - 3.5) / Math.sqrt(5.25) + 1, gw.toFloatArray()[0], 1e-5);
    float[] l = Nn.layerNorm(Tensor.of(new float[] {1, 2, 3, 4}, 1, 4), new long[] {4}, null, null, 0).toFloatArray();
    assertEquals((1 - 2.5) / Math.sqrt(1.25), l[0], 1e-5);
    assertEquals((4 - 2.5) / Math.sqrt(1.25), l[3], 1e-5);
  }

  @Test
  void attentionMatchesFormulaAndMask() {
    try (Generator g = new Generator(Device.CPU, 3)) {
      Tensor q = Tensor.randn(g, DType.F32, 2, 5, 4), k = Tensor.randn(g, DType.F32, 2, 6, 4);
      Tensor v = Tensor.randn(g, DType.F32, 2, 6, 3);
      Tensor ref = q.matmul(k.transpose(1, 2)).div(2.0).softmax(-1).matmul(v);
      near(ref.toFloatArray(), Nn.attention(q, k, v, null, false), 1e-5f);
      // bool mask: true = attend. Masking out all but key 0 returns v[:, 0] for every query.
      boolean[] keep = new boolean[6];
      keep[0] = true;
      Tensor mask = Tensor.of(keep, 1, 6);
      float[] out = Nn.attention(q, k, v, mask, false).toFloatArray();
      float[] v0 = v.slice(1, 0, 1, 1).toFloatArray();
      for (int j = 0; j < 3; j++) assertEquals(v0[j], out[j], 1e-6);
      // causal on a square problem: the first query sees only the first key
      Tensor kc = k.slice(1, 0, 5, 1), vc = v.slice(1, 0, 5, 1);
      float[] c = Nn.attention(q, kc, vc, null, true).toFloatArray();
      for (int j = 0; j < 3; j++) assertEquals(v0[j], c[j], 1e-6);
    }
  }

  @Test
  void embeddingUpsampleWhereMse() {
    Tensor w = Tensor.of(new float[] {0, 0, 1, 1, 2, 2}, 3, 2);
    near(new float[] {2, 2, 0, 0, 2, 2}, Nn.embedding(w, Tensor.of(new long[] {2, 0, 2}, 3)), 0);
    Tensor img = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2);
    Tensor up = Nn.upsampleNearest2x(img);
    assertArrayEquals(new long[] {1, 1, 4, 4}, up.shape());
    near(new float[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, up, 0);
    Tensor cond = Tensor.of(new boolean[] {true, false, true}, 3);
    near(new float[] {1, 20, 3}, Tensor.where(cond, t(1, 2, 3), t(10, 20, 30)), 0);
    assertEquals((1 + 4 + 9) / 3.0, Nn.mseLoss(t(1, 2, 3), t(0, 0, 0)).item(), 1e-6);
  }

  @Test
  void shapeOps() {
    Tensor x = Tensor.arange(0, 6, 1, DType.F32, Device.CPU).reshape(2, 3);
    assertArrayEquals(new long[] {3, 2}, x.view(3, 2).shape());
    Tensor tr = x.transpose(0, 1);
    near(new float[] {0, 3, 1, 4, 2, 5}, tr, 0);
    near(new float[] {0, 3, 1, 4, 2, 5}, x.permute(1, 0).contiguous(), 0);
    assertThrowsTorch(() -> tr.view(6)); // a transposed view cannot be flattened without a copy
    near(new float[] {0, 3, 1, 4, 2, 5}, tr.reshape(6), 0);
    near(new float[] {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}, Tensor.cat(List.of(x, x), 0), 0);
    List<Tensor> parts = x.chunk(3, 1);
    assertEquals(3, parts.size());
    near(new float[] {1, 4}, parts.get(1), 0);
    List<Tensor> sp = Tensor.arange(0, 5, 1, DType.F32, Device.CPU).split(2, 0);
    assertEquals(3, sp.size());
    near(new float[] {4}, sp.get(2), 0);
    near(new float[] {1, 2, 4, 5}, x.slice(1, 1, 3, 1), 0);
    near(new float[] {2, 0, 5, 3}, x.indexSelect(1, Tensor.of(new long[] {2, 0}, 2)), 0);
    assertEquals(2, x.dim());
    assertEquals(6, x.numel());
    assertEquals(3, x.size(-1));
  }

  @Test
  void creationDtypesAndConversion() {
    near(new float[] {0, 0}, Tensor.zeros(DType.F32, Device.CPU, 2), 0);
    near(new float[] {7, 7}, Tensor.full(7, DType.F32, Device.CPU, 2), 0);
    near(new float[] {0, 0.5f, 1, 1.5f}, Tensor.arange(0, 2, 0.5, DType.F32, Device.CPU), 0);
    Tensor f = t(1.5f, -2.25f, 3);
    for (DType d : new DType[] {DType.F16, DType.BF16}) {
      Tensor c = f.to(d);
      assertEquals(d, c.dtype());
      near(new float[] {1.5f, -2.25f, 3}, c, 0); // exactly representable in both
    }
    assertArrayEquals(new long[] {1, -2, 3}, f.to(DType.I64).toLongArray());
    assertArrayEquals(new boolean[] {true, true, true}, f.to(DType.BOOL).toBooleanArray());
    assertEquals(Device.CPU, f.device());
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment seg = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1, 2, 3, 4);
      Tensor s = Tensor.fromSegment(seg, DType.F32, Device.CPU, 2, 2);
      seg.set(ValueLayout.JAVA_FLOAT, 0, 99); // the tensor owns a copy
      near(new float[] {1, 2, 3, 4}, s, 0);
      MemorySegment back = arena.allocate(16);
      s.copyTo(back);
      assertEquals(4f, back.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
    }
    Tensor img = Tensor.ones(DType.F32, Device.CPU, 1, 3, 4, 4);
    assertFalse(img.isChannelsLast());
    Tensor cl = img.channelsLast();
    assertTrue(cl.isChannelsLast());
    assertArrayEquals(img.shape(), cl.shape());
  }

  @Test
  void seededGeneratorsRepeat() {
    float[] a, b, c;
    try (Generator g = new Generator(Device.CPU, 42)) {
      a = Tensor.randn(g, DType.F32, 100).toFloatArray();
    }
    try (Generator g = new Generator(Device.CPU, 42)) {
      b = Tensor.randn(g, DType.F32, 100).toFloatArray();
      c = Tensor.rand(g, DType.F32, 1000).toFloatArray();
    }
    assertArrayEquals(a, b);
    double mean = 0;
    for (float v : a) mean += v / a.length;
    assertTrue(Math.abs(mean) < 0.35, "standard normal mean " + mean);
    for (float v : c) assertTrue(v >= 0 && v < 1);
  }

  static void assertThrowsTorch(Runnable r) {
    org.junit.jupiter.api.Assertions.assertThrows(TorchException.class, r::run);
  }
}
