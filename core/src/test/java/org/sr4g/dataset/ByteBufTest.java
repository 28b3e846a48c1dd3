package org.sr4g.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ByteBufTest {
  @Test
  void putLongWritesWhatLongToStringWrites() {
    long[] fixed = {0, 5, 9, 10, 99, 100, 101, 999, 1000, 900100262145L, -1, -10, -100, Long.MAX_VALUE, Long.MIN_VALUE};
    for (long v : fixed) assertEquals(Long.toString(v), render(v));
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < 100_000; i++) {
      long v = r.nextLong() >> r.nextInt(64);
      assertEquals(Long.toString(v), render(v));
    }
  }

  private static String render(long v) {
    ByteBuf b = new ByteBuf(4);
    b.put((byte) '[').putLong(v).put((byte) ']');
    String s = new String(b.a, 0, b.n, StandardCharsets.US_ASCII);
    return s.substring(1, s.length() - 1);
  }
}
