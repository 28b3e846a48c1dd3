package org.sr4g.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.UserInputException;
import org.sr4g.evaluation.TripletCounts;
import org.sr4g.relations.Relation;

/** Issue 11 items 4, 6 and 10: odd names in COCO files, end to end through generate. */
class HostileCocoTest {
  @TempDir Path tmp;

  private static String coco(String catA, String catB, String imageId) {
    return "{\"images\":[{\"id\":" + imageId + ",\"width\":100,\"height\":100,\"file_name\":\"a.jpg\"}],"
        + "\"categories\":[{\"id\":1,\"name\":\"" + catA + "\"},{\"id\":2,\"name\":\"" + catB + "\"}],"
        + "\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,10,10]},"
        + "{\"id\":2,\"image_id\":1,\"category_id\":2,\"bbox\":[60,60,30,30]}]}";
  }

  private GenerateResult run(String json) throws Exception {
    Path in = Files.writeString(tmp.resolve("in.json"), json);
    return GeneratorFixture.generate(GenerateOptions.fromCli(true, "all", false, 0f, 0, 0, 0.5, null, 1, false),
        List.of(in), List.of(in), tmp.resolve("out"));
  }

  /** 20,000 categories: the dense triplet tables would need ~400 GB; one line, no output, instead of a heap error. */
  @Test
  void tensOfThousandsOfCategoriesAreOneLineNotAnOutOfMemoryError() {
    StringBuilder cats = new StringBuilder();
    for (int i = 1; i <= 20_000; i++) cats.append(i > 1 ? "," : "").append("{\"id\":").append(i).append(",\"name\":\"c").append(i).append("\"}");
    String json = coco("cat", "dog", "1").replaceFirst("\"categories\":\\[[^\\]]*\\]", "\"categories\":[" + cats + "]");
    String m = assertThrows(UserInputException.class, () -> run(json)).getMessage();
    assertTrue(m.startsWith(tmp.resolve("in.json") + ", " + tmp.resolve("in.json") + ": 20,000 categories: counting every"), m);
    assertTrue(m.contains("this JVM fits at most") && m.contains("up to 12,385)") && !m.contains("\n"), m);
    assertFalse(Files.exists(tmp.resolve("out")));
    // The tables of COCO's 80 categories are far from the bound.
    PairStats.requireTripletTablesFit(80, 64, "coco");
  }

  @Test
  void aLoneSurrogateInANameIsOneLineNotACrash() {
    UserInputException e = assertThrows(UserInputException.class, () -> run(coco("cat\\ud800x", "dog", "1")));
    assertTrue(e.getMessage().contains("'cat\\ud800x'") && e.getMessage().contains("surrogate"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("out")));
  }

  @Test
  void namesWithCommasAndQuotesRoundTripThroughTripletsCsv() throws Exception {
    run(coco("potted, \\\"plant\\\"", "dog", "1"));
    TripletCounts tc = TripletCounts.read(tmp.resolve("out/triplets.csv"));
    assertEquals(1, tc.count("potted, \"plant\"", Relation.LEFT_OF, "dog"));
    assertEquals(1, tc.count("dog", Relation.BELOW, "potted, \"plant\""));
    assertEquals(10, tc.size());
  }

  @Test
  void aNonIntegerImageIdAndControlCharactersGiveOneCleanLine() {
    String m = assertThrows(UserInputException.class, () -> run(coco("cat", "dog", "1e30"))).getMessage();
    assertTrue(m.contains("line 1, column") && m.contains("\"id\" must be an integer") && !m.contains("\n"), m);
    m = assertThrows(UserInputException.class, () -> run(coco("cat", "dog", "123456789012345678901234567890")))
        .getMessage();
    assertTrue(m.contains("line 1, column") && !m.contains("\n") && !m.contains("unknown position"), m);
    String json = coco("cat", "dog", "1").replace("{\"id\":2,\"name\":\"dog\"}",
        "{\"id\":2,\"name\":\"dog\"},{\"id\":2,\"name\":\"d\\u001b[2J\\nog\"}");
    m = assertThrows(UserInputException.class, () -> run(json)).getMessage();
    assertTrue(m.contains("d\\u001b[2J\\u000aog") && m.chars().noneMatch(c -> c < 0x20), m);
  }
}
