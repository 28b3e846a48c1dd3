package org.sr4g.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.coco.CocoSource;
import org.sr4g.synth.CocoSynth;

/** Same inputs and options give byte-identical files, whatever the thread count (TrainPass writes chunks in order). */
class DeterminismTest {
  static final List<String> DATA_FILES =
      List.of("train.jsonl", "train_unseen.jsonl", "prompts_val.jsonl", "prompts_test.jsonl", "prompts_test_unseen.jsonl",
          "stats.json", "triplets.csv");
  static byte[] train, eval;

  @BeforeAll
  static void synth() throws Exception {
    // 1,200 images = 5 chunks of TrainPass.IMAGES_PER_CHUNK, so threads really interleave.
    ByteArrayOutputStream a = new ByteArrayOutputStream(), b = new ByteArrayOutputStream();
    CocoSynth.builder().images(1200).seed(11).build().write(a);
    CocoSynth.builder().images(300).seed(12).build().write(b);
    train = a.toByteArray();
    eval = b.toByteArray();
  }

  static Path run(Path dir, GenerateOptions opt) {
    try (OutputDir out = OutputDir.prepare(dir, false)) {
      new Sr4gGenerator(opt).run(List.of(CocoSource.ofBytes("train", train)), List.of(CocoSource.ofBytes("eval", eval)), null, out);
      out.commit();
    }
    return dir;
  }

  @Test
  void oneTwoAndThreeThreadsGiveIdenticalBytes(@TempDir Path tmp) throws Exception {
    for (boolean all : new boolean[] {false, true}) {
      GenerateOptions base = GenerateOptions.defaults().withEmitAll(all).withSeed(5);
      Path one = run(tmp.resolve(all + "-1"), base.withThreads(1));
      Path two = run(tmp.resolve(all + "-2"), base.withThreads(2));
      Path three = run(tmp.resolve(all + "-3"), base.withThreads(3));
      for (String f : DATA_FILES) {
        byte[] expected = Files.readAllBytes(one.resolve(f));
        assertArrayEquals(expected, Files.readAllBytes(two.resolve(f)), f + " (emit all=" + all + ")");
        assertArrayEquals(expected, Files.readAllBytes(three.resolve(f)), f + " (emit all=" + all + ")");
      }
      assertTrue(Files.size(one.resolve("train.jsonl")) > 300_000, "a non-trivial run");
      // The manifest differs only in the block describing the run (threads, timings).
      ObjectNode m1 = (ObjectNode) GeneratorFixture.json(one.resolve("manifest.json"));
      ObjectNode m2 = (ObjectNode) GeneratorFixture.json(two.resolve("manifest.json"));
      assertEquals(1, m1.get("run").get("threads").asInt());
      m1.remove("run");
      m2.remove("run");
      assertEquals(m1, m2);
    }
  }

  @Test
  void theSeedChangesTheChoiceButNotThePairs(@TempDir Path tmp) throws Exception {
    Path a = run(tmp.resolve("a"), GenerateOptions.defaults().withSeed(1));
    Path b = run(tmp.resolve("b"), GenerateOptions.defaults().withSeed(2).withUnseenCategories(List.of("person")));
    assertNotEquals(Files.readString(a.resolve("train.jsonl")), Files.readString(b.resolve("train.jsonl")));
    assertEquals(Files.readAllLines(a.resolve("train.jsonl")).size(), Files.readAllLines(b.resolve("train.jsonl")).size());
    // Prompts do not depend on the seed; only the unseen subset does.
    assertArrayEquals(Files.readAllBytes(a.resolve("prompts_test.jsonl")), Files.readAllBytes(b.resolve("prompts_test.jsonl")));
  }
}
