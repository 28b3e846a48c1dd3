package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sr4g.io.AtomicFiles;

/**
 * OUT/metrics.jsonl: one row per optimizer step, flushed at once (a crash loses no finished step), written by rank 0
 * only; the file is opened at the first row, so a run stopped before its first step leaves no empty file. Also tells
 * the listener (the progress line).
 */
final class MetricsLog implements StepHook, java.io.Closeable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final boolean writes;
  private final Trainer.Listener listener;
  private final long maxSteps;
  private BufferedWriter w;

  MetricsLog(Path file, boolean writes, Trainer.Listener listener, long maxSteps) {
    this.file = file;
    this.writes = writes;
    this.listener = listener;
    this.maxSteps = maxSteps;
  }

  @Override
  public void afterStep(Trainer.StepMetrics m) throws IOException {
    if (writes) append(m);
    listener.step(m, maxSteps);
  }

  private void append(Trainer.StepMetrics m) throws IOException {
    if (w == null)
      w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    String amp = m.lossScale() > 0 ? String.format(Locale.ROOT, ",\"loss_scale\":%s,\"skipped\":%b,\"skipped_steps\":%d",
        num(m.lossScale()), m.skipped(), m.skippedSteps()) : "";
    w.write(String.format(Locale.ROOT,
        "{\"step\":%d,\"loss\":%s,\"lr\":%s,\"grad_norm\":%s,\"step_time_ms\":%.3f,\"data_wait_ms\":%.3f%s}%n",
        m.step(), num(m.loss()), num(m.lr()), num(m.gradNorm()), m.stepMs(), m.dataWaitMs(), amp));
    w.flush();
  }

  /** A JSON number, or null for NaN/inf (which JSON cannot hold: a skipped fp16 step's grad norm, a diverged loss). */
  private static String num(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }

  @Override
  public void close() throws IOException {
    if (w != null) w.close();
  }

  /** A resumed run redoes the steps after its checkpoint: their rows (written before the crash) are dropped. */
  static void truncate(Path file, long step) {
    if (!Files.exists(file)) return;
    try {
      List<String> keep = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.isBlank()) continue;
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException e) {
          break; // a line torn by the crash: everything after it is gone too
        }
        if (n.path("step").asLong(Long.MAX_VALUE) <= step) keep.add(line);
      }
      Path tmp = file.resolveSibling(".metrics.jsonl.tmp");
      Files.write(tmp, keep, StandardCharsets.UTF_8);
      AtomicFiles.move(tmp, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
