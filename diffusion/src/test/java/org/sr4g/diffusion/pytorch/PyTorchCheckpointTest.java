package org.sr4g.diffusion.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sr4g.diffusion.pytorch.TorchZipWriter.contiguousStrides;
import static org.sr4g.diffusion.pytorch.TorchZipWriter.f16Bytes;
import static org.sr4g.diffusion.pytorch.TorchZipWriter.f32Bytes;
import static org.sr4g.diffusion.pytorch.TorchZipWriter.f64Bytes;
import static org.sr4g.diffusion.pytorch.TorchZipWriter.i32Bytes;
import static org.sr4g.diffusion.pytorch.TorchZipWriter.i64Bytes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.diffusion.pytorch.TorchZipWriter.Pickle;
import org.sr4g.diffusion.pytorch.TorchZipWriter.StateDict;
import org.sr4g.torch.NativeAssume;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * The PyTorch zip checkpoint reader on files the test builds itself: dtypes, views sharing one storage, parameters,
 * Lightning-style nesting, and every refusal (hostile globals and opcodes, broken zips, storages that do not fit).
 * The files stay in {@code target/pytorch-checkpoints/} so that {@code scripts/check-torch-checkpoints.py} can show
 * that PyTorch ({@code torch.load(weights_only=True)}) reads the good ones the same and refuses the hostile ones.
 */
class PyTorchCheckpointTest {
  static final Path DIR = Path.of("target", "pytorch-checkpoints");

  @BeforeAll
  static void dir() throws IOException {
    Files.createDirectories(DIR);
  }

  private static float[] floats(PyTorchCheckpoint c, String key) {
    try (TensorScope s = TensorScope.open()) {
      return c.toTensor(key).toFloatArray();
    }
  }

  private static long[] longs(PyTorchCheckpoint c, String key) {
    try (TensorScope s = TensorScope.open()) {
      return c.toTensor(key).toLongArray();
    }
  }

