package org.sr4g.coco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sr4g.UserInputException;
import org.sr4g.synth.CocoSynth;

/** Reading a file with several parsers at once must give exactly what one parser gives, errors included. */
class ParallelReadTest {
  static byte[] json;

  @BeforeAll
  static void synth() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CocoSynth.builder().images(800).seed(21).build().write(out);
    json = out.toByteArray();
  }

  static CocoDataset read(byte[] bytes, int threads) {
    CocoReader r = new CocoReader(false).parallelism(threads);
    r.minParallelBytes = 0; // split even this small file
    return r.read(List.of(CocoSource.ofBytes("s.json", bytes)));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 7})
  void sameDatasetAsASerialRead(int threads) throws Exception {
    long[] cuts = AnnotationSplitter.cuts(new ByteArrayInputStream(json), json.length, threads);
    assertEquals(threads - 1, cuts.length, "the file really is split");
    for (long c : cuts) assertEquals(',', json[(int) c]);
    CocoDataset serial = read(json, 1), parallel = read(json, threads);
    assertEquals(serial.imageCount(), parallel.imageCount());
    assertEquals(serial.boxCount(), parallel.boxCount());
    assertArrayEquals(serial.imageIds, parallel.imageIds);
    assertArrayEquals(serial.imageStart, parallel.imageStart);
    assertArrayEquals(serial.annotationIds, parallel.annotationIds);
    assertArrayEquals(serial.categoryIndex, parallel.categoryIndex);
    assertArrayEquals(serial.x, parallel.x);
    assertArrayEquals(serial.h, parallel.h);
    assertArrayEquals(serial.crowd, parallel.crowd);
    assertArrayEquals(serial.bboxText, parallel.bboxText);
    assertArrayEquals(serial.categoryNames, parallel.categoryNames);
  }

  @Test
  void anErrorLateInTheFileIsReportedAsASerialReadReportsIt() {
    String s = new String(json, StandardCharsets.US_ASCII);
    int at = s.lastIndexOf("\"bbox\":[") + "\"bbox\":[".length();
    byte[] broken = (s.substring(0, at) + "x" + s.substring(at)).getBytes(StandardCharsets.US_ASCII);
    UserInputException serial = assertThrows(UserInputException.class, () -> read(broken, 1));
    UserInputException parallel = assertThrows(UserInputException.class, () -> read(broken, 3));
    assertEquals(serial.getMessage(), parallel.getMessage());
    assertTrue(serial.getMessage().contains("malformed JSON"), serial.getMessage());
  }

  @Test
  void splitterIgnoresLookalikesInStringsAndNestedKeys() throws Exception {
    String tricky =
        "{\"info\":{\"annotations\":[1,2,3]},\"note\":\"\\\"annotations\\\":[,,,]\",\"images\":[],"
            + "\"annotations\":[{\"a\":[1,2]},{\"b\":\"x,y\"},{\"c\":3},{\"d\":4}],\"categories\":[]}";
    byte[] b = tricky.getBytes(StandardCharsets.US_ASCII);
    long[] cuts = AnnotationSplitter.cuts(new ByteArrayInputStream(b), b.length, 2);
    assertEquals(1, cuts.length);
    int start = tricky.indexOf("\"annotations\":[{");
    assertTrue(cuts[0] > start, "cut inside the real annotations array");
    // The cut separates two whole elements.
    String before = tricky.substring(0, (int) cuts[0]);
    assertTrue(before.endsWith("}"), before);
    assertEquals('{', tricky.charAt((int) cuts[0] + 1));
  }
}
