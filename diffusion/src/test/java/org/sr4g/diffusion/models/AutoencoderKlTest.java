package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.TensorScope;

class AutoencoderKlTest {

  @Test
  void matchesGoldenVae() {
    try (ModelGolden g = ModelGolden.open("vae");
        AutoencoderKl vae = AutoencoderKl.load(AutoencoderKlConfig.read(g.configFile), g.weights, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      assertEquals(124, vae.params().list().size());
      assertEquals(0.18215, vae.scalingFactor());
      AutoencoderKl.Posterior post = vae.encode(g.input("input/image"));
      g.check("output/moments", post.moments());
      g.check("output/posterior_mean", post.mean());
      g.check("output/posterior_logvar", post.logvar());
      g.check("output/posterior_std", post.std());
      g.check("output/decoded", vae.decode(g.input("input/latent")));
    }
  }

  @Test
  void goldenWeightsHaveNoProblems() {
    try (ModelGolden g = ModelGolden.open("vae")) {
      assertTrue(AutoencoderKl.check(AutoencoderKlConfig.read(g.configFile), g.weights).isEmpty());
    }
  }
}
