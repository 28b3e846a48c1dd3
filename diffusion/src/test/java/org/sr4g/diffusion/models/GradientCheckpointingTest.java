package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * Gradient checkpointing gives, through a plain {@code loss.backward()}, the gradients of the same step without it:
 * every parameter, the loss, and the inputs' gradients when they require one, on random UNets (the tiny one, and a
 * deeper one with three levels, two layers per block, two transformer layers and linear projections), and leaks no
 * native handle and no checkpointed segment.
 */
class GradientCheckpointingTest {
  /** Three levels, 2 layers per block, cross attention in two levels, 2-deep transformers, linear projection. */
  static final String DEEPER = """
      {"in_channels": 4, "out_channels": 4, "layers_per_block": 2, "norm_num_groups": 8, "cross_attention_dim": 16,
       "attention_head_dim": 2, "sample_size": 8, "block_out_channels": [16, 32, 32], "transformer_layers_per_block": 2,
       "use_linear_projection": true,
       "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
       "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}""";

  @BeforeEach
  void needTorch() {
    NativeAssume.torch();
  }

  /** Loss and gradients (parameters by name, then "input/sample", "input/context" when asked) of one step. */
  static Map<String, float[]> lossAndGradients(UNet2DConditionModel unet, Device dev, boolean checkpointing,
      boolean inputGrads, long seed, int res, int ctxDim) {
    return lossAndGradients(unet, dev, checkpointing, inputGrads, seed, res, ctxDim, null);
  }

  /** As above with the forward and loss under {@code autocast} (null: none), as the trainer runs them. */
  static Map<String, float[]> lossAndGradients(UNet2DConditionModel unet, Device dev, boolean checkpointing,
      boolean inputGrads, long seed, int res, int ctxDim, DType autocast) {
    unet.params().zeroGrad();
    unet.setGradientCheckpointing(checkpointing);
    Map<String, float[]> out = new LinkedHashMap<>();
    try (TensorScope scope = TensorScope.open(); Generator g = new Generator(Device.CPU, seed)) {
      Tensor x = Tensor.randn(g, DType.F32, 2, 4, res, res).to(dev);
      Tensor ctx = Tensor.randn(g, DType.F32, 2, 7, ctxDim).to(dev);
      Tensor target = Tensor.randn(g, DType.F32, 2, 4, res, res).to(dev);
      if (inputGrads) {
        x.requiresGrad(true);
        ctx.requiresGrad(true);
      }
      Tensor loss;
      try (ModeGuard ac = autocast != null ? Torch.autocast(dev, autocast) : null) {
        loss = Nn.mseLoss(unet.forward(x, Tensor.of(new long[] {3, 917}, 2).to(dev), ctx).to(DType.F32), target);
      }
      out.put("loss", new float[] {(float) loss.item()});
      loss.backward(); // a plain backward: the checkpointed layers recompute themselves
      for (Map.Entry<String, Tensor> e : unet.params().named().entrySet()) {
        Tensor gr = e.getValue().grad();
        assertNotNull(gr, "no gradient for " + e.getKey() + " (checkpointing " + checkpointing + ")");
        out.put(e.getKey(), gr.to(Device.CPU).contiguous().toFloatArray());
      }
      if (inputGrads) {
        out.put("input/sample", x.grad().to(Device.CPU).contiguous().toFloatArray());
        out.put("input/context", ctx.grad().to(Device.CPU).contiguous().toFloatArray());
      }
    } finally {
      unet.setGradientCheckpointing(false);
    }
    return out;
  }

