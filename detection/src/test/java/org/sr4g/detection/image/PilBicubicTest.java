package org.sr4g.detection.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pillow's bicubic resize, bit for bit: SHA-256 of the resized bytes against Pillow 9.4's own output for the same
 * synthetic images ({@code pil-bicubic.txt}, written by {@code scripts/pil_bicubic_reference.py}), including
 * 256/512/1024 → 768 and images whose every pixel is unrelated to its neighbours.
 */
class PilBicubicTest {

  /** The two patterns of scripts/pil_bicubic_reference.py. */
  static RgbImage pattern(String kind, int w, int h) {
    byte[] px = new byte[w * h * 3];
    for (long y = 0; y < h; y++)
      for (long x = 0; x < w; x++)
        for (long c = 0; c < 3; c++) {
          long v = kind.equals("smooth")
              ? (x * 7 + y * 13 + c * 29 + ((x * y) % 17) * 11 + ((x ^ y) * 3)) & 255
              : ((((x * 73856093L) ^ (y * 19349663L) ^ (c * 83492791L)) & 0xFFFFFFFFL) >> 7) & 255;
          px[(int) ((y * w + x) * 3 + c)] = (byte) v;
        }
    return new RgbImage(w, h, px);
  }

  @Test
  void equalsPillowBitForBit() throws Exception {
    List<String> mismatches = new ArrayList<>();
    int cases = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        PilBicubicTest.class.getResourceAsStream("pil-bicubic.txt"), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#")) continue;
        String[] f = line.split(" ");
        int w = Integer.parseInt(f[0]), h = Integer.parseInt(f[1]), ow = Integer.parseInt(f[2]), oh = Integer.parseInt(f[3]);
        RgbImage out = PilBicubic.resize(pattern(f[4], w, h), ow, oh);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out.rgb()));
        if (!sha.equals(f[5])) mismatches.add(line);
        cases++;
      }
    }
    assertEquals(30, cases);
    assertTrue(mismatches.isEmpty(), "differs from Pillow: " + mismatches);
  }

  @Test
  void sameSizeIsACopyAndAConstantImageStaysConstant() {
    RgbImage img = pattern("hash", 13, 9);
    RgbImage same = PilBicubic.resize(img, 13, 9);
    assertArrayEquals(img.rgb(), same.rgb());
    assertTrue(img.rgb() != same.rgb(), "a copy, not the caller's array");
    byte[] grey = new byte[20 * 10 * 3];
    java.util.Arrays.fill(grey, (byte) 200);
    RgbImage up = PilBicubic.resize(new RgbImage(20, 10, grey), 77, 31);
    for (byte b : up.rgb()) assertEquals((byte) 200, b);
  }
}
