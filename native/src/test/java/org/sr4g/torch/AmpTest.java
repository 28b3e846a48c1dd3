package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Autocast on the CPU (bf16) and the GradScaler's arithmetic on CPU tensors; the CUDA variants are in CudaTorchTest. */
class AmpTest {
  @BeforeEach
  void need() {
    NativeAssume.torch();
  }

  @Test
  @SuppressWarnings("try")
  void cpuBf16AutocastLowersLinearAndMatmulAndRestoresOnClose() {
    try (TensorScope scope = TensorScope.open(); Generator g = new Generator(Device.CPU, 3)) {
      Tensor x = Tensor.randn(g, DType.F32, 4, 8), w = Tensor.randn(g, DType.F32, 5, 8).requiresGrad(true);
      Tensor ref = Nn.linear(x, w, null);
      assertFalse(Torch.autocastEnabled(Device.CPU));
      try (ModeGuard ac = Torch.autocast(Device.CPU, DType.BF16)) {
        assertTrue(Torch.autocastEnabled(Device.CPU));
        assertEquals(DType.BF16, Torch.autocastDtype(Device.CPU));
        Tensor y = Nn.linear(x, w, null);
        assertEquals(DType.BF16, y.dtype());
        assertEquals(DType.BF16, x.matmul(x.transpose(0, 1)).dtype());
        // bf16 keeps 8 bits of mantissa: close to, and not equal to, the float32 result.
        float[] a = ref.toFloatArray(), b = y.to(DType.F32).toFloatArray();
        boolean differs = false;
        for (int i = 0; i < a.length; i++) {
          assertEquals(a[i], b[i], 0.05 * (1 + Math.abs(a[i])), "element " + i);
          differs |= a[i] != b[i];
        }
        assertTrue(differs, "bf16 result identical to float32: autocast did not run the op in bf16");
        // The gradient reaches the float32 leaf as float32 (the weights stay float32 masters).
        y.to(DType.F32).sum().backward();
      }
      assertEquals(DType.F32, w.grad().dtype());
      assertFalse(Torch.autocastEnabled(Device.CPU));
      assertEquals(DType.F32, Nn.linear(x, w, null).dtype());
      assertEquals(DType.F32, x.matmul(x.transpose(0, 1)).dtype());
    }
  }

  @Test
  @SuppressWarnings("try")
  void normsTakeABf16InputWithFloat32WeightsAndTinyNetRunsUnderCpuAutocast() {
    try (TinyNet net = new TinyNet(Device.CPU, 7); TensorScope scope = TensorScope.open();
        Generator g = new Generator(Device.CPU, 8)) {
      Tensor x = Tensor.randn(g, DType.F32, 3, TinyNet.IN_CHANNELS, TinyNet.SIZE, TinyNet.SIZE);
      // A low-precision input with float32 affine weights is normalised in float32 (autocast's fp32 policy).
      Tensor w = Tensor.ones(DType.F32, Device.CPU, 2), b = Tensor.zeros(DType.F32, Device.CPU, 2);
      Tensor gn = Nn.groupNorm(x.to(DType.BF16), 2, w, b, 1e-5);
      assertEquals(DType.F32, gn.dtype());
      assertArrayEquals(Nn.groupNorm(x.to(DType.BF16).to(DType.F32), 2, w, b, 1e-5).toFloatArray(), gn.toFloatArray());
      assertEquals(DType.F32, Nn.layerNorm(x.to(DType.BF16), new long[] {TinyNet.SIZE},
          Tensor.ones(DType.F32, Device.CPU, TinyNet.SIZE), null, 1e-5).dtype());
      float[] ref = net.forward(x).toFloatArray(), low;
      try (ModeGuard ac = Torch.autocast(Device.CPU, DType.BF16)) {
        low = net.forward(x).to(DType.F32).toFloatArray();
      }
      boolean differs = false;
      for (int i = 0; i < ref.length; i++) {
        assertEquals(ref[i], low[i], 0.05 * (1 + Math.abs(ref[i])), "output " + i);
        differs |= ref[i] != low[i];
      }
      assertTrue(differs, "TinyNet under bf16 autocast gave the float32 result");
    }
  }

