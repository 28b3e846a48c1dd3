package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import org.sr4g.coco.CocoSource;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.OutputDir;
import org.sr4g.dataset.Sr4gGenerator;

/** A COCO instances file through all of {@code sr4g generate}: reading, relating, rendering rows, prompts, CSV. */
class CocoFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> {
      boolean lenient = data.length > 0 && (data[0] & 1) == 1;
      GenerateOptions opt = GenerateOptions.fromCli(true, "all", false, 0f, 0, 0, 0.2, null, 1, lenient);
      CocoSource src = CocoSource.ofBytes("fuzz.json", data);
      try (OutputDir out = OutputDir.prepare(Scratch.dir("coco").resolve("out"), true)) {
        new Sr4gGenerator(opt).run(List.of(src), List.of(src), null, out);
      }
    });
  }
}
