package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Inside BatchInvariant every sample's linear output is bit-equal to computing that sample alone. */
class BatchInvariantTest {
  @Test
  void eachSampleEqualsItsBatchOfOne() {
    NativeAssume.torch();
    try (TensorScope s = TensorScope.open(); Generator g = new Generator(Device.CPU, 5)) {
      // 77 rows per sample (a CLIP context) and 6 samples: OpenBLAS rounds some rows differently in the 462-row
      // product than in a 77-row one; the reference BLAS does not, and then this test passes either way.
      Tensor x = Tensor.randn(g, DType.F32, 6, 77, 48), w = Tensor.randn(g, DType.F32, 40, 48);
      Tensor b = Tensor.randn(g, DType.F32, 40);
      Tensor time = Tensor.randn(g, DType.F32, 6, 48); // 2-D: one row per sample (a time embedding)
      assertFalse(BatchInvariant.active());
      Tensor all = BatchInvariant.call(() -> {
        assertTrue(BatchInvariant.active());
        return Nn.linear(x, w, b);
      });
      Tensor allTime = BatchInvariant.call(() -> Nn.linear(time, w, b));
      assertFalse(BatchInvariant.active());
      for (int i = 0; i < 6; i++) {
        float[] alone = Nn.linear(x.slice(0, i, i + 1, 1), w, b).contiguous().toFloatArray();
        assertArrayEquals(alone, all.slice(0, i, i + 1, 1).contiguous().toFloatArray(), "sample " + i);
        float[] aloneTime = Nn.linear(time.slice(0, i, i + 1, 1), w, b).contiguous().toFloatArray();
        assertArrayEquals(aloneTime, allTime.slice(0, i, i + 1, 1).contiguous().toFloatArray(), "time row " + i);
      }
    }
  }
}
