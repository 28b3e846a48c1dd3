package org.sr4g.diffusion.schedulers;

import java.lang.foreign.MemorySegment;
import org.sr4g.torch.DType;
import org.sr4g.torch.Tensor;

/** Turns scheduler results back into tensors shaped and placed like a reference tensor. */
final class TensorBridge {
  private TensorBridge() {}

  static Tensor like(float[] values, Tensor reference) {
    return Tensor.fromSegment(MemorySegment.ofArray(values), DType.F32, reference.device(), reference.shape());
  }
}
