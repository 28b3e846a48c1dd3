package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthCommandTest {

  private static Object[] run(String... args) {
    return CliRun.of(args).asArray();
  }

  @Test
  void writesAParseableFileAndASummaryLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("synth.json");
    Object[] r = run("synth", "--images", "300", "--seed", "5", "--out", file.toString());
    assertEquals(0, r[0], "stderr: " + r[2]);
    String line = ((String) r[1]).strip();
    assertTrue(line.matches("synth: .*: 300 images .*, \\d+ annotations \\(\\d+ crowd\\), \\d+ bytes, [0-9.]+ s"), line);
    assertTrue(line.contains(Files.size(file) + " bytes"), line);
    JsonNode root = new ObjectMapper().readTree(file.toFile());
    assertEquals(300, root.get("images").size());
    assertEquals(80, root.get("categories").size());
    assertTrue(root.get("annotations").size() > 1000);

    Path again = dir.resolve("again.json");
    assertEquals(0, run("synth", "--images", "300", "--seed", "5", "--out", again.toString())[0]);
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again), "same options, same bytes");
  }

  @Test
  void badImagesIsAUserError(@TempDir Path dir) {
    Object[] r = run("synth", "--images", "0", "--out", dir.resolve("x.json").toString());
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("--images must be between 1"), (String) r[2]);
    assertFalse(Files.exists(dir.resolve("x.json")));
  }

  @Test
  void missingOutputDirectoryIsAUserError(@TempDir Path dir) {
    Object[] r = run("synth", "--images", "10", "--out", dir.resolve("nope/x.json").toString());
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("does not exist"), (String) r[2]);
  }

  @Test
  void helpHasExamples() {
    Object[] r = run("synth", "--help");
    assertEquals(0, r[0]);
    assertTrue(((String) r[1]).contains("Examples:"), (String) r[1]);
    assertTrue(((String) r[1]).contains("--images"), (String) r[1]);
    assertFalse(((String) r[2]).contains("WARN"), "help text formats cleanly: " + r[2]);
  }

  @Test
  void outIsRequired() {
    Object[] r = run("synth", "--images", "10");
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("--out"), (String) r[2]);
  }
}