  @Test
  @SuppressWarnings("try")
  void nestedGuardsRestoreTheEnabledFlagAndTheDtype() {
    // CUDA autocast state is thread-local bookkeeping: it can be set and read on a CPU-only build.
    Device cuda = Device.cuda(0);
    boolean cudaOn = Torch.autocastEnabled(cuda);
    DType cudaDtype = Torch.autocastDtype(cuda);
    assertFalse(cudaOn);
    try (ModeGuard outer = Torch.autocast(cuda, DType.BF16)) {
      assertTrue(Torch.autocastEnabled(cuda));
      assertEquals(DType.BF16, Torch.autocastDtype(cuda));
      try (ModeGuard inner = Torch.autocast(cuda, DType.F16)) {
        assertEquals(DType.F16, Torch.autocastDtype(cuda));
        try (ModeGuard cpu = Torch.autocast(Device.CPU, DType.BF16); TensorScope scope = TensorScope.open()) {
          assertTrue(Torch.autocastEnabled(Device.CPU));
          Tensor a = Tensor.ones(DType.F32, Device.CPU, 2, 2);
          assertEquals(DType.BF16, a.matmul(a).dtype());
        }
        assertFalse(Torch.autocastEnabled(Device.CPU));
        assertTrue(Torch.autocastEnabled(cuda));
      }
      assertTrue(Torch.autocastEnabled(cuda));
      assertEquals(DType.BF16, Torch.autocastDtype(cuda));
      try (TensorScope scope = TensorScope.open()) {
        Tensor a = Tensor.ones(DType.F32, Device.CPU, 2, 2);
        assertEquals(DType.F32, a.matmul(a).dtype(), "CUDA autocast must not touch CPU ops");
      }
    }
    assertEquals(cudaOn, Torch.autocastEnabled(cuda));
    assertEquals(cudaDtype, Torch.autocastDtype(cuda));
    // close() twice is harmless (the nesting count drops once).
    ModeGuard g = Torch.autocast(Device.CPU, DType.BF16);
    g.close();
    g.close();
    assertFalse(Torch.autocastEnabled(Device.CPU));
  }

  @Test
  void cpuF16AutocastIsAClearErrorOnOldLibtorch() {
    String v = Torch.version();
    Assumptions.assumeTrue(v.startsWith("1.") || v.matches("2\\.[0-3]\\..*"), "libtorch " + v + " has CPU f16 autocast");
    TorchException e = assertThrows(TorchException.class, () -> Torch.autocast(Device.CPU, DType.F16));
    assertTrue(e.getMessage().contains("CPU autocast supports only bfloat16"), e.getMessage());
    assertFalse(Torch.autocastEnabled(Device.CPU), "a refused autocast leaves the state alone");
    assertThrows(IllegalArgumentException.class, () -> Torch.autocast(Device.CPU, DType.F32));
  }

  /** w [3] with loss = sum(w · x): the gradient of w is x, so a chosen x injects any gradient, inf included. */
  private static Tensor param(float... values) {
    return TensorScope.detachFromScope(Tensor.of(values, values.length).requiresGrad(true));
  }

  @Test
  void scaleUnscaleRoundTripIsExact() {
    Tensor w = param(0.5f, -1f, 2f);
    try (TensorScope scope = TensorScope.open()) {
      GradScaler scaler = new GradScaler();
      assertEquals(65536f, scaler.scale());
      float[] x = {1e-3f, -3.25f, 7.1f};
      Tensor loss = w.mul(Tensor.of(x, 3)).sum();
      Tensor scaled = scaler.scale(loss);
      assertEquals(loss.item() * 65536, scaled.item(), 1e-9 * Math.abs(scaled.item()));
      scaled.backward();
      assertEquals(x[1] * 65536f, w.grad().toFloatArray()[1]);
      assertFalse(scaler.unscale(List.of(w)));
      assertArrayEquals(x, w.grad().toFloatArray()); // power-of-two scale: exact
      assertThrows(IllegalStateException.class, () -> scaler.unscale(List.of(w)));
      scaler.update();
      assertEquals(65536f, scaler.scale());
      assertEquals(1, scaler.growthTracker());
    } finally {
      w.close();
    }
  }

