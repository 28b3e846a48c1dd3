package org.sr4g.coco;

import java.nio.charset.StandardCharsets;

/**
 * JSON number text to {@code double} without a {@code String}: exactly {@link Double#parseDouble}'s result (the
 * correctly rounded value, which is also what Jackson's parsers return). Decimal significands up to 2^53 with a power
 * of ten up to 10^22 take Clinger's fast path — both operands are exact doubles, so one IEEE multiplication or
 * division is the correctly rounded result; COCO's numbers ({@code 212.6}, {@code 74.0}, {@code 640}) all do. Anything
 * else (long significands, large exponents) goes through {@code Double.parseDouble} on the text.
 */
final class JsonNumbers {
  private static final double[] POW10 = new double[23];

  static {
    double p = 1;
    for (int i = 0; i < POW10.length; i++) {
      POW10[i] = p;
      p *= 10;
    }
  }

  private JsonNumbers() {}

  /** The value of the JSON number {@code b[from, to)}, which must already be valid JSON number syntax. */
  static double parse(byte[] b, int from, int to) {
    int i = from;
    boolean negative = b[i] == '-';
    if (negative) i++;
    long m = 0;
    int digits = 0; // significant digits accumulated in m
    int exp10 = 0;
    for (; i < to && b[i] >= '0' && b[i] <= '9'; i++) {
      if (digits > 0 || b[i] != '0') {
        if (digits == 18) return slow(b, from, to);
        m = m * 10 + (b[i] - '0');
        digits++;
      }
    }
    if (i < to && b[i] == '.') {
      for (i++; i < to && b[i] >= '0' && b[i] <= '9'; i++) {
        if (digits > 0 || b[i] != '0') {
          if (digits == 18) return slow(b, from, to);
          m = m * 10 + (b[i] - '0');
          digits++;
        }
        exp10--;
      }
    }
    if (i < to) { // exponent
      i++;
      boolean expNegative = b[i] == '-';
      if (b[i] == '-' || b[i] == '+') i++;
      int e = 0;
      for (; i < to; i++) {
        if (e > 100_000) return slow(b, from, to);
        e = e * 10 + (b[i] - '0');
      }
      exp10 += expNegative ? -e : e;
    }
    if (m > (1L << 53) || exp10 < -22 || exp10 > 22) return m == 0 ? (negative ? -0.0 : 0.0) : slow(b, from, to);
    double v = exp10 >= 0 ? m * POW10[exp10] : m / POW10[-exp10];
    return negative ? -v : v;
  }

  private static double slow(byte[] b, int from, int to) {
    return Double.parseDouble(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
  }
}
