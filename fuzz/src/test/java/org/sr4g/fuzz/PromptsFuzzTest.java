package org.sr4g.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Set;
import org.sr4g.evaluation.PromptReader;

/** A prompt file in either format (sr4g's JSONL, VISOR's JSON array). */
class PromptsFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    Verdict.userErrorsOnly(() -> PromptReader.read(Scratch.file("prompts.jsonl", data), Set.of("dog")));
  }
}
