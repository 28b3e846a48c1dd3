package org.sr4g.dataset;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.sr4g.bench.BenchData;
import org.sr4g.coco.CocoDataset;

/**
 * How many train.jsonl rows per second does RowRenderer produce (caption + both objects, to bytes)? Lives in the
 * dataset package to reach the package-private renderer without widening its API.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RowRenderBench {
  static final int ROWS = 100_000;
  CocoDataset d;
  RowRenderer renderer;
  ByteBuf buf = new ByteBuf(64 << 20);
  int[] subject = new int[ROWS], object = new int[ROWS], image = new int[ROWS];
  RowRenderer.ImagePieces[] pieces;

  @Setup
  public void setup() {
    d = BenchData.dataset(BenchData.cocoJson(3000, 3));
    renderer = new RowRenderer(d);
    pieces = new RowRenderer.ImagePieces[d.imageCount()];
    int k = 0;
    outer:
    for (int i = 0; ; i = (i + 1) % d.imageCount()) {
      int n = d.endBox(i) - d.firstBox(i);
      int[] boxes = new int[n];
      for (int b = 0; b < n; b++) boxes[b] = d.firstBox(i) + b;
      pieces[i] = new RowRenderer.ImagePieces();
      renderer.pieces(i, boxes, n, pieces[i]);
      for (int s = 0; s < n; s++) {
        for (int o = 0; o < n; o++) {
          if (s == o) continue;
          image[k] = i;
          subject[k] = s;
          object[k] = o;
          if (++k == ROWS) break outer;
        }
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public void render(Blackhole bh) {
    buf.clear();
    for (int k = 0; k < ROWS; k++) renderer.row(buf, pieces[image[k]], subject[k], k % 14, object[k]);
    bh.consume(buf.n);
  }
}
