package org.sr4g.diffusion.golden;

import org.sr4g.diffusion.GoldenChecker;
import org.sr4g.diffusion.GoldenFixture;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.TensorScope;

/** {@code clip_text}: every hidden state, last_hidden_state, the SD 2.x penultimate variant and the pooled output. */
public final class ClipTextGoldenChecker implements GoldenChecker {
  @Override
  public String kind() {
    return "clip_text";
  }

  @Override
  public void check(GoldenFixture f) {
    ModelCheckers.requireTorch();
    ClipTextConfig config = ClipTextConfig.read(f.dir().resolve(f.sidecar().get("config_file").asText()));
    try (SafetensorsFile w = SafetensorsFile.open(f.dir().resolve(f.sidecar().get("weights_file").asText()));
        ClipTextModel m = ClipTextModel.LOADER.load(config, w, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      ClipTextModel.Output o = m.forward(f.io().toTensor("input/input_ids"));
      for (int i = 0; i < o.hiddenStates().size(); i++)
        f.checkClose("output/hidden_states." + i, ModelCheckers.floats(o.hiddenStates().get(i)));
      f.checkClose("output/last_hidden_state", ModelCheckers.floats(o.lastHiddenState()));
      f.checkClose("output/penultimate_hidden_state_final_ln",
          ModelCheckers.floats(m.finalLayerNorm(o.hiddenStates().get(config.numLayers() - 1))));
      f.checkClose("output/pooled_output", ModelCheckers.floats(o.pooledOutput()));
    }
  }
}
