package org.sr4g.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.CocoReader;
import org.sr4g.coco.CocoSource;

/**
 * How fast does CocoReader stream a COCO instances file (segmentations skipped, boxes kept)? One invocation reads a
 * 5,000-image synthetic file from memory; MB/s = size / time (the size is printed at setup).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class CocoParseBench {
  byte[] json;

  @Setup
  public void setup() {
    json = BenchData.cocoJson(5000, 2);
    System.out.println("\n[CocoParseBench] input bytes: " + json.length);
  }

  @Benchmark
  public CocoDataset parse() {
    return new CocoReader(false).read(List.of(CocoSource.ofBytes("bench", json)));
  }
}
