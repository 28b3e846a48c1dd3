package org.sr4g.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.sr4g.torch.NativeFiles;

/** sr4g's fatbin, loaded once into device 0's primary context; functions looked up by name and cached. */
final class Kernels {
  private static long module;
  private static final Map<String, Long> FUNCTIONS = new HashMap<>();

  private Kernels() {}

  /** Why the GPU kernels cannot run here, or null when they can. */
  static String unavailableReason() {
    CudaDriver.Probe p = CudaDriver.probe();
    if (!p.available()) return p.reason();
    if (NativeFiles.locate(NativeFiles.FATBIN).isEmpty())
      return "sr4g_kernels.fatbin is not in this build (nvcc was missing at build time: install the CUDA toolkit and rebuild)";
    return null;
  }

  static synchronized long function(CudaDriver d, String name) {
    d.useDevice(0);
    if (module == 0) {
      try {
        module = d.loadModule(Files.readAllBytes(NativeFiles.locate(NativeFiles.FATBIN).orElseThrow(
            () -> new IllegalStateException(unavailableReason()))));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return FUNCTIONS.computeIfAbsent(name, n -> d.function(module, n));
  }
}
