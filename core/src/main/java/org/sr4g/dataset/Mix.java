package org.sr4g.dataset;

import java.nio.charset.StandardCharsets;

/**
 * Stateless 64-bit hashing used for every random-looking decision in a dataset (emission choice, unseen categories,
 * val/test split). Written out here rather than taken from {@code java.util.Random}/{@code SplittableRandom} so the
 * outputs are defined by this file alone, on any JDK.
 */
public final class Mix {
  private Mix() {}

  /** SplitMix64's finalizer (Stafford's variant 13): a bijection that spreads every input bit. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A hash of a sequence of longs, order-sensitive. */
  public static long hash(long seed, long... values) {
    long h = mix64(seed + 0x9e3779b97f4a7c15L);
    for (long v : values) h = mix64(h ^ v);
    return h;
  }

  /** FNV-1a over UTF-8 bytes, then mixed: a stable hash of a string. */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return mix64(h);
  }

  /** Uniform index in [0, n) from 32 random bits (Lemire's multiply-shift, no modulo bias worth noting). */
  public static int below(long bits32, int n) {
    return (int) (((bits32 & 0xffffffffL) * n) >>> 32);
  }
}
