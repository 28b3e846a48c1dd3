package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

class ClipTextModelTest {

  @Test
  void matchesGoldenClipText() {
    try (ModelGolden g = ModelGolden.open("clip_text");
        ClipTextModel m = ClipTextModel.LOADER.load(ClipTextConfig.read(g.configFile), g.weights, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      ClipTextModel.Output o = m.forward(g.input("input/input_ids"));
      assertEquals(3, o.hiddenStates().size());
      for (int i = 0; i < 3; i++) g.check("output/hidden_states." + i, o.hiddenStates().get(i));
      g.check("output/last_hidden_state", o.lastHiddenState());
      g.check("output/penultimate_hidden_state_final_ln", m.finalLayerNorm(o.hiddenStates().get(1)));
      g.check("output/pooled_output", o.pooledOutput());
      // encode(): clip skip 1 = last_hidden_state, 2 = SD 2.x's penultimate layer through final_layer_norm.
      g.check("output/last_hidden_state", m.encode(g.input("input/input_ids"), 1));
      g.check("output/penultimate_hidden_state_final_ln", m.encode(g.input("input/input_ids"), 2));
    }
  }

  @Test
  void namesEveryBadKeyBeforeLoading() {
    try (ModelGolden g = ModelGolden.open("clip_text"); TensorScope scope = TensorScope.open()) {
      ClipTextConfig c = ClipTextConfig.read(g.configFile);
      assertTrue(ClipTextModel.LOADER.check(c, g.weights).isEmpty(), () -> ClipTextModel.LOADER.check(c, g.weights).toString());
      Map<String, Tensor> broken = new HashMap<>();
      for (String k : g.weights.keys()) broken.put(k, g.weights.toTensor(k));
      broken.remove("text_model.encoder.layers.1.mlp.fc2.bias");
      broken.put("text_model.final_layer_norm.weight", Tensor.zeros(org.sr4g.torch.DType.F32, Device.CPU, 31));
      broken.put("text_model.extra.weight", Tensor.zeros(org.sr4g.torch.DType.F32, Device.CPU, 2));
      MapWeights w = new MapWeights(broken);
      List<String> problems = ClipTextModel.LOADER.check(c, w);
      assertEquals(List.of("missing text_model.encoder.layers.1.mlp.fc2.bias [32]",
          "wrong shape text_model.final_layer_norm.weight: [31], expected [32]",
          "unexpected text_model.extra.weight [2]"), problems);
      UserInputException e = assertThrows(UserInputException.class, () -> ClipTextModel.LOADER.load(c, w, Device.CPU));
      assertTrue(e.getMessage().startsWith("CLIP text encoder weights (in-memory weights): 3 weight problem(s): "),
          e.getMessage());
      assertTrue(e.getMessage().contains("missing text_model.encoder.layers.1.mlp.fc2.bias"), e.getMessage());
    }
  }
}
