package org.sr4g.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** The add_noise kernel against its CPU formula (the GPU part skips visibly without a GPU). */
class AddNoiseKernelTest {
  static void needGpuKernels() {
    String why = Kernels.unavailableReason();
    Assumptions.assumeTrue(why == null, "GPU kernel test skipped: " + why);
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
