package org.sr4g.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** train.jsonl reading, caption sampling, the flip rule, image preprocessing and the data stream (no libtorch). */
class TrainingDataTest {

  @Test
  void flipSwapsLeftAndRightOnly() {
    assertEquals(new FlipRule.Flipped("a cat to the right of a dog", "right of"),
        FlipRule.flip("a cat to the left of a dog", "left of"));
    assertEquals(new FlipRule.Flipped("a cat to the left of a dog", "left of"),
        FlipRule.flip("a cat to the right of a dog", "right of"));
    // Both phrases in one caption: each swapped once.
    assertEquals("x to the right of y to the left of z",
        FlipRule.flip("x to the left of y to the right of z", "").caption());
    for (String rel : List.of("above", "below", "surrounding", "inside", "overlapping", "wider than"))
      assertEquals(new FlipRule.Flipped("a cat " + rel + " a dog", rel), FlipRule.flip("a cat " + rel + " a dog", rel));
  }

  @Test
  void badLineNamesFileAndLine(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("train.jsonl");
    Files.writeString(f, """
        {"file_name":"a.jpg","caption":"a cat above a dog","relation":"above"}
        {"file_name":"b.jpg","caption":"a cat above a dog"
        """);
    UserInputException e = assertThrows(UserInputException.class, () -> TrainData.read(f));
    assertTrue(e.getMessage().startsWith(f + ":2: not valid JSON"), e.getMessage());
    Files.writeString(f, "{\"file_name\":\"a.jpg\",\"caption\":\"x\"}\n\n{\"file_name\":\"b.jpg\"}\n");
    e = assertThrows(UserInputException.class, () -> TrainData.read(f));
    assertEquals(f + ":3: missing or empty string field 'caption'", e.getMessage());
  }

  @Test
  void captionSampling(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("train.jsonl");
    Files.writeString(f, """
        {"image_id":1,"file_name":"a.jpg","caption":"c1","relation":"above"}
        {"image_id":1,"file_name":"a.jpg","caption":"c2","relation":"below"}
        {"image_id":2,"file_name":"b.jpg","caption":"c3","relation":"left of"}
        """);
    List<TrainRow> rows = TrainData.read(f);
    assertEquals(3, TrainData.examples(rows, TrainData.CaptionSampling.PER_PAIR).size());
    List<List<TrainRow>> perImage = TrainData.examples(rows, TrainData.CaptionSampling.PER_IMAGE);
    assertEquals(2, perImage.size());
    assertEquals(2, perImage.get(0).size());
    assertThrows(UserInputException.class, () -> TrainData.CaptionSampling.parse("per-caption"));
  }

  /** Left half red, right half blue. */
  static BufferedImage halves(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) img.setRGB(x, y, x < w / 2 ? 0xff0000 : 0x0000ff);
    return img;
  }

  @Test
  void resizeCropNormalizeAndFlip() {
    BufferedImage img = halves(40, 20); // resized to 32x16 for resolution 16, centre crop x 8..24
    assertArrayEquals(new int[] {32, 16}, ImagePrep.resizedSize(40, 20, 16));
    assertArrayEquals(new int[] {16, 32}, ImagePrep.resizedSize(20, 40, 16));
    float[] p = ImagePrep.prepare(img, 16, 8, 0, false);
    int plane = 256;
    assertEquals(1f, p[0], 0f); // red channel of the left edge
    assertEquals(-1f, p[2 * plane], 0f); // blue there is 0 → -1
    assertEquals(-1f, p[15], 0f); // red at the right edge
    assertEquals(1f, p[2 * plane + 15], 0f);
    for (float v : p) assertTrue(v >= -1f && v <= 1f);
    float[] f = ImagePrep.prepare(img, 16, 8, 0, true);
    for (int y = 0; y < 16; y++)
      for (int x = 0; x < 16; x++)
        for (int c = 0; c < 3; c++) assertEquals(p[c * plane + y * 16 + x], f[c * plane + y * 16 + 15 - x], 0f);
  }

  static Path writeImages(Path dir, int n) throws Exception {
    Files.createDirectories(dir);
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(24 + 4 * i, 20, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < img.getHeight(); y++)
        for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, ((x * 9 + i * 50) & 255) << 16 | ((y * 11) & 255) << 8 | (i * 60));
      ImageIO.write(img, i % 2 == 0 ? "png" : "jpg", dir.resolve("img" + i + (i % 2 == 0 ? ".png" : ".jpg")).toFile());
    }
    return dir;
  }

  static List<List<TrainRow>> rows(int n) {
    List<List<TrainRow>> ex = new ArrayList<>();
    for (int i = 0; i < n; i++)
      ex.add(List.of(new TrainRow("img" + i + (i % 2 == 0 ? ".png" : ".jpg"), "a cat to the left of a dog " + i,
          "left of", i, i + 1)));
    return ex;
  }

  @Test
  void streamIsDeterministicResumableAndCountsSkips(@TempDir Path tmp) throws Exception {
    Path images = writeImages(tmp.resolve("images"), 4);
    Files.writeString(images.resolve("broken.jpg"), "not a jpeg");
    List<List<TrainRow>> ex = new ArrayList<>(rows(4));
    ex.add(List.of(new TrainRow("broken.jpg", "x", "above", 9, 9)));
    ex.add(List.of(new TrainRow("missing.png", "y", "above", 10, 10)));
    List<DataLoader.Batch> a = new ArrayList<>();
    long skips;
    try (DataLoader d = new DataLoader(ex, images, 16, true, true, 3, 2, 4, 0)) {
      for (int i = 0; i < 6; i++) a.add(d.next(2));
      skips = d.skips();
      assertEquals(List.of("broken.jpg", "missing.png"), d.skippedFiles().stream().sorted().toList());
      assertTrue(d.dataWaitNanos() >= 0);
    }
    assertEquals(6 * 2 + skips, a.get(5).nextPosition(), "every position is used or skipped");
    assertTrue(skips >= 4, "two bad files, two epochs at least: " + skips);
    // Random flips rewrite the caption: both directions occur over 12 examples with this seed.
    List<String> caps = a.stream().flatMap(b -> b.captions().stream()).toList();
    assertTrue(caps.stream().anyMatch(c -> c.contains("right of")) && caps.stream().anyMatch(c -> c.contains("left of")), caps.toString());
    // Same seed, one worker: same stream; started at batch 3's cursor: batches 4.. again.
    try (DataLoader d = new DataLoader(ex, images, 16, true, true, 3, 1, 1, a.get(2).nextPosition())) {
      for (int i = 3; i < 6; i++) {
        DataLoader.Batch b = d.next(2);
        assertArrayEquals(a.get(i).pixels(), b.pixels());
        assertEquals(a.get(i).captions(), b.captions());
        assertEquals(a.get(i).nextPosition(), b.nextPosition());
      }
    }
    try (DataLoader d = new DataLoader(ex, images, 16, true, true, 4, 2, 4, 0)) {
      assertNotEquals(a.get(0).captions(), d.next(2).captions(), "another seed, another order");
    }
  }

  @Test
  void noReadableImageIsAUserError(@TempDir Path tmp) throws Exception {
    List<List<TrainRow>> ex = List.of(List.of(new TrainRow("missing.png", "y", "above", 1, 1)));
    try (DataLoader d = new DataLoader(ex, tmp, 16, false, false, 0, 1, 2, 0)) {
      UserInputException e = assertThrows(UserInputException.class, () -> d.next(1));
      assertTrue(e.getMessage().contains("could be read"), e.getMessage());
    }
  }
}
