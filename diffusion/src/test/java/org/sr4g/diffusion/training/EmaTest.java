package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** diffusers EMAModel's decay schedule and update rule, against the formula by hand. */
class EmaTest {
  @Test
  void decayScheduleAsDiffusers() {
    assertEquals(0.0, Ema.decayAt(0.9999, 1));
    assertEquals(2.0 / 11, Ema.decayAt(0.9999, 2));
    assertEquals(0.5, Ema.decayAt(0.5, 100));
  }

  @Test
  void updateFollowsTheFormulaAndLeaksNothing() {
    NativeAssume.torch();
    long live = Torch.liveTensors();
    try (Params p = new Params()) {
      Tensor w = p.add("w", Tensor.of(new float[] {1f, 2f}, 2));
      try (Ema ema = new Ema(p.named(), 0.9999)) {
        try (var ng = org.sr4g.torch.Autograd.noGrad(); TensorScope s = TensorScope.open()) {
          w.copyFrom(Tensor.of(new float[] {3f, 4f}, 2));
        }
        ema.update(p.named(), 1); // d = 0: copy
        assertArrayEquals(new float[] {3f, 4f}, ema.named().get("w").toFloatArray());
        try (var ng = org.sr4g.torch.Autograd.noGrad(); TensorScope s = TensorScope.open()) {
          w.copyFrom(Tensor.of(new float[] {5f, 0f}, 2));
        }
        ema.update(p.named(), 2); // d = 2/11
        double d = 2.0 / 11;
        assertArrayEquals(new float[] {(float) (3 - (1 - d) * (3 - 5)), (float) (4 - (1 - d) * 4)},
            ema.named().get("w").toFloatArray(), 1e-6f);
      }
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  @Test
  void swapInAndRestoreAreExact() {
    NativeAssume.torch();
    long live = Torch.liveTensors();
    float[] raw = {0.1f, -2.7182817f, 3.1415927e-20f};
    try (Params p = new Params()) {
      Tensor w = p.add("w", Tensor.of(raw.clone(), 3));
      w.requiresGrad(true);
      try (Ema ema = new Ema(p.named(), 0.9)) {
        try (var ng = org.sr4g.torch.Autograd.noGrad(); TensorScope s = TensorScope.open()) {
          w.copyFrom(Tensor.of(new float[] {1f, 2f, 3f}, 3));
        }
        ema.update(p.named(), 2); // d = 2/11: the average is neither value
        float[] trained = w.toFloatArray(), avg = ema.named().get("w").toFloatArray();
        var stored = ema.swapIn(p.named());
        assertArrayEquals(avg, w.toFloatArray(), "the average is in the parameters");
        Ema.restore(p.named(), stored);
        assertArrayEquals(trained, w.toFloatArray(), "the raw weights are back, bit for bit");
        assertEquals(true, w.requiresGrad());
      }
    }
    assertEquals(live, Torch.liveTensors(), "every handle freed");
  }

  /** A failure half way through swapIn (here: a parameter missing) puts back what was swapped and frees the copies. */
  @Test
  void swapInFailureRestoresAndFrees() {
    NativeAssume.torch();
    long live = Torch.liveTensors();
    try (Params p = new Params()) {
      Tensor a = p.add("a", Tensor.of(new float[] {1f, 2f}, 2));
      p.add("b", Tensor.of(new float[] {3f}, 1));
      try (Ema ema = new Ema(p.named(), 0.9)) {
        try (var ng = org.sr4g.torch.Autograd.noGrad(); TensorScope s = TensorScope.open()) {
          a.copyFrom(Tensor.of(new float[] {5f, 6f}, 2));
        }
        ema.update(p.named(), 2);
        java.util.Map<String, Tensor> onlyA = new java.util.LinkedHashMap<>();
        onlyA.put("a", a);
        assertThrows(NullPointerException.class, () -> ema.swapIn(onlyA));
        assertArrayEquals(new float[] {5f, 6f}, a.toFloatArray(), "the swapped parameter is back");
      }
    }
    assertEquals(live, Torch.liveTensors(), "the copies are freed");
  }
}
