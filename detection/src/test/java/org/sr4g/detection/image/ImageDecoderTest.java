package org.sr4g.detection.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/**
 * Decoding as Pillow's {@code Image.open(f).convert("RGB")}: every PNG colour type and bit depth (grey 1/2/4/8/16,
 * grey+alpha 8/16, RGB 8/16, RGBA 8/16, palette 1/2/4/8 with tRNS, gAMA, Adam7) and JPEGs, against Pillow 9.4's bytes
 * ({@code decode/expected.txt}, written with the files by {@code scripts/pil_convert_reference.py}); the header size
 * check; damaged and foreign files as one-line errors.
 */
class ImageDecoderTest {
  private static final Path DIR = resource("decode/expected.txt").getParent();

  private static Path resource(String name) {
    try {
      return Path.of(ImageDecoderTest.class.getResource(name).toURI());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void everyPngColourTypeAndJpegAsPillowConvertsThem() throws Exception {
    List<String> wrong = new ArrayList<>();
    int files = 0;
    try (BufferedReader r = Files.newBufferedReader(DIR.resolve("expected.txt"), StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#")) continue;
        String[] f = line.split(" ");
        RgbImage img = ImageDecoder.decode(DIR.resolve(f[0]));
        byte[] expected = HexFormat.of().parseHex(f[4]);
        assertEquals(Integer.parseInt(f[1]), img.width(), f[0]);
        assertEquals(Integer.parseInt(f[2]), img.height(), f[0]);
        int diff = 0;
        for (int i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs((expected[i] & 0xff) - (img.rgb()[i] & 0xff)));
        if (diff != 0) wrong.add(f[0] + " (Pillow mode " + f[3] + ") max |diff| " + diff);
        files++;
      }
    }
    assertEquals(22, files);
    assertTrue(wrong.isEmpty(), "differs from Pillow: " + wrong);
  }

  /** A PNG that declares 20000 × 20000 pixels (400 M) is refused from its 33-byte header: nothing is decoded. */
  @Test
  void oversizedHeaderIsRefusedBeforeDecoding(@TempDir Path tmp) throws Exception {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(20000).putInt(20000).put((byte) 8).put((byte) 2).put(new byte[3]);
    Path bomb = tmp.resolve("bomb.png");
    Files.write(bomb, concat(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, chunk("IHDR", ihdr.array())));
    UserInputException e = assertThrows(UserInputException.class, () -> ImageDecoder.decode(bomb));
    assertEquals(bomb + ": 20000×20000 = 400000000 pixels, more than the 178956970 sr4g decodes (Pillow's"
        + " decompression-bomb limit)", e.getMessage());
  }

  @Test
  void damagedAndForeignFilesAreOneLineErrors(@TempDir Path tmp) throws Exception {
    byte[] good = Files.readAllBytes(DIR.resolve("rgb8.png"));
    Path cut = tmp.resolve("cut.png");
    Files.write(cut, java.util.Arrays.copyOf(good, good.length - 30));
    assertTrue(assertThrows(UserInputException.class, () -> ImageDecoder.decode(cut)).getMessage()
        .startsWith(cut + ": cannot decode"));
    Path text = tmp.resolve("notes.png");
    Files.writeString(text, "not an image");
    assertEquals(text + ": not a PNG or JPEG image",
        assertThrows(UserInputException.class, () -> ImageDecoder.decode(text)).getMessage());
    Path none = tmp.resolve("missing.png");
    assertEquals(none + ": no such file", assertThrows(UserInputException.class, () -> ImageDecoder.decode(none)).getMessage());
    byte[] jpeg = Files.readAllBytes(DIR.resolve("colour420.jpg"));
    Path half = tmp.resolve("half.jpg");
    Files.write(half, java.util.Arrays.copyOf(jpeg, 40));
    assertThrows(UserInputException.class, () -> ImageDecoder.decode(half));
  }

  private static byte[] chunk(String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(t).put(data).putInt((int) crc.getValue()).array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
