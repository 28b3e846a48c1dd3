package org.sr4g.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoCategories;

class CocoSynthTest {
  private static final int IMAGES = 5000;
  private static byte[] bytes;
  private static CocoSynth.Stats stats;
  private static JsonNode root;

  @BeforeAll
  static void generate() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    stats = CocoSynth.builder().images(IMAGES).seed(42).build().write(out);
    bytes = out.toByteArray();
    root = new ObjectMapper().readTree(bytes);
  }

  private static byte[] generate(int images, long seed) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CocoSynth.builder().images(images).seed(seed).build().write(out);
    return out.toByteArray();
  }

  @Test
  void sameSeedSameBytesDifferentSeedDifferentBytes() throws IOException {
    assertArrayEquals(bytes, generate(IMAGES, 42));
    byte[] other = generate(IMAGES, 43);
    assertFalse(java.util.Arrays.equals(bytes, other));
    assertFalse(java.util.Arrays.equals(generate(300, 0), generate(300, 1)));
  }

  /** Pins the exact output, so an accidental change of the generator (or a JDK-dependent number) shows up. */
  @Test
  void outputIsPinned() throws Exception {
    byte[] small = generate(50, 7);
    String sha = hex(MessageDigest.getInstance("SHA-256").digest(small));
    assertEquals(PINNED_SHA256_50_IMAGES_SEED_7, sha, "generator output changed; if intended, update the pin");
  }

  static final String PINNED_SHA256_50_IMAGES_SEED_7 =
      "ce9bfd469d4431a6740511cdc7c20fa952883f4f282eb24088787d0e2a79908a";

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }

  @Test
  void statsMatchTheDocument() {
    assertEquals(IMAGES, stats.images());
    assertEquals(bytes.length, stats.bytes());
    assertEquals(stats.annotations(), root.get("annotations").size());
    assertEquals(IMAGES, root.get("images").size());
  }

  @Test
  void topLevelFieldsInCocoOrder() {
    assertEquals(List.of("info", "licenses", "images", "annotations", "categories"), names(root));
    assertEquals(
        List.of("license", "file_name", "coco_url", "height", "width", "date_captured", "flickr_url", "id"),
        names(root.get("images").get(0)));
    assertEquals(
        List.of("segmentation", "area", "iscrowd", "image_id", "bbox", "category_id", "id"),
        names(root.get("annotations").get(0)));
    assertEquals(List.of("supercategory", "id", "name"), names(root.get("categories").get(0)));
    assertEquals(8, root.get("licenses").size());
  }

  private static List<String> names(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  @Test
  void categoriesAreCocos() {
    JsonNode cats = root.get("categories");
    assertEquals(80, cats.size());
    for (int i = 0; i < 80; i++) {
      var c = CocoCategories.all().get(i);
      assertEquals(c.id(), cats.get(i).get("id").asInt());
      assertEquals(c.name(), cats.get(i).get("name").asText());
      assertEquals(c.supercategory(), cats.get(i).get("supercategory").asText());
    }
  }

  @Test
  void imagesHaveUniqueIdsAndCocoLikeFields() {
    Set<Long> ids = new HashSet<>();
    Map<String, Integer> sizes = new HashMap<>();
    long maxId = 0;
    for (JsonNode im : root.get("images")) {
      long id = im.get("id").asLong();
      assertTrue(ids.add(id), "duplicate image id " + id);
      maxId = Math.max(maxId, id);
      assertEquals(String.format("%012d.jpg", id), im.get("file_name").asText());
      assertTrue(im.get("coco_url").asText().endsWith(im.get("file_name").asText()));
      int w = im.get("width").asInt();
      int h = im.get("height").asInt();
      assertTrue(w >= 240 && w <= 640 && h >= 240 && h <= 640, w + "x" + h);
      assertTrue(im.get("date_captured").asText().matches("2013-11-\\d\\d \\d\\d:\\d\\d:\\d\\d"));
      int lic = im.get("license").asInt();
      assertTrue(lic >= 1 && lic <= 8);
      sizes.merge(w + "x" + h, 1, Integer::sum);
    }
    assertTrue(maxId > 3L * IMAGES, "ids are scattered, not 1..N: max " + maxId);
    String top = sizes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    assertEquals("640x480", top);
  }

  @Test
  void annotationsAreConsistent() {
    Map<Long, int[]> imageSize = new HashMap<>();
    for (JsonNode im : root.get("images")) {
      imageSize.put(im.get("id").asLong(), new int[] {im.get("width").asInt(), im.get("height").asInt()});
    }
    Set<Integer> categoryIds = new HashSet<>();
    for (JsonNode c : root.get("categories")) categoryIds.add(c.get("id").asInt());

    Set<Long> annIds = new HashSet<>();
    Map<Long, Integer> perImage = new HashMap<>();
    Map<Integer, Integer> perCategory = new HashMap<>();
    long crowd = 0;
    long points = 0;
    long polygons = 0;
    for (JsonNode a : root.get("annotations")) {
      long id = a.get("id").asLong();
      assertTrue(annIds.add(id), "duplicate annotation id " + id);
      long imageId = a.get("image_id").asLong();
      int[] wh = imageSize.get(imageId);
      assertTrue(wh != null, "annotation " + id + " refers to a missing image " + imageId);
      int cat = a.get("category_id").asInt();
      assertTrue(categoryIds.contains(cat), "annotation " + id + " has unknown category " + cat);
      perImage.merge(imageId, 1, Integer::sum);
      perCategory.merge(cat, 1, Integer::sum);

      JsonNode bb = a.get("bbox");
      assertEquals(4, bb.size());
      double x = bb.get(0).asDouble();
      double y = bb.get(1).asDouble();
      double w = bb.get(2).asDouble();
      double h = bb.get(3).asDouble();
      assertTrue(w > 0 && h > 0, "empty bbox in " + id);
      assertTrue(x >= 0 && y >= 0 && x + w <= wh[0] + 1e-9 && y + h <= wh[1] + 1e-9, "bbox outside image: " + a);
      double area = a.get("area").asDouble();
      assertTrue(area > 0 && area <= w * h + 1e-6, "area " + area + " vs bbox " + w * h + " in " + id);

      JsonNode seg = a.get("segmentation");
      if (a.get("iscrowd").asInt() == 1) {
        crowd++;
        assertTrue(seg.isObject());
        assertEquals(List.of(wh[1], wh[0]), List.of(seg.get("size").get(0).asInt(), seg.get("size").get(1).asInt()));
        long sum = 0;
        long ones = 0;
        int k = 0;
        for (JsonNode c : seg.get("counts")) {
          assertTrue(c.asLong() >= 0);
          sum += c.asLong();
          if (k++ % 2 == 1) ones += c.asLong();
        }
        assertEquals((long) wh[0] * wh[1], sum, "RLE counts cover the image");
        assertEquals(ones, a.get("area").asLong(), "crowd area is the pixel count");
      } else {
        assertEquals(0, a.get("iscrowd").asInt());
        assertTrue(seg.isArray() && seg.size() >= 1);
        double minX = Double.MAX_VALUE, minY = Double.MAX_VALUE, maxX = -1, maxY = -1;
        for (JsonNode poly : seg) {
          assertTrue(poly.size() >= 8 && poly.size() % 2 == 0);
          points += poly.size() / 2;
          for (int i = 0; i < poly.size(); i += 2) {
            minX = Math.min(minX, poly.get(i).asDouble());
            maxX = Math.max(maxX, poly.get(i).asDouble());
            minY = Math.min(minY, poly.get(i + 1).asDouble());
            maxY = Math.max(maxY, poly.get(i + 1).asDouble());
          }
        }
        polygons++;
        assertEquals(minX, x, 1e-6, "bbox is tight around the polygon: " + id);
        assertEquals(minY, y, 1e-6);
        assertEquals(maxX - minX, w, 0.0101);
        assertEquals(maxY - minY, h, 0.0101);
      }
    }
    int n = root.get("annotations").size();
    double crowdFraction = (double) crowd / n;
    assertTrue(crowdFraction > 0.005 && crowdFraction < 0.02, "crowd fraction " + crowdFraction);
    assertEquals(crowd, stats.crowdAnnotations());
    double mean = (double) n / IMAGES;
    assertTrue(mean >= 6.5 && mean <= 8.2, "mean objects per image " + mean);
    long empty = IMAGES - perImage.size();
    assertEquals(empty, stats.emptyImages());
    assertTrue(empty > 0 && empty < 0.03 * IMAGES, "images without annotations: " + empty);
    assertTrue(perImage.values().stream().anyMatch(c -> c >= 50), "some crowded images with 50+ objects");
    int top = perCategory.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    assertEquals(1, top, "person is the most frequent category");
    double person = perCategory.get(1) / (double) n;
    assertTrue(person > 0.25 && person < 0.36, "person share " + person);
    double meanPoints = (double) points / polygons;
    assertTrue(meanPoints >= 15 && meanPoints <= 35, "mean polygon points " + meanPoints);
  }

  @Test
  void numbersHaveAtMostTwoDecimalsInBboxesAndPolygons() {
    String text = new String(bytes, java.nio.charset.StandardCharsets.US_ASCII);
    assertFalse(text.matches("(?s).*\"bbox\": \\[[^\\]]*\\d\\.\\d{3}.*"), "bbox with 3+ decimals");
    assertFalse(text.contains("E"), "no exponent notation");
    assertFalse(text.contains("NaN") || text.contains("Infinity"));
  }

  @Test
  void writeToRenamesAtomicallyAndMatchesStream(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("synth.json");
    Files.writeString(file, "old");
    CocoSynth.Stats s = CocoSynth.builder().images(IMAGES).seed(42).build().writeTo(file);
    assertArrayEquals(bytes, Files.readAllBytes(file));
    assertEquals(stats, s);
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(file), files.toList(), "no temporary file left behind");
    }
  }

  @Test
  void badOptionsAreUserErrors(@TempDir Path dir) {
    UserInputException e = assertThrows(UserInputException.class, () -> CocoSynth.builder().images(0).build());
    assertTrue(e.getMessage().contains("images"), e.getMessage());
    assertThrows(UserInputException.class, () -> CocoSynth.builder().images(-5).build());
    UserInputException d =
        assertThrows(
            UserInputException.class,
            () -> CocoSynth.builder().images(3).build().writeTo(dir.resolve("missing/out.json")));
    assertTrue(d.getMessage().contains("does not exist"), d.getMessage());
    assertThrows(UserInputException.class, () -> CocoSynth.builder().images(3).build().writeTo(dir));
  }

  @Test
  void oneImageWorks() throws IOException {
    JsonNode r = new ObjectMapper().readTree(generate(1, 0));
    assertEquals(1, r.get("images").size());
    for (Iterator<JsonNode> it = r.get("annotations").elements(); it.hasNext(); ) {
      assertEquals(r.get("images").get(0).get("id"), it.next().get("image_id"));
    }
  }
}
