package org.sr4g.diffusion.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** Issue 11 item 13: the header holds what the format allows and nothing else, bounded before allocation. */
class StrictHeaderTest {
  @TempDir Path tmp;

  private Path file(String header, int dataBytes) throws Exception {
    return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
  }

  private Path file(byte[] h, int dataBytes) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    return Files.write(tmp.resolve("t.safetensors"), b.array());
  }

  private String refused(String header, int dataBytes) throws Exception {
    Path f = file(header, dataBytes);
    return assertThrows(UserInputException.class, () -> SafetensorsFile.open(f).close(), header).getMessage();
  }

  private static final String A = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

  @Test
  void spacePaddingIsAllowedOtherTrailingBytesAreNot() throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(file(A + "     ", 8))) {
      assertEquals(1, f.keys().size());
    }
    for (String[] bad : new String[][] {{A + "garbage", "only spaces"}, {A + "\0\0\0\0", "0x00"},
        {A + " {}", "only spaces"}, {" " + A, "starting with '{'"}}) {
      String m = refused(bad[0], 8);
      assertTrue(m.contains(bad[1]), m);
    }
  }

  @Test
  void shapesAndOffsetsAreIntegersNotFloats() throws Exception {
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8).contains("shape[0] = 2.0"));
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", 8).contains("data_offsets[1]"));
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8e0]}}", 8).contains("data_offsets[1]"));
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8).contains("shape[0]"));
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8)
        .contains("not a non-negative integer"));
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
        + "\"data_offsets\":[0,8]}}", 8).contains("declared twice"));
  }

  @Test
  void tensorCountAndMetadataAreBoundedWhileParsing() throws Exception {
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i <= SafetensorsHeader.MAX_TENSORS; i++)
      many.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
    assertTrue(refused(many.append("}").toString(), 0).contains("more than " + SafetensorsHeader.MAX_TENSORS + " tensors"));
    StringBuilder meta = new StringBuilder("{\"__metadata__\":{");
    for (int i = 0; i <= SafetensorsHeader.MAX_METADATA_ENTRIES; i++) meta.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"\"");
    assertTrue(refused(meta.append("}}").toString(), 0).contains(SafetensorsHeader.MAX_METADATA_ENTRIES + " entries"));
    assertTrue(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4)
        .contains("more than " + SafetensorsHeader.MAX_RANK));
  }
}