  @Test
  void infOrNanGradientSkipsTheStepLeavesParamsAloneAndHalvesTheScale() {
    for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
      Tensor w = param(0.5f, -1f, 2f), u = param(1f, 1f, 1f);
      try (TensorScope scope = TensorScope.open(); AdamW opt = new AdamW(List.of(w, u), 0.1)) {
        GradScaler scaler = new GradScaler();
        // Two parameters; only the second one's gradient is bad: the check must cover all of them.
        scaler.scale(w.mul(Tensor.of(new float[] {1, 2, 3}, 3)).sum().add(u.mul(Tensor.of(new float[] {1, bad, 3}, 3)).sum()))
            .backward();
        assertFalse(scaler.step(opt), "step must be skipped");
        assertTrue(scaler.foundInf());
        assertEquals(0, opt.stepCount());
        assertArrayEquals(new float[] {0.5f, -1f, 2f}, w.toFloatArray());
        assertArrayEquals(new float[] {1f, 1f, 1f}, u.toFloatArray());
        scaler.update();
        assertEquals(32768f, scaler.scale());
        assertEquals(0, scaler.growthTracker());
        // The next clean step runs and changes the parameters.
        Autograd.zeroGrad(List.of(w, u));
        scaler.scale(w.sum().add(u.sum())).backward();
        assertTrue(scaler.step(opt));
        scaler.update();
        assertEquals(1, opt.stepCount());
        assertNotEquals(0.5f, w.toFloatArray()[0]);
        assertEquals(32768f, scaler.scale());
        assertEquals(1, scaler.growthTracker());
      } finally {
        w.close();
        u.close();
      }
    }
  }

  @Test
  void scaleGrowsAfterGrowthIntervalCleanStepsAndStateRoundTrips() {
    Tensor w = param(1f, 2f, 3f);
    try (TensorScope scope = TensorScope.open()) {
      GradScaler a = new GradScaler(1024f, 2.0, 0.5, 3);
      for (int i = 1; i <= 7; i++) {
        Autograd.zeroGrad(List.of(w));
        a.scale(w.sum()).backward();
        assertFalse(a.unscale(List.of(w)));
        assertArrayEquals(new float[] {1, 1, 1}, w.grad().toFloatArray());
        a.update();
        // growth after steps 3 and 6
        assertEquals(i < 3 ? 1024f : i < 6 ? 2048f : 4096f, a.scale(), "after step " + i);
        assertEquals(i % 3, a.growthTracker(), "after step " + i);
      }
      // torch's defaults from the issue: 65536, ×2 after 2000 clean steps.
      GradScaler d = new GradScaler();
      assertEquals(2000, d.growthInterval());
      // State round trip: a fresh scaler with the saved state behaves like the original from there on.
      GradScaler b = new GradScaler(1024f, 2.0, 0.5, 3);
      b.loadState(a.scale(), a.growthTracker());
      for (GradScaler s : List.of(a, b)) {
        Autograd.zeroGrad(List.of(w));
        s.scale(w.sum()).backward();
        s.unscale(List.of(w));
        s.update();
        Autograd.zeroGrad(List.of(w));
        s.scale(w.sum()).backward();
        s.unscale(List.of(w));
        s.update();
      }
      assertEquals(8192f, a.scale());
      assertEquals(a.scale(), b.scale());
      assertEquals(a.growthTracker(), b.growthTracker());
      assertThrows(IllegalArgumentException.class, () -> b.loadState(1f, 3));
      // A grown scale that would be infinite is not taken (torch checks isfinite).
      GradScaler big = new GradScaler(Float.MAX_VALUE / 1.5f, 2.0, 0.5, 1);
      Autograd.zeroGrad(List.of(w));
      big.scale(w.sum()).backward();
      big.unscale(List.of(w));
      big.update();
      assertEquals(Float.MAX_VALUE / 1.5f, big.scale());
    } finally {
      w.close();
    }
  }
}
