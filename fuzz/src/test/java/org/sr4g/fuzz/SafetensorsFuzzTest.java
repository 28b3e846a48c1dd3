package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.sr4g.diffusion.safetensors.SafetensorsFile;

/** A safetensors file: the header parser, then every tensor read back as floats (the data section's bounds). */
class SafetensorsFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> {
      try (SafetensorsFile f = SafetensorsFile.open(Scratch.file("fuzz.safetensors", data))) {
        for (String k : f.keys()) {
          f.info(k).numel();
          if (f.info(k).dtype().startsWith("F") || f.info(k).dtype().startsWith("BF")) f.readFloats(k);
        }
        f.metadata().size();
      }
    });
  }
}
