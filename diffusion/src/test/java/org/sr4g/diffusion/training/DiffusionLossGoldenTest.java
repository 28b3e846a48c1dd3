package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.schedulers.NoiseSchedule;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.torch.AdamW;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * {@link DiffusionLoss} against diffusers 0.31's text-to-image training step ({@code ../shared/golden/train_step},
 * README section 7): for every case (epsilon; Min-SNR-γ epsilon; Min-SNR-γ v-prediction; noise offset) the noise,
 * noisy latents, target, SNR and weights, the UNet's prediction, the per-example MSE, the loss and five parameters'
 * gradients; and case 5, global-norm clipping plus one AdamW step on case 1's gradients, as the trainer does it. Every
 * tensor within the fixture's atol. Skips without the shared data, fails under {@code CI=true}.
 */
class DiffusionLossGoldenTest {
  private static final String[] CASES = {"case1_eps", "case2_eps_snr", "case3_v_snr", "case4_eps_offset"};

  @Test
  void everyTrainStepCaseWithinTheFixturesTolerance() throws Exception {
    NativeAssume.torch();
    Path dir = GoldenFixture.goldenDir().resolve("train_step");
    if (!Files.isRegularFile(dir.resolve("train_step.json"))) {
      String why = "no train_step fixture in " + dir;
      if ("true".equals(System.getenv("CI")) || Boolean.getBoolean("sr4g.golden.strict")) fail(why);
      Assumptions.abort(why);
    }
    try (GoldenFixture f = GoldenFixture.load(dir, "train_step")) {
      NoiseSchedule schedule = Scheduler.create(SchedulerConfig.fromJson(f.config().get("noise_scheduler"),
          "train_step noise_scheduler")).schedule();
      long[] ts = f.longs("input/timesteps");
      float[] acp = new float[ts.length];
      for (int i = 0; i < ts.length; i++) acp[i] = schedule.alphasCumprod()[(int) ts[i]];
      f.checkClose("schedule/alphas_cumprod_t", acp);
      for (String c : CASES) runCase(f, c, schedule, ts, c.equals("case1_eps"));
      f.report().forEach(System.out::println);
      f.verify();
      assertEquals(List.of(), missed(f), "every expected tensor of the fixture was compared");
    }
  }

  private static void runCase(GoldenFixture f, String c, NoiseSchedule schedule, long[] ts, boolean withAdamW)
      throws Exception {
    var settings = f.config().get("cases").get(c);
    PredictionType type = PredictionType.parse(settings.get("prediction_type").asText());
    double gamma = settings.get("snr_gamma").isNull() ? 0 : settings.get("snr_gamma").asDouble();
    DiffusionLoss loss = new DiffusionLoss(schedule, type, gamma, settings.get("noise_offset").asDouble());
    try (SafetensorsFile w = SafetensorsFile.open(f.dir().resolve(f.config().get("unet_weights_file").asText()));
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(
            UNetConfig.read(f.dir().resolve(f.config().get("unet_config_file").asText())), w, Device.CPU);
        TensorScope scope = TensorScope.open()) {
      Tensor latents = f.io().toTensor("input/latents");
      Tensor noise = loss.noise(f.io().toTensor("input/noise"),
          loss.usesNoiseOffset() ? f.io().toTensor("input/noise_offset_randn") : null);
      if (loss.usesNoiseOffset()) f.checkClose(c + "/noise", floats(noise));
      Tensor noisy = loss.noisyLatents(latents, noise, ts), target = loss.target(latents, noise, ts);
      f.checkClose(c + "/noisy_latents", floats(noisy));
      f.checkClose(c + "/target", floats(target));
      if (gamma > 0) {
        double[] snr = loss.snr(ts);
        f.checkClose(c + "/snr", new float[] {(float) snr[0], (float) snr[1]});
        f.checkClose(c + "/mse_loss_weights", loss.weights(ts));
      }
      Tensor pred = unet.forward(noisy, Tensor.of(ts, ts.length), f.io().toTensor("input/encoder_hidden_states"));
      f.checkClose(c + "/model_pred", floats(pred));
      f.checkClose(c + "/mse_per_sample", floats(DiffusionLoss.msePerExample(pred, target)));
      Tensor l = loss.loss(pred, target, ts);
      f.checkClose(c + "/loss", new float[] {(float) l.item()});
      unet.backward(l);
      for (String name : f.tensorNames())
        if (name.startsWith(c + "/grad/")) f.checkClose(name, floats(unet.params().get(name.substring(c.length() + 6)).grad()));
      if (withAdamW) clipAndStep(f, unet);
    }
  }

  /** Case 5: the trainer's clipping (max norm 1) and AdamW (lr 1e-4, betas 0.9/0.999, wd 0.01, eps 1e-8) on case 1's gradients. */
  private static void clipAndStep(GoldenFixture f, UNet2DConditionModel unet) {
    String c = "case5_adamw";
    List<Tensor> params = new ArrayList<>();
    float[] norms = new float[f.sidecar().get("param_order").size()];
    for (int i = 0; i < norms.length; i++) {
      Tensor p = unet.params().get(f.sidecar().get("param_order").get(i).asText());
      params.add(p);
      double sq = 0;
      for (float g : floats(p.grad())) sq += (double) g * g;
      norms[i] = (float) Math.sqrt(sq);
    }
    f.checkClose(c + "/grad_norms", norms);
    double total = Autograd.clipGradNorm(params, 1.0);
    f.checkClose(c + "/total_grad_norm", new float[] {(float) total});
    f.checkClose(c + "/clip_coef", new float[] {(float) Math.min(1, 1.0 / (total + 1e-6))});
    try (AdamW opt = new AdamW(params, 1e-4, 0.9, 0.999, 1e-8, 0.01)) {
      opt.step();
    }
    for (String name : f.tensorNames())
      if (name.startsWith(c + "/param/")) f.checkClose(name, floats(unet.params().get(name.substring(c.length() + 7))));
  }

  /** Expected outputs (not inputs or the schedule) that no check above compared. */
  private static List<String> missed(GoldenFixture f) {
    return f.tensorNames().stream().filter(t -> t.startsWith("case") && !f.compared().contains(t)).toList();
  }

  private static float[] floats(Tensor t) {
    return t.contiguous().toFloatArray();
  }
}
