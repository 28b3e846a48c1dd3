package org.sr4g.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.testing.SharedData;

/** The commands as a user runs them: exit codes, one-line errors, files in place. */
class SparkCliTest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    PrintStream out = System.out, err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
    TestSpark.session(); // share the module's session (getOrCreate)
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      return new Run(SparkCli.run(args), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void exportThenGenerate() throws Exception {
    Path coco = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    Path table = tmp.resolve("boxes.jsonl");
    Run ex = run("export-boxes", "--coco", coco.toString(), "--out", table.toString());
    assertEquals(0, ex.code(), ex.err());
    assertTrue(ex.out().contains("80 images, 705 boxes, 80 categories"), ex.out());
    Path out = tmp.resolve("out");
    Run g = run("spark-generate", "--master", "local[2]", "--partitions", "2", "--metrics", "--train", table.toString(), "--out", out.toString());
    assertEquals(0, g.code(), g.err());
    assertTrue(g.out().contains("train rows"), g.out());
    assertTrue(g.out().contains("shuffle_write_bytes="), g.out());
    for (String f : new String[] {"stats.json", "triplets.csv", "manifest.json", "prompts_val.jsonl", "train/_SUCCESS"}) {
      assertTrue(Files.exists(out.resolve(f)), f);
    }
    // A second run into the same directory needs --force.
    Run again = run("spark-generate", "--train", table.toString(), "--out", out.toString());
    assertEquals(2, again.code());
    assertTrue(again.err().contains("--force"), again.err());
  }

  @Test
  void userErrorsAreOneLineAndExit2() {
    Run bad = run("spark-generate", "--train", tmp.resolve("nope.parquet").toString(), "--out", tmp.resolve("o").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().startsWith("sr4g spark-generate: error: ") && bad.err().contains("no such file"), bad.err());
    assertEquals(1, bad.err().strip().lines().count(), bad.err());
    Run emit = run("spark-generate", "--emit", "some", "--train", "x.jsonl", "--out", tmp.resolve("o").toString());
    assertEquals(2, emit.code());
    assertTrue(emit.err().contains("'--emit': must be 'one' or 'all', not 'some'"), emit.err());
  }
}
