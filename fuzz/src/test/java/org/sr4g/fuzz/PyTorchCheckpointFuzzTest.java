package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.sr4g.diffusion.pytorch.PyTorchCheckpoint;

/**
 * A PyTorch zip checkpoint ({@code .ckpt}, {@code .pt}, {@code .bin}): the zip's central directory, the restricted
 * unpickler on {@code data.pkl} (hostile globals and opcodes, memo and stack abuse), the storage records and the
 * bounds of every tensor view, then what {@code sr4g} asks of a state dict (keys, shapes, dtypes, global_step).
 * Tensor data is not copied out (that needs libtorch, which the fuzzer's JVM does not load): the checks that make
 * a copy safe all run at open.
 */
class PyTorchCheckpointFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> {
      try (PyTorchCheckpoint c = PyTorchCheckpoint.open(Scratch.file("fuzz.ckpt", data))) {
        for (String k : c.keys()) {
          c.shape(k);
          c.dtype(k);
          c.isFloatingPoint(k);
        }
        c.globalStep();
        c.skippedEntries();
      }
    });
  }
}
