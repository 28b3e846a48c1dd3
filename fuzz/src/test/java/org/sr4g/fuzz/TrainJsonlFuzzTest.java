package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.sr4g.diffusion.training.TrainData;
import org.sr4g.diffusion.training.TrainRow;

/** {@code train.jsonl} as {@code sr4g train} and {@code sr4g cache} read it, every image name resolved under --images. */
class TrainJsonlFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> {
      var rows = TrainData.read(Scratch.file("train.jsonl", data));
      for (TrainRow r : rows) TrainData.image(Scratch.dir("images"), r);
      TrainData.examples(rows, TrainData.CaptionSampling.PER_IMAGE);
    });
  }
}
