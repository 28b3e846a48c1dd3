package org.sr4g.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.dataset.GenerateOptions;

/** Bad box-table rows are counted per reason (or fail with --strict), never silently dropped. */
class BadInputTest {
  @TempDir Path tmp;

  private static String box(long image, String file, Object w, Object h, Object ann, String cat, Object catId, Object x, Object y, Object bw, Object bh, Double score) {
    return "{\"image_id\":" + image + ",\"file_name\":" + (file == null ? "null" : "\"" + file + "\"") + ",\"width\":" + w
        + ",\"height\":" + h + ",\"annotation_id\":" + ann + ",\"category\":" + (cat == null ? "null" : "\"" + cat + "\"")
        + ",\"category_id\":" + catId + ",\"x\":" + x + ",\"y\":" + y + ",\"w\":" + bw + ",\"h\":" + bh + ",\"iscrowd\":0"
        + (score == null ? "" : ",\"score\":" + score) + "}";
  }

  private Path table() throws IOException {
    Path f = tmp.resolve("boxes.jsonl");
    Files.write(
        f,
        List.of(
            // image 1: fine, three boxes (one with a low score)
            box(1, "a.jpg", 640, 480, 10, "cat", 17, 10, 10, 50, 50, 0.9),
            box(1, "a.jpg", 640, 480, 11, "dog", 18, 300, 10, 50, 50, 0.8),
            box(1, "a.jpg", 640, 480, 12, "dog", 18, 300, 300, 50, 50, 0.1),
            // image 1 again, a missing coordinate and a NaN one
            box(1, "a.jpg", 640, 480, 13, "dog", 18, "null", 10, 50, 50, null),
            box(1, "a.jpg", 640, 480, 14, "dog", 18, "\"NaN\"", 10, 50, 50, null),
            // image 2: two rows disagree on the size -> whole image rejected (2 rows)
            box(2, "b.jpg", 640, 480, 20, "cat", 17, 1, 1, 5, 5, null),
            box(2, "b.jpg", 640, 481, 21, "dog", 18, 9, 9, 5, 5, null),
            // image 3: duplicate annotation id (2 rows) plus one good box, and a zero-width box
            box(3, "c.jpg", 100, 100, 30, "cat", 17, 1, 1, 5, 5, null),
            box(3, "c.jpg", 100, 100, 30, "dog", 18, 9, 9, 5, 5, null),
            box(3, "c.jpg", 100, 100, 31, "dog", 18, 20, 20, 5, 5, null),
            box(3, "c.jpg", 100, 100, 32, "dog", 18, 20, 20, 0, 5, null),
            // a row without image id
            "{\"image_id\":null,\"file_name\":\"d.jpg\",\"width\":10,\"height\":10,\"annotation_id\":40,\"category\":\"cat\",\"category_id\":17,\"x\":1,\"y\":1,\"w\":2,\"h\":2,\"iscrowd\":0}",
            // image 5: invalid size
            box(5, "e.jpg", 0, 480, 50, "cat", 17, 1, 1, 5, 5, null),
            // image 6: one box whose id 10 is also image 1's (found with --check-ids only; kept)
            box(6, "f.jpg", 100, 100, 10, "cat", 17, 1, 1, 5, 5, null)));
    return f;
  }

  @Test
  void countedPerReason() throws IOException {
    Path out = tmp.resolve("out");
    Sr4gSparkJob.Result r =
        TestSpark.sparkGenerate(GenerateOptions.defaults().withUnseenFraction(0), List.of(table()), List.of(), out, "jsonl", 2, 0.5, false, true);
    assertEquals(2, r.trainRejected().get("missing_field")); // x null; image_id null
    assertEquals(2, r.trainRejected().get("conflicting_image"));
    assertEquals(2, r.trainRejected().get("duplicate_annotation_id"));
    assertEquals(1, r.trainRejected().get("invalid_image_size"));
    assertEquals(1, r.trainRejected().get("below_min_score"));
    JsonNode stats = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
    assertEquals(3, stats.at("/images/train").asLong()); // images 1, 3 and 6
    assertEquals(2, r.trainRejected().get("annotation_id_in_several_images")); // id 10 in images 1 and 6
    assertEquals(1, stats.at("/dropped_boxes/train/non_positive_size").asLong());
    assertEquals(1, stats.at("/dropped_boxes/train/non_finite").asLong()); // x = NaN, as generate counts it
    JsonNode manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
    assertEquals(2, manifest.at("/rejected_rows/train/duplicate_annotation_id").asLong());
    // image 1: cat 10 and dog 11 -> 2 ordered pairs; image 3: only box 31 is left -> no pair
    assertEquals(2, r.rows());
  }

  @Test
  void strictFails() throws IOException {
    Path t = table();
    UserInputException e =
        assertThrows(
            UserInputException.class,
            () -> TestSpark.sparkGenerate(GenerateOptions.defaults(), List.of(t), List.of(), tmp.resolve("s"), "jsonl", 1, null, true));
    assertTrue(e.getMessage().contains("conflicting_image"), e.getMessage());
    assertTrue(!Files.exists(tmp.resolve("s")) || Files.list(tmp.resolve("s")).findAny().isEmpty(), "no output on failure");
  }

  @Test
  void missingColumnIsAUserError() throws IOException {
    Path f = tmp.resolve("bad.jsonl");
    Files.writeString(f, "{\"image_id\":1}\n");
    Path pq = tmp.resolve("bad.parquet");
    TestSpark.session().read().json(f.toString()).write().parquet(pq.toString());
    UserInputException e =
        assertThrows(
            UserInputException.class,
            () -> TestSpark.sparkGenerate(GenerateOptions.defaults(), List.of(pq), List.of(), tmp.resolve("m"), "jsonl", 1, null, false));
    assertTrue(e.getMessage().contains("lacks column"), e.getMessage());
  }
}
