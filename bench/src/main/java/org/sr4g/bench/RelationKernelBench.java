package org.sr4g.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.RelationKernel;

/**
 * How many ordered pairs per second does each relation kernel relate? Two workloads: COCO-like images (mean ~7
 * boxes, heavy tail) and one dense image of {@code n} boxes. Each invocation relates all 'PAIRS' ordered pairs
 * (self pairs included, as the kernel computes them), so the score is pairs/s directly.
 *
 * <p>The vector species is a static final constant chosen from -Dsr4g.vector.bits (default: the preferred species), so
 * the 128/256-bit variants run in their own forks (subclasses below).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RelationKernelBench {
  /** Pairs in one invocation of each benchmark (tables are built to make it exact). */
  static final int PAIRS = 1 << 20;

  @Param({"coco", "dense64"})
  public String workload;

  List<BoxTable> tables;
  int[] out = new int[1024];
  RelationKernel scalar, vector;

  @Setup(Level.Trial)
  public void setup() {
    scalar = RelationKernel.scalar();
    vector = RelationKernel.best();
    if (!vector.name().startsWith("vector")) throw new IllegalStateException("vector kernel not active: " + vector.name());
    if (workload.equals("coco")) {
      List<BoxTable> all = BenchData.tables(BenchData.dataset(BenchData.cocoJson(4000, 1)));
      // Take images until exactly PAIRS ordered pairs (n*n each), repeating the list if needed.
      tables = new java.util.ArrayList<>();
      long pairs = 0;
      for (int i = 0; pairs < PAIRS; i = (i + 1) % all.size()) {
        BoxTable t = all.get(i);
        long p = (long) t.size() * t.size();
        if (pairs + p > PAIRS) continue;
        tables.add(t);
        pairs += p;
        if (PAIRS - pairs < 4) break;
      }
    } else {
      java.util.SplittableRandom r = new java.util.SplittableRandom(3);
      BoxTable t = new BoxTable();
      for (int i = 0; i < 64; i++) {
        float x = (float) r.nextDouble(0, 600), y = (float) r.nextDouble(0, 400);
        t.addCoco(x, y, (float) r.nextDouble(1, 640 - x), (float) r.nextDouble(1, 480 - y), 640, 480);
      }
      tables = java.util.Collections.nCopies(PAIRS / (64 * 64), t);
    }
  }

  @Benchmark
  @OperationsPerInvocation(PAIRS)
  public void scalar(Blackhole bh) {
    run(scalar, bh);
  }

  @Benchmark
  @OperationsPerInvocation(PAIRS)
  public void vector(Blackhole bh) {
    run(vector, bh);
  }

  private void run(RelationKernel k, Blackhole bh) {
    for (BoxTable t : tables) {
      for (int s = 0; s < t.size(); s++) {
        k.relate(t, s, out);
        bh.consume(out[s ^ 1]);
      }
    }
  }

  /** The same measurement with 256-bit vectors (the default is the CPU's preferred species, 512 bits on AVX-512). */
  @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Dsr4g.vector.bits=256"})
  public static class Species256 extends RelationKernelBench {}

  /** The same measurement with 128-bit vectors. */
  @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Dsr4g.vector.bits=128"})
  public static class Species128 extends RelationKernelBench {}
}
