package org.sr4g.torch;

import java.util.ArrayList;
import java.util.List;

/** {@code sr4g doctor}'s self-test: TinyNet forward, backward and AdamW steps on one device. */
public final class SelfTest {
  /** ok: finite losses, gradients present for every parameter, and the loss fell over the steps. */
  public record Result(Device device, boolean ok, double firstLoss, double lastLoss, long millis, String detail) {}

  private SelfTest() {}

  public static Result run(Device device, int steps) {
    long t0 = System.nanoTime();
    try (TinyNet net = new TinyNet(device, 7);
        AdamW opt = new AdamW(net.params().list(), 1e-2);
        Generator g = new Generator(Device.CPU, 11);
        TensorScope scope = TensorScope.open()) {
      Tensor x = Tensor.randn(g, DType.F32, 4, TinyNet.IN_CHANNELS, TinyNet.SIZE, TinyNet.SIZE).to(device);
      Tensor y = Tensor.randn(g, DType.F32, 4, 1).to(device);
      List<Double> losses = new ArrayList<>();
      for (int i = 0; i < steps; i++) losses.add(net.trainStep(opt, x, y));
      // One more forward/backward to check that every parameter receives a gradient.
      net.params().zeroGrad();
      Nn.mseLoss(net.forward(x), y).backward();
      int missing = 0;
      for (Tensor p : net.params().list()) if (p.grad() == null) missing++;
      double first = losses.get(0), last = losses.get(losses.size() - 1);
      boolean ok = missing == 0 && Double.isFinite(first) && Double.isFinite(last) && last < first;
      String detail = ok ? "forward, backward, " + steps + " AdamW steps"
          : "missing grads " + missing + ", losses " + losses;
      return new Result(device, ok, first, last, (System.nanoTime() - t0) / 1_000_000, detail);
    } catch (RuntimeException e) {
      return new Result(device, false, Double.NaN, Double.NaN, (System.nanoTime() - t0) / 1_000_000, e.toString());
    }
  }
}
