package org.sr4g.diffusion.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.sr4g.io.AtomicFiles;

/**
 * Collects tensors and writes them as one safetensors file: header keys sorted, data in key order, the header padded
 * with spaces to a multiple of 8 bytes (so the data section starts 8-aligned). The file is written to a temporary file
 * in the target directory and then renamed, so readers never see a half-written checkpoint.
 *
 * <p>Float data can be stored as F32, F16 or BF16 (narrowed with round-to-nearest-even), integers as I64.
 */
public final class SafetensorsWriter {
  private record Pending(SafetensorsDType dtype, long[] shape, byte[] bytes) {}

  private final Map<String, Pending> tensors = new TreeMap<>();
  private final Map<String, String> metadata = new TreeMap<>();

  public SafetensorsWriter putF32(String key, float[] values, long... shape) {
    ByteBuffer b = buffer(key, values.length, shape, SafetensorsDType.F32);
    for (float v : values) b.putFloat(v);
    return add(key, SafetensorsDType.F32, shape, b);
  }

  /** Stores float32 values as IEEE half precision (round to nearest even; out-of-range values become infinity). */
  public SafetensorsWriter putF16(String key, float[] values, long... shape) {
    ByteBuffer b = buffer(key, values.length, shape, SafetensorsDType.F16);
    for (float v : values) b.putShort(Float.floatToFloat16(v));
    return add(key, SafetensorsDType.F16, shape, b);
  }

  /** Stores float32 values as bfloat16 (round to nearest even, NaN kept NaN). */
  public SafetensorsWriter putBF16(String key, float[] values, long... shape) {
    ByteBuffer b = buffer(key, values.length, shape, SafetensorsDType.BF16);
    for (float v : values) b.putShort(toBFloat16(v));
    return add(key, SafetensorsDType.BF16, shape, b);
  }

  public SafetensorsWriter putI64(String key, long[] values, long... shape) {
    ByteBuffer b = buffer(key, values.length, shape, SafetensorsDType.I64);
    for (long v : values) b.putLong(v);
    return add(key, SafetensorsDType.I64, shape, b);
  }

  public SafetensorsWriter putMetadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  static short toBFloat16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040); // keep it a (quiet) NaN after truncation
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  private static ByteBuffer buffer(String key, int count, long[] shape, SafetensorsDType dtype) {
    if (key == null || key.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty");
    if (key.equals(SafetensorsHeader.METADATA_KEY)) throw new IllegalArgumentException("'" + key + "' is reserved");
    long n = 1;
    for (long d : shape) {
      if (d < 0) throw new IllegalArgumentException(key + ": negative dimension in " + Arrays.toString(shape));
      n = Math.multiplyExact(n, d);
    }
    if (n != count)
      throw new IllegalArgumentException(key + ": " + count + " values for shape " + Arrays.toString(shape) + " (" + n + " elements)");
    return ByteBuffer.allocate(Math.multiplyExact(count, dtype.byteSize)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private SafetensorsWriter add(String key, SafetensorsDType dtype, long[] shape, ByteBuffer b) {
    if (tensors.containsKey(key)) throw new IllegalArgumentException("tensor '" + key + "' added twice");
    tensors.put(key, new Pending(dtype, shape.clone(), b.array()));
    return this;
  }

  /**
   * Writes the file (replacing {@code file} if it exists) via a temporary file and a rename ({@link AtomicFiles}: the
   * user's umask, not a temp file's 0600, so other tools of the user can read it).
   */
  public void write(Path file) {
    byte[] header = headerBytes();
    try {
      AtomicFiles.write(file.toAbsolutePath(), out -> {
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
        out.write(header);
        for (Pending p : tensors.values()) out.write(p.bytes());
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private byte[] headerBytes() {
    Map<String, Entry> layout = new TreeMap<>();
    tensors.forEach((k, p) -> layout.put(k, new Entry(p.dtype(), p.shape(), p.bytes().length)));
    return header(layout, metadata);
  }

  /** One tensor of a header: its dtype, shape and byte length (data in key order, back to back). */
  record Entry(SafetensorsDType dtype, long[] shape, long bytes) {}

  /**
   * The header bytes for {@code layout} (sorted by key: the data follows in that order) and {@code metadata}, padded
   * with spaces to a multiple of 8 so the data section starts 8-aligned. Shared with {@link SafetensorsStreamWriter}.
   */
  static byte[] header(Map<String, Entry> layout, Map<String, String> metadata) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = root.putObject(SafetensorsHeader.METADATA_KEY);
      new TreeMap<>(metadata).forEach(m::put);
    }
    long offset = 0;
    for (Map.Entry<String, Entry> e : layout.entrySet()) {
      Entry p = e.getValue();
      ObjectNode t = root.putObject(e.getKey());
      t.put("dtype", p.dtype().name());
      ArrayNode shape = t.putArray("shape");
      for (long d : p.shape()) shape.add(d);
      ArrayNode offsets = t.putArray("data_offsets");
      offsets.add(offset);
      offset += p.bytes();
      offsets.add(offset);
    }
    byte[] raw;
    try {
      raw = json.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int padded = (raw.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(raw, padded);
    Arrays.fill(out, raw.length, padded, (byte) ' ');
    return out;
  }
}
