package org.sr4g.diffusion.golden;

import org.sr4g.diffusion.GoldenChecker;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.TensorScope;

/** {@code vae}: moments, posterior mean/logvar/std of the encoder and the decoded image. */
public final class VaeGoldenChecker implements GoldenChecker {
  @Override
  public String kind() {
    return "vae";
  }

  @Override
  public void check(GoldenFixture f) {
    ModelCheckers.requireTorch();
    AutoencoderKlConfig config = AutoencoderKlConfig.read(f.dir().resolve(f.sidecar().get("config_file").asText()));
    try (SafetensorsFile w = SafetensorsFile.open(f.dir().resolve(f.sidecar().get("weights_file").asText()));
        AutoencoderKl vae = AutoencoderKl.LOADER.load(config, w, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      AutoencoderKl.Posterior p = vae.encode(f.io().toTensor("input/image"));
      f.checkClose("output/moments", ModelCheckers.floats(p.moments()));
      f.checkClose("output/posterior_mean", ModelCheckers.floats(p.mean()));
      f.checkClose("output/posterior_logvar", ModelCheckers.floats(p.logvar()));
      f.checkClose("output/posterior_std", ModelCheckers.floats(p.std()));
      f.checkClose("output/decoded", ModelCheckers.floats(vae.decode(f.io().toTensor("input/latent"))));
    }
  }
}
