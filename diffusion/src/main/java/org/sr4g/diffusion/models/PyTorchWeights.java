package org.sr4g.diffusion.models;

import java.nio.file.Path;
import java.util.Set;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.pytorch.PyTorchCheckpoint;
import org.sr4g.torch.Tensor;

/** Weights read from a PyTorch zip checkpoint ({@code pytorch_model.bin} …); owns the file and closes it. */
public final class PyTorchWeights implements WeightsFile {
  private final PyTorchCheckpoint file;

  private PyTorchWeights(PyTorchCheckpoint file) {
    this.file = file;
  }

  public static PyTorchWeights open(Path file) {
    return new PyTorchWeights(PyTorchCheckpoint.open(file));
  }

  public PyTorchCheckpoint file() {
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
    return file.shape(key);
  }

  /** float16/bfloat16 widen exactly; float64 rounds to float32. */
  @Override
  public Tensor loadF32(String key) {
    if (!file.isFloatingPoint(key))
      throw new UserInputException(file.path() + ": weight '" + key + "' is " + file.dtype(key) + ", not a float tensor");
    return file.toTensor(key);
  }

  @Override
  public void close() {
    file.close();
  }
}
