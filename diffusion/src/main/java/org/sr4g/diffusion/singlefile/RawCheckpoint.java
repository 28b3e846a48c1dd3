package org.sr4g.diffusion.singlefile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.pytorch.PyTorchCheckpoint;
import org.sr4g.diffusion.safetensors.SafetensorsFile;

/**
 * A checkpoint file as "a map of tensor names → tensors": the file's own keys (no renaming), its string metadata and,
 * where the format stores it, the training step. {@link SingleFileSource} needs nothing else, so another reader plugs
 * in by producing one of these.
 *
 * @param tensors the raw tensors (shapes from the header, data read on demand)
 * @param metadata safetensors {@code __metadata__} (empty when none)
 * @param globalStep the checkpoint's {@code global_step} ({@code .ckpt} files store it), or null
 * @param closer releases the file (mappings)
 */
record RawCheckpoint(Weights tensors, Map<String, String> metadata, Long globalStep, AutoCloseable closer) {

  static boolean isPickle(String lowerCaseName) {
    return lowerCaseName.endsWith(".ckpt") || lowerCaseName.endsWith(".pt") || lowerCaseName.endsWith(".pth")
        || lowerCaseName.endsWith(".bin");
  }

  /**
   * {@code .safetensors}, or a PyTorch zip checkpoint ({@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin}) read by
   * the restricted unpickler: a pickle that names anything but tensors, storages and plain containers is refused in
   * one line, and nothing from it is run.
   */
  static RawCheckpoint open(Path file) {
    if (!Files.isRegularFile(file)) throw new UserInputException(file + ": no such file");
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".safetensors")) {
      SafetensorsFile w = SafetensorsFile.open(file);
      return new RawCheckpoint(w, w.metadata(), null, w);
    }
    if (isPickle(name)) {
      // The restricted reader: the zip validated, data.pkl read as data (no global outside torch.load(weights_only=True)'s
      // set, nothing called), every storage and view bounds-checked before use (pytorch.PyTorchCheckpoint).
      PyTorchCheckpoint w = PyTorchCheckpoint.open(file);
      return new RawCheckpoint(w, Map.of(), w.globalStep(), w);
    }
    throw new UserInputException(file + ": not a checkpoint sr4g reads (expected a .safetensors file or a model folder)");
  }

  void close() {
    try {
      closer.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot close " + tensors.source(), e);
    }
  }
}
