package org.sr4g.cli;

import org.sr4g.UserInputException;
import org.sr4g.io.Escape;
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

  /**
   * A command line picocli cannot parse (unknown option, missing or badly typed value) is a user mistake too: one line
   * naming the command and the problem, picocli's suggestions for a mistyped option, a pointer to {@code --help}, exit 2
   * (instead of picocli's default, the whole usage text after the message).
   */
  static final class BadArguments implements CommandLine.IParameterExceptionHandler {
    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
      CommandLine cl = ex.getCommandLine();
      String name = cl.getCommandSpec().qualifiedName();
      cl.getErr().println(name + ": error: " + Escape.text(ex.getMessage()));
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, cl.getErr());
      cl.getErr().println("(" + name + " --help lists the options)");
      return USER_ERROR;
    }
  }
}
