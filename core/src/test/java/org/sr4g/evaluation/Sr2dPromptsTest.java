package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.testing.SharedData;

class Sr2dPromptsTest {
  @TempDir Path dir;

  @Test
  void compositionIdsAndArticles() throws Exception {
    assertEquals(25_280, Sr2dPrompts.SPATIAL);
    assertEquals(31_680, Sr2dPrompts.TOTAL);
    Path f = dir.resolve("sr2d.json");
    Sr2dPrompts.write(f);
    JsonNode all = new ObjectMapper().readTree(f.toFile());
    assertEquals(31_680, all.size());
    for (int i = 0; i < all.size(); i++) assertEquals(i, all.get(i).get("unique_id").intValue());
    assertEquals("a person to the left of a bicycle", all.get(0).get("text").asText());
    assertEquals("below", all.get(3).get("rel_type").asText());
    // person (0) with airplane (4): b' = 3 -> ids 12..15.
    assertEquals("a person to the left of an airplane", all.get(12).get("text").asText());
    assertEquals("an orange above an apple",
        all.get(4 * (79 * 49 + 47) + 2).get("text").asText());
    assertEquals("a person and a bicycle", all.get(25_280).get("text").asText());
    assertEquals("and", all.get(25_280).get("rel_type").asText());
    assertEquals("a toothbrush", all.get(31_679).get("text").asText());
    assertEquals(1, all.get(31_679).get("num_objects").intValue());
    PromptSet ps = PromptReader.read(f, Set.of());
    assertEquals(25_280, ps.all().stream().filter(EvalPrompt::scored).count());
  }

  @Test
  void categoriesAreCocos() throws Exception {
    Path ann = SharedData.require("coco/tiny/annotations/instances_val2017.json");
    List<String> names = new ArrayList<>();
    for (JsonNode c : new ObjectMapper().readTree(ann.toFile()).get("categories")) names.add(c.get("name").asText());
    assertEquals(names, CocoCategories.NAMES);
  }
}
