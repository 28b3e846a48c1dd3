package org.sr4g.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.relations.Relation;
import org.sr4g.testing.SharedData;

/**
 * The real COCO 2017 subset in ../shared/coco/tiny (80 train + 80 val images).
 *
 * <p>Where the expected numbers come from: scripts/reference_relations.py, an independent implementation of
 * docs/relations.md and of the --emit one choice in Python/numpy float32 that shares no code with the Java side. The
 * count tests run it ({@code python3 scripts/reference_relations.py --json TRAIN.json VAL.json}, about 2 s) and compare
 * every number with {@code sr4g generate}'s, so a change on either side is caught in CI (which installs Debian's
 * python3-numpy); without python3 or numpy they skip with the reason, and fail under {@code CI=true}. One pair is also
 * worked out by hand in {@link #handCheckedPair}.
 */
class TinyCocoTest {
  static Path train, val;

  @BeforeAll
  static void data() {
    train = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    val = SharedData.require("coco/tiny/annotations/instances_val2017.json");
  }

  @Test
  void emitAllCountsMatchTheIndependentReference(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("all");
    GenerateResult r = GeneratorFixture.generate(GenerateOptions.defaults().withEmitAll(true), List.of(train), List.of(val), out);
    JsonNode rel = GeneratorFixture.json(out.resolve("stats.json")).get("relations");
    // Every pair has exactly one overlap relation.
    assertEquals(r.eligiblePairs(),
        rel.get("overlapping").get("train").asLong() + rel.get("separated").get("train").asLong());
    JsonNode ref = ReferenceScript.output();
    assertEquals(ref.get("eligible_pairs").asLong(), r.eligiblePairs());
    assertEquals(ref.get("emit_all_rows").asLong(), r.rows());
    for (Relation x : Relation.all()) {
      assertEquals(ref.get("emit_all").get(x.canonicalName()).asLong(), rel.get(x.canonicalName()).get("train").asLong(),
          x.canonicalName());
    }
  }

  @Test
  void emitOneCountsMatchTheIndependentReference(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("one");
    GenerateResult r = GeneratorFixture.generate(GenerateOptions.defaults(), List.of(train), List.of(val), out);
    assertEquals(r.eligiblePairs(), r.rows(), "one row per eligible ordered pair");
    JsonNode rel = GeneratorFixture.json(out.resolve("stats.json")).get("relations");
    JsonNode ref = ReferenceScript.output();
    assertEquals(ref.get("eligible_pairs").asLong(), r.rows());
    for (Relation x : Relation.all()) {
      assertEquals(ref.get("emit_one_seed0").get(x.canonicalName()).asLong(),
          rel.get(x.canonicalName()).get("train").asLong(), x.canonicalName());
    }
    // Evaluation triplets and their val/test split, also from the reference script.
    assertEquals(ref.get("prompts_val").asLong(), r.prompts().val());
    assertEquals(ref.get("prompts_test").asLong(), r.prompts().test());
  }

  /** scripts/reference_relations.py's output on the subset, run once per JVM. */
  static final class ReferenceScript {
    private static JsonNode output;

    static synchronized JsonNode output() throws IOException, InterruptedException {
      if (output == null) output = run();
      return output;
    }

    private static JsonNode run() throws IOException, InterruptedException {
      Path script = Path.of("..", "scripts", "reference_relations.py").toAbsolutePath().normalize();
      if (!Files.exists(script)) unavailable("the reference script is missing: " + script);
      String numpy = python("-c", "import numpy");
      if (numpy != null) unavailable("python3 with numpy is needed to rerun " + script + " (apt-get install python3-numpy): " + numpy);
      Path json = Files.createTempFile("reference-relations", ".json");
      Path err = Files.createTempFile("reference-relations", ".err");
      try {
        Process p = new ProcessBuilder("python3", script.toString(), "--json", train.toString(), val.toString())
            .redirectOutput(json.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          fail("reference script still running after 5 minutes");
        }
        String errors = Files.readString(err);
        assertEquals(0, p.exitValue(), () -> "reference script failed:\n" + errors);
        return new ObjectMapper().readTree(json.toFile());
      } finally {
        Files.deleteIfExists(json);
        Files.deleteIfExists(err);
      }
    }

    /** Runs python3 with {@code args}; null when it exits 0, else why not. */
    private static String python(String... args) throws InterruptedException {
      List<String> command = new ArrayList<>(List.of("python3"));
      command.addAll(List.of(args));
      try {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor() == 0 ? null : out;
      } catch (IOException e) {
        return "python3 not found: " + e.getMessage();
      }
    }

