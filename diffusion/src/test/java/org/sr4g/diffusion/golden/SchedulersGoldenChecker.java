package org.sr4g.diffusion.golden;

import com.fasterxml.jackson.databind.JsonNode;
import org.sr4g.diffusion.GoldenChecker;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.schedulers.DdimScheduler;
import org.sr4g.diffusion.schedulers.DdpmScheduler;
import org.sr4g.diffusion.schedulers.EulerDiscreteScheduler;
import org.sr4g.diffusion.schedulers.NoiseSchedule;
import org.sr4g.diffusion.schedulers.PndmScheduler;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.schedulers.SchedulerConfig;
import org.sr4g.diffusion.schedulers.StepResult;

/** {@code schedulers.safetensors}: every output tensor of the DDPM, DDIM, PNDM and Euler groups (see schedulers.json). */
public final class SchedulersGoldenChecker implements GoldenChecker {
  @Override
  public String kind() {
    return "schedulers";
  }

  @Override
  public void check(GoldenFixture f) {
    JsonNode configs = f.sidecar().get("configs");
    checkDdpm(f, configs);
    for (String key : new String[] {"ddim_20", "ddim_50", "ddim_50_v"}) checkChained(f, configs, key);
    for (String key : new String[] {"pndm_20", "pndm_50"}) checkChained(f, configs, key);
    for (String key : new String[] {"euler_20", "euler_50"}) checkChained(f, configs, key);
  }

  private static SchedulerConfig config(GoldenFixture f, JsonNode configs, String key) {
    return SchedulerConfig.fromJson(configs.get(key), f.name() + ".json configs." + key);
  }

  private static void checkDdpm(GoldenFixture f, JsonNode configs) {
    NoiseSchedule s = new DdpmScheduler(config(f, configs, "ddpm_eps")).schedule();
    f.checkClose("ddpm/betas", s.betas());
    f.checkClose("ddpm/alphas", s.alphas());
    f.checkClose("ddpm/alphas_cumprod", s.alphasCumprod());
    float[] x0 = f.floats("ddpm/x0");
    float[] noise = f.floats("ddpm/noise");
    long[] t = f.longs("ddpm/add_noise_timesteps");
    f.checkClose("ddpm/add_noise", s.addNoise(x0, noise, t));
    f.checkClose("ddpm/velocity", s.velocity(x0, noise, t));
    for (String key : new String[] {"ddpm_eps", "ddpm_v"}) {
      DdpmScheduler ddpm = new DdpmScheduler(config(f, configs, key));
      long[] steps = f.longs(key + "/step_timesteps");
      for (int i = 0; i < steps.length; i++) {
        StepResult r = ddpm.step(f.floats(key + "/model_output_" + i), steps[i], f.floats(key + "/sample_" + i),
            f.floats(key + "/variance_noise_" + i));
        f.checkClose(key + "/prev_sample_" + i, r.prevSample());
        f.checkClose(key + "/pred_original_sample_" + i, r.predOriginalSample());
      }
    }
  }

  /** set_timesteps(n) from the key's suffix, then three chained steps from sample_0. */
  private static void checkChained(GoldenFixture f, JsonNode configs, String key) {
    Scheduler s = Scheduler.create(config(f, configs, key));
    int n = Integer.parseInt(key.split("_")[1]);
    s.setTimesteps(n);
    float[] timesteps = s.timesteps();
    switch (s) {
      case DdimScheduler d -> f.checkExact(key + "/timesteps", d.integerTimesteps());
      case PndmScheduler p -> f.checkExact(key + "/timesteps", p.integerTimesteps());
      case EulerDiscreteScheduler e -> {
        f.checkClose(key + "/timesteps", timesteps);
        f.checkClose(key + "/sigmas", e.sigmas());
        f.checkClose(key + "/init_noise_sigma", new float[] {e.initNoiseSigma()});
      }
      default -> throw new IllegalStateException(s.getClass().getName());
    }
    float[] sample = f.floats(key + "/sample_0");
    for (int i = 0; i < 3; i++) {
      if (s instanceof EulerDiscreteScheduler) f.checkClose(key + "/scaled_model_input_" + i, s.scaleModelInput(sample, timesteps[i]));
      StepResult r = s.step(f.floats(key + "/model_output_" + i), timesteps[i], sample, null);
      f.checkClose(key + "/prev_sample_" + i, r.prevSample());
      if (r.predOriginalSample() != null && f.tensorNames().contains(key + "/pred_original_sample_" + i))
        f.checkClose(key + "/pred_original_sample_" + i, r.predOriginalSample());
      sample = r.prevSample();
    }
  }
}
