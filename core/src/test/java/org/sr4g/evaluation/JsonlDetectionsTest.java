package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.relations.Relation;

/** Format (b) and (c): boxes, threshold, any-pair rule, rule engine vs VISOR's centroid test. */
class JsonlDetectionsTest {
  @TempDir Path dir;

  static String det(String label, double score, double x0, double y0, double x1, double y1) {
    return "{\"label\": \"" + label + "\", \"score\": " + score + ", \"box\": [" + x0 + ", " + y0 + ", " + x1 + ", " + y1
        + "]}";
  }

  static String line(String image, int w, int h, String... dets) {
    return "{\"image\": \"" + image + "\", \"width\": " + w + ", \"height\": " + h + ", \"detections\": ["
        + String.join(", ", dets) + "]}\n";
  }

  private List<ImageOutcome> run(String jsonl, boolean compat, String rel) {
    PromptSet p = TestFiles.prompts(dir, TestFiles.prompt(7, 2, "cat", "dog", rel));
    return DetectionReaders.readJsonl(TestFiles.write(dir, "d.jsonl", jsonl), p, new OutcomeJudge(0.1, compat), 0)
        .outcomes();
  }

  @Test
  void anyPairCountsAndOppositeIsTracked() {
    // Two cats, one on each side of the dog: "left of" holds for one pair, "right of" for the other.
    List<ImageOutcome> o = run(line("7_0.png", 100, 100,
        det("cat", 0.9, 60, 40, 80, 60), det("cat", 0.5, 0, 40, 20, 60), det("dog", 0.3, 40, 40, 60, 60)),
        false, "to the left of");
    assertTrue(o.get(0).both());
    assertTrue(o.get(0).correct());
    assertTrue(o.get(0).opposite());
    assertTrue(o.get(0).geometric());
  }

  @Test
  void thresholdDropsWeakBoxes() {
    List<ImageOutcome> o = run(line("7_0.png", 100, 100,
        det("cat", 0.9, 0, 40, 20, 60), det("dog", 0.099, 40, 40, 60, 60)), false, "to the left of");
    assertTrue(o.get(0).detA());
    assertFalse(o.get(0).detB());
    // Exactly at the threshold is dropped: VISOR's notebook keeps score > 0.1.
    o = run(line("7_0.png", 100, 100, det("cat", 0.9, 0, 40, 20, 60), det("dog", 0.1, 40, 40, 60, 60)), false,
        "to the left of");
    assertFalse(o.get(0).detB());
    o = run(line("7_0.png", 100, 100, det("cat", 0.9, 0, 40, 20, 60), det("dog", 0.1001, 40, 40, 60, 60)), false,
        "to the left of");
    assertTrue(o.get(0).correct());
  }

  @Test
  void ruleEngineVersusVisorCentroidTest() {
    // The dog is far below and a little right of the cat: the sr4g cone rule says "below", VISOR's x test says left.
    String l = line("7_0.png", 100, 100, det("cat", 0.9, 0, 0, 20, 20), det("dog", 0.9, 30, 60, 50, 100));
    assertFalse(run(l, false, "to the left of").get(0).correct());
    assertTrue(run(l, true, "to the left of").get(0).correct());
    assertTrue(run(l, false, "above").get(0).correct());
  }

  @Test
  void boxesAreNormalizedByTheImageSize() {
    // Same pixel widths, but wider-than is judged on the boxes as given: cat 30 px wide vs dog 20 px wide.
    String l = line("7_0.png", 640, 480, det("cat", 0.9, 0, 0, 30, 10), det("dog", 0.9, 100, 100, 120, 140));
    assertTrue(run(l, false, Relation.WIDER_THAN.phrase()).get(0).correct());
    assertTrue(run(l, false, Relation.SHORTER_THAN.phrase()).get(0).correct());
    assertTrue(run(l, false, Relation.SEPARATED.phrase()).get(0).correct());
  }

  @Test
  void imageWithoutDetectionsCounts() {
    PromptSet p = TestFiles.prompts(dir, TestFiles.prompt(7, 2, "cat", "dog", "above"));
    Detections d = DetectionReaders.readJsonl(TestFiles.write(dir, "d.jsonl",
        line("7_0.png", 64, 64) + line("7_1.png", 64, 64, det("cat", 0.9, 0, 0, 10, 10), det("dog", 0.9, 0, 30, 10, 40))),
        p, new OutcomeJudge(0.1, false), 4);
    Evaluation e = new Evaluation(p, d, false, null, 10, 1);
    assertEquals(2, e.overall.images());
    assertEquals(50.0, e.overall.oa(), 0);
    assertEquals(100.0, e.overall.visorCond(), 0);
    assertEquals(1, d.warnings().count("images_without_detections"));
    assertEquals(1, d.warnings().count("prompts_with_fewer_images"));
  }

  @Test
  void cocoResultsWithImageList() {
    PromptSet p = TestFiles.prompts(dir, TestFiles.prompt(3, 2, "cat", "dog", "to the right of"));
    Path images = TestFiles.write(dir, "images.json", "{\"images\": ["
        + "{\"id\": 10, \"file_name\": \"3_0.png\", \"width\": 100, \"height\": 100},"
        + "{\"id\": 11, \"file_name\": \"3_1.png\", \"width\": 100, \"height\": 100}],"
        + "\"categories\": [{\"id\": 17, \"name\": \"cat\"}, {\"id\": 18, \"name\": \"dog\"}]}");
    Path res = TestFiles.write(dir, "res.json", "["
        + "{\"image_id\": 10, \"category_id\": 17, \"bbox\": [60, 40, 20, 20], \"score\": 0.8},"
        + "{\"image_id\": 10, \"category_id\": 18, \"bbox\": [0, 40, 20, 20], \"score\": 0.8}]");
    assertEquals(DetectionReaders.COCO, DetectionReaders.detectFormat(res));
    Detections d = DetectionReaders.readCoco(res, images, p, new OutcomeJudge(0.1, false), 0);
    Evaluation e = new Evaluation(p, d, false, null, 10, 1);
    assertEquals(2, e.overall.images());
    assertEquals(1, e.overall.both());
    assertEquals(1, e.overall.correct());
  }
}
