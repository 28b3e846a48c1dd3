package org.sr4g.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.sr4g.UserInputException;

/**
 * The rule every fuzz target checks: for any input a reader either returns or throws {@link UserInputException}
 * whose message is one clean line (the CLI prints it as is). Any other exception, an error such as
 * {@link OutOfMemoryError} (the fuzzer's heap is small on purpose), a message with a control character or an
 * unbounded length, and a hang past the fuzzer's timeout are findings.
 */
final class Verdict {
  /** Longest message a user error may have (names, paths and JSON snippets in it are cut by {@code Escape}). */
  static final int MAX_MESSAGE = 4096;

  interface Body {
    void run() throws IOException;
  }

  private Verdict() {}

  static void userErrorsOnly(Body body) {
    try {
      body.run();
    } catch (UserInputException e) {
      requireOneCleanLine(e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("harness I/O failed", e);
    }
  }

  static void requireOneCleanLine(String m) {
    if (m == null || m.isBlank()) throw new AssertionError("user error without a message");
    if (m.length() > MAX_MESSAGE) throw new AssertionError("user error message of " + m.length() + " chars");
    for (int i = 0; i < m.length(); i++) {
      char c = m.charAt(i);
      boolean control = c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029';
      boolean loneSurrogate = Character.isHighSurrogate(c)
          ? i + 1 >= m.length() || !Character.isLowSurrogate(m.charAt(i + 1))
          : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(m.charAt(i - 1)));
      if (control || loneSurrogate)
        throw new AssertionError("user error message holds U+" + String.format("%04X", (int) c) + " at " + i + ": "
            + m.substring(0, Math.min(m.length(), 300)).replaceAll("[\\p{Cntrl}\\p{Cs}]", "?"));
    }
  }
}
