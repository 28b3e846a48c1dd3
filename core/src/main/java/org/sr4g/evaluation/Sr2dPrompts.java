package org.sr4g.evaluation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sr4g.captions.Articles;
import org.sr4g.relations.Relation;

/**
 * A reconstruction of VISOR's SR2D prompt set ({@code text_spatial_rel_phrases.json}): 31,680 prompts over the 80
 * COCO categories. The composition follows the VISOR paper; the order and ids are ours (VISOR's file is not shipped
 * here), chosen so that {@code unique_id} equals the list index, which visor.py relies on ({@code text_data[uniq_id]}):
 *
 * <ol>
 *   <li>ids 0..25,279: ordered pairs (A, B), A != B, A-major in COCO category order, then the four relations in the
 *       order left, right, above, below: id = 4 * (79 * a + b') + r, b' = index of B among the 79 others;
 *   <li>ids 25,280..31,599: "A and B" for the same ordered pairs ({@code rel_type "and"}): 80 * 79 = 6,320;
 *   <li>ids 31,600..31,679: the 80 single objects ("a cat", {@code num_objects 1}, {@code rel_type "none"}).
 * </ol>
 *
 * 25,280 + 6,320 + 80 = 31,680. Articles are "a"/"an" by {@link Articles} ("an airplane", "an orange").
 */
public final class Sr2dPrompts {
  public static final List<Relation> RELATIONS =
      List.of(Relation.LEFT_OF, Relation.RIGHT_OF, Relation.ABOVE, Relation.BELOW);
  public static final int SPATIAL = 80 * 79 * 4;
  public static final int AND = 80 * 79;
  public static final int SINGLE = 80;
  public static final int TOTAL = SPATIAL + AND + SINGLE;

  private Sr2dPrompts() {}

  public static void write(Path out) throws IOException {
    List<String> names = CocoCategories.NAMES;
    try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      // One prompt a line keeps the file diffable and greppable; each object is written by its own generator.
      w.write("[");
      Line g = new Line(w);
      int id = 0;
      for (int a = 0; a < names.size(); a++) {
        for (int b = 0; b < names.size(); b++) {
          if (a == b) continue;
          for (Relation r : RELATIONS) {
            String text = Articles.withArticle(names.get(a)) + " " + r.phrase() + " " + Articles.withArticle(names.get(b));
            prompt(g, id++, 2, names.get(a), names.get(b), r.phrase(), text);
          }
        }
      }
      for (int a = 0; a < names.size(); a++) {
        for (int b = 0; b < names.size(); b++) {
          if (a == b) continue;
          String text = Articles.withArticle(names.get(a)) + " and " + Articles.withArticle(names.get(b));
          prompt(g, id++, 2, names.get(a), names.get(b), "and", text);
        }
      }
      for (String name : names) prompt(g, id++, 1, name, null, "none", Articles.withArticle(name));
      w.write("\n]\n");
    }
  }

  /** Writes one object a line, separated by commas. */
  private static final class Line {
    private final Writer w;
    private final JsonFactory f = new JsonFactory();
    private boolean first = true;

    Line(Writer w) {
      this.w = w;
    }

    JsonGenerator start() throws IOException {
      w.write(first ? "\n" : ",\n");
      first = false;
      return f.createGenerator(w).disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    }
  }

  private static void prompt(Line line, int id, int n, String a, String b, String rel, String text)
      throws IOException {
    JsonGenerator g = line.start();
    g.writeStartObject();
    g.writeNumberField("unique_id", id);
    g.writeNumberField("num_objects", n);
    g.writeArrayFieldStart("obj_1_attributes");
    g.writeString(a);
    g.writeEndArray();
    g.writeArrayFieldStart("obj_2_attributes");
    if (b != null) g.writeString(b);
    g.writeEndArray();
    g.writeStringField("rel_type", rel);
    g.writeStringField("text", text);
    g.writeEndObject();
    g.close();
  }
}
