package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.testing.SharedData;

class GenerateCommandTest {

  @Test
  void builtInSampleRunsAndPrintsTheSummary(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("sample");
    CliRun r = CliRun.of("generate", "--sample-images", "200", "--out", out.toString(), "--quiet");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("built-in synthetic sample"), r.out());
    assertTrue(r.out().matches("(?s).*train\\.jsonl rows\\s+[1-9][0-9,]*\\n.*"), r.out());
    assertTrue(r.out().contains("relation kernel"), r.out());
    for (String f : new String[] {"train.jsonl", "train_unseen.jsonl", "prompts_val.jsonl", "prompts_test.jsonl",
        "prompts_test_unseen.jsonl", "stats.json", "triplets.csv", "manifest.json"}) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    assertTrue(Files.size(out.resolve("train.jsonl")) > 0);
  }

  @Test
  void realCocoFilesEndToEnd(@TempDir Path dir) throws Exception {
    Path train = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    Path val = SharedData.require("coco/tiny/annotations/instances_val2017.json");
    Path out = dir.resolve("o");
    CliRun r = CliRun.of("generate", "--train", train.toString(), "--eval", val.toString(), "--out", out.toString(),
        "--emit", "all", "--relations", "visor", "-q");
    assertEquals(0, r.code(), r.err());
    try (Stream<String> lines = Files.lines(out.resolve("train.jsonl"))) {
      // Only the four VISOR relations were allowed.
      assertTrue(lines.allMatch(l -> l.matches(".*\"relation\":\"(left of|right of|above|below)\".*")));
    }
    // The four projective counts of emit all on this subset (TinyCocoTest): 2009 + 2009 + 1001 + 1001.
    assertTrue(r.out().contains("6,020"), r.out());
  }

  @Test
  void aForeignFolderIsNeverReplacedAPreviousOutputOnlyWithForce(@TempDir Path dir) throws Exception {
    Path out = Files.createDirectories(dir.resolve("full"));
    Files.writeString(out.resolve("keep.txt"), "precious");
    for (String force : new String[] {"-q", "--force"}) {
      CliRun r = CliRun.of("generate", "--sample-images", "50", "--out", out.toString(), force);
      assertEquals(2, r.code());
      assertTrue(r.err().contains("is not an sr4g output"), r.err());
      assertEquals("precious", Files.readString(out.resolve("keep.txt")));
    }
    Path ours = dir.resolve("ours");
    assertEquals(0, CliRun.of("generate", "--sample-images", "50", "--out", ours.toString(), "-q").code());
    CliRun again = CliRun.of("generate", "--sample-images", "50", "--out", ours.toString(), "-q", "--seed", "1");
    assertEquals(2, again.code());
    assertTrue(again.err().contains("holds a previous sr4g output (use --force to replace it)"), again.err());
    CliRun forced = CliRun.of("generate", "--sample-images", "50", "--out", ours.toString(), "--force", "-q");
    assertEquals(0, forced.code(), forced.err());
    assertTrue(Files.exists(ours.resolve("train.jsonl")) && Files.exists(ours.resolve(".sr4g-output")));
  }

  @Test
  void badInputIsOneClearLineAndNoOutput(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"images\": [\n  {\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 10, \"height\": 10}\n  {\"id\": 2}\n]}");
    Path out = dir.resolve("o");
    CliRun r = CliRun.of("generate", "--train", bad.toString(), "--out", out.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("sr4g generate: error: " + bad + ": line 3, column 3: malformed JSON"), r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace for a user mistake: " + r.err());
    assertFalse(Files.exists(out), "no half-written output");
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(1, s.count(), "no staging directory left behind");
    }

    CliRun missing = CliRun.of("generate", "--train", dir.resolve("nope.json").toString(), "--out", out.toString());
    assertEquals(2, missing.code());
    assertEquals("sr4g generate: error: " + dir.resolve("nope.json") + ": no such file", missing.err().strip());

    CliRun emit = CliRun.of("generate", "--emit", "some", "--out", out.toString());
    assertEquals(2, emit.code());
    assertTrue(emit.err().contains("'--emit': must be 'one' or 'all', not 'some'"), emit.err());

    CliRun rel = CliRun.of("generate", "--relations", "near", "--out", out.toString());
    assertEquals(2, rel.code());
    assertTrue(rel.err().contains("unknown relation 'near'"), rel.err());
  }

  @Test
  void unseenCategoriesFromAFile(@TempDir Path dir) throws Exception {
    Path names = dir.resolve("unseen.txt");
    Files.writeString(names, "# held out\nperson\n\ndog\n");
    Path out = dir.resolve("o");
    CliRun r = CliRun.of("generate", "--sample-images", "100", "--unseen-categories", names.toString(), "--out", out.toString(), "-q");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("unseen categories            person, dog") || r.out().contains("dog, person"), r.out());
    try (Stream<String> lines = Files.lines(out.resolve("train_unseen.jsonl"))) {
      assertTrue(lines.noneMatch(l -> l.contains("\"category\":\"person\"") || l.contains("\"category\":\"dog\"")));
    }
    Files.writeString(names, "person\nunicorn\n");
    CliRun bad = CliRun.of("generate", "--sample-images", "100", "--unseen-categories", names.toString(), "--out", dir.resolve("p").toString(), "-q");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains(names + ": unknown category \"unicorn\""), bad.err());
  }
}
