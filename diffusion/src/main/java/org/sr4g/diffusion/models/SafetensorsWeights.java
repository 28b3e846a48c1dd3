package org.sr4g.diffusion.models;

import java.nio.file.Path;
import java.util.Set;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.torch.Tensor;

/** Weights read from one safetensors file; owns the file (its mapping) and closes it. */
public final class SafetensorsWeights implements WeightsFile {
  private final SafetensorsFile file;

  private SafetensorsWeights(SafetensorsFile file) {
    this.file = file;
  }

  public static SafetensorsWeights open(Path file) {
    return new SafetensorsWeights(SafetensorsFile.open(file));
  }

  /** The underlying file (for reading non-weight tensors such as CLIP's position_ids). */
  public SafetensorsFile file() {
    return file;
  }

  @Override
  public Path path() {
    return file.path();
  }

  @Override
  public Set<String> keys() {
    return file.keys();
  }

  @Override
  public long[] shape(String key) {
    return file.info(key).shape();
  }

  /** F16/BF16 are widened to float32 exactly (the golden fixtures store F16 weights; references ran in float32). */
  @Override
  public Tensor loadF32(String key) {
    String dtype = file.info(key).dtype();
    if (!dtype.equals("F32") && !dtype.equals("F16") && !dtype.equals("BF16"))
      throw new UserInputException(file.path() + ": weight '" + key + "' is " + dtype + ", not a float tensor");
    return file.toTensor(key);
  }

  @Override
  public void close() {
    file.close();
  }
}
