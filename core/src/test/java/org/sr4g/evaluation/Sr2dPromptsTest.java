package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.coco.CocoCategories;
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
    // VISOR's order: per unordered pair, (s1 r s2), (s2 r s1) for each relation, then the two "and" prompts.
    assertEquals("a person to the left of a bicycle", all.get(0).get("text").asText());
    assertEquals("a bicycle to the left of a person", all.get(1).get("text").asText());
    assertEquals("a person below a bicycle", all.get(6).get("text").asText());
    assertEquals("a person and a bicycle", all.get(8).get("text").asText());
    assertEquals("and", all.get(9).get("rel_type").asText());
    assertEquals("an airplane to the left of a person", all.get(31).get("text").asText());
    // The two examples of VISOR's README (results keys "1103_0" and "11036_1").
    assertEquals("a kite to the right of a bicycle", all.get(1103).get("text").asText());
    assertEquals("a cat below a bottle", all.get(11036).get("text").asText());
    JsonNode single = all.get(31_679);
    assertEquals("a toothbrush", single.get("text").asText());
    assertEquals(1, single.get("num_objects").intValue());
    assertEquals("single", single.get("rel_type").asText());
    assertTrue(single.get("obj_2_attributes").get(0).isNull());
    PromptSet ps = PromptReader.read(f, Set.of());
    assertEquals(25_280, ps.all().stream().filter(EvalPrompt::scored).count());
  }

  @Test
  void categoriesAreCocos() throws Exception {
    Path ann = SharedData.require("coco/tiny/annotations/instances_val2017.json");
    List<String> names = new ArrayList<>();
    for (JsonNode c : new ObjectMapper().readTree(ann.toFile()).get("categories")) names.add(c.get("name").asText());
    assertEquals(names, CocoCategories.names());
  }
}
