package org.sr4g.torch;

/**
 * A tiny conv + attention network with the shape of an SD UNet block: conv3x3 → GroupNorm → SiLU → self-attention
 * over the pixels (residual) → LayerNorm → mean-pool → linear head. Used by the self-test ({@code sr4g doctor}), the
 * training and leak tests and the benchmarks: it exercises forward, backward and AdamW on any device.
 */
public final class TinyNet implements AutoCloseable {
  public static final int IN_CHANNELS = 2, SIZE = 8, WIDTH = 8;
  private final Params params = new Params();

  @SuppressWarnings("try") // the scope frees the CPU temporaries; it is never named
  public TinyNet(Device device, long seed) {
    try (Generator g = new Generator(Device.CPU, seed); TensorScope scope = TensorScope.open()) {
      // Initialised on the CPU from one seed, then moved: the same weights on every device.
      add("conv.w", Tensor.randn(g, DType.F32, WIDTH, IN_CHANNELS, 3, 3).mul(1.0 / Math.sqrt(IN_CHANNELS * 9)), device);
      add("conv.b", Tensor.zeros(DType.F32, Device.CPU, WIDTH), device);
      add("gn.w", Tensor.ones(DType.F32, Device.CPU, WIDTH), device);
      add("gn.b", Tensor.zeros(DType.F32, Device.CPU, WIDTH), device);
      for (String p : new String[] {"q", "k", "v", "o"})
        add(p + ".w", Tensor.randn(g, DType.F32, WIDTH, WIDTH).mul(1.0 / Math.sqrt(WIDTH)), device);
      add("ln.w", Tensor.ones(DType.F32, Device.CPU, WIDTH), device);
      add("ln.b", Tensor.zeros(DType.F32, Device.CPU, WIDTH), device);
      add("head.w", Tensor.randn(g, DType.F32, 1, WIDTH).mul(1.0 / Math.sqrt(WIDTH)), device);
      add("head.b", Tensor.zeros(DType.F32, Device.CPU, 1), device);
    }
  }

  private void add(String name, Tensor cpu, Device device) {
    params.add(name, device.isCuda() ? cpu.to(device) : cpu.copy());
  }

  public Params params() {
    return params;
  }

  /** x [B, 2, 8, 8] → [B, 1]. */
  public Tensor forward(Tensor x) {
    Tensor h = Nn.conv2d(x, params.get("conv.w"), params.get("conv.b"), 1, 1, 1);
    h = Nn.groupNorm(h, 2, params.get("gn.w"), params.get("gn.b"), 1e-5).silu();
    long b = h.size(0);
    Tensor tokens = h.reshape(b, WIDTH, SIZE * SIZE).transpose(1, 2); // [B, 64, 8]
    Tensor q = Nn.linear(tokens, params.get("q.w"), null);
    Tensor k = Nn.linear(tokens, params.get("k.w"), null);
    Tensor v = Nn.linear(tokens, params.get("v.w"), null);
    Tensor a = Nn.linear(Nn.attention(q, k, v, null, false), params.get("o.w"), null);
    Tensor y = Nn.layerNorm(tokens.add(a), new long[] {WIDTH}, params.get("ln.w"), params.get("ln.b"), 1e-5);
    return Nn.linear(y.mean(false, 1), params.get("head.w"), params.get("head.b"));
  }

  /** One training step (forward, MSE, backward, AdamW) inside its own scope; returns the loss before the update. */
  @SuppressWarnings("try")
  public double trainStep(AdamW opt, Tensor x, Tensor target) {
    try (TensorScope scope = TensorScope.open()) {
      params.zeroGrad();
      Tensor loss = Nn.mseLoss(forward(x), target);
      loss.backward();
      opt.step();
      return loss.item();
    }
  }

  @Override
  public void close() {
    params.close();
  }
}
