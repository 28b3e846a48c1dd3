package org.sr4g.coco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.testing.SharedData;

class CocoReaderTest {
  static final String CATS = "\"categories\":[{\"supercategory\":\"animal\",\"id\":17,\"name\":\"cat\"},{\"id\":18,\"name\":\"dog\"}]";
  static final String IMAGES = "\"images\":[{\"id\":7,\"file_name\":\"7.jpg\",\"width\":640,\"height\":480},{\"id\":3,\"file_name\":\"3.jpg\",\"width\":100,\"height\":100}]";

  static CocoDataset read(String json) {
    return read(json, false);
  }

  static CocoDataset read(String json, boolean lenient) {
    return new CocoReader(lenient).read(List.of(CocoSource.ofBytes("t.json", json.getBytes(StandardCharsets.UTF_8))));
  }

  static String ann(long id, long image, int cat, String bbox) {
    return "{\"segmentation\":[[1,2,3,4,5,6]],\"area\":10.5,\"iscrowd\":0,\"image_id\":" + image + ",\"bbox\":" + bbox
        + ",\"category_id\":" + cat + ",\"id\":" + id + "}";
  }

  static String file(String... anns) {
    return "{\"info\":{\"year\":2017}," + IMAGES + ",\"annotations\":[" + String.join(",", anns) + "]," + CATS + "}";
  }

  @Test
  void readsSortsAndKeepsBboxTextVerbatim() {
    CocoDataset d =
        read(file(ann(12, 7, 18, "[1.50, 2, 3e1, 4.25]"), ann(5, 7, 17, "[0,0,10,10]"), ann(9, 3, 17, "[ 1 , 1 , 2 , 2 ]")));
    assertEquals(2, d.imageCount());
    assertEquals(3, d.imageId(0), "images sorted by id");
    assertEquals(7, d.imageId(1));
    assertEquals(1, d.endBox(0) - d.firstBox(0));
    assertEquals(5, d.annotationId(d.firstBox(1)), "boxes sorted by annotation id within an image");
    assertEquals(12, d.annotationId(d.firstBox(1) + 1));
    int b = d.firstBox(1) + 1;
    assertEquals("[1.50,2,3e1,4.25]", d.bboxJson(b), "numbers verbatim, whitespace removed");
    assertEquals(30f, d.w(b));
    assertEquals("dog", d.categoryName(d.boxCategory(b)));
    assertEquals("640", d.widthText(1));
  }

  @Test
  void badBoxesAreDroppedAndCounted() {
    CocoDataset d =
        read(file(ann(1, 7, 17, "[0,0,0,10]"), ann(2, 7, 17, "[0,0,10,-1]"), ann(3, 7, 17, "[NaN,0,10,10]"),
            ann(4, 7, 17, "[0,0,1e39,10]"), ann(5, 7, 17, "[0,0,10,10]")));
    assertEquals(1, d.boxCount());
    assertEquals(2L, d.dropped().get(DropReason.NON_POSITIVE_SIZE));
    assertEquals(2L, d.dropped().get(DropReason.NON_FINITE), "NaN, and 1e39 which overflows float32");
  }

  @Test
  void malformedJsonNamesFileLineAndColumn() {
    UserInputException e = assertThrows(UserInputException.class, () -> read("{\"images\":[\n{\"id\":1,,}]}"));
    assertTrue(e.getMessage().startsWith("t.json: line 2, column "), e.getMessage());
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
  }

  @Test
  void truncatedFileIsAnError() {
    String full = file(ann(1, 7, 17, "[0,0,10,10]"));
    UserInputException e = assertThrows(UserInputException.class, () -> read(full.substring(0, full.length() - 30)));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
  }

  @Test
  void unknownImageOrCategoryIsAnErrorUnlessLenient() {
    String f = file(ann(1, 99, 17, "[0,0,10,10]"), ann(2, 7, 55, "[0,0,10,10]"), ann(3, 7, 17, "[0,0,10,10]"));
    UserInputException e = assertThrows(UserInputException.class, () -> read(f));
    assertTrue(e.getMessage().contains("annotation id 1 refers to unknown image_id 99"), e.getMessage());
    CocoDataset d = read(f, true);
    assertEquals(1, d.boxCount());
    assertEquals(1L, d.dropped().get(DropReason.UNKNOWN_IMAGE));
    assertEquals(1L, d.dropped().get(DropReason.UNKNOWN_CATEGORY));
  }

