package org.sr4g.detection.owlvit;

import org.sr4g.diffusion.models.Linear;
import org.sr4g.diffusion.models.ParamLoader;
import org.sr4g.torch.Tensor;

/**
 * {@code class_head}: per patch, a class embedding ({@code dense0}, L2-normalised with +1e-6) compared with each
 * (again normalised) query by a dot product, then shifted and scaled per patch: {@code (sim + logit_shift(f)) ·
 * (elu(logit_scale(f)) + 1)}.
 */
final class ClassHead {
  private final Linear dense0, logitShift, logitScale;

  ClassHead(ParamLoader p, OwlVitConfig c) {
    int w = c.vision().hiddenSize();
    dense0 = new Linear(p, "class_head.dense0", w, c.text().hiddenSize(), true);
    logitShift = new Linear(p, "class_head.logit_shift", w, 1, true);
    logitScale = new Linear(p, "class_head.logit_scale", w, 1, true);
  }

  record Output(Tensor logits, Tensor classEmbeds, Tensor logitShift, Tensor logitScale) {}

  /** features [B, P, W], queries [B, Q, D] → logits [B, P, Q] (padded queries not yet masked). */
  Output forward(Tensor features, Tensor queries) {
    Tensor classEmbeds = OwlVitDetector.l2Normalize(dense0.forward(features), 1e-6);
    Tensor q = OwlVitDetector.l2Normalize(queries, 1e-6);
    Tensor sim = classEmbeds.bmm(q.transpose(1, 2));
    Tensor shift = logitShift.forward(features);
    Tensor scale = elu(logitScale.forward(features)).add(1.0);
    return new Output(sim.add(shift).mul(scale), classEmbeds, shift, scale);
  }

  /** elu(x) = x for x > 0, exp(x) − 1 otherwise: relu(x) + (exp(min(x, 0)) − 1), each branch exact where it applies. */
  private static Tensor elu(Tensor x) {
    return x.relu().add(x.clampMax(0).exp().sub(1.0));
  }
}
