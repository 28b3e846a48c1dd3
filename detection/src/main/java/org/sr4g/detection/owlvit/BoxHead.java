package org.sr4g.detection.owlvit;

import org.sr4g.diffusion.models.Linear;
import org.sr4g.diffusion.models.ParamLoader;
import org.sr4g.torch.Tensor;

/**
 * {@code box_head}: {@code dense0 → GELU → dense1 → GELU → dense2} (4 outputs) per patch. The GELU is the exact erf
 * form whatever the config's {@code hidden_act} says (transformers builds it as {@code nn.GELU()}).
 */
final class BoxHead {
  private final Linear dense0, dense1, dense2;

  BoxHead(ParamLoader p, OwlVitConfig c) {
    int w = c.vision().hiddenSize();
    dense0 = new Linear(p, "box_head.dense0", w, w, true);
    dense1 = new Linear(p, "box_head.dense1", w, w, true);
    dense2 = new Linear(p, "box_head.dense2", w, 4, true);
  }

  /** features [B, P, W] → [B, P, 4], before the box bias and the sigmoid. */
  Tensor forward(Tensor features) {
    return dense2.forward(dense1.forward(dense0.forward(features).gelu()).gelu());
  }
}
