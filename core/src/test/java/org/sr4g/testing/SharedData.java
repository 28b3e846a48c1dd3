package org.sr4g.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds {@code ../shared} (the real COCO subset and the golden references) beside the checkout. Absent: the test is
 * skipped with a visible reason, except under {@code CI=true}, where it fails so CI never silently skips.
 */
public final class SharedData {
  private SharedData() {}

  public static Path root() {
    String env = System.getenv("SR4G_SHARED");
    Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("..", "shared");
    return p.toAbsolutePath().normalize();
  }

  /** Returns {@code root()/relative}, or skips/fails the calling test when it is missing. */
  public static Path require(String relative) {
    Path p = root().resolve(relative);
    if (!Files.exists(p)) {
      String why = "shared test data missing: " + p + " (set SR4G_SHARED or check out ../shared)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(why + " — required when CI=true");
      Assumptions.abort(why);
    }
    return p;
  }
}
