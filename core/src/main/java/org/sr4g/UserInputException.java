package org.sr4g;

import org.sr4g.io.Escape;

/**
 * A problem with what the user gave us (a file, an option), as opposed to a bug. The message must say which file,
 * where (line/column, record id) and what is wrong; the CLI prints it as one line and exits 2.
 *
 * <p>Messages quote input (names, values, parser snippets): the message is made one printable line here, once for
 * every caller, with control characters shown as {@code \}{@code uXXXX} and its length cut ({@link Escape}), so that a
 * hostile file can neither inject terminal escapes nor flood the terminal. Quote single values with
 * {@link Escape#quote} to cut each of them shorter.
 */
public class UserInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  /** Longest message kept. */
  public static final int MAX_MESSAGE = 2000;

  private static final java.util.regex.Pattern LINE_COLUMN = java.util.regex.Pattern.compile("line: (\\d+), column: (\\d+)");

  public UserInputException(String message) {
    super(oneLine(message));
  }

  public UserInputException(String message, Throwable cause) {
    super(oneLine(message), cause);
  }

  static String oneLine(String message) {
    if (message == null) return "null";
    // Jackson's second line, "\n at [Source: ...; line: L, column: C]", becomes " (line L, column C)".
    int src = message.indexOf(" at [Source: ");
    if (src > 0 && (message.charAt(src - 1) == '\n' || message.charAt(src - 1) == '\r')) {
      java.util.regex.Matcher m = LINE_COLUMN.matcher(message.substring(src));
      message = message.substring(0, src - 1).stripTrailing() + (m.find() ? " (line " + m.group(1) + ", column " + m.group(2) + ")" : "");
    }
    return Escape.text(message, MAX_MESSAGE);
  }
}
