package org.sr4g.diffusion.training.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.sr4g.UserInputException;

/**
 * The part of torchrun sr4g needs: starts this node's worker processes with torchrun's environment variables
 * ({@link World#toEnv}), passes their output through, and supervises them. If any worker exits with an error or is
 * killed, the others are stopped (SIGTERM, then SIGKILL after a grace period) and the launcher reports the failed
 * rank's exit and last error line. Workers watch the launcher in turn ({@link #watchLauncher}) and stop if it
 * disappears, so no worker outlives it.
 *
 * <p>Output: rank 0's standard output passes through unchanged (its progress lines); everything else is prefixed with
 * {@code [rank R]}.
 */
public final class WorkerLauncher {
  /** Set in every worker's environment: the launcher's pid, watched by {@link #watchLauncher}. */
  public static final String LAUNCHER_PID = "SR4G_LAUNCHER_PID";
  private static final long GRACE_MS = 10_000;

  /** How a worker ended. {@code exitCode} as Java reports it (128 + N for a worker killed by signal N). */
  public record Failure(int rank, long pid, int exitCode, String lastError) {
    public String describe() {
      String how = exitCode > 128 ? "was killed by signal " + (exitCode - 128) + (exitCode == 137 ? " (SIGKILL)" : "")
          : "failed (exit " + exitCode + ")";
      return "rank " + rank + " (pid " + pid + ") " + how + (lastError.isEmpty() ? "" : ": " + lastError);
    }
  }

  /** {@code exitedAt}: System.nanoTime() when its exit was seen (Long.MAX_VALUE while it runs). */
  private record Worker(int rank, Process process, List<Thread> pumps, Deque<String> errors, AtomicLong exitedAt) {}

  private final List<Worker> workers = new ArrayList<>();
  private final PrintStream out;
  private final PrintStream err;
  private final Consumer<String> rank0Out;

  /** {@code rank0Out}: where rank 0's stdout lines go (default: {@code out}). */
  public WorkerLauncher(PrintStream out, PrintStream err, Consumer<String> rank0Out) {
    this.out = out;
    this.err = err;
    this.rank0Out = rank0Out != null ? rank0Out : out::println;
  }

