package org.sr4g.diffusion.training.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.OnRanks;
import org.sr4g.torch.ProcessGroup;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

/** The data-parallel hooks: position arithmetic, torchrun's variables, slicing of global draws, failure messages. */
class DistributedTrainingTest {
  @Test
  void ranksReadInterleavedPositionsOfOneStream() {
    // 2 ranks: rank 0 reads 0, 2, 4, …; rank 1 reads 1, 3, 5, …: global batch k of B per rank = positions [2kB, 2(k+1)B)
    assertEquals(List.of(0L, 2L, 4L), List.of(0L, 1L, 2L).stream().map(q -> DistributedTraining.globalPosition(q, 0, 2)).toList());
    assertEquals(List.of(1L, 3L, 5L), List.of(0L, 1L, 2L).stream().map(q -> DistributedTraining.globalPosition(q, 1, 2)).toList());
    assertEquals(5, DistributedTraining.globalPosition(5, 0, 1));
    // resuming global position 24 with 3 ranks: 8 each; 2 ranks: 12 each; 1 rank: 24
    assertEquals(8, DistributedTraining.localStart(24, 2, 3));
    assertEquals(12, DistributedTraining.localStart(24, 1, 2));
    assertEquals(24, DistributedTraining.localStart(24, 0, 1));
    assertEquals(1, DistributedTraining.localStart(1, 0, 2), "position 0 was read already");
    assertEquals(24, DistributedTraining.globalCursor(new long[] {12, 12}));
    assertEquals(26, DistributedTraining.globalCursor(new long[] {13, 12}), "a rank that skipped an unreadable image");
    assertEquals(7, DistributedTraining.globalCursor(new long[] {7}));
  }

  @Test
  void torchrunVariables() {
    assertEquals(Optional.empty(), World.fromEnv(Map.of("RANK", "0")));
    World w = World.fromEnv(Map.of("RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "2",
        "MASTER_ADDR", "node0", "MASTER_PORT", "29500")).orElseThrow();
    assertEquals(new World(3, 1, 4, 2, "node0", 29500), w);
    assertEquals("tcp://node0:29500", w.tcpInit());
    assertEquals(w, World.fromEnv(w.toEnv()).orElseThrow());
    World minimal = World.fromEnv(Map.of("RANK", "1", "WORLD_SIZE", "2")).orElseThrow();
    assertEquals(new World(1, 1, 2, 2, null, 0), minimal);
    UserInputException e = assertThrows(UserInputException.class, minimal::tcpInit);
    assertTrue(e.getMessage().contains("MASTER_ADDR and MASTER_PORT must be set"), e.getMessage());
    e = assertThrows(UserInputException.class, () -> World.fromEnv(Map.of("RANK", "x", "WORLD_SIZE", "2")));
    assertEquals("environment variable RANK=x: not an integer", e.getMessage());
    assertThrows(UserInputException.class, () -> World.fromEnv(Map.of("RANK", "2", "WORLD_SIZE", "2")));
    assertEquals("tcp://[::1]:7", new World(0, 0, 2, 2, "::1", 7).tcpInit());
    assertTrue(w.hostsStore() == false && new World(0, 0, 2, 2, "h", 1).hostsStore());
    assertEquals("", new World(0, 0, 2, 2, "h", 1).storePrefix());
    // torchrun's static rendezvous: its agent hosts the store, every rank is a client, keys under /worker/attempt_N
    World agent = World.fromEnv(Map.of("RANK", "0", "WORLD_SIZE", "2", "TORCHELASTIC_USE_AGENT_STORE", "True",
        "TORCHELASTIC_RESTART_COUNT", "3")).orElseThrow();
    assertEquals(false, agent.hostsStore());
    assertEquals("/worker/attempt_3", agent.storePrefix());
  }

  static DistributedOptions rankOf(int rank, int size, Path store, Duration timeout) {
    return new DistributedOptions(new World(rank, rank, size, size, null, 0), "file://" + store, timeout, true);
  }

