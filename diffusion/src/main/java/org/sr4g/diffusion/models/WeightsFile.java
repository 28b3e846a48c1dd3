package org.sr4g.diffusion.models;

import java.nio.file.Path;
import java.util.Locale;
import org.sr4g.diffusion.pytorch.PyTorchCheckpoint;
import org.sr4g.diffusion.safetensors.SafetensorsFile;

/**
 * {@link Weights} backed by one open checkpoint file, closed by its owner: {@link SafetensorsFile} and
 * {@link PyTorchCheckpoint} are such files themselves.
 */
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
   * Opens {@code file} by its extension: {@code .safetensors} ({@link SafetensorsFile}) or a PyTorch zip
   * checkpoint {@code .bin}, {@code .pt}, {@code .pth}, {@code .ckpt} ({@link PyTorchCheckpoint}, read without running
   * anything from it).
   */
  static WeightsFile open(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")
        ? PyTorchCheckpoint.open(file)
        : SafetensorsFile.open(file);
  }
}
