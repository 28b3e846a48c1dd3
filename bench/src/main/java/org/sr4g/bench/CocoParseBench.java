package org.sr4g.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * How fast does CocoReader read a COCO instances file (byte-level scanner, segmentations skipped, boxes kept), warm
 * and with 1 or 2 scanner threads? One invocation reads a 5,000-image synthetic file (~19 MB) from memory; the
 * score is parses per second and the {@code mbPerSecond} counter input MB (10^6 bytes) per second. The cold figure
 * is {@link CocoParseColdBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class CocoParseBench {
  @Param({"1", "2"})
  public int threads;

  byte[] json;

  @Setup
  public void setup() {
    json = BenchData.cocoJson(5000, 2);
  }

  /** Input megabytes per second, next to the parses per second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    public double mbPerSecond;

    @Setup(Level.Iteration)
    public void clear() {
      mbPerSecond = 0;
    }
  }

  @Benchmark
  public CocoDataset parse(Bytes counter) {
    counter.mbPerSecond += json.length / 1e6;
    return new CocoReader(false).parallelism(threads).read(List.of(CocoSource.ofBytes("bench", json)));
  }
}
