package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * c10d from Java: a Gloo process group of two ranks, each on its own thread of this JVM over a FileStore (the
 * multi-process path is tested end to end by the training tests in cli). Collectives, the store, DDP's Reducer
 * (synchronised, no_sync accumulation, a segmented backward of two passes), the bucketed all-reduce, and the errors.
 */
class ProcessGroupTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  @TempDir Path tmp;
  private long tensorsBefore;

  @BeforeEach
  void need() {
    NativeAssume.gloo();
    tensorsBefore = Torch.liveTensors();
  }

  @AfterEach
  void nothingLeaks() {
    assertEquals(0, ProcessGroup.liveHandles(), "process groups / reducers left open");
    assertEquals(tensorsBefore, Torch.liveTensors(), "tensor handles leaked");
  }

  private String init(String name) {
    return "file://" + tmp.resolve(name);
  }

  @Test
  void collectivesAndTheStore() throws Exception {
    String init = init("store");
    List<Object[]> r = OnRanks.run(2, rank -> {
      try (ProcessGroup g = ProcessGroup.join(init, rank, 2, ProcessGroup.Backend.GLOO, Device.CPU, TIMEOUT);
          TensorScope s = TensorScope.open()) {
        double[] d = {rank + 1, 0.25};
        g.allReduceSum(d);
        long[] l = {rank, 10, Long.MAX_VALUE / 4};
        g.allReduceSum(l);
        Tensor t = Tensor.full(rank * 7, DType.F32, Device.CPU, 3);
        Tensor u = Tensor.full(rank + 1, DType.F32, Device.CPU, 2, 2);
        g.broadcast(List.of(t, u), 1);
        g.storeSet("sr4g/test/" + rank, "value of " + rank);
        g.barrier();
        Optional<String> other = g.storeGet("sr4g/test/" + (1 - rank));
        Optional<String> none = g.storeGet("sr4g/test/none");
        return new Object[] {d, l, t.toFloatArray(), u.toFloatArray(), other.orElse("?"), none.isPresent(), g.rank(),
            g.size()};
      }
    });
    for (int rank = 0; rank < 2; rank++) {
      Object[] x = r.get(rank);
      assertArrayEquals(new double[] {3, 0.5}, (double[]) x[0]);
      assertArrayEquals(new long[] {1, 20, 2 * (Long.MAX_VALUE / 4)}, (long[]) x[1]);
      assertArrayEquals(new float[] {7, 7, 7}, (float[]) x[2]);
      assertArrayEquals(new float[] {2, 2, 2, 2}, (float[]) x[3]);
      assertEquals("value of " + (1 - rank), x[4]);
      assertEquals(false, x[5]);
      assertEquals(rank, x[6]);
      assertEquals(2, x[7]);
    }
  }

  /** Two linear layers, weights from one seed (the same on every rank), input and target from the rank's seed. */
  private static final class Mlp implements AutoCloseable {
    final Params p = new Params();

    Mlp() {
      try (Generator g = new Generator(Device.CPU, 5); TensorScope s = TensorScope.open()) {
        p.add("w1", Tensor.randn(g, DType.F32, 6, 3));
        p.add("w2", Tensor.randn(g, DType.F32, 1, 6));
      }
    }

    static Tensor[] batch(long seed) {
      try (Generator g = new Generator(Device.CPU, seed)) {
        return new Tensor[] {Tensor.randn(g, DType.F32, 4, 3), Tensor.randn(g, DType.F32, 4, 1)};
      }
    }

    Tensor hidden(Tensor x) {
      return Nn.linear(x, p.get("w1"), null).relu();
    }

    Tensor loss(Tensor h, Tensor y) {
      return Nn.mseLoss(Nn.linear(h, p.get("w2"), null), y);
    }

    /** A plain backward of the batch's loss (gradients accumulate). */
    void backward(long seed) {
      Tensor[] b = batch(seed);
      loss(hidden(b[0]), b[1]).backward();
    }

    /**
     * The same gradients in two backward calls, as gradient checkpointing makes them: the hidden layer runs without a
     * graph, the head's backward leaves a gradient in a leaf, and the recomputed hidden layer is back-propagated from
     * it. {@code between} runs after the first pass.
     */
    void segmentedBackward(long seed, Runnable between) {
      Tensor[] b = batch(seed);
      Tensor h;
      try (ModeGuard ng = Autograd.noGrad()) {
        h = hidden(b[0]);
      }
      Tensor leaf = h.detach().requiresGrad(true);
      loss(leaf, b[1]).backward();
      between.run();
      Autograd.backward(List.of(hidden(b[0])), List.of(leaf.grad()));
    }

    float[][] grads() {
      return new float[][] {p.get("w1").grad().toFloatArray(), p.get("w2").grad().toFloatArray()};
    }

    @Override
    public void close() {
      p.close();
    }
  }

  /** The gradients one process computes alone for the given batches (accumulated). */
  private static float[][] localGrads(long... seeds) {
    try (Mlp m = new Mlp(); TensorScope s = TensorScope.open()) {
      for (long seed : seeds) m.backward(seed);
      return m.grads();
    }
  }

  private static void assertMean(float[][] a, float[][] b, float[][] actual) {
    for (int i = 0; i < a.length; i++) {
      float[] mean = new float[a[i].length];
      for (int k = 0; k < mean.length; k++) mean[k] = (a[i][k] + b[i][k]) / 2;
      assertArrayEquals(mean, actual[i], 1e-6f);
    }
  }

  @Test
  void reducerAveragesWithNoSyncAccumulationAndASegmentedBackward() throws Exception {
    String init = init("reducer");
    List<List<float[][]>> r = OnRanks.run(2, rank -> {
      List<float[][]> out = new ArrayList<>();
      try (ProcessGroup g = ProcessGroup.join(init, rank, 2, ProcessGroup.Backend.GLOO, Device.CPU, TIMEOUT);
          Mlp m = new Mlp();
          GradientReducer red = new GradientReducer(g, m.p.list())) {
        for (int step = 0; step < 2; step++) { // the second step runs on the rebuilt buckets
          try (TensorScope s = TensorScope.open()) {
            m.p.zeroGrad();
            red.prepare();
            m.backward(100 + rank);
            red.check();
            out.add(m.grads());
          }
        }
        try (TensorScope s = TensorScope.open()) { // accumulation: the first micro-batch without sync (no_sync)
          m.p.zeroGrad();
          m.backward(200 + rank);
          out.add(m.grads()); // still local
          red.prepare();
          m.backward(300 + rank);
          red.check();
          out.add(m.grads());
        }
        try (TensorScope s = TensorScope.open()) { // gradient checkpointing: two backward passes, one reduction
          m.p.zeroGrad();
          red.prepare();
          m.segmentedBackward(400 + rank, () -> {
            TorchException e = assertThrows(TorchException.class, red::check, "w1 has no gradient yet");
            assertTrue(e.getMessage().contains("did not finish"), e.getMessage());
          });
          red.check();
          out.add(m.grads());
        }
        try (TensorScope s = TensorScope.open()) { // the same averaging after the backward, bucket by bucket
          m.p.zeroGrad();
          m.backward(100 + rank);
          g.averageGradients(m.p.list(), GradientReducer.FIRST_BUCKET_BYTES, GradientReducer.BUCKET_BYTES);
          out.add(m.grads());
        }
      }
      return out;
    });
    for (List<float[][]> rank : r) {
      assertMean(localGrads(100), localGrads(101), rank.get(0));
      assertMean(localGrads(100), localGrads(101), rank.get(1));
      assertMean(localGrads(200, 300), localGrads(201, 301), rank.get(3));
      assertMean(localGrads(400), localGrads(401), rank.get(4));
      for (int i = 0; i < 2; i++) assertArrayEquals(rank.get(0)[i], rank.get(5)[i], "bucketed all-reduce = Reducer");
    }
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(r.get(0).get(4)[i], r.get(1).get(4)[i], "every rank holds the same average");
      assertArrayEquals(localGrads(200 + i)[0], r.get(i).get(2)[0], "no_sync: the gradient stays local");
    }
  }

  @Test
  void aRankThatNeverJoinsIsNamed() {
    long t0 = System.nanoTime();
    TorchException e = assertThrows(TorchException.class, () -> ProcessGroup.join(init("alone"), 0, 2,
        ProcessGroup.Backend.GLOO, Device.CPU, Duration.ofMillis(1500)));
    assertTrue(e.getMessage().contains("rank(s) 1 did not join within 1 s"), e.getMessage());
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "bounded by the timeout");
  }

  @Test
  void aPeerThatLeavesFailsTheNextCollectiveInsteadOfHanging() throws Exception {
    String init = init("leave");
    List<String> r = OnRanks.run(2, rank -> {
      try (ProcessGroup g = ProcessGroup.join(init, rank, 2, ProcessGroup.Backend.GLOO, Device.CPU,
          Duration.ofSeconds(20))) {
        g.barrier();
        if (rank == 1) return "left";
        try {
          Thread.sleep(300);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        long t0 = System.nanoTime();
        TorchException e = assertThrows(TorchException.class, () -> g.allReduceSum(new double[] {1}));
        return (System.nanoTime() - t0) / 1_000_000 + " ms: " + e.getMessage();
      }
    });
    assertTrue(r.get(0).matches("(?s)\\d+ ms: .+"), r.get(0));
  }

  @Test
  void mistakesAreJavaExceptions() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> ProcessGroup.join(init("x"), 2, 2, ProcessGroup.Backend.GLOO,
        Device.CPU, TIMEOUT));
    assertThrows(IllegalArgumentException.class, () -> ProcessGroup.join(init("x"), 0, 1, ProcessGroup.Backend.NCCL,
        Device.CPU, TIMEOUT));
    TorchException bad = assertThrows(TorchException.class, () -> ProcessGroup.join("udp://x", 0, 1,
        ProcessGroup.Backend.GLOO, Device.CPU, TIMEOUT));
    assertTrue(bad.getMessage().contains("expected tcp://HOST:PORT or file://PATH"), bad.getMessage());
    ProcessGroup g = ProcessGroup.join(init("one"), 0, 1, ProcessGroup.Backend.GLOO, Device.CPU, TIMEOUT);
    try (TensorScope s = TensorScope.open()) {
      Tensor frozen = Tensor.zeros(DType.F32, Device.CPU, 2);
      TorchException e = assertThrows(TorchException.class, () -> new GradientReducer(g, List.of(frozen)));
      assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
      Tensor p = Tensor.zeros(DType.F32, Device.CPU, 2).requiresGrad(true);
      e = assertThrows(TorchException.class, () -> g.averageGradients(List.of(p), 1, 1));
      assertTrue(e.getMessage().contains("has no gradient"), e.getMessage());
      double[] one = {4};
      g.allReduceSum(one); // a world of one: the sum is the value
      assertArrayEquals(new double[] {4}, one);
    } finally {
      g.close();
    }
    g.close(); // idempotent
    assertThrows(IllegalStateException.class, g::barrier);
  }
}