  /**
   * Runs {@code nprocPerNode} workers of node {@code nodeRank} (of {@code nnodes}) to completion: {@code command} is
   * the worker's command line, started once per local rank with the environment of its {@link World} (global rank
   * {@code nodeRank × nprocPerNode + localRank}) plus {@code extraEnv}. Returns null when every worker exits 0, else
   * the first failure (after stopping the others).
   */
  public Failure run(List<String> command, int nprocPerNode, int nnodes, int nodeRank, String masterAddr,
      int masterPort, Map<String, String> extraEnv) {
    if (nprocPerNode < 1 || nnodes < 1 || nodeRank < 0 || nodeRank >= nnodes)
      throw new UserInputException("--nproc-per-node and --nnodes must be at least 1 and --node-rank in [0, --nnodes)");
    int size = nnodes * nprocPerNode;
    Thread hook = new Thread(this::stopAll, "sr4g-launcher-stop");
    Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C or SIGTERM of the launcher stops its workers too
    try {
      StringBuilder started = new StringBuilder();
      for (int local = 0; local < nprocPerNode; local++) {
        World w = new World(nodeRank * nprocPerNode + local, local, size, nprocPerNode, masterAddr, masterPort);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(w.toEnv());
        pb.environment().putAll(extraEnv);
        pb.environment().put(LAUNCHER_PID, Long.toString(ProcessHandle.current().pid()));
        Process p;
        try {
          p = pb.start();
        } catch (IOException e) {
          stopAll();
          throw new UserInputException("cannot start worker " + w.rank() + ": " + e.getMessage());
        }
        Deque<String> errors = new ArrayDeque<>();
        List<Thread> pumps = List.of(
            pump(p.getInputStream(), w.rank() == 0 ? rank0Out : line -> out.println("[rank " + w.rank() + "] " + line),
                null, "out-" + w.rank()),
            pump(p.getErrorStream(), line -> err.println("[rank " + w.rank() + "] " + line), errors, "err-" + w.rank()));
        AtomicLong exitedAt = new AtomicLong(Long.MAX_VALUE);
        p.onExit().thenRun(() -> exitedAt.compareAndSet(Long.MAX_VALUE, System.nanoTime()));
        workers.add(new Worker(w.rank(), p, pumps, errors, exitedAt));
        started.append(started.isEmpty() ? "" : ", ").append("rank ").append(w.rank()).append(" pid ").append(p.pid());
      }
      err.println("sr4g: started " + nprocPerNode + " worker(s) of " + size + " (" + started + "), rendezvous "
          + masterAddr + ":" + masterPort);
      err.flush();
      return supervise();
    } finally {
      stopAll();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }

  /** Waits until all workers have exited 0, or one fails; then stops the rest and returns the failure. */
  private Failure supervise() {
    while (true) {
      boolean allDone = true, anyFailed = false;
      for (Worker w : workers) {
        if (w.process().isAlive()) allDone = false;
        else if (w.process().exitValue() != 0) anyFailed = true;
      }
      if (anyFailed) {
        // Others may be failing right now because of it (a peer's "connection closed"): report the one that ended
        // first. A killed worker ends at once; the ones that noticed its death need a JVM shutdown.
        Worker failed = null;
        for (Worker w : workers) {
          if (w.process().isAlive() || w.process().exitValue() == 0) continue;
          w.exitedAt().compareAndSet(Long.MAX_VALUE, System.nanoTime()); // seen before its callback ran
          if (failed == null || w.exitedAt().get() < failed.exitedAt().get()) failed = w;
        }
        Failure f = failure(failed);
        stopAll();
        return f;
      }
      if (allDone) {
        for (Worker w : workers) joinPumps(w);
        return null;
      }
      try {
        workers.getFirst().process().onExit().get(50, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        // poll again
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopAll();
        throw new IllegalStateException("interrupted while supervising workers", e);
      }
    }
  }

  private Failure failure(Worker w) {
    joinPumps(w);
    String last;
    synchronized (w.errors()) {
      last = w.errors().isEmpty() ? "" : w.errors().getLast();
    }
    return new Failure(w.rank(), w.process().pid(), w.process().exitValue(), last);
  }

  /** SIGTERM to every live worker, SIGKILL to those still alive after the grace period; waits for all. */
  private synchronized void stopAll() {
    for (Worker w : workers) if (w.process().isAlive()) w.process().destroy();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MS);
    for (Worker w : workers) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !w.process().waitFor(left, TimeUnit.NANOSECONDS)) {
          w.process().destroyForcibly();
          w.process().waitFor(30, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        w.process().destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    for (Worker w : workers) joinPumps(w);
  }

  private static void joinPumps(Worker w) {
    for (Thread t : w.pumps()) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Copies lines of {@code in} to {@code sink}; the last lines of a worker's stderr are kept for its failure message. */
  private static Thread pump(InputStream in, Consumer<String> sink, Deque<String> keep, String name) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          sink.accept(line);
          if (keep != null && !line.isBlank() && !line.startsWith("\tat ") && !line.startsWith("WARNING: ")) {
            synchronized (keep) {
              keep.addLast(line.strip());
              if (keep.size() > 20) keep.removeFirst();
            }
          }
        }
      } catch (IOException e) {
        // the worker is gone
      }
    }, "sr4g-launcher-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * In a worker started by a launcher: a daemon thread that ends this JVM (exit code 1, no cleanup needed by anyone
   * else) as soon as the launcher process is gone, so a launcher killed with SIGKILL leaves no workers behind.
   */
  public static void watchLauncher(Map<String, String> env) {
    String pid = env.get(LAUNCHER_PID);
    if (pid == null) return;
    var launcher = ProcessHandle.of(Long.parseLong(pid.strip()));
    if (launcher.isEmpty()) Runtime.getRuntime().halt(1);
    Thread t = new Thread(() -> {
      launcher.get().onExit().join();
      System.err.println("sr4g: the launcher (pid " + pid + ") is gone: stopping this worker");
      Runtime.getRuntime().halt(1);
    }, "sr4g-launcher-watch");
    t.setDaemon(true);
    t.start();
  }
}
