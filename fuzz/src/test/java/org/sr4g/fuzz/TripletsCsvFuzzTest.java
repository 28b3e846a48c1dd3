package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.sr4g.evaluation.TripletCounts;

/** {@code triplets.csv} as {@code sr4g eval --triplets} reads it. */
class TripletsCsvFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> TripletCounts.read(Scratch.file("triplets.csv", data)));
  }
}
