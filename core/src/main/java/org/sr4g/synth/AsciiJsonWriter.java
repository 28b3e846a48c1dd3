package org.sr4g.synth;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A minimal streaming writer of ASCII JSON tokens into an {@link OutputStream}, with its own 64 KiB buffer. Numbers
 * are formatted from integers here (never via {@code Double.toString}), so the output is the same on every JDK.
 */
final class AsciiJsonWriter {
  private final OutputStream out;
  private final byte[] buf = new byte[1 << 16];
  private int pos;
  private long flushed;

  AsciiJsonWriter(OutputStream out) {
    this.out = out;
  }

  /** Bytes written so far (flushed or buffered). */
  long bytes() {
    return flushed + pos;
  }

  void flush() throws IOException {
    if (pos > 0) {
      out.write(buf, 0, pos);
      flushed += pos;
      pos = 0;
    }
    out.flush();
  }

  private void ensure(int n) throws IOException {
    if (pos + n > buf.length) {
      out.write(buf, 0, pos);
      flushed += pos;
      pos = 0;
    }
  }

  /** Raw ASCII text (JSON punctuation, field names with their quotes); the caller guarantees it is valid JSON. */
  AsciiJsonWriter raw(String s) throws IOException {
    int n = s.length();
    if (n > 4096) {
      for (int i = 0; i < n; i += 4096) raw(s.substring(i, Math.min(n, i + 4096)));
      return this;
    }
    ensure(n);
    for (int i = 0; i < n; i++) buf[pos++] = (byte) s.charAt(i);
    return this;
  }

  AsciiJsonWriter ch(char c) throws IOException {
    ensure(1);
    buf[pos++] = (byte) c;
    return this;
  }

  /** A JSON string literal; escapes quotes, backslashes, control and non-ASCII characters. */
  AsciiJsonWriter string(String s) throws IOException {
    ch('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        ch('\\').ch(c);
      } else if (c < 0x20 || c > 0x7e) {
        raw(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else {
        ch(c);
      }
    }
    return ch('"');
  }

  AsciiJsonWriter num(long v) throws IOException {
    ensure(20);
    if (v < 0) {
      if (v == Long.MIN_VALUE) return raw(Long.toString(v));
      buf[pos++] = '-';
      v = -v;
    }
    digits(v, 1);
    return this;
  }

  /** {@code v} zero-padded to at least {@code width} digits ({@code v >= 0}). */
  AsciiJsonWriter padded(long v, int width) throws IOException {
    ensure(20 + width);
    digits(v, width);
    return this;
  }

  private void digits(long v, int minWidth) {
    int n = 1;
    for (long t = v; t >= 10; t /= 10) n++;
    if (n < minWidth) n = minWidth;
    int end = pos + n;
    for (int i = end - 1; i >= pos; i--) {
      buf[i] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    pos = end;
  }

  /**
   * A non-negative number given in hundredths, written the way Python writes COCO's floats: {@code 21427 -> 214.27},
   * {@code 7400 -> 74.0}, {@code 25520 -> 255.2}.
   */
  AsciiJsonWriter hundredths(long v) throws IOException {
    ensure(24);
    digits(v / 100, 1);
    int f = (int) (v % 100);
    buf[pos++] = '.';
    buf[pos++] = (byte) ('0' + f / 10);
    if (f % 10 != 0) buf[pos++] = (byte) ('0' + f % 10);
    return this;
  }

  /**
   * A non-negative number given in units of {@code 10^-scale}, with trailing fractional zeros dropped but at least
   * one fractional digit ({@code 9700431, 4 -> 970.0431}; {@code 120000, 4 -> 12.0}).
   */
  AsciiJsonWriter fixed(long v, int scale) throws IOException {
    ensure(24 + scale);
    long div = 1;
    for (int i = 0; i < scale; i++) div *= 10;
    digits(v / div, 1);
    long frac = v % div;
    buf[pos++] = '.';
    if (frac == 0) {
      buf[pos++] = '0';
      return this;
    }
    int width = scale;
    while (frac % 10 == 0) {
      frac /= 10;
      width--;
    }
    digits(frac, width);
    return this;
  }
}
