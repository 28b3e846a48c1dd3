package org.sr4g.cli;

import java.io.PrintStream;
import org.sr4g.dataset.Progress;

/** A one-line progress bar on stderr, redrawn at most ten times a second; silent when stderr is not a terminal. */
final class ProgressBar implements Progress {
  private final PrintStream err;
  private final boolean enabled;
  private long lastDraw;
  private String lastPhase = "";
  private boolean drawn;

  ProgressBar(PrintStream err, boolean quiet) {
    this.err = err;
    // Since JDK 22 System.console() exists even when redirected; isTerminal() says whether a person is watching.
    // A bar in a log file is noise.
    java.io.Console console = System.console();
    this.enabled = !quiet && console != null && console.isTerminal() && System.getenv("CI") == null;
  }

  @Override
  public void update(String phase, long done, long total) {
    update(phase, done, total, "");
  }

  /** As {@link #update(String, long, long)} with {@code detail} (e.g. a rate) after the percentage. */
  void update(String phase, long done, long total, String detail) {
    if (!enabled) return;
    long now = System.nanoTime();
    if (phase.equals(lastPhase) && now - lastDraw < 100_000_000L && done < total) return;
    lastDraw = now;
    lastPhase = phase;
    int width = 30;
    double f = total <= 0 ? 0 : Math.min(1.0, (double) done / total);
    int full = (int) Math.round(f * width);
    err.print("\r" + String.format("%-14s [%s%s] %3d%%", phase, "#".repeat(full), " ".repeat(width - full), Math.round(f * 100))
        + (detail.isEmpty() ? "" : " " + detail));
    err.flush();
    drawn = true;
  }

  /** Clears the bar's line so the summary starts on a clean line. */
  void finish() {
    if (enabled && drawn) {
      err.print("\r" + " ".repeat(80) + "\r");
      err.flush();
    }
  }
}
