package org.sr4g.diffusion.pytorch;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.diffusion.pytorch.PickleValues.Global;
import org.sr4g.diffusion.pytorch.PickleValues.Storage;
import org.sr4g.diffusion.pytorch.PickleValues.TensorView;
import org.sr4g.diffusion.pytorch.PickleValues.Tuple;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * A PyTorch zip checkpoint ({@code torch.save} since 1.6: {@code pytorch_model.bin}, {@code
 * diffusion_pytorch_model.bin}, {@code .pt}, {@code .ckpt}) read without executing anything: the zip's central
 * directory is validated ({@link ZipRecords}), {@code data.pkl} is read by {@link WeightsOnlyUnpickler} (what
 * {@code torch.load(weights_only=True)} admits, as data), every storage a persistent id names must be a record of
 * exactly {@code numel × element size} bytes, and every tensor view must lie inside its storage. Only then are
 * offsets used. The file is memory-mapped; tensors are copies and outlive {@link #close()}.
 *
 * <p>The state dict is the pickle's top-level dict, or its {@code "state_dict"} entry (Lightning {@code .ckpt}); its
 * tensor entries are the keys, other entries (step counters, metadata) are skipped.
 */
public final class PyTorchCheckpoint implements WeightsFile {
  /** data.pkl of a state dict is kilobytes to a few megabytes; a bound keeps a hostile one from exhausting memory. */
  static final long MAX_PICKLE_BYTES = 256L << 20;
  private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");
  private static final Pattern LOCATION = Pattern.compile("[a-z]+(:[0-9]{1,4})?");

  private final Path path;
  private final Arena arena;
  private final ZipRecords zip;
  private final Map<String, TensorView> tensors;
  private final int skipped;
  private final Long globalStep;

  private PyTorchCheckpoint(Path path, Arena arena, ZipRecords zip, Map<String, TensorView> tensors, int skipped,
      Long globalStep) {
    this.path = path;
    this.arena = arena;
    this.zip = zip;
    this.tensors = tensors;
    this.skipped = skipped;
    this.globalStep = globalStep;
  }

  /** Opens, validates and maps {@code file}; a problem is a {@link UserInputException} naming the file and record. */
  public static PyTorchCheckpoint open(Path file) {
    Arena arena = Arena.ofShared();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      String name = file.toString();
      ZipRecords zip = ZipRecords.read(name, data);
      checkByteOrder(name, zip);
      ZipRecords.Record pkl = zip.get("data.pkl");
      if (pkl.size() > MAX_PICKLE_BYTES)
        throw ZipRecords.bad(name, "data.pkl is " + pkl.size() + " bytes, more than the " + MAX_PICKLE_BYTES
            + " a state dict needs");
      byte[] pickle = zip.bytes(pkl).toArray(ValueLayout.JAVA_BYTE);
      Map<String, Storage> storages = new HashMap<>();
      Object root = WeightsOnlyUnpickler.load(name + " " + pkl.name(), pickle, pid -> storage(name, zip, pid, storages));
      Map<String, TensorView> tensors = new TreeMap<>();
      int skipped = stateDict(name, root, tensors);
      // Lightning (.ckpt) stores the training step beside the state dict; SD 2 base vs 768-v is told by it.
      Long step = root instanceof Map<?, ?> m && m.get("global_step") instanceof Long g ? g : null;
      return new PyTorchCheckpoint(file, arena, zip, Collections.unmodifiableMap(tensors), skipped, step);
    } catch (NoSuchFileException e) {
      arena.close();
      throw new UserInputException(file + ": no such file", e);
    } catch (IOException e) {
      arena.close();
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  private static void checkByteOrder(String file, ZipRecords zip) {
    ZipRecords.Record r = zip.get("byteorder");
    if (r == null) return; // PyTorch before 2.1 wrote none: little-endian
    String order = new String(zip.bytes(r).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
    if (!order.equals("little"))
      throw ZipRecords.bad(file, "byteorder '" + order + "': only little-endian checkpoints are read");
  }

  /** persistent_load: ('storage', StorageClass, key, location, numel) → a checked record of numel elements. */
  private static Storage storage(String file, ZipRecords zip, Tuple pid, Map<String, Storage> seen) {
    String where = file + " data.pkl";
    if (pid.size() != 5 || !(pid.get(1) instanceof Global type) || !(pid.get(2) instanceof String key)
        || !(pid.get(3) instanceof String location) || !(pid.get(4) instanceof Long numel))
      throw new UserInputException(where + ": a storage id must be ('storage', class, key, location, numel), got "
          + pid.size() + " items");
    TorchDType dtype = type.path().equals("torch.storage.UntypedStorage") ? TorchDType.UINT8
        : TorchDType.ofStorageClass(type.name());
    if (dtype == null) throw new UserInputException(where + ": " + type.path() + " is not a storage class");
    if (!STORAGE_KEY.matcher(key).matches()) throw new UserInputException(where + ": storage key '" + key + "' is not a plain name");
    if (!LOCATION.matcher(location).matches())
      throw new UserInputException(where + ": storage '" + key + "' has location '" + location + "'");
    Storage s = new Storage(key, dtype, numel, location);
    Storage before = seen.putIfAbsent(key, s);
    if (before != null) {
      if (before.dtype() != dtype || before.numel() != numel)
        throw new UserInputException(where + ": storage '" + key + "' is named twice with different types or sizes");
      return before;
    }
    ZipRecords.Record r = zip.get("data/" + key);
    if (r == null) throw new UserInputException(file + ": storage '" + key + "' has no record " + zip.prefix() + "data/" + key);
    long bytes;
    try {
      bytes = Math.multiplyExact(numel, dtype.bytes);
    } catch (ArithmeticException e) {
      bytes = -1;
    }
    if (numel < 0 || bytes != r.size())
      throw new UserInputException(file + ": storage '" + key + "' holds " + numel + " " + dtype + " elements ("
          + (bytes < 0 ? "overflow" : bytes + " bytes") + ") but its record has " + r.size() + " bytes");
    return s;
  }

  /** Fills {@code out} with the tensors of the state dict; returns how many non-tensor entries were skipped. */
  private static int stateDict(String file, Object root, Map<String, TensorView> out) {
    if (!(root instanceof Map<?, ?> m)) throw new UserInputException(file + ": the checkpoint holds no dict of tensors");
    if (m.get("state_dict") instanceof Map<?, ?> inner) m = inner;
    int skipped = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (e.getKey() instanceof String k && e.getValue() instanceof TensorView t) out.put(k, t);
      else skipped++;
    }
    if (out.isEmpty()) throw new UserInputException(file + ": the checkpoint holds no tensors");
    return skipped;
  }

  @Override
  public Path path() {
    return path;
  }

  /** Tensor keys, sorted. */
  @Override
  public Set<String> keys() {
    return tensors.keySet();
  }

  @Override
  public long[] shape(String key) {
    return view(key).size().clone();
  }

  /** PyTorch's dtype name: float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool. */
  public String dtype(String key) {
    return view(key).storage().dtype().dtypeName;
  }

  public boolean isFloatingPoint(String key) {
    return view(key).storage().dtype().floating;
  }

  /** float16/bfloat16 widen exactly; float64 rounds to float32. */
  @Override
  public Tensor loadF32(String key) {
    if (!isFloatingPoint(key))
      throw new UserInputException(path + ": weight '" + key + "' is " + dtype(key) + ", not a float tensor");
    return toTensor(key);
  }

  /** The top-level {@code global_step} integer of a Lightning checkpoint ({@code .ckpt}), or null. */
  public Long globalStep() {
    return globalStep;
  }

  /** Entries of the state dict that are not tensors (skipped). */
  public int skippedEntries() {
    return skipped;
  }

  /**
   * A new CPU tensor with the values of {@code key}: float types as F32 (float16/bfloat16 widened exactly, float64
   * rounded), integer types as I64, bool as BOOL. Views are gathered by their strides; the storage record is
   * CRC-checked the first time it is read.
   */
  public Tensor toTensor(String key) {
    TensorView v = view(key);
    TorchDType t = v.storage().dtype();
    MemorySegment storage = zip.bytes(zip.get("data/" + v.storage().key()));
    long n = v.numel();
    try (Arena tmp = Arena.ofConfined(); TensorScope scope = TensorScope.open()) {
      MemorySegment elems = v.contiguous()
          ? storage.asSlice(v.offset() * t.bytes, n * t.bytes)
          : gather(storage, v, tmp);
      Tensor out = switch (t) {
        case FLOAT32 -> Tensor.fromSegment(elems, DType.F32, Device.CPU, v.size());
        case FLOAT16 -> Tensor.fromSegment(elems, DType.F16, Device.CPU, v.size()).to(DType.F32);
        case BFLOAT16 -> Tensor.fromSegment(elems, DType.BF16, Device.CPU, v.size()).to(DType.F32);
        case INT64 -> Tensor.fromSegment(elems, DType.I64, Device.CPU, v.size());
        case BOOL -> Tensor.fromSegment(elems, DType.BOOL, Device.CPU, v.size());
        case FLOAT64 -> Tensor.fromSegment(widen(elems, n, t, tmp, true), DType.F32, Device.CPU, v.size());
        case INT32, INT16, INT8, UINT8 -> Tensor.fromSegment(widen(elems, n, t, tmp, false), DType.I64, Device.CPU, v.size());
      };
      return scope.keep(out);
    }
  }

  /** The view's elements in row-major order, copied into {@code arena}. */
  private static MemorySegment gather(MemorySegment storage, TensorView v, Arena arena) {
    int e = v.storage().dtype().bytes, dims = v.size().length;
    long n = v.numel();
    MemorySegment out = arena.allocate(Math.max(1, n * e), 8).asSlice(0, n * e);
    long[] index = new long[dims];
    for (long i = 0; i < n; i++) {
      long src = v.offset();
      for (int d = 0; d < dims; d++) src += index[d] * v.stride()[d];
      MemorySegment.copy(storage, src * e, out, i * e, e);
      for (int d = dims - 1; d >= 0 && ++index[d] == v.size()[d]; d--) index[d] = 0;
    }
    return out;
  }

  /** float64 → float32 (rounded) or small integers → int64, in {@code arena}. */
  private static MemorySegment widen(MemorySegment src, long n, TorchDType t, Arena arena, boolean toFloat) {
    ValueLayout.OfDouble f64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfInt i32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    MemorySegment out = arena.allocate(Math.max(1, n * (toFloat ? 4 : 8)), 8).asSlice(0, n * (toFloat ? 4 : 8));
    for (long i = 0; i < n; i++) {
      if (toFloat) {
        out.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) src.getAtIndex(f64, i));
        continue;
      }
      long v = switch (t) {
        case INT32 -> src.getAtIndex(i32, i);
        case INT16 -> src.getAtIndex(i16, i);
        case INT8 -> src.get(ValueLayout.JAVA_BYTE, i);
        default -> src.get(ValueLayout.JAVA_BYTE, i) & 0xff;
      };
      out.setAtIndex(ValueLayout.JAVA_LONG, i, v);
    }
    return out;
  }

  private TensorView view(String key) {
    if (!arena.scope().isAlive()) throw new IllegalStateException(path + " is closed");
    TensorView v = tensors.get(key);
    if (v == null) throw new UserInputException(path + ": no tensor named '" + key + "'");
    return v;
  }

  /** Unmaps the file. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) arena.close();
  }

  @Override
  public String toString() {
    return "PyTorchCheckpoint[" + path + ", " + tensors.size() + " tensors]";
  }
}
