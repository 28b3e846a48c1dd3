package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Params;
import org.sr4g.torch.Tensor;

/** torch.nn.Conv2d with a square kernel: {@code <prefix>.weight [out, in, k, k]}, {@code <prefix>.bias [out]}. */
final class Conv2d {
  private final String weightKey;
  /** Dense, or oneDNN-packed after {@link #pack} (then it is the model's parameter under the same key). */
  private Tensor weight;
  final Tensor bias;
  private final int stride, padding;
  /** Added to the output when the model was loaded with an adapter for this layer (LoRA); usually null. */
  private final LayerAdapter adapter;

  Conv2d(ParamLoader p, String prefix, long in, long out, int kernel, int stride, int padding) {
    this.weightKey = prefix + ".weight";
    this.weight = p.param(weightKey, out, in, kernel, kernel);
    this.bias = p.param(prefix + ".bias", out);
    this.stride = stride;
    this.padding = padding;
    this.adapter = p.adapter(prefix);
    p.registerConv(this);
  }

  Tensor forward(Tensor x) {
    Tensor y = Nn.conv2d(x, weight, bias, stride, padding, 1);
    return adapter == null ? y : y.add(adapter.conv(x, stride, padding));
  }

  /** Replaces the dense weight in {@code params} by its packed inference form (the dense tensor is freed). */
  void pack(Params params) {
    if (Nn.isPacked(weight)) return;
    Tensor packed = Nn.packConv2d(weight, stride, padding, 1);
    params.replace(weightKey, packed);
    weight = packed;
  }
}
