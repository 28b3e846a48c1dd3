package org.sr4g.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.sr4g.coco.CocoSource;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.OutputDir;
import org.sr4g.dataset.Sr4gGenerator;

/** One local SparkSession for every test class of the module (starting one costs seconds), and shared helpers. */
final class TestSpark {
  private TestSpark() {}

  private static SparkSession session;

  static synchronized SparkSession session() {
    if (session == null) {
      session =
          SparkSession.builder()
              .appName("sr4g-spark-tests")
              .master("local[2]")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "2")
              .config("spark.driver.host", "127.0.0.1")
              .getOrCreate();
      session.sparkContext().setLogLevel("WARN");
    }
    return session;
  }

  /** Runs sr4g generate (the single-machine path) on COCO files. */
  static void generate(GenerateOptions opt, List<Path> train, List<Path> eval, Path out) {
    List<CocoSource> t = new ArrayList<>(), e = new ArrayList<>();
    for (Path p : train) t.add(CocoSource.of(p));
    for (Path p : eval) e.add(CocoSource.of(p));
    try (OutputDir dir = OutputDir.prepare(out, true)) {
      new Sr4gGenerator(opt).run(t, e, "test", dir);
      dir.commit();
    }
  }

  static Sr4gSparkJob.Result sparkGenerate(
      GenerateOptions opt, List<Path> train, List<Path> eval, Path out, String outputFormat, Integer partitions, Double minScore,
      boolean strict) {
    return sparkGenerate(opt, train, eval, out, outputFormat, partitions, minScore, strict, false);
  }

  static Sr4gSparkJob.Result sparkGenerate(
      GenerateOptions opt, List<Path> train, List<Path> eval, Path out, String outputFormat, Integer partitions, Double minScore,
      boolean strict, boolean checkIds) {
    List<String> t = new ArrayList<>(), e = new ArrayList<>();
    for (Path p : train) t.add(p.toString());
    for (Path p : eval) e.add(p.toString());
    return Sr4gSparkJob.run(
        session(),
        new Sr4gSparkJob.Options(t, e, InputFormat.AUTO, out.toString(), true, OutputFormat.valueOf(outputFormat.toUpperCase(java.util.Locale.ROOT)), opt, "test", minScore, strict, checkIds, partitions, 64));
  }

  /** The lines of every part file under {@code dir} (recursively), sorted. */
  static List<String> sortedLines(Path dir) {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(f -> f.getFileName().toString().startsWith("part-")).toList()) lines.addAll(Files.readAllLines(p));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Collections.sort(lines);
    return lines;
  }

  static List<String> sortedFileLines(Path f) {
    try {
      List<String> lines = new ArrayList<>(Files.readAllLines(f));
      Collections.sort(lines);
      return lines;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The Spark output equals generate's: same row sets, byte-identical summary files. */
  static void assertSameOutput(Path single, Path spark) throws IOException {
    List<String> expected = sortedFileLines(single.resolve("train.jsonl"));
    List<String> actual = sortedLines(spark.resolve("train"));
    assertEquals(expected.size(), actual.size(), "train rows");
    assertEquals(expected, actual, "train.jsonl row set");
    assertEquals(sortedFileLines(single.resolve("train_unseen.jsonl")), sortedLines(spark.resolve("train/split=seen")), "train_unseen row set");
    for (String f : List.of("stats.json", "triplets.csv", "prompts_val.jsonl", "prompts_test.jsonl", "prompts_test_unseen.jsonl")) {
      assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(spark.resolve(f)), f);
    }
  }
}
