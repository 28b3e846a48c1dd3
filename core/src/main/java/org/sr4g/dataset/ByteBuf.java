package org.sr4g.dataset;

import java.util.Arrays;

/** A growable byte array for rendering JSON lines without going through Strings. Single-threaded. */
public final class ByteBuf {
  byte[] a;
  int n;

  public ByteBuf(int capacity) {
    a = new byte[Math.max(capacity, 64)];
  }

  void ensure(int extra) {
    if (n + extra > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + extra));
  }

  ByteBuf put(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, a, n, b.length);
    n += b.length;
    return this;
  }

  ByteBuf put(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, a, n, len);
    n += len;
    return this;
  }

  /** The chars of {@code s}, which must all be ASCII (numbers as the input wrote them), one byte each. */
  ByteBuf putAscii(String s) {
    int len = s.length();
    ensure(len);
    for (int i = 0; i < len; i++) a[n + i] = (byte) s.charAt(i);
    n += len;
    return this;
  }

  ByteBuf put(byte c) {
    ensure(1);
    a[n++] = c;
    return this;
  }

  private static final byte[] PAIRS = new byte[200];

  static {
    for (int i = 0; i < 100; i++) {
      PAIRS[2 * i] = (byte) ('0' + i / 10);
      PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
    }
  }

  /** Decimal digits of v, as {@link Long#toString(long)} would write them; two digits per division. */
  ByteBuf putLong(long v) {
    ensure(20);
    if (v < 0) {
      if (v == Long.MIN_VALUE) return put(Long.toString(v).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      a[n++] = '-';
      v = -v;
    }
    int len = 1;
    for (long t = v; t >= 10; t /= 10) len++;
    int p = n + len;
    n = p;
    while (v >= 100) {
      int r = (int) (v % 100);
      v /= 100;
      a[--p] = PAIRS[2 * r + 1];
      a[--p] = PAIRS[2 * r];
    }
    if (v >= 10) {
      a[--p] = PAIRS[2 * (int) v + 1];
      a[--p] = PAIRS[2 * (int) v];
    } else {
      a[--p] = (byte) ('0' + v);
    }
    return this;
  }

  public void clear() {
    n = 0;
  }

  public int size() {
    return n;
  }

  /** The backing array; bytes {@code [0, size())} are valid. */
  public byte[] array() {
    return a;
  }
}
