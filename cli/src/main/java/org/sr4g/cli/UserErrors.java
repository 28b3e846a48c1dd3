package org.sr4g.cli;

import org.sr4g.UserInputException;
import picocli.CommandLine;

/**
 * Turns a user mistake (bad file, bad option) into one clear line on stderr and exit code 2, never a stack trace.
 * Anything else is a bug in sr4g: it keeps its stack trace and exits 70 (EX_SOFTWARE).
 */
final class UserErrors implements CommandLine.IExecutionExceptionHandler {
  static final int USER_ERROR = 2;
  static final int INTERNAL_ERROR = 70;

  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    Throwable t = ex;
    while (t != null && !(t instanceof UserInputException)) t = t.getCause();
    if (t != null) {
      // qualifiedName: "sr4g eval synth", not just "synth".
      cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": error: " + t.getMessage());
      return USER_ERROR;
    }
    cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": internal error (please report): " + ex);
    ex.printStackTrace(cl.getErr());
    return INTERNAL_ERROR;
  }
}
