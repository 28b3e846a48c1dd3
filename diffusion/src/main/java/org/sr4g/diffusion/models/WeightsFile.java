package org.sr4g.diffusion.models;

import java.nio.file.Path;
import java.util.Locale;

/** {@link Weights} backed by one open checkpoint file, closed by its owner. */
public interface WeightsFile extends Weights, AutoCloseable {
  Path path();

  /** The file's path: what error messages name. */
  @Override
  default String source() {
    return path().toString();
  }

  @Override
  void close();

  /**
   * Opens {@code file} by its extension: {@code .safetensors} ({@link SafetensorsWeights}) or a PyTorch zip
   * checkpoint {@code .bin}, {@code .pt}, {@code .pth}, {@code .ckpt} ({@link PyTorchWeights}, read without running
   * anything from it).
   */
  static WeightsFile open(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")
        ? PyTorchWeights.open(file)
        : SafetensorsWeights.open(file);
  }
}
