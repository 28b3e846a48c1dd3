package org.sr4g.coco;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.List;
import org.sr4g.UserInputException;

/**
 * The fast COCO scanner against its oracle, the Jackson parser: for any input the scanner either defers or returns
 * exactly the parser's records; and the whole reader (scanner in small parts on three threads, with its fallbacks)
 * returns the parser's dataset or the parser's error message, whatever the cuts. In package {@code org.sr4g.coco}
 * to reach the package-private readers.
 */
class CocoScanFuzzTest {
  @FuzzTest
  void fuzz(byte[] data) {
    boolean lenient = data.length > 0 && (data[0] & 1) == 1;
    int minPart = 16 + (data.length > 1 ? (data[1] & 0xff) * 4 : 0);
    CocoSource src = CocoSource.ofBytes("fuzz.json", data);

    CocoColumns parsed = null;
    String parseError = null;
    try {
      parsed = CocoJsonParser.read(src, 0, n -> {});
    } catch (UserInputException e) {
      parseError = e.getMessage();
    }
    byte[] part = Arrays.copyOf(data, data.length + 1);
    try {
      CocoColumns scanned = CocoScanner.scan(part, data.length, null, null, 0).columns();
      if (parsed == null) throw new AssertionError("the scanner accepted what the parser refuses: " + parseError);
      sameColumns(parsed, scanned);
    } catch (CocoScanner.Defer | CocoScanner.Resync deferred) {
      // allowed: the reader then uses the parser
    }

    String expected, actual;
    try {
      expected = describe(oracleOnly(src, lenient));
    } catch (UserInputException e) {
      expected = "error: " + e.getMessage();
    }
    CocoReader reader = new CocoReader(lenient).parallelism(3);
    reader.minPart = minPart;
    try {
      actual = describe(reader.read(List.of(src)));
    } catch (UserInputException e) {
      actual = "error: " + e.getMessage();
    }
    if (!expected.equals(actual)) {
      throw new AssertionError("reader (" + reader.lastPath + ") and parser disagree:\n" + actual + "\nvs\n" + expected);
    }
  }

  private static CocoDataset oracleOnly(CocoSource src, boolean lenient) {
    CocoColumns c = CocoJsonParser.read(src, 0, n -> {});
    c.checkSections(src);
    return c.build(List.of(src), lenient, true);
  }

  /** Every column of a dataset as text: equal text, equal datasets. */
  private static String describe(CocoDataset d) {
    return Arrays.toString(d.categoryIds) + Arrays.toString(d.categoryNames) + Arrays.toString(d.images.ids())
        + Arrays.toString(d.images.fileNames()) + Arrays.toString(d.images.widthText())
        + Arrays.toString(d.images.heightText()) + Arrays.toString(d.images.width())
        + Arrays.toString(d.images.height()) + Arrays.toString(d.images.boxStart())
        + Arrays.toString(d.boxes.annotationIds()) + Arrays.toString(d.boxes.category()) + Arrays.toString(d.boxes.x())
        + Arrays.toString(d.boxes.y()) + Arrays.toString(d.boxes.w()) + Arrays.toString(d.boxes.h())
        + Arrays.toString(d.boxes.crowd()) + Arrays.toString(d.boxes.bboxText())
        + Arrays.toString(d.boxes.bboxTextStart()) + d.dropped;
  }

  private static void sameColumns(CocoColumns p, CocoColumns s) {
    boolean same = p.images == s.images && p.anns == s.anns && p.categories.equals(s.categories)
        && p.dropped.equals(s.dropped) && p.sawImages == s.sawImages && p.sawAnnotations == s.sawAnnotations
        && p.sawCategories == s.sawCategories
        && Arrays.equals(p.imageIds, 0, p.images, s.imageIds, 0, s.images)
        && Arrays.equals(p.fileNames, 0, p.images, s.fileNames, 0, s.images)
        && Arrays.equals(p.widthText, 0, p.images, s.widthText, 0, s.images)
        && Arrays.equals(p.heightText, 0, p.images, s.heightText, 0, s.images)
        && Arrays.equals(p.imageW, 0, p.images, s.imageW, 0, s.images)
        && Arrays.equals(p.imageH, 0, p.images, s.imageH, 0, s.images)
        && Arrays.equals(p.annIds, 0, p.anns, s.annIds, 0, s.anns)
        && Arrays.equals(p.annImage, 0, p.anns, s.annImage, 0, s.anns)
        && Arrays.equals(p.annCategory, 0, p.anns, s.annCategory, 0, s.anns)
        && Arrays.equals(p.ax, 0, p.anns, s.ax, 0, s.anns) && Arrays.equals(p.ay, 0, p.anns, s.ay, 0, s.anns)
        && Arrays.equals(p.aw, 0, p.anns, s.aw, 0, s.anns) && Arrays.equals(p.ah, 0, p.anns, s.ah, 0, s.anns)
        && Arrays.equals(p.annCrowd, 0, p.anns, s.annCrowd, 0, s.anns)
        && Arrays.equals(p.textStart, 0, p.anns + 1, s.textStart, 0, s.anns + 1)
        && Arrays.equals(p.text, 0, p.textStart[p.anns], s.text, 0, s.textStart[s.anns]);
    if (!same) throw new AssertionError("the scanner and the parser read different records");
  }
}