  @Test
  void missingAndMistypedFieldsAreErrorsWithTheRecordId() {
    String noBbox = "{\"iscrowd\":0,\"image_id\":7,\"category_id\":17,\"id\":44}";
    assertMessage(file(noBbox), "annotation id 44 has no \"bbox\"");
    assertMessage(file(ann(45, 7, 17, "[0,0,10]")), "has 3 numbers, expected 4");
    assertMessage(file(ann(46, 7, 17, "[0,0,\"10\",10]")), "\"bbox\" must hold 4 numbers");
    assertMessage(file("{\"image_id\":\"7\",\"id\":47}"), "line 1, column 169: annotation: \"image_id\" must be an integer");
    assertMessage("{\"images\":[],\"annotations\":[]}", "missing top-level categories");
    assertMessage("[]", "expected a JSON object");
    assertMessage(
        "{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":0,\"height\":5}],\"annotations\":[]," + CATS + "}",
        "image id 1 has invalid size 0 x 5");
  }

  @Test
  void duplicateIdsAreErrors() {
    assertMessage(file(ann(1, 7, 17, "[0,0,10,10]"), ann(1, 3, 17, "[0,0,10,10]")), "annotation id 1 appears twice");
    String twoImages = "{\"images\":[{\"id\":1,\"file_name\":\"a\",\"width\":5,\"height\":5},{\"id\":1,\"file_name\":\"b\",\"width\":5,\"height\":5}],\"annotations\":[]," + CATS + "}";
    assertMessage(twoImages, "image id 1 appears twice");
    String clash = "{\"images\":[],\"annotations\":[],\"categories\":[{\"id\":1,\"name\":\"a\"},{\"id\":1,\"name\":\"b\"}]}";
    assertMessage(clash, "category id 1 is named \"b\" here but \"a\" earlier");
  }

  /** Ids are looked up in a direct table when dense and by binary search when sparse: both must say the same. */
  @Test
  void denseAndSparseIdsResolveAndFailAlike() {
    // Dense (image ids 3 and 7): an id between them, below and above them is unknown.
    for (long unknown : new long[] {5, 2, 8, -1}) {
      UserInputException e = assertThrows(UserInputException.class, () -> read(file(ann(1, unknown, 17, "[0,0,10,10]"))));
      assertTrue(e.getMessage().contains("refers to unknown image_id " + unknown), e.getMessage());
    }
    UserInputException cat = assertThrows(UserInputException.class, () -> read(file(ann(1, 7, 16, "[0,0,10,10]"))));
    assertTrue(cat.getMessage().contains("refers to unknown category_id 16"), cat.getMessage());
    // Sparse: image ids 3 and 7 * 10^12, annotation ids far apart.
    long far = 7_000_000_000_000L;
    String sparse = file(ann(1_000_000_000_000L, 3, 17, "[0,0,10,10]"), ann(2, 7, 18, "[0,0,10,10]"))
        .replace("\"id\":7,", "\"id\":" + far + ",").replace("\"image_id\":7,", "\"image_id\":" + far + ",");
    CocoDataset d = read(sparse);
    assertEquals(3, d.imageId(0));
    assertEquals(far, d.imageId(1));
    assertEquals(1_000_000_000_000L, d.annotationId(d.firstBox(0)));
    assertEquals(2, d.annotationId(d.firstBox(1)));
    String sparseUnknown = sparse.replace("\"image_id\":3,", "\"image_id\":4,");
    UserInputException e = assertThrows(UserInputException.class, () -> read(sparseUnknown));
    assertTrue(e.getMessage().contains("refers to unknown image_id 4"), e.getMessage());
    String sparseTwice = file(ann(1_000_000_000_000L, 3, 17, "[0,0,10,10]"), ann(1_000_000_000_000L, 7, 18, "[0,0,10,10]"),
        ann(5, 7, 17, "[0,0,10,10]"));
    assertMessage(sparseTwice, "annotation id 1000000000000 appears twice");
  }

  @Test
  void missingFileIsAClearError(@TempDir Path tmp) {
    UserInputException e = assertThrows(UserInputException.class, () -> CocoSource.of(tmp.resolve("nope.json")));
    assertEquals(tmp.resolve("nope.json") + ": no such file", e.getMessage());
  }

  @Test
  void readsTheRealCocoSubset() throws Exception {
    Path train = SharedData.require("coco/tiny/annotations/instances_train2017.json");
    CocoDataset d = new CocoReader(false).read(List.of(CocoSource.of(train)));
    assertEquals(80, d.imageCount());
    assertEquals(80, d.categoryCount());
    // The shared README: 699 non-crowd boxes; the file has 705 annotations of which 6 are crowd.
    assertEquals(705, d.boxCount());
    int crowd = 0;
    for (int b = 0; b < d.boxCount(); b++) if (d.crowd(b)) crowd++;
    assertEquals(6, crowd);
    assertEquals("hair drier", d.categoryName(d.categoryIndexOfId(89)));
    assertTrue(Files.size(train) > 0);
  }

  private static void assertMessage(String json, String expected) {
    UserInputException e = assertThrows(UserInputException.class, () -> read(json));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(e.getMessage().startsWith("t.json"), e.getMessage());
  }
}
