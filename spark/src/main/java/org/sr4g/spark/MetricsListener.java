package org.sr4g.spark;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/** Sums task metrics over a run ({@code --metrics}): shuffle bytes, peak execution memory, CPU time, output bytes. */
public final class MetricsListener extends SparkListener {
  public final AtomicLong tasks = new AtomicLong();
  public final AtomicLong shuffleWriteBytes = new AtomicLong();
  public final AtomicLong shuffleReadBytes = new AtomicLong();
  public final AtomicLong shuffleWriteRecords = new AtomicLong();
  public final AtomicLong peakExecutionMemoryMax = new AtomicLong();
  public final AtomicLong executorCpuNanos = new AtomicLong();
  public final AtomicLong executorRunMs = new AtomicLong();
  public final AtomicLong outputBytes = new AtomicLong();
  public final AtomicLong outputRecords = new AtomicLong();
  public final AtomicLong spillDiskBytes = new AtomicLong();
  public final AtomicLong gcMs = new AtomicLong();

  @Override
  public void onTaskEnd(SparkListenerTaskEnd e) {
    TaskMetrics m = e.taskMetrics();
    if (m == null) return;
    tasks.incrementAndGet();
    shuffleWriteBytes.addAndGet(m.shuffleWriteMetrics().bytesWritten());
    shuffleWriteRecords.addAndGet(m.shuffleWriteMetrics().recordsWritten());
    shuffleReadBytes.addAndGet(m.shuffleReadMetrics().totalBytesRead());
    peakExecutionMemoryMax.accumulateAndGet(m.peakExecutionMemory(), Math::max);
    executorCpuNanos.addAndGet(m.executorCpuTime());
    executorRunMs.addAndGet(m.executorRunTime());
    outputBytes.addAndGet(m.outputMetrics().bytesWritten());
    outputRecords.addAndGet(m.outputMetrics().recordsWritten());
    spillDiskBytes.addAndGet(m.diskBytesSpilled());
    gcMs.addAndGet(m.jvmGCTime());
  }

  @Override
  public String toString() {
    return String.format(
        "tasks=%d shuffle_write_bytes=%d shuffle_write_records=%d shuffle_read_bytes=%d peak_execution_memory_max_task=%d "
            + "executor_cpu_s=%.1f executor_run_s=%.1f gc_s=%.1f output_bytes=%d output_records=%d disk_spill_bytes=%d",
        tasks.get(), shuffleWriteBytes.get(), shuffleWriteRecords.get(), shuffleReadBytes.get(), peakExecutionMemoryMax.get(),
        executorCpuNanos.get() / 1e9, executorRunMs.get() / 1e3, gcMs.get() / 1e3, outputBytes.get(), outputRecords.get(),
        spillDiskBytes.get());
  }
}
