package org.sr4g.diffusion.models;

import java.util.Set;
import org.sr4g.torch.Tensor;

/**
 * A named source of checkpoint tensors (a safetensors file, a folder of shards, an in-memory map). Models ask for
 * each key with the shape they expect; the shape is read before any data, so a wrong checkpoint is reported without
 * loading it.
 */
public interface Weights {
  Set<String> keys();

  /** The stored shape of {@code key} (which must be in {@link #keys()}). */
  long[] shape(String key);

  /** Where the weights come from, for error messages (a file path). */
  String source();

  /** A new float32 CPU tensor with the values of {@code key}, owned by the caller (or the open scope). */
  Tensor loadF32(String key);
}
