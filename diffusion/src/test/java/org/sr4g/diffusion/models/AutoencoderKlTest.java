package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sr4g.torch.AttentionSlicing;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.TensorScope;

class AutoencoderKlTest {

  /**
   * As loaded, and as sampling runs it (packed for inference, attention sliced into 16-row chunks): every output
   * within the sidecar's tolerance (the packed 1×1 quant convs move the outputs by ~1e-7 relative; docs/native.md).
   */
  @ParameterizedTest(name = "inference form {0}")
  @ValueSource(booleans = {false, true})
  void matchesGoldenVae(boolean inferenceForm) {
    try (ModelGolden g = ModelGolden.open("vae");
        AutoencoderKl vae = AutoencoderKl.LOADER.load(AutoencoderKlConfig.read(g.configFile), g.weights, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      assertEquals(124, vae.params().list().size());
      if (inferenceForm) {
        assertTrue(vae.packForInference().isComplete());
        AttentionSlicing.set(AttentionSlicing.rows(16));
      }
      assertEquals(0.18215, vae.scalingFactor());
      AutoencoderKl.Posterior post = vae.encode(g.input("input/image"));
      g.check("output/moments", post.moments());
      g.check("output/posterior_mean", post.mean());
      g.check("output/posterior_logvar", post.logvar());
      g.check("output/posterior_std", post.std());
      g.check("output/decoded", vae.decode(g.input("input/latent")));
    } finally {
      AttentionSlicing.set(AttentionSlicing.AUTO);
    }
  }

  @Test
  void goldenWeightsHaveNoProblems() {
    try (ModelGolden g = ModelGolden.open("vae")) {
      assertTrue(AutoencoderKl.LOADER.check(AutoencoderKlConfig.read(g.configFile), g.weights).isEmpty());
    }
  }
}