  @Test
  void dtypesAndViewsSharingOneStorage() throws Exception {
    NativeAssume.torch();
    float[] twelve = new float[12];
    for (int i = 0; i < 12; i++) twelve[i] = i * 0.5f - 2;
    StateDict sd = new StateDict()
        .storage("0", "FloatStorage", f32Bytes(twelve), 12)
        .tensor("full", "0", 0, new long[] {3, 4}, new long[] {4, 1})
        .tensor("transposed", "0", 0, new long[] {4, 3}, new long[] {1, 4})
        .tensor("block", "0", 5, new long[] {2, 2}, new long[] {4, 1})
        .tensor("scalar", "0", 11, new long[] {}, new long[] {})
        .tensor("empty", "0", 12, new long[] {0, 3}, new long[] {3, 1})
        .storage("1", "HalfStorage", f16Bytes(1.5f, -0.25f, 65504f, 6.1035156e-05f), 4)
        .tensor("half", "1", 0, new long[] {4}, new long[] {1})
        .storage("2", "BFloat16Storage", new byte[] {(byte) 0x80, 0x3f, 0x40, (byte) 0xc0}, 2) // 1.0, -3.0
        .tensor("bf16", "2", 0, new long[] {2}, new long[] {1})
        .storage("3", "DoubleStorage", f64Bytes(0.1, -2.5), 2)
        .tensor("f64", "3", 0, new long[] {2}, new long[] {1})
        .storage("4", "LongStorage", i64Bytes(7, -1, Long.MAX_VALUE), 3)
        .tensor("i64", "4", 0, new long[] {3}, new long[] {1})
        .storage("5", "IntStorage", i32Bytes(-5, 9), 2)
        .tensor("i32", "5", 0, new long[] {2}, new long[] {1})
        .storage("6", "ByteStorage", new byte[] {(byte) 200, 3}, 2)
        .tensor("u8", "6", 0, new long[] {2}, new long[] {1})
        .storage("7", "BoolStorage", new byte[] {1, 0, 1}, 3)
        .tensor("mask", "7", 0, new long[] {3}, new long[] {1});
    Path file = DIR.resolve("good-dtypes-views.bin");
    sd.write(file);
    try (PyTorchCheckpoint c = PyTorchCheckpoint.open(file)) {
      assertEquals(List.of("bf16", "block", "empty", "f64", "full", "half", "i32", "i64", "mask", "scalar",
          "transposed", "u8"), List.copyOf(c.keys()));
      assertArrayEquals(twelve, floats(c, "full"));
      assertArrayEquals(new long[] {4, 3}, c.shape("transposed"));
      float[] t = floats(c, "transposed");
      for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) assertEquals(twelve[j * 4 + i], t[i * 3 + j]);
      assertArrayEquals(new float[] {twelve[5], twelve[6], twelve[9], twelve[10]}, floats(c, "block"));
      assertArrayEquals(new float[] {twelve[11]}, floats(c, "scalar"));
      assertArrayEquals(new long[] {0, 3}, c.shape("empty"));
      assertEquals(0, floats(c, "empty").length);
      assertArrayEquals(new float[] {1.5f, -0.25f, 65504f, 6.1035156e-05f}, floats(c, "half"));
      assertEquals("float16", c.dtype("half"));
      assertArrayEquals(new float[] {1f, -3f}, floats(c, "bf16"));
      assertArrayEquals(new float[] {0.1f, -2.5f}, floats(c, "f64"));
      assertArrayEquals(new long[] {7, -1, Long.MAX_VALUE}, longs(c, "i64"));
      assertArrayEquals(new long[] {-5, 9}, longs(c, "i32"));
      assertArrayEquals(new long[] {200, 3}, longs(c, "u8"));
      try (TensorScope s = TensorScope.open()) {
        assertArrayEquals(new boolean[] {true, false, true}, c.toTensor("mask").toBooleanArray());
      }
      assertFalse(c.isFloatingPoint("i64"));
    }
    try (WeightsFile w = WeightsFile.open(file)) {
      assertTrue(w instanceof PyTorchCheckpoint);
      UserInputException e = assertThrows(UserInputException.class, () -> w.loadF32("i64"));
      assertTrue(e.getMessage().contains("weight 'i64' is int64, not a float tensor"), e.getMessage());
    }
  }

  /** A state dict as torch.save writes nn.Parameters and an OrderedDict with _metadata, nested as Lightning does. */
  @Test
  void parametersMetadataAndLightningNesting() throws Exception {
    NativeAssume.torch();
    Pickle p = new Pickle().proto().emptyDict().string("epoch").integer(3).setitem().string("global_step")
        .integer(70000).setitem().string("state_dict").global("collections", "OrderedDict").emptyTuple().reduce();
    p.string("w").global("torch._utils", "_rebuild_parameter");
    TorchZipWriter.tensorCall(p, "0", "FloatStorage", 2, new TorchZipWriter.View("0", 0, new long[] {2}, new long[] {1}));
    p.bool(true).global("collections", "OrderedDict").emptyTuple().reduce().tuple3().reduce().setitem();
    // state._metadata = OrderedDict(...) via BUILD, as torch writes a module's state dict
    p.emptyDict().string("_metadata").global("collections", "OrderedDict").emptyTuple().reduce().setitem().build();
    p.setitem().stop();
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("data.pkl", p.bytes());
    records.put("data/0", f32Bytes(0.5f, -1f));
    records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    Path file = DIR.resolve("good-lightning.ckpt");
    TorchZipWriter.writeZip(file, "good-lightning", records);
    try (PyTorchCheckpoint c = PyTorchCheckpoint.open(file)) {
      assertEquals(List.of("w"), List.copyOf(c.keys()));
      assertArrayEquals(new float[] {0.5f, -1f}, floats(c, "w"));
    }
  }

  /**
   * What torch 2 added to the weights-only set (torch 1.13 refuses both): BINFLOAT (a learning rate beside the
   * weights) and {@code _rebuild_from_type_v2}, the form of a tensor saved with attributes.
   */
  @Test
  void torch2Additions() throws Exception {
    NativeAssume.torch();
    Pickle p = new Pickle().proto().emptyDict().string("lr").binfloat(0.1).setitem().string("w");
    TorchZipWriter.tensorCall(p, "0", "FloatStorage", 1, new TorchZipWriter.View("0", 0, new long[] {1}, new long[] {1}));
    p.setitem();
    p.string("b").global("torch._tensor", "_rebuild_from_type_v2").mark().global("torch._utils", "_rebuild_tensor_v2")
        .global("torch", "Tensor").mark();
    p.mark().string("storage").global("torch", "FloatStorage").string("1").string("cpu").integer(1).tuple().persid();
    p.integer(0).ints(1).ints(1).bool(false).global("collections", "OrderedDict").emptyTuple().reduce().tuple();
    p.emptyDict().tuple().reduce().setitem().stop();
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("data.pkl", p.bytes());
    records.put("data/0", f32Bytes(3f));
    records.put("data/1", f32Bytes(42f));
    records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    Path file = DIR.resolve("torch2-additions.pt");
    TorchZipWriter.writeZip(file, "archive", records);
    try (PyTorchCheckpoint c = PyTorchCheckpoint.open(file)) {
      assertEquals(List.of("b", "w"), List.copyOf(c.keys()));
      assertEquals(1, c.skippedEntries());
      assertArrayEquals(new float[] {3f}, floats(c, "w"));
      assertArrayEquals(new float[] {42f}, floats(c, "b"));
    }
  }

  // ------------------------------------------------------------------------------------------ refused pickles

  /** Writes {@code name}.bin (hostile-*: torch refuses it too; unsupported-*: torch admits it, sr4g does not read it). */
  private static UserInputException refused(String name, byte[] pickle) throws IOException {
    Path file = DIR.resolve((name.startsWith("unsupported-") ? "" : "hostile-") + name + ".bin");
    TorchZipWriter.writePickle(file, pickle);
    return assertThrows(UserInputException.class, () -> PyTorchCheckpoint.open(file).close());
  }

  private static void assertMessage(UserInputException e, String... parts) {
    for (String part : parts) assertTrue(e.getMessage().contains(part), e.getMessage());
  }

  /** The classic exploit: GLOBAL os.system + REDUCE. Refused at the GLOBAL, and nothing ran. */
  @Test
  void osSystemIsRefusedAndNothingRuns() throws Exception {
    Path marker = DIR.resolve("pwned-os-system");
    Files.deleteIfExists(marker);
    byte[] pickle = new Pickle().proto().global("os", "system").string("touch " + marker.toAbsolutePath())
        .tuple1().reduce().stop().bytes();
    UserInputException e = refused("os-system", pickle);
    assertMessage(e, "hostile-os-system.bin", "data.pkl byte 2: global os.system is not allowed",
        "nothing from the checkpoint is run");
    assertFalse(Files.exists(marker));
  }

  @Test
  void builtinsEvalAndPosixAreRefused() throws Exception {
    assertMessage(refused("eval", new Pickle().proto().global("builtins", "eval")
        .string("__import__('os').system('true')").tuple1().reduce().stop().bytes()), "global builtins.eval is not allowed");
    assertMessage(refused("py2-eval", new Pickle().proto().global("__builtin__", "eval").string("1").tuple1().reduce()
        .stop().bytes()), "global builtins.eval is not allowed");
    assertMessage(refused("posix", new Pickle().proto().global("posix", "system").string("true").tuple1().reduce()
        .stop().bytes()), "global posix.system is not allowed");
  }

  /** What pickle writes for an object whose class defines __reduce__: the class by name, then REDUCE. */
  @Test
  void reduceOfAnUnknownClassIsRefused() throws Exception {
    byte[] pickle = new Pickle().proto().global("collections", "OrderedDict").emptyTuple().reduce()
        .string("model").global("__main__", "Exploit").emptyTuple().reduce().setitem().stop().bytes();
    assertMessage(refused("unknown-class", pickle), "global __main__.Exploit is not allowed");
  }

  @Test
  void opcodesOutsideWeightsOnlyAreRefused() throws Exception {
    // STACK_GLOBAL takes the names from the stack (protocol 4): not in torch's weights-only set.
    byte[] stackGlobal = new Pickle().proto().string("os").string("system").op(0x93).stop().bytes();
    assertMessage(refused("stack-global", stackGlobal), "opcode STACK_GLOBAL (0x93) is not allowed");
    byte[] inst = new Pickle().proto().mark().string("true").raw("ios\nsystem\n".getBytes(StandardCharsets.US_ASCII))
        .stop().bytes();
    assertMessage(refused("inst", inst), "opcode INST (0x69) is not allowed");
    byte[] ext = new Pickle().proto().op(0x82).op(1).stop().bytes();
    assertMessage(refused("ext", ext), "opcode EXT (0x82) is not allowed");
  }

  @Test
  void admittedNamesCannotBeMisused() throws Exception {
    assertMessage(refused("newobj-dict", new Pickle().proto().global("collections", "OrderedDict").emptyTuple().newobj()
        .stop().bytes()), "NEWOBJ of collections.OrderedDict: only torch.nn.Parameter may be created");
    assertMessage(refused("unsupported-reduce-storage", new Pickle().proto().global("torch", "FloatStorage").emptyTuple().reduce()
        .stop().bytes()), "REDUCE of torch.FloatStorage is not supported");
    assertMessage(refused("build-list", new Pickle().proto().emptyList().emptyDict().build().stop().bytes()),
        "only OrderedDicts and plain tensors may be built");
    assertMessage(refused("unsupported-sparse", new Pickle().proto().global("torch._utils", "_rebuild_sparse_tensor").stop().bytes()),
        "tensor kind sr4g does not read");
    assertMessage(refused("codecs", new Pickle().proto().global("_codecs", "encode").string("x").string("rot13").tuple2()
        .reduce().stop().bytes()), "_codecs.encode is only read as encode(str, 'latin1')");
    assertMessage(refused("persid-other", new Pickle().proto().mark().string("module").string("os").tuple().persid()
        .stop().bytes()), "only storages may be persistent ids");
  }

  @Test
  void brokenPicklesAreClearErrors() throws Exception {
    assertMessage(refused("no-stop", new Pickle().proto().emptyDict().bytes()), "ends without STOP (truncated)");
    assertMessage(refused("bad-memo", new Pickle().proto().get(9).stop().bytes()), "memo index 9 was never stored");
    assertMessage(refused("underflow", new Pickle().proto().setitem().stop().bytes()), "stack underflow");
    byte[] longString = new Pickle().proto().op('X').raw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}).bytes();
    assertMessage(refused("long-string", longString), "truncated: a 2147483647-byte string");
    assertMessage(refused("unsupported-no-tensors", new Pickle().proto().emptyDict().string("a").integer(1).setitem().stop().bytes()),
        "holds no tensors");
  }

  // ------------------------------------------------------------------------------------------ broken archives

  private static StateDict small() {
    return new StateDict().f32("w", new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
  }

  private static UserInputException broken(Path file) {
    return assertThrows(UserInputException.class, () -> {
      try (PyTorchCheckpoint c = PyTorchCheckpoint.open(file)) {
        for (String k : c.keys()) floats(c, k);
      }
    });
  }

  @Test
  void truncatedZipIsAClearError() throws Exception {
    Path good = DIR.resolve("good-small.bin");
    small().write(good);
    byte[] all = Files.readAllBytes(good);
    Path cut = DIR.resolve("broken-truncated.bin");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    assertMessage(broken(cut), "broken-truncated.bin: no zip end-of-central-directory record",
        "truncated or not a PyTorch zip checkpoint");
    Path raw = DIR.resolve("broken-legacy.bin"); // a bare pickle, as torch.save wrote before 1.6
    Files.write(raw, small().pickle());
    assertMessage(broken(raw), "files saved before PyTorch 1.6 are not read");
  }

  @Test
  void missingOrMisSizedStorageRecordsAreClearErrors() throws Exception {
    StateDict missing = small();
    missing.storages.clear();
    missing.tensor("w", "0", 0, new long[] {2, 3}, contiguousStrides(2, 3));
    Path noRecord = DIR.resolve("broken-missing-storage.bin");
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("data.pkl", missing.pickle());
    TorchZipWriter.writeZip(noRecord, "archive", records);
    assertMessage(broken(noRecord), "storage '0' has no record archive/data/0");

    StateDict sizes = new StateDict().storage("0", "FloatStorage", f32Bytes(1, 2, 3), 4)
        .tensor("w", "0", 0, new long[] {3}, new long[] {1});
    Path bad = DIR.resolve("broken-storage-size.bin");
    sizes.write(bad);
    assertMessage(broken(bad), "storage '0' holds 4 float32 elements (16 bytes) but its record has 12 bytes");
  }

  @Test
  void viewsOutsideTheirStorageAreRefused() throws Exception {
    StateDict offset = new StateDict().storage("0", "FloatStorage", f32Bytes(1, 2, 3, 4), 4)
        .tensor("w", "0", 3, new long[] {2}, new long[] {1});
    Path f = DIR.resolve("broken-offset.bin");
    offset.write(f);
    assertMessage(broken(f), "reads element 4 of a storage of 4 elements (out of range)");

    StateDict stride = new StateDict().storage("0", "FloatStorage", f32Bytes(1, 2, 3, 4), 4)
        .tensor("w", "0", 0, new long[] {2, 2}, new long[] {3, 1});
    Path g = DIR.resolve("broken-stride.bin");
    stride.write(g);
    assertMessage(broken(g), "reads element 4 of a storage of 4 elements");

    // size [2^40] with stride 0 over one element: a broadcast that would allocate 4 TB.
    StateDict bomb = new StateDict().storage("0", "FloatStorage", f32Bytes(1), 1)
        .tensor("w", "0", 0, new long[] {1L << 40}, new long[] {0});
    Path h = DIR.resolve("broken-stride0-bomb.bin");
    bomb.write(h);
    assertMessage(broken(h), "has 1099511627776 elements but its storage only 1");

    StateDict negative = new StateDict().storage("0", "FloatStorage", f32Bytes(1, 2), 2)
        .tensor("w", "0", -1, new long[] {1}, new long[] {1});
    Path n = DIR.resolve("broken-negative-offset.bin");
    negative.write(n);
    assertMessage(broken(n), "negative storage offset");
  }

  @Test
  void zipStructureIsValidated() throws Exception {
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("data.pkl", small().pickle());
    records.put("data/0", f32Bytes(1, 2, 3, 4, 5, 6));
    Path dots = DIR.resolve("broken-dotdot.bin");
    Map<String, byte[]> evil = new LinkedHashMap<>(records);
    evil.put("../../etc/passwd", new byte[] {1});
    TorchZipWriter.writeZip(dots, "archive", evil);
    assertMessage(broken(dots), "record name 'archive/../../etc/passwd' is not a plain relative path");

    Path two = DIR.resolve("broken-two-folders.bin");
    try (var os = Files.newOutputStream(two); var zip = new java.util.zip.ZipOutputStream(os)) {
      for (String n : List.of("a/data.pkl", "b/data/0")) {
        zip.putNextEntry(new java.util.zip.ZipEntry(n));
        zip.write(1);
        zip.closeEntry();
      }
    }
    assertMessage(broken(two), "compressed (method 8)"); // ZipOutputStream deflates by default

    Path noPkl = DIR.resolve("broken-no-pkl.bin");
    Map<String, byte[]> onlyData = new LinkedHashMap<>();
    onlyData.put("data/0", f32Bytes(1));
    TorchZipWriter.writeZip(noPkl, "archive", onlyData);
    assertMessage(broken(noPkl), "no data.pkl record: not a PyTorch checkpoint");

    Path crc = DIR.resolve("broken-crc.bin");
    small().write(crc);
    byte[] b = Files.readAllBytes(crc);
    byte[] needle = f32Bytes(1, 2, 3, 4, 5, 6);
    int at = indexOf(b, needle);
    b[at + 5] ^= 0x40;
    Files.write(crc, b);
    assertMessage(broken(crc), "record 'archive/data/0' fails its CRC-32 check: the file is damaged");

    Path bigEndian = DIR.resolve("broken-big-endian.bin");
    Map<String, byte[]> be = new LinkedHashMap<>(records);
    be.put("byteorder", "big".getBytes(StandardCharsets.US_ASCII));
    TorchZipWriter.writeZip(bigEndian, "archive", be);
    assertMessage(broken(bigEndian), "byteorder 'big': only little-endian checkpoints are read");
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    throw new AssertionError("not found");
  }

  /** A tensor read from a damaged file's storage never reaches the caller: checked before use, every time. */
  @Test
  void weightsFileOpensByExtension() throws Exception {
    NativeAssume.torch();
    Path f = DIR.resolve("good-small-weights.pt");
    small().write(f);
    try (WeightsFile w = WeightsFile.open(f); TensorScope s = TensorScope.open()) {
      Tensor t = w.loadF32("w");
      assertArrayEquals(new long[] {2, 3}, t.shape());
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
    }
  }
}
