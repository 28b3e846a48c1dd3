package org.sr4g.concurrent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Split, compute on a pool, merge in order: tasks {@code 0 .. n-1} run on {@code threads} workers and their results
 * reach the calling thread strictly in index order, so whatever is built from them (a file, a merged table, the first
 * error reported) does not depend on the number of threads or on scheduling. At most {@code window} results are
 * computed ahead of the one the caller waits for, which bounds memory whatever {@code n} is.
 *
 * <p>A task's unchecked exception is rethrown on the calling thread as it was thrown (the earliest failing index
 * wins, as in a serial loop); the remaining tasks are cancelled. With one thread and a window of one the tasks still
 * run on a worker, so the caller can consume one result while the next is computed.
 */
public final class OrderedParallel {
  /** Computes result {@code index}; runs on a worker thread. */
  public interface Task<T> {
    T compute(int index) throws Exception;
  }

  /** Receives results in index order on the calling thread. */
  public interface Sink<T> {
    void accept(int index, T result) throws Exception;
  }

  private OrderedParallel() {}

  /** Runs every task and hands its result to {@code sink} in index order. */
  public static <T> void run(String threadName, int threads, int window, int n, Task<T> task, Sink<T> sink) {
    if (threads < 1 || window < 1) throw new IllegalArgumentException("threads and window must be >= 1");
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    try {
      ArrayDeque<Future<T>> inFlight = new ArrayDeque<>();
      int next = 0;
      for (int done = 0; done < n; done++) {
        while (next < n && inFlight.size() < window) {
          final int i = next++;
          inFlight.add(pool.submit(() -> task.compute(i)));
        }
        sink.accept(done, inFlight.poll().get());
      }
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** All results, in index order. */
  public static <T> List<T> map(String threadName, int threads, int n, Task<T> task) {
    List<T> out = new ArrayList<>(n);
    run(threadName, threads, Math.max(1, n), n, task, (i, r) -> out.add(r));
    return out;
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof RuntimeException) return (RuntimeException) cause;
    if (cause instanceof Error) throw (Error) cause;
    return new IllegalStateException(cause);
  }
}
