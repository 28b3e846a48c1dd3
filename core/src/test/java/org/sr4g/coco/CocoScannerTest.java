package org.sr4g.coco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sr4g.UserInputException;
import org.sr4g.synth.CocoSynth;
import org.sr4g.testing.SharedData;

/**
 * The byte-level scanner, whole or in parts on several threads, must give exactly what the canonical Jackson parser
 * gives, and must hand to the parser every file it is not sure about (errors then read as the parser writes them).
 */
class CocoScannerTest {
  static byte[] json;

  @BeforeAll
  static void synth() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CocoSynth.builder().images(800).seed(21).build().write(out);
    json = out.toByteArray();
  }

  /** Read by the reader (scanner first), cutting parts of at least {@code minPart} bytes. */
  static CocoReader reader(int threads, int minPart) {
    CocoReader r = new CocoReader(false).parallelism(threads);
    r.minPart = minPart;
    return r;
  }

  static CocoDataset scan(byte[] bytes, int threads, int minPart) {
    return reader(threads, minPart).read(List.of(CocoSource.ofBytes("s.json", bytes)));
  }

  /** Read by the canonical parser only. */
  static CocoDataset parse(byte[] bytes) {
    CocoSource src = CocoSource.ofBytes("s.json", bytes);
    CocoColumns c = CocoJsonParser.read(src, 0, n -> {});
    c.checkSections(src);
    return c.build(List.of(src), false, true);
  }

  static void assertSameDataset(CocoDataset expected, CocoDataset actual) {
    assertArrayEquals(expected.categoryIds, actual.categoryIds);
    assertArrayEquals(expected.categoryNames, actual.categoryNames);
    assertArrayEquals(expected.images.ids(), actual.images.ids());
    assertArrayEquals(expected.images.fileNames(), actual.images.fileNames());
    assertArrayEquals(expected.images.widthText(), actual.images.widthText());
    assertArrayEquals(expected.images.heightText(), actual.images.heightText());
    assertArrayEquals(expected.images.width(), actual.images.width());
    assertArrayEquals(expected.images.height(), actual.images.height());
    assertArrayEquals(expected.images.boxStart(), actual.images.boxStart());
    assertArrayEquals(expected.boxes.annotationIds(), actual.boxes.annotationIds());
    assertArrayEquals(expected.boxes.category(), actual.boxes.category());
    assertArrayEquals(expected.boxes.x(), actual.boxes.x());
    assertArrayEquals(expected.boxes.y(), actual.boxes.y());
    assertArrayEquals(expected.boxes.w(), actual.boxes.w());
    assertArrayEquals(expected.boxes.h(), actual.boxes.h());
    assertArrayEquals(expected.boxes.crowd(), actual.boxes.crowd());
    assertArrayEquals(expected.boxes.bboxText(), actual.boxes.bboxText());
    assertArrayEquals(expected.boxes.bboxTextStart(), actual.boxes.bboxTextStart());
    assertEquals(expected.dropped, actual.dropped);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7})
  void partsOnThreadsGiveWhatTheParserGives(int threads) {
    CocoReader r = reader(threads, 64 << 10);
    CocoDataset d = r.read(List.of(CocoSource.ofBytes("s.json", json)));
    assertTrue(r.lastPath.startsWith("scanner x"), "cut into parts: " + r.lastPath);
    assertSameDataset(parse(json), d);
  }

  @Test
  void cutsAtEveryFewKilobytesStillAgree() {
    // Many cuts, some in the images section, near its end and in the categories.
    CocoReader r = reader(3, 4 << 10);
    CocoDataset d = r.read(List.of(CocoSource.ofBytes("s.json", json)));
    assertTrue(r.lastPath.startsWith("scanner x"), r.lastPath);
    assertSameDataset(parse(json), d);
  }

  @Test
  void theRealCocoSubsetReadsTheSame() throws Exception {
    for (String f : List.of("instances_train2017.json", "instances_val2017.json")) {
      Path p = SharedData.require("coco/tiny/annotations/" + f);
      byte[] bytes = java.nio.file.Files.readAllBytes(p);
      CocoReader r = reader(2, 32 << 10);
      CocoDataset d = r.read(List.of(CocoSource.of(p)));
      assertTrue(r.lastPath.startsWith("scanner"), r.lastPath);
      assertSameDataset(parse(bytes), d);
    }
  }

  @Test
  void lookalikeBoundariesInsideStringsOnlyCostARescan() {
    // Every annotation carries a nested array of bbox objects (skipped by both readers) and a string full of "},{":
    // cuts land inside them, the part before cannot confirm the next part's start, and the file is scanned again as
    // one part.
    String nested = "\"parts\": [" + "{\"bbox\": [1,2,3,4]},".repeat(40) + "{}],\"note\": \"" + "},{".repeat(20) + "\",";
    String s = new String(json, StandardCharsets.US_ASCII).replace("\"iscrowd\": 0,", nested + "\"iscrowd\": 0,");
    byte[] tricky = s.getBytes(StandardCharsets.US_ASCII);
    CocoReader r = reader(3, 16 << 10);
    CocoDataset d = r.read(List.of(CocoSource.ofBytes("s.json", tricky)));
    assertEquals("scanner", r.lastPath, "rescanned as one part");
    assertSameDataset(parse(tricky), d);
  }

  @Test
  void anErrorLateInTheFileReadsAsTheParserReportsIt() {
    String s = new String(json, StandardCharsets.US_ASCII);
    int at = s.lastIndexOf("\"bbox\": [") + "\"bbox\": [".length();
    byte[] broken = (s.substring(0, at) + "x" + s.substring(at)).getBytes(StandardCharsets.US_ASCII);
    UserInputException parser = assertThrows(UserInputException.class, () -> parse(broken));
    CocoReader r = reader(3, 64 << 10);
    UserInputException read = assertThrows(UserInputException.class, () -> r.read(List.of(CocoSource.ofBytes("s.json", broken))));
    assertEquals(parser.getMessage(), read.getMessage());
    assertEquals("parser", r.lastPath);
    assertTrue(read.getMessage().contains("malformed JSON"), read.getMessage());
  }

  @Test
  void whatTheScannerDefersIsReadByTheParser() {
    String base = "{\"images\":[{\"id\":1,\"file_name\":\"%s\",\"width\":%s,\"height\":5}],\"annotations\":["
        + "{\"id\":2,\"image_id\":1,\"category_id\":3,\"bbox\":[%s],\"iscrowd\":%s}],\"categories\":[{\"id\":3,\"name\":\"c\"}]}";
    String[][] cases = {
      {"a\\u00e9b.jpg", "5", "0,0,1,1", "0"}, // escape in a string: decoded by the scanner, same string
      {"caf\u00e9.jpg", "5", "0,0,1,1", "false"}, // UTF-8
      {"a.jpg", "5.0e0", "0,0,1,1", "0"},
      {"a.jpg", "5", "NaN,0,1,1", "0"}, // deferred: the parser drops it as non-finite
      {"a.jpg", "5", "0,0,1,1", "true"},
      {"a.jpg", "5", "1e400,0,1,1", "0"}, // infinite: dropped
      {"a.jpg", "5", "0.1234567890123456789,0,1,1", "0"}, // long significand: the slow conversion
    };
    for (String[] c : cases) {
      byte[] b = String.format(base, (Object[]) c).getBytes(StandardCharsets.UTF_8);
      assertSameDataset(parse(b), scan(b, 1, 1 << 20));
    }
  }

  /** The scanner reads digit runs eight bytes at a time: every run length, and runs that end a word, must agree. */
  @Test
  void numbersOfEveryLengthReadAsTheParserReadsThem() {
    String base = "{\"images\":[{\"id\":1,\"file_name\":\"a.jpg\",\"width\":5,\"height\":5}],\"annotations\":["
        + "{\"segmentation\":[[%s]],\"id\":2,\"image_id\":1,\"category_id\":3,\"bbox\":[%s,0,1,1],\"iscrowd\":0}],"
        + "\"categories\":[{\"id\":3,\"name\":\"c\"}]}";
    String digits = "98765432109876543210";
    for (int n = 1; n <= digits.length(); n++) {
      String run = digits.substring(0, n);
      String[] numbers = {run, "-" + run, run + "." + run, "0." + run, "-0." + run + "e" + run.substring(0, Math.min(n, 3)),
          run + "E+" + run.substring(0, Math.min(n, 2)), "1" + "0".repeat(n - 1) + ".5"};
      for (String number : numbers) {
        // Padding shifts the run across the eight-byte words.
        for (int pad = 0; pad < 8; pad++) {
          String polygon = "1".repeat(pad + 1) + ", " + number + ", " + number + "," + number;
          byte[] b = String.format(base, polygon, number).getBytes(StandardCharsets.US_ASCII);
          assertSameDataset(parse(b), scan(b, 1, 1 << 20));
        }
      }
    }
    for (String bad : new String[] {"01", "1.", ".5", "1.e5", "1e", "-", "1..2", "1.2.3", "12345678.", "123456789e+", "- 1"}) {
      byte[] b = String.format(base, "1, " + bad + ", 2", "1").getBytes(StandardCharsets.US_ASCII);
      UserInputException parser = assertThrows(UserInputException.class, () -> parse(b), bad);
      CocoReader r = reader(1, 1 << 20);
      UserInputException read = assertThrows(UserInputException.class, () -> r.read(List.of(CocoSource.ofBytes("s.json", b))), bad);
      assertEquals(parser.getMessage(), read.getMessage(), bad);
    }
  }

  @Test
  void keysTheParserWouldAcceptTwiceAreDeferred() {
    String dup = "{\"images\":[{\"id\":1,\"id\":2,\"file_name\":\"a\",\"width\":5,\"height\":5}],\"annotations\":[],"
        + "\"categories\":[]}";
    CocoReader r = reader(1, 1 << 20);
    CocoDataset d = r.read(List.of(CocoSource.ofBytes("d.json", dup.getBytes(StandardCharsets.US_ASCII))));
    assertEquals("parser", r.lastPath);
    assertEquals(2, d.imageId(0), "the parser's meaning: the last value wins");
  }

  @Test
  void guessesSectionsFromKeys() {
    assertEquals(CocoScanner.Section.ANNOTATIONS, guess("{\"segmentation\":[[1,2]],\"bbox\":[1,2,3,4]}"));
    assertEquals(CocoScanner.Section.IMAGES, guess("{\"license\":3,\"file_name\":\"x.jpg\"}"));
    assertEquals(CocoScanner.Section.CATEGORIES, guess("{\"supercategory\":\"animal\",\"id\":1,\"name\":\"cat\"}"));
    assertEquals(null, guess("{\"a\":1}"));
    assertEquals(null, guess("{\"bbox\":[1,2"), "cut short");
  }

  private static CocoScanner.Section guess(String element) {
    byte[] b = java.util.Arrays.copyOf(element.getBytes(StandardCharsets.US_ASCII), element.length() + 1);
    return CocoScanner.guessSection(b, element.length());
  }

  @Test
  void numbersConvertExactlyAsParseDouble() {
    java.util.Random rnd = new java.util.Random(5);
    for (int i = 0; i < 20000; i++) {
      String t;
      switch (i % 4) {
        case 0: t = String.format(java.util.Locale.ROOT, "%.2f", rnd.nextDouble() * 1000); break;
        case 1: t = Long.toString(rnd.nextLong() % 100000); break;
        case 2: t = Double.toString(rnd.nextGaussian() * Math.pow(10, rnd.nextInt(40) - 20)); break;
        default: t = (rnd.nextBoolean() ? "-" : "") + rnd.nextInt(1000) + "." + rnd.nextInt(1000000) + "e" + (rnd.nextInt(50) - 25);
      }
      byte[] b = t.getBytes(StandardCharsets.US_ASCII);
      assertEquals(Double.doubleToRawLongBits(Double.parseDouble(t)), Double.doubleToRawLongBits(JsonNumbers.parse(b, 0, b.length)), t);
    }
    byte[] z = "-0.0".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(JsonNumbers.parse(z, 0, z.length)));
  }

  @Test
  void planCutsAtElementStarts() throws Exception {
    ScanPlan p = ScanPlan.of(CocoSource.ofBytes("s.json", json), 4, 64 << 10);
    assertNotNull(p);
    assertTrue(p.parts() > 4, "parts: " + p.parts());
    for (int k = 1; k < p.parts(); k++) assertEquals('{', json[(int) p.start[k]], "part " + k);
  }
}
