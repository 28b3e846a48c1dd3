package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11 items 5, 6 and 16: labels with quotes, quoted CSV fields, many detections on one image. */
class HostileEvalInputTest {
  @TempDir Path tmp;

  @Test
  void synthEscapesLabelsSoEveryLineIsJson() throws Exception {
    PromptSet ps = TestFiles.prompts(tmp, TestFiles.prompt(0, 2, "big \\\"cat\\\" \\\\ x", "dog", "to the left of"));
    Path out = tmp.resolve("dets.jsonl");
    SyntheticDetections.write(out, ps, null, new SyntheticDetections.Settings(4, 1.0, 1.0, 0, 1));
    Set<String> labels = new HashSet<>();
    for (String line : Files.readAllLines(out)) {
      JsonNode n = new ObjectMapper().readTree(line);
      for (JsonNode d : n.get("detections")) labels.add(d.get("label").asText());
    }
    assertTrue(labels.contains("big \"cat\" \\ x"), labels.toString());
    assertEquals(4, DetectionReaders.readJsonl(out, ps, new OutcomeJudge(0.1, false), 4).outcomes().size());
  }

  @Test
  void tripletsCsvWithQuotedCommasQuotesAndLineBreaksIsRead() {
    Path f = TestFiles.write(tmp, "triplets.csv", "subject,relation,object,count\n\"a, b\",left of,dog,7\n"
        + "\"say \"\"hi\"\"\",above,cat,2\n\"two\nlines\",below,cat,5\n");
    TripletCounts tc = TripletCounts.read(f);
    assertEquals(7, tc.count("a, b", org.sr4g.relations.Relation.LEFT_OF, "dog"));
    assertEquals(2, tc.count("say \"hi\"", org.sr4g.relations.Relation.ABOVE, "cat"));
    assertEquals(5, tc.count("two\nlines", org.sr4g.relations.Relation.BELOW, "cat"));
  }

  @Test
  void sixtyThousandDetectionsOnOneImageAreCutToTheBestScoredAndCounted() {
    PromptSet ps = TestFiles.prompts(tmp, TestFiles.prompt(0, 2, "cat", "dog", "to the left of"));
    StringBuilder sb = new StringBuilder("{\"image\": \"0_0.png\", \"width\": 1000, \"height\": 1000, \"detections\": [");
    for (int i = 0; i < 30_000; i++) {
      // Cats on the right of every dog, except the best-scored cat: only it makes the prompt's relation hold.
      float s = i == 29_999 ? 0.99f : 0.5f;
      float x = i == 29_999 ? 10 : 800;
      sb.append(String.format(java.util.Locale.ROOT, "{\"label\":\"cat\",\"score\":%.2f,\"box\":[%.0f,10,%.0f,20]},",
          s, x, x + 10));
      sb.append("{\"label\":\"dog\",\"score\":0.5,\"box\":[500,10,510,20]}").append(i < 29_999 ? "," : "");
    }
    Path f = TestFiles.write(tmp, "dets.jsonl", sb.append("]}\n").toString());
    Detections d = DetectionReaders.readJsonl(f, ps, new OutcomeJudge(0.1, false), 1);
    assertTrue(d.outcomes().get(0).correct());
    assertEquals(1, d.warnings().count("images_with_boxes_cut_to_top_" + OutcomeJudge.MAX_BOXES_PER_OBJECT));
  }

  @Test
  void anEmptyImageListIsAUserErrorNotANullPointer() {
    // Found by DetectionsFuzzTest: readTree gave null for an empty --images file.
    PromptSet ps = TestFiles.prompts(tmp, TestFiles.prompt(0, 2, "cat", "dog", "to the left of"));
    java.nio.file.Path images = TestFiles.write(tmp, "images.json", "");
    java.nio.file.Path dets = TestFiles.write(tmp, "dets.json", "[]");
    String m = org.junit.jupiter.api.Assertions.assertThrows(org.sr4g.UserInputException.class,
        () -> DetectionReaders.readCoco(dets, images, ps, new OutcomeJudge(0.1, false), 1)).getMessage();
    assertTrue(m.endsWith("images.json: empty file"), m);
  }
}
