package org.sr4g.captions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sr4g.coco.CocoCategories;
import org.sr4g.relations.Relation;

class ArticlesTest {
  /** The COCO names that VISOR's prompts write with "an": every name starting with a vowel letter. */
  static final Set<String> AN = Set.of("airplane", "elephant", "umbrella", "orange", "apple", "oven");

  @Test
  void allEightyCocoNamesAsVisorWritesThem() {
    int an = 0;
    for (CocoCategories.Category c : CocoCategories.all()) {
      String name = c.name();
      String expected = AN.contains(name) ? "an " + name : "a " + name;
      assertEquals(expected, Articles.withArticle(name));
      if (AN.contains(name)) an++;
    }
    assertEquals(6, an);
    assertEquals(80, CocoCategories.all().size());
  }

  @Test
  void englishExceptions() {
    assertEquals("an hour glass", Articles.withArticle("hour glass"));
    assertEquals("a university bus", Articles.withArticle("university bus"));
    assertEquals("a one-way sign", Articles.withArticle("one-way sign"));
    assertEquals("a ukulele", Articles.withArticle("ukulele"));
    assertEquals("an honest dog", Articles.withArticle("honest dog"));
    assertEquals("an Umbrella", Articles.withArticle("Umbrella"));
  }

  @Test
  void captionsUseThePhrases() {
    assertEquals("a cat to the left of a dog", Captions.caption("cat", Relation.LEFT_OF, "dog"));
    assertEquals("an airplane separated from a hair drier", Captions.caption("airplane", Relation.SEPARATED, "hair drier"));
    assertEquals("an oven larger than a toaster", Captions.caption("oven", Relation.LARGER_THAN, "toaster"));
  }
}
