package org.sr4g.diffusion.pytorch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Test-side writer of PyTorch zip checkpoints as {@code torch.save} lays them out (protocol-2 pickle of an
 * OrderedDict of {@code _rebuild_tensor_v2} calls over persistent-id storages, records stored uncompressed under one
 * folder), plus a pickle assembler for hand-made, hostile pickles. Written from the format's description, not from
 * torch's code; files it makes were checked to load in PyTorch 1.13 with {@code weights_only=True} (docs/diffusion.md).
 */
public final class TorchZipWriter {
  private TorchZipWriter() {}

  /** A pickle opcode assembler (only what the tests need). */
  public static final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int memo;

    public Pickle proto() { return op(0x80).op(2); }
    public Pickle global(String module, String name) {
      op('c');
      raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      return put();
    }
    public Pickle mark() { return op('('); }
    public Pickle tuple() { return op('t').put(); }
    public Pickle tuple1() { return op(0x85); }
    public Pickle tuple2() { return op(0x86); }
    public Pickle tuple3() { return op(0x87); }
    public Pickle emptyTuple() { return op(')'); }
    public Pickle emptyDict() { return op('}').put(); }
    public Pickle emptyList() { return op(']').put(); }
    public Pickle reduce() { return op('R').put(); }
    public Pickle build() { return op('b'); }
    public Pickle newobj() { return op(0x81); }
    public Pickle setitem() { return op('s'); }
    public Pickle setitems() { return op('u'); }
    public Pickle appends() { return op('e'); }
    public Pickle persid() { return op('Q'); }
    public Pickle none() { return op('N'); }
    public Pickle bool(boolean b) { return op(b ? 0x88 : 0x89); }
    public Pickle stop() { return op('.'); }
    public Pickle get(int index) { return op('h').op(index); }
    public Pickle binfloat(double d) {
      op('G');
      return raw(ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putDouble(d).array());
    }
    public Pickle integer(long v) {
      if (v >= 0 && v < 256) return op('K').op((int) v);
      if (v >= 0 && v < 65536) return op('M').raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array());
      if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE)
        return op('J').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
      return op(0x8a).op(8).raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }
    public Pickle string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      op('X').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
      return raw(b).put();
    }
    public Pickle ints(long... v) {
      mark();
      for (long x : v) integer(x);
      return tuple();
    }
    /** Any bytes (opcodes the assembler does not name). */
    public Pickle raw(byte[] b) {
      out.writeBytes(b);
      return this;
    }
    public Pickle op(int b) {
      out.write(b);
      return this;
    }
    private Pickle put() {
      return memo < 256 ? op('q').op(memo++) : this;
    }
    public byte[] bytes() {
      return out.toByteArray();
    }
  }

  /** A storage: raw little-endian element bytes and the storage class that names their type. */
  public record Storage(String storageClass, byte[] data, long numel) {}

  /** A tensor of a state dict: a view of a storage. */
  public record View(String storageKey, long offset, long[] size, long[] stride) {}

  /** A state dict built in memory, written as torch.save writes one. */
  public static final class StateDict {
    final Map<String, Storage> storages = new LinkedHashMap<>();
    final Map<String, View> tensors = new LinkedHashMap<>();

    public StateDict storage(String key, String storageClass, byte[] data, long numel) {
      storages.put(key, new Storage(storageClass, data, numel));
      return this;
    }

    public StateDict tensor(String name, String storageKey, long offset, long[] size, long[] stride) {
      tensors.put(name, new View(storageKey, offset, size, stride));
      return this;
    }

    /** A contiguous float32 tensor with its own storage. */
    public StateDict f32(String name, float[] values, long... size) {
      String key = String.valueOf(storages.size());
      storage(key, "FloatStorage", f32Bytes(values), values.length);
      return tensor(name, key, 0, size, contiguousStrides(size));
    }

    /** The pickle: OrderedDict() with (name, _rebuild_tensor_v2(pid, offset, size, stride, False, OrderedDict())) items. */
    public byte[] pickle() {
      return items(new Pickle().proto()).stop().bytes();
    }

    /**
     * As a Lightning {@code .ckpt} (what the original Stable Diffusion releases are):
     * {@code {"global_step": step, "state_dict": OrderedDict(...)}}.
     */
    public byte[] lightningPickle(long globalStep) {
      Pickle p = new Pickle().proto().emptyDict().string("global_step").integer(globalStep).setitem().string("state_dict");
      return items(p).setitem().stop().bytes();
    }

    private Pickle items(Pickle p) {
      p.global("collections", "OrderedDict").emptyTuple().reduce().mark();
      for (Map.Entry<String, View> e : tensors.entrySet()) {
        View v = e.getValue();
        Storage s = storages.get(v.storageKey());
        p.string(e.getKey());
        tensorCall(p, v.storageKey(), s == null ? "FloatStorage" : s.storageClass(), s == null ? 0 : s.numel(), v);
      }
      return p.setitems();
    }

    public void write(Path file) throws IOException {
      write(file, pickle());
    }

    /** As a Lightning {@code .ckpt} ({@link #lightningPickle}). */
    public void writeLightning(Path file, long globalStep) throws IOException {
      write(file, lightningPickle(globalStep));
    }

    private void write(Path file, byte[] pickle) throws IOException {
      Map<String, byte[]> records = new LinkedHashMap<>();
      records.put("data.pkl", pickle);
      for (Map.Entry<String, Storage> e : storages.entrySet()) records.put("data/" + e.getKey(), e.getValue().data());
      records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
      writeZip(file, "archive", records);
    }
  }

  /** Appends {@code _rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
  public static void tensorCall(Pickle p, String key, String storageClass, long numel, View v) {
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark().string("storage").global("torch", storageClass).string(key).string("cpu").integer(numel).tuple().persid();
    p.integer(v.offset()).ints(v.size()).ints(v.stride()).bool(false);
    p.global("collections", "OrderedDict").emptyTuple().reduce();
    p.tuple().reduce();
  }

  /** Writes the records, stored (uncompressed) in order, under {@code folder/}, as PyTorch's zip writer does. */
  public static void writeZip(Path file, String folder, Map<String, byte[]> records) throws IOException {
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
      for (Map.Entry<String, byte[]> e : records.entrySet()) {
        ZipEntry z = new ZipEntry(folder + "/" + e.getKey());
        z.setMethod(ZipEntry.STORED);
        z.setSize(e.getValue().length);
        z.setCompressedSize(e.getValue().length);
        CRC32 crc = new CRC32();
        crc.update(e.getValue());
        z.setCrc(crc.getValue());
        zip.putNextEntry(z);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
  }

  public static long[] contiguousStrides(long... size) {
    long[] s = new long[size.length];
    long acc = 1;
    for (int d = size.length - 1; d >= 0; d--) {
      s[d] = acc;
      acc *= size[d];
    }
    return s;
  }

  public static byte[] f32Bytes(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) b.putFloat(x);
    return b.array();
  }

  public static byte[] f16Bytes(float... v) {
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) b.putShort(Float.floatToFloat16(x));
    return b.array();
  }

  public static byte[] f64Bytes(double... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double x : v) b.putDouble(x);
    return b.array();
  }

  public static byte[] i64Bytes(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) b.putLong(x);
    return b.array();
  }

  public static byte[] i32Bytes(int... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) b.putInt(x);
    return b.array();
  }

  /** Writes a single-record archive whose data.pkl is {@code pickle} (for hostile pickles). */
  public static void writePickle(Path file, byte[] pickle) throws IOException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("data.pkl", pickle);
    records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    writeZip(file, "archive", records);
  }

  /** Re-saves every tensor of a safetensors file (F32, F16, BF16, I64) as a PyTorch zip checkpoint, bytes unchanged. */
  public static void fromSafetensors(Path safetensors, Path bin) throws IOException {
    stateDict(safetensors).write(bin);
  }

  /** As {@link #fromSafetensors}, saved as a Lightning {@code .ckpt} with {@code global_step}. */
  public static void ckptFromSafetensors(Path safetensors, Path ckpt, long globalStep) throws IOException {
    stateDict(safetensors).writeLightning(ckpt, globalStep);
  }

  private static StateDict stateDict(Path safetensors) {
    StateDict sd = new StateDict();
    try (org.sr4g.diffusion.safetensors.SafetensorsFile st = org.sr4g.diffusion.safetensors.SafetensorsFile.open(safetensors)) {
      for (String k : st.keys()) {
        String cls = switch (st.info(k).dtype()) {
          case "F32" -> "FloatStorage";
          case "F16" -> "HalfStorage";
          case "BF16" -> "BFloat16Storage";
          case "I64" -> "LongStorage";
          default -> throw new IllegalArgumentException(k + ": " + st.info(k).dtype());
        };
        String key = String.valueOf(sd.storages.size());
        long[] shape = st.info(k).shape();
        sd.storage(key, cls, st.rawBytes(k).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), st.info(k).numel());
        sd.tensor(k, key, 0, shape, contiguousStrides(shape));
      }
    }
    return sd;
  }

  static List<String> names(Map<String, ?> m) {
    return new ArrayList<>(m.keySet());
  }
}