  @Test
  void globalDrawsAreSlicedAndMetricsAveraged(@TempDir Path tmp) throws Exception {
    NativeAssume.gloo();
    long live = Torch.liveTensors();
    List<Object[]> r = OnRanks.run(2, rank -> {
      try (DistributedTraining d = DistributedTraining.open(rankOf(rank, 2, tmp.resolve("s"), Duration.ofSeconds(60)),
          Device.CPU); Generator g = new Generator(Device.CPU, 7); TensorScope s = TensorScope.open()) {
        d.attach(List.of()); // joins (nothing to reduce)
        float[] noise = d.randn(g, 3, 2).toFloatArray();
        long[] ts = d.timesteps(new SplittableRandom(3), 1000, 3);
        boolean[] drop = d.mine(new boolean[] {true, false, false, true, true, false});
        return new Object[] {noise, ts, drop, d.mean(rank + 1), d.cursors(10 + rank), d.writes()};
      }
    });
    float[] global;
    try (Generator g = new Generator(Device.CPU, 7); TensorScope s = TensorScope.open()) {
      global = Tensor.randn(g, DType.F32, 6, 2).toFloatArray();
    }
    SplittableRandom t = new SplittableRandom(3);
    long[] allTs = new long[6];
    for (int i = 0; i < 6; i++) allTs[i] = t.nextInt(1000);
    for (int rank = 0; rank < 2; rank++) {
      float[] mine = (float[]) r.get(rank)[0];
      for (int j = 0; j < 3; j++) {
        int row = rank + 2 * j; // example j of this rank is example rank + 2j of the global batch
        assertArrayEquals(new float[] {global[2 * row], global[2 * row + 1]}, new float[] {mine[2 * j], mine[2 * j + 1]});
        assertEquals(allTs[row], ((long[]) r.get(rank)[1])[j]);
      }
      assertEquals(1.5, (double) r.get(rank)[3]);
      assertArrayEquals(new long[] {10, 11}, (long[]) r.get(rank)[4]);
      assertEquals(rank == 0, r.get(rank)[5]);
    }
    assertArrayEquals(new boolean[] {true, false, true}, (boolean[]) r.get(0)[2]);
    assertArrayEquals(new boolean[] {false, true, false}, (boolean[]) r.get(1)[2]);
    assertEquals(live, Torch.liveTensors());
    assertEquals(0, ProcessGroup.liveHandles());
  }

  @Test
  void aWorkerWithoutARendezvousIsAUserErrorBeforeAnyWork() {
    NativeAssume.gloo();
    DistributedOptions noMaster = new DistributedOptions(new World(1, 1, 2, 2, null, 0), null, Duration.ofSeconds(5), true);
    UserInputException e = assertThrows(UserInputException.class, () -> DistributedTraining.open(noMaster, Device.CPU));
    assertTrue(e.getMessage().contains("MASTER_ADDR and MASTER_PORT must be set"), e.getMessage());
  }

  @Test
  void oneProcessDrawsExactlyAsBefore() {
    NativeAssume.torch();
    try (DistributedTraining d = DistributedTraining.open(DistributedOptions.single(), Device.CPU);
        Generator a = new Generator(Device.CPU, 7); Generator b = new Generator(Device.CPU, 7);
        TensorScope s = TensorScope.open()) {
      assertArrayEquals(Tensor.randn(a, DType.F32, 3, 2).toFloatArray(), d.randn(b, 3, 2).toFloatArray());
      assertEquals(0.7, d.mean(0.7));
      assertArrayEquals(new long[] {9}, d.cursors(9));
      assertEquals(4, d.globalPosition(4));
      assertTrue(d.writes());
    }
  }

  /** A rank that stops calling collectives is named by the one that times out waiting for it. */
  @Test
  void aTimeoutNamesTheMissingRank(@TempDir Path tmp) throws Exception {
    NativeAssume.gloo();
    CountDownLatch failed = new CountDownLatch(1);
    List<String> r = OnRanks.run(2, rank -> {
      try (DistributedTraining d = DistributedTraining.open(rankOf(rank, 2, tmp.resolve("s"), Duration.ofSeconds(3)),
          Device.CPU)) {
        d.attach(List.of());
        d.beginStep(1);
        d.mean(1);
        d.beginStep(2);
        if (rank == 1) { // stuck before the step's all-reduce, e.g. in its data loading
          try {
            assertTrue(failed.await(60, TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return "";
        }
        try {
          RuntimeException e = assertThrows(RuntimeException.class, () -> d.mean(2));
          return d.explain(e).getMessage();
        } finally {
          failed.countDown();
        }
      }
    });
    String m = r.get(0);
    assertTrue(m.startsWith("rank 0 at step 2: loss all-reduce timed out after --dist-timeout 3 s ("), m);
    assertTrue(m.endsWith("rank 1 has not reached it (its last: loss all-reduce at step 1)"), m);
  }
}
