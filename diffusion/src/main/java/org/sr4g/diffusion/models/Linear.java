package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/**
 * torch.nn.Linear: {@code <prefix>.weight [out, in]}, {@code <prefix>.bias [out]} (optional); plus a
 * {@link LayerAdapter} when one is attached to {@code <prefix>}.
 */
final class Linear {
  final Tensor weight, bias;
  /** Added to the output when the model was loaded with an adapter for this layer (LoRA); usually null. */
  private final LayerAdapter adapter;

  Linear(ParamLoader p, String prefix, long in, long out, boolean bias) {
    this.weight = p.param(prefix + ".weight", out, in);
    this.bias = bias ? p.param(prefix + ".bias", out) : null;
    this.adapter = p.adapter(prefix);
  }

  Tensor forward(Tensor x) {
    Tensor y = Nn.linear(x, weight, bias);
    return adapter == null ? y : y.add(adapter.linear(x));
  }
}
