package org.sr4g.diffusion.golden;

import java.util.HashMap;
import java.util.Map;
import org.sr4g.diffusion.GoldenChecker;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * {@code unet}: output/sample (int timesteps), output/sample_timestep_float, the listed activations, the MSE loss
 * against input/target and every {@code grad/<parameter>} tensor of the fixture (libtorch autograd).
 */
public final class UNetGoldenChecker implements GoldenChecker {
  @Override
  public String kind() {
    return "unet";
  }

  @Override
  public void check(GoldenFixture f) {
    ModelCheckers.requireTorch();
    UNetConfig config = UNetConfig.read(f.dir().resolve(f.sidecar().get("config_file").asText()));
    try (SafetensorsFile w = SafetensorsFile.open(f.dir().resolve(f.sidecar().get("weights_file").asText()));
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(config, w, Device.CPU);
        TensorScope scope = TensorScope.open()) {
      Tensor sample = f.io().toTensor("input/sample"), context = f.io().toTensor("input/encoder_hidden_states");
      try (ModeGuard ng = Autograd.noGrad()) {
        f.checkClose("output/sample_timestep_float", ModelCheckers.floats(
            unet.forward(sample, f.io().toTensor("input/timestep_float"), context)));
      }
      Map<String, Tensor> taps = new HashMap<>();
      Tensor out = unet.forward(sample, f.io().toTensor("input/timestep"), context, taps::put);
      f.checkClose("output/sample", ModelCheckers.floats(out));
      for (String name : f.tensorNames()) {
        if (!name.startsWith("act/")) continue;
        Tensor act = taps.get(name.substring(4));
        if (act == null) f.recordFailure(name + ": no such activation");
        else f.checkClose(name, ModelCheckers.floats(act));
      }
      Tensor loss = Nn.mseLoss(out, f.io().toTensor("input/target"));
      f.checkClose("output/loss", new float[] {(float) loss.item()});
      loss.backward();
      for (String name : f.tensorNames()) {
        if (!name.startsWith("grad/")) continue;
        Tensor g = unet.params().get(name.substring(5)).grad();
        if (g == null) f.recordFailure(name + ": no gradient");
        else f.checkClose(name, ModelCheckers.floats(g));
      }
    }
  }
}
