package org.sr4g;

/**
 * A problem with what the user gave us (a file, an option), as opposed to a bug. The message must say which file,
 * where (line/column, record id) and what is wrong; the CLI prints it as one line and exits non-zero.
 */
public class UserInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UserInputException(String message) {
    super(message);
  }

  public UserInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
