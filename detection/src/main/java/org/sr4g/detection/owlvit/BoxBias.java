package org.sr4g.detection.owlvit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;

/**
 * The box bias OWL-ViT adds to the box head before the sigmoid: for the patch in row i, column j of an n×n grid,
 * {@code [g((j+1)/n), g((i+1)/n), g(1/n), g(1/n)]} with {@code g(v) = log(v + 1e-4) − log1p(−v + 1e-4)} — the
 * logit of the patch's bottom-right corner (not its centre) and of the patch size. Computed in float32 as
 * transformers does (so at v = 1, {@code log1p(−1 + 1e-4)} cancels exactly as there), then kept per grid size.
 */
final class BoxBias {
  private static final Map<Integer, float[]> CACHE = new ConcurrentHashMap<>();

  private BoxBias() {}

  /** [n², 4] float values. */
  static float[] values(int n) {
    return CACHE.computeIfAbsent(n, BoxBias::compute);
  }

  static Tensor of(int n, Device device, DType dtype) {
    Tensor t = Tensor.of(values(n), (long) n * n, 4);
    return dtype == DType.F32 && !device.isCuda() ? t : t.to(dtype, device);
  }

  private static float[] compute(int n) {
    float[] out = new float[n * n * 4];
    float size = g((float) (1.0 / n)); // torch.full_like(…, 1.0 / n): the double quotient rounded to float32
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        int k = 4 * (i * n + j);
        out[k] = g((float) (j + 1) / (float) n);
        out[k + 1] = g((float) (i + 1) / (float) n);
        out[k + 2] = size;
        out[k + 3] = size;
      }
    return out;
  }

  /** Each step rounded to float32, as torch's float32 ops round. */
  private static float g(float v) {
    float a = v + 1e-4f, b = -v + 1e-4f;
    return (float) Math.log(a) - (float) Math.log1p(b);
  }
}
