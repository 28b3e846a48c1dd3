package org.sr4g.coco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.sr4g.coco.CocoCategories.Category;
import org.sr4g.testing.SharedData;

class CocoCategoriesTest {

  @Test
  void eightyCategoriesWithUniqueIdsAndNamesInIdOrder() {
    List<Category> all = CocoCategories.all();
    assertEquals(80, all.size());
    Set<Integer> ids = new HashSet<>();
    Set<String> names = new HashSet<>();
    int prev = 0;
    for (Category c : all) {
      assertTrue(c.id() > prev && c.id() <= 90, "ids ascending in 1..90: " + c);
      prev = c.id();
      assertTrue(ids.add(c.id()));
      assertTrue(names.add(c.name()));
      assertTrue(c.train2017Instances() > 0, c.toString());
    }
    List<String> inOrder = CocoCategories.names();
    assertEquals(80, inOrder.size());
    for (int i = 0; i < 80; i++) assertEquals(all.get(i).name(), inOrder.get(i));
    assertEquals("person", inOrder.get(0));
    assertEquals("toothbrush", inOrder.get(79));
  }

  @Test
  void instanceCountsSumToTrain2017Total() {
    long sum = CocoCategories.all().stream().mapToLong(Category::train2017Instances).sum();
    assertEquals(CocoCategories.TRAIN2017_INSTANCES, sum);
    assertEquals(262_465, CocoCategories.byName("person").orElseThrow().train2017Instances());
    assertEquals(43_867, CocoCategories.byName("car").orElseThrow().train2017Instances());
    assertEquals(38_491, CocoCategories.byName("chair").orElseThrow().train2017Instances());
    assertEquals(198, CocoCategories.byName("hair drier").orElseThrow().train2017Instances());
    assertEquals(225, CocoCategories.byName("toaster").orElseThrow().train2017Instances());
  }

  @Test
  void lookups() {
    assertEquals("dining table", CocoCategories.byId(67).orElseThrow().name());
    assertEquals("electronic", CocoCategories.byName("tv").orElseThrow().supercategory());
    assertTrue(CocoCategories.byId(12).isEmpty(), "12 is one of COCO's unused ids");
    assertTrue(CocoCategories.byName("hair dryer").isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"instances_train2017.json", "instances_val2017.json"})
  void tableEqualsTheCategoriesOfTheRealCocoFiles(String file) throws IOException {
    Path p = SharedData.require("coco/tiny/annotations/" + file);
    JsonNode cats = new ObjectMapper().readTree(p.toFile()).get("categories");
    List<Category> all = CocoCategories.all();
    assertEquals(all.size(), cats.size());
    for (int i = 0; i < cats.size(); i++) {
      JsonNode c = cats.get(i);
      Category t = all.get(i);
      assertEquals(c.get("id").asInt(), t.id(), "id at " + i);
      assertEquals(c.get("name").asText(), t.name(), "name of id " + t.id());
      assertEquals(c.get("supercategory").asText(), t.supercategory(), "supercategory of id " + t.id());
    }
  }
}
