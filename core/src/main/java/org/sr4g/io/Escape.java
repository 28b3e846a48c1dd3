package org.sr4g.io;

/**
 * Text that came from an input file, made safe to print on a terminal or in a log: control characters (C0, DEL,
 * C1), line and paragraph separators, bidirectional overrides and unpaired surrogates are shown as {@code \}{@code
 * uXXXX}, and long values are cut. A hostile category name or prompt can then neither inject terminal escape
 * sequences nor turn one error line into many.
 */
public final class Escape {
  /** Characters of one value kept before it is cut. */
  public static final int MAX_CHARS = 200;

  private Escape() {}

  /** {@code s} escaped and cut to {@link #MAX_CHARS}; {@code null} stays "null". */
  public static String text(String s) {
    return text(s, MAX_CHARS);
  }

  public static String text(String s, int maxChars) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder(Math.min(s.length(), maxChars) + 16);
    int n = s.length();
    int i = 0;
    for (; i < n && i < maxChars; i++) {
      char c = s.charAt(i);
      boolean lone = Character.isHighSurrogate(c) ? i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))
          : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
      if (unsafe(c) || lone) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    if (i < n) {
      // Never cut between the halves of a pair.
      if (Character.isHighSurrogate(b.charAt(b.length() - 1))) b.setLength(b.length() - 1);
      b.append("…(").append(n).append(" chars)");
    }
    return b.toString();
  }

  /**
   * A multi-line report (a Markdown summary quoting names from input): every line kept, every other control
   * character escaped as in {@link #text}, nothing cut.
   */
  public static String lines(String s) {
    StringBuilder b = new StringBuilder(s.length());
    int from = 0;
    for (int nl = s.indexOf('\n'); ; nl = s.indexOf('\n', from)) {
      String line = s.substring(from, nl < 0 ? s.length() : nl);
      b.append(text(line, Integer.MAX_VALUE));
      if (nl < 0) return b.toString();
      b.append('\n');
      from = nl + 1;
    }
  }

  /** {@code 's'}, escaped and cut: how a name from a file appears in a message. */
  public static String quote(String s) {
    return "'" + text(s) + "'";
  }

  private static boolean unsafe(char c) {
    return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029'
        || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069') || c == '\ufeff';
  }

  /** True when {@code s} has an unpaired UTF-16 surrogate (it cannot be written as UTF-8). */
  public static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return true;
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }
}
