package org.sr4g.cuda;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.sr4g.torch.DType;
import org.sr4g.torch.Tensor;

/**
 * DDPM forward noising, fused and in place: {@code x[b, i] = sqrtAlphaBar[b] * x[b, i] + sqrtOneMinusAlphaBar[b] *
 * noise[b, i]}, where the per-sample coefficients are already gathered for each sample's timestep.
 */
public final class AddNoiseKernel {
  private AddNoiseKernel() {}

  /** CPU reference on Java arrays; {@code x} is overwritten. Same float operations, same order, as the kernel. */
  public static void cpu(float[] x, float[] noise, float[] sqrtAb, float[] sqrt1mAb) {
    int batch = sqrtAb.length;
    if (noise.length != x.length || sqrt1mAb.length != batch || batch == 0 || x.length % batch != 0)
      throw new IllegalArgumentException("add_noise: x " + x.length + ", noise " + noise.length + ", coefficients "
          + batch + "/" + sqrt1mAb.length);
    int per = x.length / batch;
    for (int i = 0; i < x.length; i++) {
      int b = i / per;
      float a = sqrtAb[b] * x[i];
      float c = sqrt1mAb[b] * noise[i];
      x[i] = a + c;
    }
  }

  /**
   * Runs the kernel on libtorch CUDA tensors (f32, contiguous, on cuda:0): x [B, ...] in place, noise like x,
   * coefficients [B]. Launched on the legacy default stream, which is libtorch's current stream unless the caller
   * changed it, so it is ordered after the ops that produced its inputs; synchronizes before returning.
   */
  public static void gpu(Tensor x, Tensor noise, Tensor sqrtAb, Tensor sqrt1mAb) {
    String why = Kernels.unavailableReason();
    if (why != null) throw new IllegalStateException("GPU add_noise kernel unavailable: " + why);
    for (Tensor t : new Tensor[] {x, noise, sqrtAb, sqrt1mAb}) {
      if (!t.device().isCuda() || t.dtype() != DType.F32)
        throw new IllegalArgumentException("add_noise kernel needs f32 CUDA tensors, got " + t);
    }
    long total = x.numel();
    long batch = x.size(0);
    if (!Arrays.equals(x.shape(), noise.shape()) || sqrtAb.numel() != batch || sqrt1mAb.numel() != batch)
      throw new IllegalArgumentException("add_noise: shapes " + x + ", " + noise + ", " + sqrtAb + ", " + sqrt1mAb);
    // The kernel indexes linearly: make sure of contiguity rather than trust the caller (contiguous() is free then).
    try (var scope = org.sr4g.torch.TensorScope.open()) {
      Tensor n = noise.contiguous(), a = sqrtAb.contiguous(), c = sqrt1mAb.contiguous();
      if (x.contiguous().dataPointer() != x.dataPointer())
        throw new IllegalArgumentException("add_noise works in place: x must be contiguous");
      CudaDriver d = CudaDriver.get();
      long f = Kernels.function(d, "sr4g_add_noise");
      try (Arena ar = Arena.ofConfined()) {
        int block = 256;
        int grid = (int) Math.min(65535, Math.max(1, (total + block - 1) / block));
        d.launch(f, grid, block, 0, ar.allocateFrom(JAVA_LONG, x.dataPointer()),
            ar.allocateFrom(JAVA_LONG, n.dataPointer()), ar.allocateFrom(JAVA_LONG, a.dataPointer()),
            ar.allocateFrom(JAVA_LONG, c.dataPointer()), ar.allocateFrom(JAVA_LONG, total / batch),
            ar.allocateFrom(JAVA_LONG, total));
        d.synchronize();
      }
    }
  }
}
