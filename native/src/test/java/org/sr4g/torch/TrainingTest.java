package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The tiny conv + attention net trains on the CPU from Java, and many steps leak no native handle. */
class TrainingTest {
  @BeforeEach
  void need() {
    NativeAssume.torch();
  }

  @Test
  void tinyNetLossFallsTenfold() {
    try (TinyNet net = new TinyNet(Device.CPU, 1);
        AdamW opt = new AdamW(net.params().list(), 1e-2, 0.9, 0.999, 1e-8, 0.0);
        Generator g = new Generator(Device.CPU, 2);
        TensorScope data = TensorScope.open()) {
      Tensor x = Tensor.randn(g, DType.F32, 8, 2, 8, 8), y = Tensor.randn(g, DType.F32, 8, 1);
      double first = net.trainStep(opt, x, y), last = first;
      for (int i = 0; i < 300; i++) last = net.trainStep(opt, x, y);
      System.out.printf("TinyNet CPU: loss %.5f -> %.6f (%.0fx) in 300 AdamW steps%n", first, last, first / last);
      assertTrue(last * 10 <= first, "loss " + first + " -> " + last);
    }
  }

  @Test
  void noLeakAfterManyTrainingSteps() {
    long baseline = Torch.liveTensors();
    int steps = 10_000; // as the issue asks: ~10 s on this 2-core machine
    try (TinyNet net = new TinyNet(Device.CPU, 3);
        AdamW opt = new AdamW(net.params().list(), 1e-3);
        Generator g = new Generator(Device.CPU, 4)) {
      Tensor x, y;
      try (TensorScope s = TensorScope.open()) {
        x = s.keep(Tensor.randn(g, DType.F32, 2, 2, 8, 8));
        y = s.keep(Tensor.randn(g, DType.F32, 2, 1));
      }
      long afterSetup = -1;
      for (int i = 0; i < steps; i++) {
        net.trainStep(opt, x, y);
        if (i == 0) afterSetup = Torch.liveTensors(); // optimizer state exists from step 1 on
      }
      assertEquals(afterSetup, Torch.liveTensors(), "live handles grew during training");
      Autograd.clipGradNorm(net.params().list(), 1.0);
      x.close();
      y.close();
    }
    assertEquals(baseline, Torch.liveTensors(), "live handles back to baseline");
  }
}