  /** |a − b| ≤ rel · max|b| per tensor (relative to the tensor's scale: a gradient entry may be ~0). */
  static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual, double rel) {
    assertEquals(expected.keySet(), actual.keySet());
    double worst = 0;
    for (String k : expected.keySet()) {
      float[] e = expected.get(k), a = actual.get(k);
      assertEquals(e.length, a.length, k);
      double scale = 0, diff = 0;
      for (int i = 0; i < e.length; i++) {
        scale = Math.max(scale, Math.abs(e[i]));
        diff = Math.max(diff, Math.abs(e[i] - a[i]));
      }
      assertTrue(scale > 0, k + ": all-zero gradient, the comparison would prove nothing");
      if (diff > rel * scale) fail(k + ": max |diff| " + diff + " > " + rel + " × max|g| " + scale);
      worst = Math.max(worst, diff / scale);
    }
    System.out.printf("gradient checkpointing: %d tensors, worst max|diff|/max|g| = %.3g%n", expected.size(), worst);
  }

  static void checkEqualGradients(UNetConfig config, Device dev, boolean inputGrads, int res) {
    checkEqualGradients(config, dev, inputGrads, res, 1e-5);
  }

  static void checkEqualGradients(UNetConfig config, Device dev, boolean inputGrads, int res, double rel) {
    try (RandomWeights w = new RandomWeights(UNet2DConditionModel.LOADER.parameterShapes(config), 7);
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(config, w, dev)) {
      Map<String, float[]> plain = lossAndGradients(unet, dev, false, inputGrads, 3, res, config.crossAttentionDim());
      Map<String, float[]> ckpt = lossAndGradients(unet, dev, true, inputGrads, 3, res, config.crossAttentionDim());
      // The same ops run in the forward: bit-identical on the CPU; cuDNN may pick other algorithms under no-grad.
      assertEquals(plain.get("loss")[0], ckpt.get("loss")[0], dev.isCuda() ? rel * Math.abs(plain.get("loss")[0]) : 0,
          "the forward is the same computation");
      assertClose(plain, ckpt, rel);
    }
  }

  /**
   * Under bf16 autocast the recompute must run under the forward's autocast (the backward is called outside it, as
   * the trainer does): then the checkpointed gradients are the plain bf16 ones, not float32's.
   */
  @Test
  void recomputeRunsUnderTheForwardsAutocast() {
    UNetConfig config = BuiltInUNets.config("tiny");
    try (RandomWeights w = new RandomWeights(UNet2DConditionModel.LOADER.parameterShapes(config), 7);
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(config, w, Device.CPU)) {
      int ctx = config.crossAttentionDim();
      Map<String, float[]> f32 = lossAndGradients(unet, Device.CPU, false, false, 3, 8, ctx, null);
      Map<String, float[]> bf16 = lossAndGradients(unet, Device.CPU, false, false, 3, 8, ctx, DType.BF16);
      Map<String, float[]> bf16Ckpt = lossAndGradients(unet, Device.CPU, true, false, 3, 8, ctx, DType.BF16);
      // Gradients meeting at a shared bf16 tensor (conv_in's output, …) are summed in another order than in a plain
      // backward, which moves a few of them by bf16 ulps: compare the median over tensors of max|diff|/max|g|.
      // (Without the autocast in the recompute, the replay mixes bf16 inputs with float32 weights and fails.)
      double ckptToBf16 = medianRel(bf16Ckpt, bf16), bf16ToF32 = medianRel(bf16, f32);
      System.out.printf("bf16 checkpointed vs plain bf16: median rel %.3g; plain bf16 vs float32: %.3g%n", ckptToBf16,
          bf16ToF32);
      assertTrue(bf16ToF32 > 5e-3, "bf16 and float32 gradients differ: " + bf16ToF32);
      assertTrue(ckptToBf16 < 1e-3, "checkpointed bf16 gradients are the bf16 ones: " + ckptToBf16);
      assertEquals(bf16.get("loss")[0], bf16Ckpt.get("loss")[0], 0, "the same bf16 forward");
      assertFalse(Torch.autocastEnabled(Device.CPU), "no autocast left on");
    }
  }

  @Test
  void tinyUNetGradientsEqualPlainBackward() {
    checkEqualGradients(BuiltInUNets.config("tiny"), Device.CPU, false, 8);
  }

  @Test
  void deeperUNetGradientsEqualPlainBackwardWithInputGradients() {
    checkEqualGradients(UNetConfig.fromJson(DEEPER, "test config"), Device.CPU, true, 8);
  }

  @Test
  void checkpointedGradientsMatchPyTorchGolden() {
    // The golden gradients of UNet2DConditionModelTest.lossAndGradientsMatchGolden (diffusers on PyTorch).
    try (ModelGolden g = ModelGolden.open("unet_a");
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(UNetConfig.read(g.configFile), g.weights, Device.CPU);
        TensorScope scope = TensorScope.open()) {
      unet.setGradientCheckpointing(true);
      Tensor out = unet.forward(g.input("input/sample"), g.input("input/timestep"),
          g.input("input/encoder_hidden_states"));
      Tensor loss = Nn.mseLoss(out, g.input("input/target"));
      g.check("output/loss", loss.reshape(1));
      unet.backward(loss); // the old entry still works: it is loss.backward()
      for (String key : List.of("conv_in.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
          "time_embedding.linear_1.weight", "conv_out.bias"))
        g.check("grad/" + key, unet.params().get(key).grad());
    }
  }

  @Test
  void ordinaryOpsBetweenSegmentsAreBackPropagatedInOrder() {
    // segment A, an ordinary op on A's output, segment C, and A's output used again by the loss: A's recompute must
    // receive the gradient from both paths (the engine orders it after C's node).
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(new float[] {0.3f, -1.2f, 2f}, 3);
      Tensor[] w = {Tensor.of(new float[] {0.5f, 1.5f, -0.7f}, 3).requiresGrad(true),
          Tensor.of(new float[] {2f, -1f, 0.25f}, 3).requiresGrad(true),
          Tensor.of(new float[] {-0.4f, 0.9f, 1.1f}, 3).requiresGrad(true)};
      Tensor a = x.mul(w[0]).tanh(), b = a.mul(w[1]), c = b.mul(w[2]).sin();
      c.add(a).square().sum().backward();
      float[][] plain = new float[3][];
      for (int i = 0; i < 3; i++) plain[i] = w[i].grad().toFloatArray();
      Autograd.zeroGrad(List.of(w));
      Tensor a2 = GradientCheckpointing.segment(true, in -> in.get(0).mul(w[0]).tanh(), x);
      Tensor b2 = a2.mul(w[1]);
      Tensor c2 = GradientCheckpointing.segment(true, in -> in.get(0).mul(w[2]).sin(), b2);
      c2.add(a2).square().sum().backward();
      for (int i = 0; i < 3; i++)
        org.junit.jupiter.api.Assertions.assertArrayEquals(plain[i], w[i].grad().toFloatArray(), 1e-6f, "w" + i);
    }
  }

  @Test
  void theComparisonDiscriminates() {
    // A gradient checkpointing that dropped one block's recompute would leave its parameters without gradient; one
    // that were slightly wrong must fail assertClose: perturb a copy by more than the tolerance.
    UNetConfig config = BuiltInUNets.config("tiny");
    try (RandomWeights w = new RandomWeights(UNet2DConditionModel.LOADER.parameterShapes(config), 7);
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(config, w, Device.CPU)) {
      Map<String, float[]> plain = lossAndGradients(unet, Device.CPU, false, false, 3, 8, 32);
      Map<String, float[]> bent = new LinkedHashMap<>(plain);
      float[] g = plain.get("mid_block.resnets.1.conv2.weight").clone();
      g[0] += 1e-4f * Math.abs(g[0]) + 1e-4f * maxAbs(g);
      bent.put("mid_block.resnets.1.conv2.weight", g);
      assertThrows(AssertionError.class, () -> assertClose(plain, bent, 1e-5));
      // and loss.backward() alone, with checkpointing on, reaches the checkpointed blocks (it did not before the
      // segments became autograd nodes: their parameters were left without gradients)
      unet.params().zeroGrad();
      unet.setGradientCheckpointing(true);
      try (TensorScope scope = TensorScope.open(); Generator gen = new Generator(Device.CPU, 3)) {
        Tensor x = Tensor.randn(gen, DType.F32, 2, 4, 8, 8), ctx = Tensor.randn(gen, DType.F32, 2, 7, 32);
        Nn.mseLoss(unet.forward(x, Tensor.of(new long[] {3, 917}, 2), ctx), x).backward();
        assertNotNull(unet.params().get("mid_block.resnets.1.conv2.weight").grad());
        assertNotNull(unet.params().get("conv_out.weight").grad());
      } finally {
        unet.setGradientCheckpointing(false);
      }
    }
  }

  /** The median over tensors of max|a − b| / max|b|. */
  static double medianRel(Map<String, float[]> a, Map<String, float[]> b) {
    double[] r = new double[b.size()];
    int n = 0;
    for (String k : b.keySet()) {
      float[] x = a.get(k), y = b.get(k);
      double scale = 0, diff = 0;
      for (int i = 0; i < y.length; i++) {
        scale = Math.max(scale, Math.abs(y[i]));
        diff = Math.max(diff, Math.abs(x[i] - y[i]));
      }
      r[n++] = scale == 0 ? 0 : diff / scale;
    }
    java.util.Arrays.sort(r);
    return r[n / 2];
  }

  private static float maxAbs(float[] a) {
    float m = 0;
    for (float v : a) m = Math.max(m, Math.abs(v));
    return m;
  }

  @Test
  void noGradForwardIsUnchangedAndNothingLeaks() {
    UNetConfig config = UNetConfig.fromJson(DEEPER, "test config");
    try (RandomWeights w = new RandomWeights(UNet2DConditionModel.LOADER.parameterShapes(config), 7);
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(config, w, Device.CPU)) {
      long live = Torch.liveTensors();
      for (int i = 0; i < 3; i++) lossAndGradients(unet, Device.CPU, true, i == 1, i, 8, 16);
      unet.params().zeroGrad();
      assertEquals(live, Torch.liveTensors(), "every handle of the checkpointed steps freed");
      // a forward under no-grad records nothing; a forward whose scope closed without backward is dropped
      unet.setGradientCheckpointing(true);
      try (TensorScope scope = TensorScope.open(); ModeGuard ng = Autograd.noGrad()) {
        Tensor x = Tensor.ones(DType.F32, Device.CPU, 1, 4, 8, 8), ctx = Tensor.ones(DType.F32, Device.CPU, 1, 7, 16);
        Tensor a = unet.forward(x, Tensor.of(new long[] {5}, 1), ctx);
        unet.setGradientCheckpointing(false);
        Tensor b = unet.forward(x, Tensor.of(new long[] {5}, 1), ctx);
        assertEquals(0.0, a.sub(b).abs().sum().item());
      }
      unet.setGradientCheckpointing(true);
      try (TensorScope scope = TensorScope.open()) {
        unet.forward(Tensor.ones(DType.F32, Device.CPU, 1, 4, 8, 8), Tensor.of(new long[] {5}, 1),
            Tensor.ones(DType.F32, Device.CPU, 1, 7, 16));
      } // abandoned without backward
      Map<String, float[]> after = lossAndGradients(unet, Device.CPU, true, false, 0, 8, 16);
      Map<String, float[]> plain = lossAndGradients(unet, Device.CPU, false, false, 0, 8, 16);
      assertClose(plain, after, 1e-5);
      unet.params().zeroGrad();
      assertEquals(live, Torch.liveTensors());
      assertEquals(0, org.sr4g.torch.Checkpoint.pendingSegments(), "every segment released with its graph");
    }
  }
}
