package org.sr4g.diffusion.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.torch.DType;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.torch.Torch;

class SafetensorsFileTest {
  @TempDir Path dir;

  // ------------------------------------------------------------------------------------------------ round trips

  @Test
  void roundTripsEveryWritableDtypeAndMetadata() {
    float[] f = {1.5f, -2.25f, 3e-3f, 0f, -0f, 1e30f};
    long[] l = {Long.MIN_VALUE, -1, 0, 7, Long.MAX_VALUE, 42};
    Path p = dir.resolve("rt.safetensors");
    new SafetensorsWriter()
        .putF32("b.f32", f, 2, 3)
        .putI64("a.i64", l, 6)
        .putF16("c.f16", new float[] {1f, -0.5f}, 2)
        .putBF16("d.bf16", new float[] {2f, -3f, 0.125f}, 3, 1)
        .putMetadata("format", "pt")
        .write(p);
    try (SafetensorsFile st = SafetensorsFile.open(p)) {
      assertEquals(List.of("a.i64", "b.f32", "c.f16", "d.bf16"), List.copyOf(st.keys()));
      assertEquals(new TensorInfo("F32", new long[] {2, 3}), st.info("b.f32"));
      assertEquals(new TensorInfo("BF16", new long[] {3, 1}), st.info("d.bf16"));
      assertArrayEquals(f, st.readFloats("b.f32"));
      assertArrayEquals(l, st.readLongs("a.i64"));
      assertArrayEquals(new float[] {1f, -0.5f}, st.readFloats("c.f16"));
      assertArrayEquals(new float[] {2f, -3f, 0.125f}, st.readFloats("d.bf16"));
      assertEquals(Map.of("format", "pt"), st.metadata());
    }
  }

