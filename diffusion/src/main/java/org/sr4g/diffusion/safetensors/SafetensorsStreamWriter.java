package org.sr4g.diffusion.safetensors;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.Staging;

/**
 * Writes a safetensors file one tensor at a time, for checkpoints too large to hold in memory (a converted or random
 * SD UNet is 3.4 GB in float32): every name, dtype and shape is declared up front, the header is written, then each
 * tensor's values are converted and written as they are handed in, in key order, and dropped. Same file layout as
 * {@link SafetensorsWriter} (the header is built by the same code); the file is written under a staging name
 * ({@link Staging#newFile}) and renamed by {@link #finish()} ({@link AtomicFiles#move}), so a failed or abandoned
 * write ({@link #close()} without finishing) leaves nothing, and a killed one's leftover goes at the next write.
 */
public final class SafetensorsStreamWriter implements AutoCloseable {
  private final Path file;
  private final Path tmp;
  private final OutputStream out;
  private final Iterator<Map.Entry<String, SafetensorsWriter.Entry>> next;
  private boolean finished;

  private SafetensorsStreamWriter(Path file, Path tmp, OutputStream out, Map<String, SafetensorsWriter.Entry> layout) {
    this.file = file;
    this.tmp = tmp;
    this.out = out;
    this.next = layout.entrySet().iterator();
  }

  /**
   * Starts {@code file} with the tensors of {@code layout} (name → dtype {@code F32}, {@code F16} or {@code BF16} and
   * shape) and {@code metadata}. Write them with {@link #put} in {@link #order()}.
   */
  public static SafetensorsStreamWriter create(Path file, Map<String, TensorInfo> layout, Map<String, String> metadata) {
    Map<String, SafetensorsWriter.Entry> entries = new TreeMap<>();
    for (Map.Entry<String, TensorInfo> e : layout.entrySet()) {
      SafetensorsDType d = SafetensorsDType.parse(e.getValue().dtype()).filter(SafetensorsDType::isFloat)
          .orElseThrow(() -> new IllegalArgumentException(e.getKey() + ": can only stream F32, F16 or BF16"));
      if (e.getKey().isEmpty() || e.getKey().equals(SafetensorsHeader.METADATA_KEY))
        throw new IllegalArgumentException("bad tensor name '" + e.getKey() + "'");
      entries.put(e.getKey(), new SafetensorsWriter.Entry(d, e.getValue().shape(),
          Math.multiplyExact(e.getValue().numel(), d.byteSize)));
    }
    byte[] header = SafetensorsWriter.header(entries, metadata);
    Path tmp = null;
    try {
      Staging.cleanStale(file.toAbsolutePath());
      tmp = Staging.newFile(file.toAbsolutePath());
      OutputStream out = new BufferedOutputStream(
          Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 20);
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
      out.write(header);
      return new SafetensorsStreamWriter(file, tmp, out, entries);
    } catch (IOException e) {
      if (tmp != null) deleteQuietly(tmp);
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** The names in the order {@link #put} must receive them (sorted). */
  public static List<String> order(Map<String, TensorInfo> layout) {
    return new ArrayList<>(new TreeMap<>(layout).keySet());
  }

  /** Writes the next tensor ({@code key} must be the next in order), converting float32 values to its dtype. */
  public void put(String key, float[] values) {
    if (finished || !next.hasNext()) throw new IllegalStateException("no more tensors expected, got " + key);
    Map.Entry<String, SafetensorsWriter.Entry> e = next.next();
    if (!e.getKey().equals(key)) throw new IllegalStateException("expected tensor " + e.getKey() + ", got " + key);
    SafetensorsWriter.Entry t = e.getValue();
    if ((long) values.length * t.dtype().byteSize != t.bytes())
      throw new IllegalArgumentException(key + ": " + values.length + " values for " + t.bytes() + " bytes of " + t.dtype());
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(t.bytes())).order(ByteOrder.LITTLE_ENDIAN);
    switch (t.dtype()) {
      case F32 -> b.asFloatBuffer().put(values);
      case F16 -> {
        for (float v : values) b.putShort(Float.floatToFloat16(v));
      }
      case BF16 -> {
        for (float v : values) b.putShort(SafetensorsWriter.toBFloat16(v));
      }
      default -> throw new IllegalStateException(t.dtype().name());
    }
    try {
      out.write(b.array());
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write " + file + ": " + ex.getMessage(), ex);
    }
  }

  /** Checks that every tensor was written, syncs the file to disk and renames it to its real name. */
  public void finish() {
    if (next.hasNext()) throw new IllegalStateException("tensor " + next.next().getKey() + " was never written");
    try {
      out.close();
      AtomicFiles.fsync(tmp, false);
      AtomicFiles.move(tmp, file);
      finished = true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Abandons an unfinished file (its temporary is deleted); a no-op after {@link #finish()}. */
  @Override
  public void close() {
    if (finished) return;
    try {
      out.close();
    } catch (IOException ignored) {
      // the temporary is deleted anyway
    }
    deleteQuietly(tmp);
    finished = true;
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // nothing better to do: the real name was never written
    }
  }
}
