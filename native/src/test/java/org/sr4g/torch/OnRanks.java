package org.sr4g.torch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Distributed tests in one JVM: ranks 0..n-1 of a process group, each on its own thread (a FileStore rendezvous).
 * Shared with the diffusion tests through this module's test-jar.
 */
public final class OnRanks {
  private OnRanks() {}

  /** Runs {@code body(rank)} for every rank at once and returns the results by rank; rethrows the first failure. */
  public static <T> List<T> run(int n, IntFunction<T> body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<T>> fs = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int rank = r;
        fs.add(pool.submit(() -> body.apply(rank)));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) {
        try {
          out.add(f.get(180, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          if (e.getCause() instanceof Exception x) throw x;
          throw e;
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS), "a rank's thread did not end");
    }
  }
}
