package org.sr4g.diffusion.singlefile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.SafetensorsWeights;
import org.sr4g.diffusion.models.Weights;

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

  static RawCheckpoint open(Path file) {
    if (!Files.isRegularFile(file)) throw new UserInputException(file + ": no such file");
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".safetensors")) {
      SafetensorsWeights w = SafetensorsWeights.open(file);
      return new RawCheckpoint(w, w.file().metadata(), null, w);
    }
    if (isPickle(name))
      // TODO(lead, at merge): open .ckpt/.pt/.pth/.bin through the detector branch's restricted-unpickler reader (the
      // safe PyTorch-checkpoint reader in diffusion, next to safetensors): wrap its tensors as a Weights (raw LDM keys,
      // loadF32 widening F16/BF16), pass its top-level "global_step" (SD 2 base detection) and its close() here.
      // Everything after this point (family detection, LDM → diffusers keys, EMA, convert) then works unchanged.
      throw new UserInputException(file + ": PyTorch pickle checkpoints (.ckpt, .pt, .pth, .bin) are not supported yet"
          + " (sr4g never unpickles untrusted files; a safe reader is coming): use the .safetensors release of the model");
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
