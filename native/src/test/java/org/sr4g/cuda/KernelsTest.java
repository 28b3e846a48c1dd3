package org.sr4g.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.sr4g.cuda.RelationKernel.*;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** CPU rules by hand; GPU kernels against their CPU equivalents (GPU tests skip visibly without a GPU). */
class KernelsTest {
  private static int bits(int... b) {
    int m = 0;
    for (int x : b) m |= 1 << x;
    return m;
  }

  @Test
  void relationRulesByHand() {
    float W = 100, H = 100;
    // 0: left box, 1: right box (same size), 2: big box around everything, 3: small box inside 2 and below 0/1
    float[] boxes = {10, 40, 20, 20, 70, 40, 20, 20, 0, 0, 100, 100, 45, 80, 10, 10};
    int[] m = RelationKernel.cpu(boxes, W, H);
    assertEquals(bits(LEFT_OF, SEPARATED), m[0 * 4 + 1]);
    assertEquals(bits(RIGHT_OF, SEPARATED), m[1 * 4 + 0]);
    assertEquals(bits(SURROUNDING, OVERLAPPING, WIDER, TALLER, LARGER), m[2 * 4 + 0]);
    assertEquals(bits(INSIDE, OVERLAPPING, NARROWER, SHORTER, SMALLER), m[0 * 4 + 2]);
    // 3 vs 0: centres (50,85) vs (20,50): dx=.3, dy=.35 → below
    assertEquals(bits(BELOW, SEPARATED, NARROWER, SHORTER, SMALLER), m[3 * 4 + 0]);
    assertEquals(bits(ABOVE, SEPARATED, WIDER, TALLER, LARGER), m[0 * 4 + 3]);
    // a box with itself surrounds itself (first rule, within tolerance) and overlaps
    assertEquals(bits(SURROUNDING, OVERLAPPING), m[0]);
  }

  static float[] randomBoxes(int n, long seed) {
    Random r = new Random(seed);
    float[] b = new float[4 * n];
    for (int i = 0; i < n; i++) {
      b[4 * i] = r.nextInt(600);
      b[4 * i + 1] = r.nextInt(400);
      b[4 * i + 2] = 1 + r.nextInt(200);
      b[4 * i + 3] = 1 + r.nextInt(200);
    }
    return b;
  }

  static void needGpuKernels() {
    String why = Kernels.unavailableReason();
    Assumptions.assumeTrue(why == null, "GPU kernel test skipped: " + why);
  }

  @Test
  void relationKernelEqualsCpu() {
    needGpuKernels();
    for (int n : new int[] {1, 7, 300}) {
      float[] boxes = randomBoxes(n, n);
      assertArrayEquals(RelationKernel.cpu(boxes, 640, 480), RelationKernel.gpu(boxes, 640, 480), "n=" + n);
    }
  }

  @Test
  void addNoiseCpuIsTheFormula() {
    float[] x = {1, 2, 3, 4}, noise = {0.5f, -1, 2, 0};
    AddNoiseKernel.cpu(x, noise, new float[] {0.5f, 2}, new float[] {1, 3});
    assertArrayEquals(new float[] {1.0f, 0.0f, 12, 8}, x);
  }

  @Test
  void addNoiseKernelEqualsCpu() {
    needGpuKernels();
    Assumptions.assumeTrue(Torch.isAvailable() && Torch.cudaDeviceCount() > 0, "libtorch has no CUDA device here");
    int b = 3, per = 1000;
    float[] x = new float[b * per], noise = new float[b * per];
    Random r = new Random(5);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
      noise[i] = (float) r.nextGaussian();
    }
    float[] sa = {0.9f, 0.5f, 0.1f}, s1 = {0.43f, 0.86f, 0.99f};
    try (TensorScope scope = TensorScope.open()) {
      Device cuda = Device.cuda(0);
      Tensor tx = Tensor.of(x, b, per).to(cuda), tn = Tensor.of(noise, b, per).to(cuda);
      AddNoiseKernel.gpu(tx, tn, Tensor.of(sa, b).to(cuda), Tensor.of(s1, b).to(cuda));
      float[] expected = x.clone();
      AddNoiseKernel.cpu(expected, noise, sa, s1);
      assertArrayEquals(expected, tx.toFloatArray());
      assertEquals(DType.F32, tx.dtype());
    }
  }
}