    private static void unavailable(String why) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(why + " — required when CI=true");
      Assumptions.abort(why);
    }
  }

  /**
   * Image 262145 (640 x 427), worked on paper. Subject umbrella 284647 [212.6, 55.62, 53.04, 53.46], object person
   * 1218400 [387, 71.1, 145, 322]. Normalized: umbrella x 0.3322..0.4151, y 0.1303..0.2555, centre (0.3736, 0.1929),
   * size 0.0829 x 0.1252; person x 0.6047..0.8313, y 0.1665..0.9206, centre (0.7180, 0.5436), size 0.2266 x 0.7541.
   * Neither contains the other; dx = -0.3444, dy = -0.3507: not left (needs dx <= dy), above (dy < dx, dx < -dy),
   * just off the diagonal. iw = 0.4151 - 0.6047 < 0: separated. Umbrella is narrower, shorter and smaller. The
   * reverse pair has dx = 0.3444, dy = 0.3507: not right (needs dy < dx) but below.
   */
  @Test
  void handCheckedPair(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("hand");
    GeneratorFixture.generate(GenerateOptions.defaults().withEmitAll(true), List.of(train), List.of(), out);
    List<JsonNode> rows = GeneratorFixture.jsonl(out.resolve("train.jsonl"));
    assertEquals(
        Set.of("above", "separated", "narrower than", "shorter than", "smaller than"), relationsOf(rows, 284647, 1218400));
    assertEquals(Set.of("below", "separated", "wider than", "taller than", "larger than"), relationsOf(rows, 1218400, 284647));
    for (JsonNode row : rows) {
      if (row.get("subject").get("annotation_id").asLong() == 284647 && row.get("object").get("annotation_id").asLong() == 1218400
          && row.get("relation").asText().equals("above")) {
        assertEquals("an umbrella above a person", row.get("caption").asText());
        assertEquals(262145, row.get("image_id").asLong());
        assertEquals("000000262145.jpg", row.get("file_name").asText());
        assertEquals("[212.6,55.62,53.04,53.46]", row.get("subject").get("bbox").toString());
        assertEquals(1, row.get("object").get("category_id").asInt());
      }
    }
    // Rows come in image-id order; crowd annotations (ids 9001..., 9057...) never appear.
    long prev = Long.MIN_VALUE;
    for (JsonNode row : rows) {
      assertTrue(row.get("image_id").asLong() >= prev);
      prev = row.get("image_id").asLong();
      assertTrue(row.get("subject").get("annotation_id").asLong() < 900_000_000_000L);
    }
  }

  private static Set<String> relationsOf(List<JsonNode> rows, long subject, long object) {
    Set<String> out = new HashSet<>();
    for (JsonNode row : rows) {
      if (row.get("subject").get("annotation_id").asLong() == subject && row.get("object").get("annotation_id").asLong() == object) {
        out.add(row.get("relation").asText());
      }
    }
    return out;
  }

  @Test
  void unseenSplitInvariants(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("unseen");
    GenerateResult r = GeneratorFixture.generate(GenerateOptions.defaults().withSeed(3), List.of(train), List.of(val), out);
    Set<String> unseen = new HashSet<>(r.unseenCategories());
    assertEquals(16, unseen.size(), "round(0.2 * 80)");
    List<JsonNode> seenRows = GeneratorFixture.jsonl(out.resolve("train_unseen.jsonl"));
    assertEquals(r.trainUnseenRows(), seenRows.size());
    assertTrue(seenRows.size() < r.rows() && seenRows.size() > 0);
    for (JsonNode row : seenRows) {
      assertTrue(!unseen.contains(row.get("subject").get("category").asText()), row.toString());
      assertTrue(!unseen.contains(row.get("object").get("category").asText()), row.toString());
    }
    // Byte for byte, train_unseen.jsonl is train.jsonl's rows of two seen categories, in order (it is written from
    // slices of the same buffers).
    List<String> expected = new java.util.ArrayList<>();
    List<String> trainLines = java.nio.file.Files.readAllLines(out.resolve("train.jsonl"));
    List<JsonNode> trainRows = GeneratorFixture.jsonl(out.resolve("train.jsonl"));
    for (int i = 0; i < trainLines.size(); i++) {
      JsonNode row = trainRows.get(i);
      if (!unseen.contains(row.get("subject").get("category").asText()) && !unseen.contains(row.get("object").get("category").asText())) {
        expected.add(trainLines.get(i));
      }
    }
    assertEquals(expected, java.nio.file.Files.readAllLines(out.resolve("train_unseen.jsonl")));
    List<JsonNode> val = GeneratorFixture.jsonl(out.resolve("prompts_val.jsonl"));
    List<JsonNode> test = GeneratorFixture.jsonl(out.resolve("prompts_test.jsonl"));
    List<JsonNode> testUnseen = GeneratorFixture.jsonl(out.resolve("prompts_test_unseen.jsonl"));
    Set<String> valTriplets = new HashSet<>(), testTriplets = new HashSet<>(), ids = new HashSet<>();
    for (JsonNode p : val) {
      valTriplets.add(p.get("text").asText());
      assertTrue(ids.add(p.get("unique_id").asText()));
    }
    for (JsonNode p : test) {
      testTriplets.add(p.get("text").asText());
      assertTrue(ids.add(p.get("unique_id").asText()));
    }
    assertTrue(valTriplets.stream().noneMatch(testTriplets::contains), "val and test triplets are disjoint");
    assertTrue(!testUnseen.isEmpty());
    for (JsonNode p : testUnseen) {
      assertTrue(testTriplets.contains(p.get("text").asText()));
      assertTrue(unseen.contains(p.get("obj_1_attributes").get(0).asText()));
      assertTrue(unseen.contains(p.get("obj_2_attributes").get(0).asText()));
      assertEquals(2, p.get("num_objects").asInt());
      assertTrue(p.get("support").asInt() >= 1);
    }
  }
}
