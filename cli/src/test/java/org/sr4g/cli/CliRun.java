package org.sr4g.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the CLI in-process with stdout/stderr captured, as a user at a terminal would see them. */
record CliRun(int code, String out, String err) {
  static CliRun of(String... args) {
    return of(Sr4g::run, args);
  }

  /** {@code cli} (for example another way of building the command line) on {@code args}, captured as above. */
  static CliRun of(java.util.function.ToIntFunction<String[]> cli, String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = cli.applyAsInt(args);
      return new CliRun(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** Same shape as before for older tests: {code, stdout, stderr}. */
  Object[] asArray() {
    return new Object[] {code, out, err};
  }
}
