package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sr4g.cuda.CudaDriver;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/**
 * The models on a CUDA device. Every test skips, with the reason, where there is no CUDA device (the driver probe) or
 * the libtorch here has no CUDA: they never fail on CPU machines. Float32 parity runs with TF32 off (libtorch allows
 * it for cuDNN convolutions by default, which alone exceeds the golden tolerances).
 */
class CudaModelsTest {
  private static boolean tf32Before;
  private static boolean tf32Changed;

  static Device requireCuda() {
    Assumptions.assumeTrue(Torch.isAvailable(),
        () -> "libtorch engine unavailable: " + Torch.unavailableReason().orElse("?"));
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "no CUDA device: " + p.reason());
    Assumptions.assumeTrue(Torch.cudaDeviceCount() > 0, () -> "the driver sees " + p.devices().size()
        + " CUDA device(s) but this libtorch cannot use them (built with CUDA: " + Torch.builtWithCuda() + ")");
    return Device.cuda(0);
  }

  @BeforeAll
  static void tf32Off() {
    if (!Torch.isAvailable() || !CudaDriver.probe().available()) return;
    tf32Before = Torch.allowTf32(false);
    tf32Changed = true;
  }

  @AfterAll
  static void tf32Back() {
    if (tf32Changed) Torch.allowTf32(tf32Before);
  }

  @Test
  void unetGoldenOnCudaF32() {
    Device cuda = requireCuda();
    try (ModelGolden g = ModelGolden.open("unet_a");
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(UNetConfig.read(g.configFile), g.weights, cuda);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      Tensor x = g.input("input/sample").to(cuda), ctx = g.input("input/encoder_hidden_states").to(cuda);
      Tensor out = unet.forward(x, g.input("input/timestep").to(cuda), ctx);
      assertEquals(cuda, out.device());
      g.check("output/sample", out);
      g.check("output/sample_timestep_float", unet.forward(x, g.input("input/timestep_float").to(cuda), ctx));
    }
  }

  @Test
  void gradientCheckpointingEqualsPlainBackwardOnCuda() {
    Device cuda = requireCuda();
    // cuDNN's convolution backward may sum in a different order from run to run: a looser bound than the CPU's 1e-5.
    GradientCheckpointingTest.checkEqualGradients(UNetConfig.fromJson(GradientCheckpointingTest.DEEPER, "test config"),
        cuda, true, 16, 1e-4);
  }

  @Test
  void vaeGoldenOnCudaF32() {
    Device cuda = requireCuda();
    try (ModelGolden g = ModelGolden.open("vae");
        AutoencoderKl vae = AutoencoderKl.LOADER.load(AutoencoderKlConfig.read(g.configFile), g.weights, cuda);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      AutoencoderKl.Posterior post = vae.encode(g.input("input/image").to(cuda));
      g.check("output/moments", post.moments());
      g.check("output/posterior_std", post.std());
      g.check("output/decoded", vae.decode(g.input("input/latent").to(cuda)));
    }
  }

  @Test
  void clipTextGoldenOnCudaF32() {
    Device cuda = requireCuda();
    try (ModelGolden g = ModelGolden.open("clip_text");
        ClipTextModel m = ClipTextModel.LOADER.load(ClipTextConfig.read(g.configFile), g.weights, cuda);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      ClipTextModel.Output o = m.forward(g.input("input/input_ids").to(cuda));
      g.check("output/last_hidden_state", o.lastHiddenState());
      g.check("output/pooled_output", o.pooledOutput());
      g.check("output/penultimate_hidden_state_final_ln", m.encode(g.input("input/input_ids").to(cuda), 2));
    }
  }

  /** bf16 weights and activations: close to float32 (loose: 3% of the output range). */
  @Test
  void bf16UnetIsCloseToF32OnCuda() {
    Device cuda = requireCuda();
    try (ModelGolden g = ModelGolden.open("unet_a")) {
      double rel = DTypeTest.bf16VersusF32(g, cuda);
      assertTrue(rel < 0.03, "bf16 vs f32 on " + cuda + ": max|diff| / max|f32| = " + rel);
    }
  }

  /**
   * Nn.attention (libtorch ≥ 2: scaled_dot_product_attention, whose flash / memory-efficient kernels CUDA picks for
   * f16/bf16 with 64-dim heads as in SD) against softmax(q kᵀ/√d + mask) v written out in float32, plain and causal.
   */
  @Test
  void sdpaMatchesTheFormulaOnCuda() {
    Device cuda = requireCuda();
    System.out.println("[sdpa] libtorch " + Torch.version() + " on " + cuda);
    try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open();
        Generator gen = new Generator(Device.CPU, 11)) {
      long b = 2, h = 8, l = 77, d = 64;
      Tensor q = Tensor.randn(gen, DType.F32, b, h, l, d), k = Tensor.randn(gen, DType.F32, b, h, l, d),
          v = Tensor.randn(gen, DType.F32, b, h, l, d);
      float[] causal = new float[(int) (l * l)];
      for (int i = 0; i < l; i++) for (int j = 0; j < l; j++) causal[(int) (i * l + j)] = j > i ? Float.NEGATIVE_INFINITY : 0f;
      Tensor causalMask = Tensor.of(causal, l, l).to(cuda);
      for (DType dt : List.of(DType.F32, DType.F16, DType.BF16)) {
        double tol = dt == DType.F32 ? 1e-4 : dt == DType.F16 ? 4e-3 : 3e-2;
        Tensor qd = q.to(dt, cuda), kd = k.to(dt, cuda), vd = v.to(dt, cuda);
        // Reference from the same (rounded) inputs, computed in float32.
        Tensor q32 = qd.to(DType.F32), k32 = kd.to(DType.F32), v32 = vd.to(DType.F32);
        Tensor scores = q32.matmul(k32.transpose(-2, -1)).mul(1.0 / Math.sqrt(d));
        for (boolean isCausal : new boolean[] {false, true}) {
          Tensor ref = (isCausal ? scores.add(causalMask) : scores).softmax(-1).matmul(v32);
          Tensor out = Nn.attention(qd, kd, vd, null, isCausal);
          assertEquals(dt, out.dtype());
          double err = maxAbsDiff(out.to(DType.F32), ref);
          System.out.printf("[sdpa] %s causal=%s max|err| %.3e (tol %.1e)%n", dt, isCausal, err, tol);
          assertTrue(err <= tol, dt + " causal=" + isCausal + ": max|err| " + err + " > " + tol);
        }
      }
    }
  }

  private static double maxAbsDiff(Tensor a, Tensor b) {
    float[] x = a.toFloatArray(), y = b.toFloatArray();
    double m = 0;
    for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs((double) x[i] - y[i]));
    if (Double.isNaN(m)) return Double.POSITIVE_INFINITY;
    return m;
  }
}
