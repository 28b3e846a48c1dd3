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

  ByteBuf put(byte c) {
    ensure(1);
    a[n++] = c;
    return this;
  }

  /** Decimal digits of v, as {@link Long#toString(long)} would write them. */
  ByteBuf putLong(long v) {
    ensure(20);
    if (v == Long.MIN_VALUE) return put(Long.toString(v).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    if (v < 0) {
      a[n++] = '-';
      v = -v;
    }
    int start = n;
    do {
      a[n++] = (byte) ('0' + (v % 10));
      v /= 10;
    } while (v != 0);
    for (int i = start, j = n - 1; i < j; i++, j--) {
      byte t = a[i];
      a[i] = a[j];
      a[j] = t;
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
