package org.sr4g.diffusion.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * A read-only, memory-mapped safetensors file (the format of Stable Diffusion checkpoints).
 *
 * <p>The header is read with plain file I/O and fully validated (length bound, well-formed JSON object, known dtypes,
 * shapes whose byte size does not overflow and equals the offset span, offsets inside the data section, no two tensors
 * overlapping, string-only {@code __metadata__}) before the file is mapped or any offset is used. Problems are
 * {@link UserInputException}s naming the file and the tensor key.
 *
 * <p>The mapping lives in a shared arena: reads may come from any thread; {@link #close()} unmaps it, after which every
 * read throws {@link IllegalStateException}. Tensors made by {@link #toTensor} are copies and outlive the file.
 */
public final class SafetensorsFile implements WeightsFile {
  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final Path path;
  private final SafetensorsHeader header;
  private final Arena arena;
  /** The data section only: offset 0 is the first byte after the header. */
  private final MemorySegment data;

  private SafetensorsFile(Path path, SafetensorsHeader header, Arena arena, MemorySegment data) {
    this.path = path;
    this.header = header;
    this.arena = arena;
    this.data = data;
  }

  /** Opens, validates and maps {@code file}. */
  public static SafetensorsFile open(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8)
        throw new UserInputException(file + ": " + size + " bytes is too short for a safetensors file (needs an 8-byte header length)");
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, prefix, 0);
      long headerLength = SafetensorsHeader.checkHeaderLength(file, prefix.getLong(0), size);
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLength);
      readFully(ch, headerBuf, 8);
      long dataStart = 8 + headerLength;
      SafetensorsHeader header = SafetensorsHeader.parse(file, headerBuf.array(), size - dataStart);
      Arena arena = Arena.ofShared();
      try {
        MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart, arena);
        return new SafetensorsFile(file, header, arena, data);
      } catch (IOException | RuntimeException e) {
        arena.close();
        throw e;
      }
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": no such file", e);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) throw new IOException("unexpected end of file at byte " + pos);
      pos += n;
    }
  }

  @Override
  public Path path() {
    return path;
  }

  /** Tensor names, sorted. */
  @Override
  public Set<String> keys() {
    return header.entries.keySet();
  }

  public boolean contains(String key) {
    return header.entries.containsKey(key);
  }

  /** The {@code __metadata__} map (empty when absent). */
  public Map<String, String> metadata() {
    return header.metadata;
  }

  public TensorInfo info(String key) {
    return entry(key).info();
  }

  @Override
  public long[] shape(String key) {
    return info(key).shape();
  }

  /** F16/BF16 are widened to float32 exactly (the golden fixtures store F16 weights; references ran in float32). */
  @Override
  public Tensor loadF32(String key) {
    String dtype = info(key).dtype();
    if (!dtype.equals("F32") && !dtype.equals("F16") && !dtype.equals("BF16"))
      throw new UserInputException(path + ": weight '" + key + "' is " + dtype + ", not a float tensor");
    return toTensor(key);
  }

  /**
   * Reads a float tensor as float32. F16 and BF16 widen exactly (every half/bfloat16 value is a float32 value).
   */
  public float[] readFloats(String key) {
    SafetensorsHeader.Entry e = entry(key);
    MemorySegment seg = slice(e);
    int n = arrayLength(e);
    float[] out = new float[n];
    switch (e.dtype()) {
      case F32 -> MemorySegment.copy(seg, F32_LE, 0, out, 0, n);
      case F16 -> {
        for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(seg.getAtIndex(I16_LE, i));
      }
      case BF16 -> {
        // bfloat16 is the upper half of a float32.
        for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((seg.getAtIndex(I16_LE, i) & 0xffff) << 16);
      }
      default -> throw new UserInputException(path + ": tensor '" + key + "' has dtype " + e.dtype()
          + ", not a float type (F32, F16, BF16)");
    }
    return out;
  }

  /** Reads an integer or boolean tensor as int64 (I32 and U8 widen; BOOL reads as 0/1). */
  public long[] readLongs(String key) {
    SafetensorsHeader.Entry e = entry(key);
    MemorySegment seg = slice(e);
    int n = arrayLength(e);
    long[] out = new long[n];
    switch (e.dtype()) {
      case I64 -> MemorySegment.copy(seg, I64_LE, 0, out, 0, n);
      case I32 -> {
        for (int i = 0; i < n; i++) out[i] = seg.getAtIndex(I32_LE, i);
      }
      case U8 -> {
        for (int i = 0; i < n; i++) out[i] = seg.get(ValueLayout.JAVA_BYTE, i) & 0xff;
      }
      case BOOL -> {
        for (int i = 0; i < n; i++) out[i] = seg.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
      }
      default -> throw new UserInputException(path + ": tensor '" + key + "' has dtype " + e.dtype()
          + ", not an integer type (I64, I32, U8, BOOL)");
    }
    return out;
  }

  /**
   * The raw little-endian bytes of a tensor, read-only and valid until {@link #close()} (for callers that convert
   * themselves or copy straight to a device).
   */
  public MemorySegment rawBytes(String key) {
    return slice(entry(key)).asReadOnly();
  }

  /**
   * Makes a CPU tensor from {@code key}: float dtypes become F32, integer dtypes I64, BOOL stays BOOL. F32, I64 and
   * BOOL data are copied once, straight from the mapping into libtorch's memory; F16/BF16 are copied as they are and
   * widened by libtorch (exact). The tensor never aliases the mapping, so it stays valid after {@link #close()}.
   * Ownership follows {@link Tensor}'s rules (the open {@link TensorScope}, else the caller).
   */
  public Tensor toTensor(String key) {
    return toTensor(key, Device.CPU);
  }

  /** {@link #toTensor(String)} on {@code device} (half-precision data travels as half and is widened there). */
  public Tensor toTensor(String key, Device device) {
    SafetensorsHeader.Entry e = entry(key);
    long[] shape = e.info().shape();
    MemorySegment seg = slice(e);
    return switch (e.dtype()) {
      case F32 -> Tensor.fromSegment(seg, DType.F32, device, shape);
      case I64 -> Tensor.fromSegment(seg, DType.I64, device, shape);
      case BOOL -> Tensor.fromSegment(seg, DType.BOOL, device, shape);
      case F16, BF16 -> {
        DType stored = e.dtype() == SafetensorsDType.F16 ? DType.F16 : DType.BF16;
        try (TensorScope scope = TensorScope.open()) {
          Tensor half = Tensor.fromSegment(seg, stored, device, shape);
          yield scope.keep(half.to(DType.F32));
        }
      }
      case I32, U8 -> {
        try (TensorScope scope = TensorScope.open()) {
          yield scope.keep(Tensor.of(readLongs(key), shape).to(device));
        }
      }
    };
  }

  /** Unmaps the file. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) arena.close();
  }

  private SafetensorsHeader.Entry entry(String key) {
    SafetensorsHeader.Entry e = header.entries.get(key);
    if (e == null) throw new UserInputException(path + ": no tensor named '" + key + "'");
    return e;
  }

  private MemorySegment slice(SafetensorsHeader.Entry e) {
    if (!arena.scope().isAlive()) throw new IllegalStateException(path + " is closed");
    return data.asSlice(e.begin(), e.end() - e.begin());
  }

  private int arrayLength(SafetensorsHeader.Entry e) {
    long n = e.info().numel();
    if (n > Integer.MAX_VALUE - 8)
      throw new UserInputException(path + ": tensor '" + e.key() + "' has " + n
          + " elements, more than a Java array holds; use toTensor or rawBytes");
    return (int) n;
  }

  @Override
  public String toString() {
    return "SafetensorsFile[" + path + ", " + header.entries.size() + " tensors]";
  }
}
