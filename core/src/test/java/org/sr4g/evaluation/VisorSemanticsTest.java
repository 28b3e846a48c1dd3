package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;

/** Hand-computed VISOR numbers on format (a) results, following visor.py line by line. */
class VisorSemanticsTest {
  @TempDir Path dir;

  private Evaluation evalVisor(String results, int imagesPerPrompt) {
    PromptSet p = TestFiles.prompts(dir,
        TestFiles.prompt(0, 2, "cat", "dog", "to the left of"),
        TestFiles.prompt(1, 2, "dog", "cat", "above"),
        TestFiles.prompt(2, 2, "cat", "dog", "and"),
        TestFiles.prompt(3, 1, "cat", null, "none"),
        TestFiles.prompt(4, 2, "bus", "car", "below"));
    Detections d = DetectionReaders.readVisor(TestFiles.write(dir, "res.json", results), p, imagesPerPrompt);
    return new Evaluation(p, d, false, null, 100, 1);
  }

  static final String RESULTS = "{\n"
      + "\"0_0\": {\"classes\": [\"cat\", \"dog\"], \"sra\": 1, \"recall\": 2, \"centroid\": {}, \"text\": \"t\"},\n"
      + "\"0_1\": {\"classes\": [\"cat\"], \"sra\": 0},\n"
      + "\"0_2\": {\"classes\": [], \"sra\": 0},\n"
      + "\"0_3\": {\"classes\": [\"cat\", \"dog\", \"dog\"], \"sra\": false},\n"
      + "\"1_0\": {\"classes\": [\"dog\", \"cat\"], \"sra\": 1},\n"
      + "\"1_1\": {\"classes\": [\"Dog\", \"cat\"], \"sra\": true},\n"
      + "\"2_0\": {\"classes\": [\"cat\", \"dog\"], \"sra\": 1},\n"
      + "\"4_0\": {\"classes\": [\"car\"], \"sra\": 1},\n"
      + "\"4_1\": {\"classes\": [\"bus\", \"car\"], \"sra\": 1},\n"
      + "\"4_2\": {\"classes\": [\"bus\", \"car\"], \"sra\": 1},\n"
      + "\"4_3\": {\"classes\": [\"car\", \"bus\"], \"sra\": 1}\n"
      + "}";

  @Test
  void overallMatchesHandComputation() {
    Evaluation e = evalVisor(RESULTS, 0);
    VisorScores s = e.overall;
    // "and" and single-object prompts are skipped as visor.py does.
    assertEquals(3, s.prompts());
    assertEquals(10, s.images());
    assertEquals(8, s.detA());
    assertEquals(8, s.detB());
    assertEquals(7, s.both());
    // 4_0 has sra 1 but only one object: det_both * sra = 0.
    assertEquals(6, s.correct());
    assertEquals(70.0, s.oa(), 1e-12);
    assertEquals(80.0, s.oaA(), 1e-12);
    assertEquals(80.0, s.oaB(), 1e-12);
    assertEquals(600.0 / 7, s.visorCond(), 1e-12);
    assertEquals(60.0, s.visorUncond(), 1e-9);
    // Correct images per prompt: 1, 2, 3.
    assertEquals(100.0, s.visorN(1), 1e-12);
    assertEquals(200.0 / 3, s.visorN(2), 1e-12);
    assertEquals(100.0 / 3, s.visorN(3), 1e-12);
    assertEquals(0.0, s.visorN(4), 1e-12);
  }

  @Test
  void warningsAreCounted() {
    Evaluation e = evalVisor(RESULTS, 0);
    EvalWarnings w = e.detections.warnings();
    assertEquals(1, w.count("images_of_unscored_prompts"));
    // Prompt 1 has 2 images where the others have 4.
    assertEquals(1, w.count("prompts_with_fewer_images"));
    assertEquals(0, w.count("scored_prompts_without_images"));
  }

  @Test
  void breakdownsPerRelationAndFamily() {
    Evaluation e = evalVisor(RESULTS, 4);
    assertEquals(3, e.relations.size());
    VisorScores left = e.relations.get(Relation.LEFT_OF);
    assertEquals(4, left.images());
    assertEquals(2, left.both());
    assertEquals(50.0, left.visorCond(), 1e-12);
    assertEquals(25.0, left.visorUncond(), 1e-12);
    VisorScores below = e.relations.get(Relation.BELOW);
    assertEquals(75.0, below.oa(), 1e-12);
    assertEquals(100.0, below.visorCond(), 1e-12);
    assertEquals(100.0, below.visorN(3), 1e-12);
    assertEquals(e.overall.correct(), e.families.get(Family.PROJECTIVE).correct());
    assertFalse(e.families.containsKey(Family.SCALE));
    // Format (a) has no boxes: the opposite rate is unavailable, not zero.
    assertEquals(0, left.geometric());
    assertTrue(Double.isNaN(left.oppositeRate()));
  }

  @Test
  void oppositeFromVisorCentroids() {
    PromptSet p = TestFiles.prompts(dir, TestFiles.prompt(0, 2, "cat", "dog", "to the left of"));
    // Image 0: two cats, one on each side of the dog (correct and opposite); image 1: cat right of dog only;
    // image 2: no centroids, so it does not count for the opposite share.
    Detections d = DetectionReaders.readVisor(TestFiles.write(dir, "c.json", "{"
        + "\"0_0\": {\"classes\": [\"cat\", \"dog\", \"cat\"], \"centroid\": [[10, 5], [50, 5], [90, 5]], \"sra\": 1},"
        + "\"0_1\": {\"classes\": [\"dog\", \"cat\"], \"centroid\": [[10, 5], [90, 5]], \"sra\": 0},"
        + "\"0_2\": {\"classes\": [\"dog\", \"cat\"], \"sra\": 0}}"), p, 0);
    Evaluation e = new Evaluation(p, d, false, null, 10, 1);
    assertEquals(3, e.overall.both());
    assertEquals(2, e.overall.geometric());
    assertEquals(2, e.overall.opposite());
    assertEquals(100.0, e.overall.oppositeRate(), 0);
  }

  @Test
  void seenUnseenSplit() {
    PromptSet p = PromptReader.read(TestFiles.write(dir, "p.json", "["
        + TestFiles.prompt(0, 2, "cat", "dog", "to the left of") + ","
        + TestFiles.prompt(1, 2, "bus", "car", "below") + "]"), Set.of("dog"));
    Detections d = DetectionReaders.readVisor(TestFiles.write(dir, "r.json",
        "{\"0_0\": {\"classes\": [\"cat\", \"dog\"], \"sra\": 1}, \"1_0\": {\"classes\": [\"bus\", \"car\"], \"sra\": 0}}"),
        p, 0);
    Evaluation e = new Evaluation(p, d, true, null, 10, 1);
    assertEquals(100.0, e.objects.get("unseen").visorCond(), 1e-12);
    assertEquals(0.0, e.objects.get("seen").visorCond(), 1e-12);
  }

  @Test
  void emptyDenominatorsAreNaN() {
    Evaluation e = evalVisor("{\"0_0\": {\"classes\": [], \"sra\": 0}}", 0);
    assertEquals(0.0, e.overall.oa(), 0);
    assertTrue(Double.isNaN(e.overall.visorCond()));
    assertEquals(0.0, e.overall.visorUncond(), 0);
    assertEquals(2, e.detections.warnings().count("scored_prompts_without_images"));
  }
}
