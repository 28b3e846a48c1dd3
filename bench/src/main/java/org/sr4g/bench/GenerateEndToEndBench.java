package org.sr4g.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.sr4g.coco.CocoSource;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.GenerateResult;
import org.sr4g.dataset.OutputDir;
import org.sr4g.dataset.Sr4gGenerator;

/**
 * How long does a whole {@code sr4g generate --emit one} take on 10,000 synthetic train2017-like images (read,
 * relate, write all files to a temporary directory), with 1 and 2 threads? The 118,287-image figure comes from the
 * CLI (bench/results/generate.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class GenerateEndToEndBench {
  @Param({"1", "2"})
  public int threads;

  byte[] train;
  Path root;
  int run;

  @Setup
  public void setup() throws IOException {
    train = BenchData.cocoJson(10_000, 4);
    root = Files.createTempDirectory("sr4g-bench");
  }

  @Benchmark
  public GenerateResult generate() {
    Path out = root.resolve("run" + run++);
    try (OutputDir dir = OutputDir.prepare(out, false)) {
      GenerateResult r =
          new Sr4gGenerator(GenerateOptions.defaults().withThreads(threads))
              .run(List.of(CocoSource.ofBytes("bench", train)), List.of(), null, dir);
      dir.commit();
      return r;
    }
  }

  @TearDown
  public void cleanup() throws IOException {
    try (var s = Files.walk(root)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