  @Test
  void writerPadsTheHeaderToEightBytesWithSortedKeys() throws IOException {
    Path p = dir.resolve("pad.safetensors");
    new SafetensorsWriter().putF32("zz", new float[] {1}, 1).putF32("aa", new float[] {2, 3}, 2).write(p);
    byte[] bytes = Files.readAllBytes(p);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, n % 8, "header length multiple of 8");
    assertEquals(8 + n + 12, bytes.length);
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(header.indexOf("\"aa\"") < header.indexOf("\"zz\""), header);
    assertTrue(header.contains("\"data_offsets\":[0,8]"), header);
    assertTrue(header.contains("\"data_offsets\":[8,12]"), header);
    try (var files = Files.list(dir)) {
      assertEquals(List.of(p), files.toList(), "no temporary file left behind");
    }
  }

  @Test
  void halfPrecisionWidensExactly() {
    // Edge values of IEEE half: max, min normal, min subnormal, infinities; all representable, so exact both ways.
    float[] v = {65504f, 6.1035156e-05f, 5.9604645e-08f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0.333251953125f};
    Path p = dir.resolve("f16.safetensors");
    new SafetensorsWriter().putF16("x", v, v.length).write(p);
    try (SafetensorsFile st = SafetensorsFile.open(p)) {
      assertArrayEquals(v, st.readFloats("x"));
    }
  }

  @Test
  void bfloat16RoundsToNearestEven() {
    float tieDown = 1f + 0x1p-8f; // halfway between 1 and 1+2^-7: ties to even (1)
    float tieUp = 1f + 3 * 0x1p-8f; // halfway between 1+2^-7 and 1+2^-6: ties to even (1+2^-6)
    float above = 1f + 0x1p-8f + 0x1p-20f;
    Path p = dir.resolve("bf16.safetensors");
    new SafetensorsWriter().putBF16("x", new float[] {tieDown, tieUp, above, Float.NaN}, 4).write(p);
    try (SafetensorsFile st = SafetensorsFile.open(p)) {
      float[] r = st.readFloats("x");
      assertEquals(1f, r[0]);
      assertEquals(1f + 0x1p-6f, r[1]);
      assertEquals(1f + 0x1p-7f, r[2]);
      assertTrue(Float.isNaN(r[3]));
    }
  }

  @Test
  void readsReadOnlyIntegerDtypes() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(8 + 2 + 2).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt(-5).putInt(70000).put((byte) 200).put((byte) 1).put((byte) 0).put((byte) 3);
    Path p = raw("ints", "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]},"
        + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[10,12]}}", data.array());
    try (SafetensorsFile st = SafetensorsFile.open(p)) {
      assertArrayEquals(new long[] {-5, 70000}, st.readLongs("i"));
      assertArrayEquals(new long[] {200, 1}, st.readLongs("u"));
      assertArrayEquals(new long[] {0, 1}, st.readLongs("b"));
      UserInputException e = assertThrows(UserInputException.class, () -> st.readFloats("i"));
      assertTrue(e.getMessage().contains("'i'") && e.getMessage().contains("I32"), e.getMessage());
    }
  }

  @Test
  void emptyTensorsAndEmptyFileAreValid() throws IOException {
    Path p = dir.resolve("empty.safetensors");
    new SafetensorsWriter().putF32("e", new float[0], 0, 3).write(p);
    try (SafetensorsFile st = SafetensorsFile.open(p)) {
      assertEquals(0, st.readFloats("e").length);
    }
    Path none = raw("none", "{}", new byte[0]);
    try (SafetensorsFile st = SafetensorsFile.open(none)) {
      assertTrue(st.keys().isEmpty());
    }
  }

  @Test
  void unknownKeyAndUseAfterCloseAreReported() {
    Path p = dir.resolve("k.safetensors");
    new SafetensorsWriter().putF32("w", new float[] {1}, 1).write(p);
    SafetensorsFile st = SafetensorsFile.open(p);
    UserInputException e = assertThrows(UserInputException.class, () -> st.readFloats("nope"));
    assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains(p.toString()), e.getMessage());
    st.close();
    st.close();
    assertThrows(IllegalStateException.class, () -> st.readFloats("w"));
  }

  @Test
  void toTensorWidensHalfToFloat32() {
    Assumptions.assumeTrue(Torch.isAvailable(), () -> "libtorch unavailable: " + Torch.unavailableReason().orElse("?"));
    float[] v = {0.5f, -1.25f, 3f, 1024f, 6.1035156e-05f, -7f};
    Path p = dir.resolve("t.safetensors");
    new SafetensorsWriter().putF16("h", v, 2, 3).putBF16("b", v, 3, 2).putF32("f", v, 6).putI64("i", new long[] {4, -2}, 2).write(p);
    try (SafetensorsFile st = SafetensorsFile.open(p); TensorScope scope = TensorScope.open()) {
      Tensor h = st.toTensor("h");
      assertEquals(DType.F32, h.dtype());
      assertArrayEquals(new long[] {2, 3}, h.shape());
      assertArrayEquals(v, h.toFloatArray());
      assertArrayEquals(st.readFloats("b"), st.toTensor("b").toFloatArray());
      assertArrayEquals(v, st.toTensor("f").toFloatArray());
      Tensor i = st.toTensor("i");
      assertEquals(DType.I64, i.dtype());
      assertArrayEquals(new long[] {4, -2}, i.toLongArray());
    }
  }

  @Test
  void toTensorWidensNarrowIntegersToInt64() throws IOException {
    Assumptions.assumeTrue(Torch.isAvailable(), () -> "libtorch unavailable: " + Torch.unavailableReason().orElse("?"));
    ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(-3).putInt(9).put((byte) 255).put((byte) 0).put((byte) 1).put((byte) 0);
    Path p = raw("narrow", "{\"i\":{\"dtype\":\"I32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"
        + "\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]},"
        + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[10,12]}}", data.array());
    try (SafetensorsFile st = SafetensorsFile.open(p); TensorScope scope = TensorScope.open()) {
      Tensor i = st.toTensor("i", org.sr4g.torch.Device.CPU);
      assertEquals(DType.I64, i.dtype());
      assertArrayEquals(new long[] {2, 1}, i.shape());
      assertArrayEquals(new long[] {-3, 9}, i.toLongArray());
      assertArrayEquals(new long[] {255, 0}, st.toTensor("u").toLongArray());
      Tensor b = st.toTensor("b");
      assertEquals(DType.BOOL, b.dtype());
      assertArrayEquals(new boolean[] {true, false}, b.toBooleanArray());
    }
  }

  // ------------------------------------------------------------------------------------------------ hostile files

  private static final String OK_ENTRY = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  @Test
  void rejectsFileShorterThanTheLengthPrefix() throws IOException {
    Path p = dir.resolve("short.safetensors");
    Files.write(p, new byte[] {1, 2, 3});
    assertBad(p, "too short");
  }

  @Test
  void rejectsHeaderLengthBeyondTheFile() throws IOException {
    Path p = dir.resolve("beyond.safetensors");
    byte[] header = ("{\"w\":" + OK_ENTRY + "}").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length + 100).put(header);
    Files.write(p, b.array());
    assertBad(p, "beyond the end of the file");
  }

  @Test
  void rejectsAbsurdHeaderLength() throws IOException {
    Path p = dir.resolve("huge.safetensors");
    Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-2L).array());
    assertBad(p, "exceeds the limit");
    Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200L << 20).array());
    assertBad(p, "exceeds the limit");
  }

  @Test
  void rejectsTruncatedHeaderJson() throws IOException {
    String full = "{\"w\":" + OK_ENTRY + "}";
    assertBad(raw("trunc", full.substring(0, full.length() - 7), new byte[8]), "not well-formed JSON");
  }

  @Test
  void rejectsNonObjectJson() throws IOException {
    assertBad(raw("array", "[1, 2, 3]", new byte[0]), "must be a JSON object");
    assertBad(raw("string", "\"hello\"", new byte[0]), "must be a JSON object");
  }

  @Test
  void rejectsHeaderThatIsNotUtf8() throws IOException {
    byte[] header = "{\"w\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1); // a lone 0xFF byte: invalid UTF-8
    ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header);
    Path p = dir.resolve("latin1.safetensors");
    Files.write(p, b.array());
    assertBad(p, "not well-formed JSON");
  }

  @Test
  void rejectsDuplicateKeys() throws IOException {
    assertBad(raw("dup", "{\"w\":" + OK_ENTRY + ",\"w\":" + OK_ENTRY + "}", new byte[8]), "w");
  }

  @Test
  void rejectsOffsetsOutsideTheDataSection() throws IOException {
    assertBadKey(raw("outside", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[8]),
        "w", "outside the data section");
  }

  @Test
  void rejectsBeginAfterEnd() throws IOException {
    assertBadKey(raw("reversed", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", new byte[8]),
        "w", "begin > end");
  }

  @Test
  void rejectsOverlappingTensors() throws IOException {
    assertBadKey(raw("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "b", "overlap");
  }

  @Test
  void rejectsSizeMismatch() throws IOException {
    assertBadKey(raw("mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
        "w", "needs 12");
  }

  @Test
  void rejectsUnknownDtype() throws IOException {
    assertBadKey(raw("dtype", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", new byte[8]),
        "w", "unsupported dtype 'F8_E4M3'");
  }

  @Test
  void rejectsShapeWhoseByteSizeOverflows() throws IOException {
    assertBadKey(raw("overflow", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
        new byte[0]), "w", "overflows");
    assertBadKey(raw("negative", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0]),
        "w", "non-negative");
    assertBadKey(raw("fraction", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", new byte[0]),
        "w", "non-negative");
  }

  @Test
  void rejectsMalformedEntries() throws IOException {
    assertBadKey(raw("nooffsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", new byte[8]), "w", "data_offsets");
    assertBadKey(raw("extra", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", new byte[8]),
        "w", "unknown field 'x'");
    assertBadKey(raw("notobj", "{\"w\":7}", new byte[0]), "w", "must be an object");
  }

  @Test
  void rejectsNonStringMetadata() throws IOException {
    assertBad(raw("meta", "{\"__metadata__\":{\"epoch\":3}}", new byte[0]), "epoch");
    assertBad(raw("meta2", "{\"__metadata__\":[\"x\"]}", new byte[0]), "__metadata__");
  }

  /** Writes a file with the given header (padded to 8 bytes) and data section. */
  private Path raw(String name, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(h);
    for (int i = h.length; i < padded; i++) b.put((byte) ' ');
    b.put(data);
    Path p = dir.resolve(name + ".safetensors");
    Files.write(p, b.array());
    return p;
  }

  private static void assertBad(Path p, String expected) {
    UserInputException e = assertThrows(UserInputException.class, () -> SafetensorsFile.open(p).close());
    assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
    assertTrue(e.getMessage().contains(expected), "says '" + expected + "': " + e.getMessage());
  }

  private static void assertBadKey(Path p, String key, String expected) {
    assertBad(p, expected);
    UserInputException e = assertThrows(UserInputException.class, () -> SafetensorsFile.open(p).close());
    assertTrue(e.getMessage().contains("'" + key + "'"), "names tensor " + key + ": " + e.getMessage());
  }
}
