package org.sr4g.diffusion.safetensors;

import java.util.Arrays;

/**
 * The declared element type and shape of one tensor in a safetensors file.
 *
 * @param dtype the safetensors dtype name as written in the header ({@code F32}, {@code F16}, {@code BF16},
 *     {@code I64}, {@code I32}, {@code U8}, {@code BOOL})
 * @param shape the dimensions, row-major; empty for a scalar
 */
public record TensorInfo(String dtype, long[] shape) {
  public TensorInfo {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements: the product of the dimensions (1 for a scalar). Validated not to overflow on open. */
  public long numel() {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && t.dtype.equals(dtype) && Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return dtype.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape);
  }
}
