package org.sr4g.bench;

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
import org.openjdk.jmh.annotations.Warmup;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoReader;
import org.sr4g.coco.CocoSource;

/**
 * How fast does a cold JVM read its first COCO file? Each fork parses one 5,000-image synthetic file (~19 MB, the
 * size a cold JVM reads in its first fraction of a second) exactly once, with no warm-up: the time includes
 * interpreting and compiling the scanner, as the first second of {@code sr4g generate} does (without the AOT cache:
 * JMH forks start plain JVMs). MB/s = 19.0 / time; the file's exact size is printed by CocoParseBench's setup.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 8, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class CocoParseColdBench {
  @Param({"1", "2"})
  public int threads;

  byte[] json;

  @Setup
  public void setup() {
    json = BenchData.cocoJson(5000, 2);
    System.out.println("\n[CocoParseColdBench] input bytes: " + json.length);
  }

  @Benchmark
  public CocoDataset firstParse() {
    return new CocoReader(false).parallelism(threads).read(List.of(CocoSource.ofBytes("bench", json)));
  }
}
