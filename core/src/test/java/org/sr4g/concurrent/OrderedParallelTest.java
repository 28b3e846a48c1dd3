package org.sr4g.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OrderedParallelTest {
  @Test
  void resultsArriveInIndexOrderWhateverTheScheduling() {
    for (int threads : new int[] {1, 3, 8}) {
      List<Integer> got = new ArrayList<>();
      OrderedParallel.run("t", threads, 2 * threads, 200, i -> {
        if (i % 7 == 0) Thread.sleep(1); // early indices finish late
        return i * i;
      }, (i, r) -> {
        assertEquals(got.size(), i);
        got.add(r);
      });
      assertEquals(200, got.size());
      for (int i = 0; i < 200; i++) assertEquals(i * i, got.get(i));
    }
  }

  @Test
  void theEarliestFailingIndexWinsAsInASerialLoop() {
    IllegalArgumentException first = new IllegalArgumentException("task 3");
    RuntimeException thrown = assertThrows(RuntimeException.class, () -> OrderedParallel.map("t", 4, 50, i -> {
      if (i == 3) {
        Thread.sleep(20); // fails after task 9 has failed
        throw first;
      }
      if (i == 9) throw new IllegalStateException("task 9");
      return i;
    }));
    assertSame(first, thrown);
  }

  @Test
  void noMoreThanTheWindowIsComputedAheadOfTheSink() {
    AtomicInteger started = new AtomicInteger();
    int window = 3;
    OrderedParallel.run("t", 2, window, 40, i -> started.incrementAndGet(), (i, r) -> {
      Thread.sleep(1);
      // Tasks 0..i are consumed or being consumed; at most `window` beyond the one the sink holds were submitted.
      assertTrue(started.get() <= i + window, "started " + started.get() + " while consuming " + i);
    });
    assertEquals(40, started.get());
  }

  @Test
  void badArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> OrderedParallel.run("t", 0, 1, 1, i -> i, (i, r) -> {}));
  }
}
