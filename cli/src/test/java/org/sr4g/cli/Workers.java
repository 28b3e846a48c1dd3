package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;

/** Tests that start worker processes (launchers run in the test JVM): none may outlive the test. */
final class Workers {
  private Workers() {}

  /** Waits up to 20 s for this JVM's child processes to end, then fails naming any still alive. */
  static void noneLeft() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (ProcessHandle.current().children().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline)
      Thread.sleep(50);
    assertEquals(List.of(), ProcessHandle.current().children().filter(ProcessHandle::isAlive)
        .map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList(), "stray worker processes");
  }
}
