package org.sr4g.diffusion.schedulers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.testing.SharedData;
import org.sr4g.torch.DType;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/** Config handling, timestep spacing and algebraic identities of the schedulers (golden values: GoldenParityTest). */
class SchedulersTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode sd15(String cls) {
    return JSON.createObjectNode().put("_class_name", cls).put("beta_start", 0.00085).put("beta_end", 0.012)
        .put("beta_schedule", "scaled_linear").put("num_train_timesteps", 1000).put("steps_offset", 1)
        .put("set_alpha_to_one", false).put("skip_prk_steps", true).put("clip_sample", false);
  }

  private static Scheduler create(ObjectNode n) {
    return Scheduler.create(SchedulerConfig.fromJson(n, "test.json"));
  }

  private static float[] gaussian(int n, long seed) {
    Random r = new Random(seed);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) out[i] = (float) r.nextGaussian();
    return out;
  }

  @Test
  void createsTheClassTheConfigNames() {
    assertInstanceOf(DdpmScheduler.class, create(sd15("DDPMScheduler")));
    assertInstanceOf(DdimScheduler.class, create(sd15("DDIMScheduler")));
    assertInstanceOf(PndmScheduler.class, create(sd15("PNDMScheduler")));
    assertInstanceOf(EulerDiscreteScheduler.class, create(sd15("EulerDiscreteScheduler")));
    UserInputException e = assertThrows(UserInputException.class, () -> create(sd15("LMSDiscreteScheduler")));
    assertTrue(e.getMessage().contains("test.json") && e.getMessage().contains("LMSDiscreteScheduler"), e.getMessage());
  }

  @Test
  void rejectsOptionsItDoesNotImplement() {
    for (String flag : new String[] {"clip_sample", "thresholding", "use_karras_sigmas", "rescale_betas_zero_snr"}) {
      UserInputException e = assertThrows(UserInputException.class, () -> create(sd15("DDIMScheduler").put(flag, true)));
      assertTrue(e.getMessage().contains(flag), e.getMessage());
    }
    assertThrows(UserInputException.class, () -> create(sd15("DDIMScheduler").put("prediction_type", "x0")));
    assertThrows(UserInputException.class, () -> create(sd15("DDIMScheduler").put("beta_schedule", "sigmoid")));
    assertThrows(UserInputException.class, () -> create(sd15("DDIMScheduler").put("num_train_timesteps", "1000")));
    assertThrows(UserInputException.class, () -> create(sd15("PNDMScheduler").put("skip_prk_steps", false)));
  }

  @Test
  void timestepSpacingsFollowDiffusers() {
    DdimScheduler leading = (DdimScheduler) create(sd15("DDIMScheduler"));
    leading.setTimesteps(20);
    long[] t = leading.integerTimesteps();
    assertEquals(951, t[0]);
    assertEquals(1, t[19]);
    assertEquals(50, t[0] - t[1]);
    DdimScheduler trailing = (DdimScheduler) create(sd15("DDIMScheduler").put("timestep_spacing", "trailing"));
    trailing.setTimesteps(3);
    assertArrayEquals(new long[] {999, 666, 332}, trailing.integerTimesteps()); // round(1000 - i*333.33) - 1
    DdimScheduler linspace = (DdimScheduler) create(sd15("DDIMScheduler").put("timestep_spacing", "linspace"));
    linspace.setTimesteps(4);
    assertArrayEquals(new long[] {999, 666, 333, 0}, linspace.integerTimesteps());
  }

  @Test
  void pndmRepeatsTheSecondTimestep() {
    PndmScheduler p = (PndmScheduler) create(sd15("PNDMScheduler"));
    p.setTimesteps(5);
    assertArrayEquals(new long[] {801, 601, 601, 401, 201, 1}, p.integerTimesteps());
  }

  @Test
  void ddimRecoversTheCleanSampleFromTheTrueNoise() {
    DdimScheduler d = (DdimScheduler) create(sd15("DDIMScheduler"));
    d.setTimesteps(20);
    float[] x0 = gaussian(64, 1);
    float[] eps = gaussian(64, 2);
    long t = d.integerTimesteps()[3];
    float[] xt = d.schedule().addNoise(x0, eps, new long[] {t});
    StepResult r = d.step(eps, t, xt, null);
    assertArrayEquals(x0, r.predOriginalSample(), 1e-4f);
    // eta = 0: the previous sample is the same clean sample noised to the previous timestep with the same noise
    assertArrayEquals(d.schedule().addNoise(x0, eps, new long[] {t - 50}), r.prevSample(), 1e-4f);
  }

  @Test
  void eulerStepMovesAlongTheNoiseDirection() {
    EulerDiscreteScheduler e = (EulerDiscreteScheduler) create(sd15("EulerDiscreteScheduler"));
    e.setTimesteps(10);
    float[] sigmas = e.sigmas();
    float[] x0 = gaussian(16, 3);
    float[] eps = gaussian(16, 4);
    float[] sample = new float[16];
    for (int i = 0; i < 16; i++) sample[i] = x0[i] + sigmas[0] * eps[i];
    float t0 = e.timesteps()[0];
    float[] scaled = e.scaleModelInput(sample, t0);
    assertEquals(sample[5] / Math.sqrt(sigmas[0] * sigmas[0] + 1), scaled[5], 1e-5);
    StepResult r = e.step(eps, t0, sample, null);
    for (int i = 0; i < 16; i++) {
      assertEquals(x0[i], r.predOriginalSample()[i], 1e-4);
      assertEquals(x0[i] + sigmas[1] * eps[i], r.prevSample()[i], 1e-4);
    }
    assertEquals(0f, sigmas[10]);
    assertEquals(sigmas[0], e.initNoiseSigma());
  }

  @Test
  void ddpmAtTimestepZeroAddsNoNoise() {
    DdpmScheduler d = (DdpmScheduler) create(sd15("DDPMScheduler"));
    float[] x = gaussian(8, 5);
    StepResult r = d.step(gaussian(8, 6), 0, x, null);
    // at t = 0 the previous alpha-bar is 1: the step returns the predicted clean sample
    assertArrayEquals(r.predOriginalSample(), r.prevSample(), 1e-6f);
    assertThrows(NullPointerException.class, () -> d.step(gaussian(8, 6), 10, x, null));
  }

  /**
   * The tensor forms (what sampling runs, on the latents' device) against the array oracles, on the CPU: every
   * scheduler, every prediction type it supports, 6 chained steps (PNDM's history fills up to four outputs; DDPM draws
   * noise where it needs it): within 1e-6 of the largest value (measured: bit-identical).
   */
  @Test
  void tensorFormsEqualTheArrayOracles() {
    NativeAssume.torch();
    long[] shape = {2, 4, 3, 3};
    int n = 2 * 4 * 3 * 3;
    String[][] cases = {{"DDPMScheduler", "epsilon"}, {"DDPMScheduler", "v_prediction"}, {"DDPMScheduler", "sample"},
      {"DDIMScheduler", "epsilon"}, {"DDIMScheduler", "v_prediction"}, {"DDIMScheduler", "sample"},
      {"PNDMScheduler", "epsilon"}, {"PNDMScheduler", "v_prediction"}, {"EulerDiscreteScheduler", "epsilon"},
      {"EulerDiscreteScheduler", "v_prediction"}, {"EulerDiscreteScheduler", "sample"}};
    for (String[] c : cases) {
      try (Scheduler arrays = create(sd15(c[0]).put("prediction_type", c[1]));
          Scheduler tensors = create(sd15(c[0]).put("prediction_type", c[1]));
          TensorScope scope = TensorScope.open()) {
        arrays.setTimesteps(10);
        tensors.setTimesteps(10);
        float[] x = gaussian(n, 7);
        Tensor xt = Tensor.of(x, shape);
        float[] ts = arrays.timesteps();
        for (int i = 0; i < 6; i++) {
          float t = ts[i];
          float[] eps = gaussian(n, 100 + i);
          float[] noise = arrays.needsNoise(t) ? gaussian(n, 200 + i) : null;
          assertEquals(arrays.needsNoise(t), c[0].equals("DDPMScheduler") && t > 0);
          float[] in = arrays.scaleModelInput(x, t);
          Tensor inT = tensors.scaleModelInput(xt, t);
          assertClose(in, inT, c[0] + " " + c[1] + " input " + i);
          x = arrays.step(eps, t, x, noise).prevSample();
          xt = tensors.step(Tensor.of(eps, shape), t, xt, noise == null ? null : Tensor.of(noise, shape));
          assertArrayEquals(shape, xt.shape());
          assertClose(x, xt, c[0] + " " + c[1] + " step " + i);
        }
      }
    }
  }

  private static void assertClose(float[] expected, Tensor actual, String what) {
    float[] a = actual.contiguous().toFloatArray();
    double d = 0, m = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - expected[i]));
      m = Math.max(m, Math.abs(expected[i]));
    }
    assertTrue(d <= 1e-6 * m, what + ": max|diff| " + d + " of " + m);
  }

  /**
   * The trainer's on-device add_noise / get_velocity (tensor form) equal the array form bit for bit on the CPU, for
   * each batch element's own timestep; wrong batch sizes and dtypes are refused.
   */
  @Test
  void tensorAddNoiseAndVelocityEqualTheArrayForm() {
    NativeAssume.torch();
    NoiseSchedule s = create(sd15("DDPMScheduler")).schedule();
    long[] ts = {0, 17, 500, 999};
    long[] shape = {4, 3, 5, 7};
    float[] x0 = gaussian(4 * 3 * 5 * 7, 1), eps = gaussian(4 * 3 * 5 * 7, 2);
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.of(x0, shape), n = Tensor.of(eps, shape);
      assertArrayEquals(s.addNoise(x0, eps, ts), s.addNoise(x, n, ts).contiguous().toFloatArray());
      assertArrayEquals(s.velocity(x0, eps, ts), s.velocity(x, n, ts).contiguous().toFloatArray());
      assertThrows(IllegalArgumentException.class, () -> s.addNoise(x, n, new long[] {1, 2}));
      assertThrows(IllegalArgumentException.class, () -> s.addNoise(x.to(DType.BF16), n, ts));
      assertThrows(IllegalArgumentException.class, () -> s.addNoise(x, n, new long[] {0, 1, 2, 1000}));
    }
  }

  @Test
  void betasAndAlphasCumprodMatchTorchBitForBit() throws java.io.IOException {
    // Stricter than the golden tolerance: the float32 linspace/cumprod emulation is exact, and a change to it shows here.
    java.nio.file.Path golden = SharedData.require("golden");
    var configs = JSON.readTree(golden.resolve("schedulers.json").toFile()).get("configs");
    NoiseSchedule s = create((ObjectNode) configs.get("ddpm_eps")).schedule();
    try (SafetensorsFile st = SafetensorsFile.open(golden.resolve("schedulers.safetensors"))) {
      assertArrayEquals(st.readFloats("ddpm/betas"), s.betas());
      assertArrayEquals(st.readFloats("ddpm/alphas"), s.alphas());
      assertArrayEquals(st.readFloats("ddpm/alphas_cumprod"), s.alphasCumprod());
    }
  }
}
