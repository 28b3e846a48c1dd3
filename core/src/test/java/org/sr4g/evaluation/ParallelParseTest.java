package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** Chunked parallel parsing gives the same outcomes, warnings and errors (with absolute line numbers) as one pass. */
class ParallelParseTest {
  @TempDir Path dir;

  @AfterEach
  void restore() {
    DetectionReaders.parallelFrom = 4 << 20;
  }

  private String file(int prompts, String extra) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < prompts; i++) {
      for (int k = 0; k < 4; k++) {
        sb.append(JsonlDetectionsTest.line(i + "_" + k + ".png", 100, 100,
            JsonlDetectionsTest.det("cat", 0.05 + 0.2 * k, 10 * (k % 3), 40, 10 * (k % 3) + 20, 60),
            JsonlDetectionsTest.det("dog", 0.9, 30, 40, 50, 60)));
      }
    }
    return sb + extra;
  }

  private PromptSet prompts(int n) {
    String[] ps = new String[n];
    for (int i = 0; i < n; i++) ps[i] = TestFiles.prompt(i, 2, "cat", "dog", i % 2 == 0 ? "to the left of" : "above");
    return TestFiles.prompts(dir, ps);
  }

  @Test
  void sameResultAsOnePass() {
    PromptSet p = prompts(50);
    Path f = TestFiles.write(dir, "d.jsonl", file(50, ""));
    Detections one = DetectionReaders.readJsonl(f, p, new OutcomeJudge(0.1, false), 4);
    DetectionReaders.parallelFrom = 1;
    Detections many = DetectionReaders.readJsonl(f, p, new OutcomeJudge(0.1, false), 4);
    assertEquals(one.outcomes(), many.outcomes());
    assertEquals(one.warnings().counts(), many.warnings().counts());
    assertEquals(200, many.outcomes().size());
  }

  @Test
  void duplicateAcrossChunksNamesBothLines() {
    PromptSet p = prompts(50);
    Path f = TestFiles.write(dir, "d.jsonl", file(50, JsonlDetectionsTest.line("0_1.png", 100, 100)));
    DetectionReaders.parallelFrom = 1;
    String m = assertThrows(UserInputException.class,
        () -> DetectionReaders.readJsonl(f, p, new OutcomeJudge(0.1, false), 4)).getMessage();
    assertTrue(m.contains("d.jsonl:201: duplicate image \"0_1.png\" (first on line 2)"), m);
  }

  @Test
  void errorLineIsAbsolute() {
    PromptSet p = prompts(50);
    Path f = TestFiles.write(dir, "d.jsonl", file(50, "{\"image\": \"99_0.png\", \"width\": 1, \"height\": 1, \"detections\": []}\n"));
    DetectionReaders.parallelFrom = 1;
    String m = assertThrows(UserInputException.class,
        () -> DetectionReaders.readJsonl(f, p, new OutcomeJudge(0.1, false), 4)).getMessage();
    assertTrue(m.startsWith(f + ":201"), m);
  }
}
