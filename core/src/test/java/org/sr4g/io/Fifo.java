package org.sr4g.io;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Test helper: a FIFO made with mkfifo(1) (skips where there is none). */
public final class Fifo {
  private Fifo() {}

  public static Path make(Path p) throws IOException, InterruptedException {
    Process pr;
    try {
      pr = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    } catch (IOException e) {
      Assumptions.abort("no mkfifo: " + e.getMessage());
      return p;
    }
    Assumptions.assumeTrue(pr.waitFor() == 0, "mkfifo failed");
    return p;
  }
}
