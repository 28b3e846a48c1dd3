package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sr4g.torch.AttentionSlicing;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

class UNet2DConditionModelTest {

  /** As loaded, and as sampling runs it (packed for inference, attention sliced into 7-row chunks). */
  @ParameterizedTest(name = "inference form {0}")
  @ValueSource(booleans = {false, true})
  void forwardMatchesGoldenWithIntAndFloatTimesteps(boolean inferenceForm) {
    try (ModelGolden g = ModelGolden.open("unet_a");
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(UNetConfig.read(g.configFile), g.weights, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      assertEquals(208, unet.params().list().size());
      if (inferenceForm) {
        assertTrue(unet.packForInference().isComplete());
        AttentionSlicing.set(AttentionSlicing.rows(7));
      }
      Map<String, Tensor> taps = new HashMap<>();
      Tensor sample = g.input("input/sample"), context = g.input("input/encoder_hidden_states");
      Tensor out = unet.forward(sample, g.input("input/timestep"), context, taps::put);
      g.check("output/sample", out);
      // The comparison discriminates: an error just above the tolerance fails.
      assertThrows(AssertionError.class, () -> g.check("output/sample", out.add(2e-4)));
      g.check("act/time_embedding", taps.get("time_embedding"));
      g.check("act/down_blocks.0", taps.get("down_blocks.0"));
      g.check("act/mid_block", taps.get("mid_block"));
      g.check("output/sample_timestep_float", unet.forward(sample, g.input("input/timestep_float"), context));
    } finally {
      AttentionSlicing.set(AttentionSlicing.AUTO);
    }
  }

  @Test
  void lossAndGradientsMatchGolden() {
    try (ModelGolden g = ModelGolden.open("unet_a");
        UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(UNetConfig.read(g.configFile), g.weights, Device.CPU);
        TensorScope scope = TensorScope.open()) {
      Tensor out = unet.forward(g.input("input/sample"), g.input("input/timestep"),
          g.input("input/encoder_hidden_states"));
      Tensor loss = Nn.mseLoss(out, g.input("input/target"));
      g.check("output/loss", loss.reshape(1));
      loss.backward();
      for (String key : List.of("conv_in.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
          "time_embedding.linear_1.weight", "conv_out.bias"))
        g.check("grad/" + key, unet.params().get(key).grad());
    }
  }

  @Test
  void goldenWeightsHaveNoProblems() {
    try (ModelGolden g = ModelGolden.open("unet_a")) {
      List<String> problems = UNet2DConditionModel.LOADER.check(UNetConfig.read(g.configFile), g.weights);
      assertTrue(problems.isEmpty(), problems::toString);
    }
  }
}
