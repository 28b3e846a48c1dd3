package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;

/** Malformed input is an error naming file, place and problem; never a silent skip. */
class BadInputTest {
  @TempDir Path dir;

  private PromptSet prompts() {
    return TestFiles.prompts(dir, TestFiles.prompt(0, 2, "cat", "dog", "to the left of"));
  }

  private String jsonlError(String content) {
    Path f = TestFiles.write(dir, "d.jsonl", content);
    return assertThrows(UserInputException.class,
        () -> DetectionReaders.readJsonl(f, prompts(), new OutcomeJudge(0.1, false), 0)).getMessage();
  }

  private String visorError(String content) {
    Path f = TestFiles.write(dir, "r.json", content);
    return assertThrows(UserInputException.class, () -> DetectionReaders.readVisor(f, prompts(), 0)).getMessage();
  }

  private static void has(String message, String... parts) {
    for (String p : parts) assertTrue(message.contains(p), "'" + message + "' should contain '" + p + "'");
  }

  static final String OK = "{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10, \"detections\": []}\n";

  @Test
  void unknownPromptId() {
    has(jsonlError(OK + "{\"image\": \"5_0.png\", \"width\": 10, \"height\": 10, \"detections\": []}\n"),
        "d.jsonl:2", "unknown prompt id 5");
    has(visorError("{\"9_0\": {\"classes\": [], \"sra\": 0}}"), "r.json", "\"9_0\"", "unknown prompt id 9");
  }

  @Test
  void duplicateImageKeys() {
    has(jsonlError(OK + OK), "d.jsonl:2", "duplicate image \"0_0.png\"", "first on line 1");
    has(visorError("{\"0_0\": {\"classes\": [], \"sra\": 0},\n\"0_0\": {\"classes\": [], \"sra\": 1}}"), "r.json",
        "line 2", "Duplicate field '0_0'");
  }

  @Test
  void nanAndInfiniteBoxes() {
    has(jsonlError("{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10, \"detections\": [{\"label\": \"cat\", "
        + "\"score\": 0.5, \"box\": [NaN, 0, 1, 1]}]}\n"), "d.jsonl:1 detection 0", "'box' is not finite");
    has(jsonlError("{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10, \"detections\": [{\"label\": \"cat\", "
        + "\"score\": 0.5, \"box\": [0, 0, Infinity, 1]}]}\n"), "detection 0", "not finite");
  }

  @Test
  void formatDetectionSurvivesABadValue() {
    Path f = TestFiles.write(dir, "d.jsonl", "{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10, \"detections\": "
        + "[{\"label\": \"cat\", \"score\": 0.5, \"box\": [NaN, 0, 1, 1]}]}\n");
    assertEquals(DetectionReaders.JSONL, DetectionReaders.detectFormat(f));
    assertEquals(DetectionReaders.VISOR, DetectionReaders.detectFormat(TestFiles.write(dir, "r.json",
        "{\"0_0\": {\"classes\": [], \"sra\": 0}}")));
    assertEquals(DetectionReaders.VISOR, DetectionReaders.detectFormat(TestFiles.write(dir, "r2.json",
        "{\n  \"0_0\": {\"classes\": [], \"sra\": 0}\n}")));
  }

  @Test
  void negativeSizes() {
    has(jsonlError("{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10, \"detections\": [{\"label\": \"cat\", "
        + "\"score\": 0.5, \"box\": [5, 0, 1, 1]}]}\n"), "d.jsonl:1 detection 0", "negative box size");
    has(jsonlError("{\"image\": \"0_0.png\", \"width\": -10, \"height\": 10, \"detections\": []}\n"), "d.jsonl:1",
        "image size must be positive");
  }

  @Test
  void missingFields() {
    has(jsonlError("{\"width\": 10, \"height\": 10, \"detections\": []}\n"), "d.jsonl:1", "missing field 'image'");
    has(jsonlError("{\"image\": \"0_0.png\", \"height\": 10, \"detections\": []}\n"), "missing field 'width'");
    has(jsonlError("{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10}\n"), "missing field 'detections'");
    has(jsonlError("{\"image\": \"0_0.png\", \"width\": 10, \"height\": 10, \"detections\": [{\"label\": \"cat\", "
        + "\"box\": [0, 0, 1, 1]}]}\n"), "detection 0", "missing field 'score'");
    has(visorError("{\"0_0\": {\"classes\": []}}"), "\"0_0\"", "missing field 'sra'");
    has(visorError("{\"0_0\": {\"sra\": 1}}"), "missing field 'classes'");
    String m = assertThrows(UserInputException.class, () -> PromptReader.read(TestFiles.write(dir, "p.jsonl",
        "{\"unique_id\": 1, \"num_objects\": 2, \"obj_1_attributes\": [\"cat\"], \"rel_type\": \"above\"}\n"),
        Set.of())).getMessage();
    has(m, "p.jsonl:1", "obj_2_attributes");
  }

  @Test
  void badKeysAndIndices() {
    has(jsonlError("{\"image\": \"cat.png\", \"width\": 10, \"height\": 10, \"detections\": []}\n"),
        "\"<unique_id>_<k>\"");
    Path f = TestFiles.write(dir, "d.jsonl", "{\"image\": \"0_4.png\", \"width\": 10, \"height\": 10, \"detections\": []}\n");
    has(assertThrows(UserInputException.class,
        () -> DetectionReaders.readJsonl(f, prompts(), new OutcomeJudge(0.1, false), 4)).getMessage(),
        "image index 4 outside 0..3");
    has(jsonlError("{\"image\": \"0_0.png\", \"prompt_id\": 3, \"width\": 10, \"height\": 10, \"detections\": []}\n"),
        "prompt_id 3 disagrees");
  }

  @Test
  void badPromptsAndTriplets() {
    has(assertThrows(UserInputException.class, () -> PromptReader.read(TestFiles.write(dir, "p.json", "["
        + TestFiles.prompt(0, 2, "cat", "dog", "beside") + "]"), Set.of())).getMessage(), "p.json element 0",
        "unknown relation 'beside'");
    has(assertThrows(UserInputException.class, () -> PromptReader.read(TestFiles.write(dir, "p.json", "["
        + TestFiles.prompt(0, 2, "cat", "dog", "above") + "," + TestFiles.prompt(0, 2, "cat", "dog", "below") + "]"),
        Set.of())).getMessage(), "element 1", "duplicate unique_id 0");
    has(assertThrows(UserInputException.class, () -> TripletCounts.read(TestFiles.write(dir, "t.csv",
        "subject,relation,object,count\ncat,left of,dog,x\n"))).getMessage(), "t.csv:2", "not an integer");
  }
}
