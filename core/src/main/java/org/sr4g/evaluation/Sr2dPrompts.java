package org.sr4g.evaluation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.sr4g.captions.Articles;
import org.sr4g.coco.CocoCategories;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.OutputRules;
import org.sr4g.relations.Relation;

/**
 * VISOR's SR2D prompt set ({@code text_spatial_rel_phrases.json}, 31,680 prompts over the 80 COCO categories), in the
 * order of VISOR's {@code create_spatial_phrases.py}, so {@code unique_id} (= list index, which visor.py relies on)
 * names the same prompt as in VISOR's file. For each unordered pair {@code (s1, s2)} in {@code
 * itertools.combinations} order (3,160 pairs), ten prompts:
 *
 * <ol>
 *   <li>for each relation r of left, right, above, below: "s1 r s2", then "s2 r s1" (8 prompts);
 *   <li>"s1 and s2", then "s2 and s1" ({@code rel_type "and"}, 2 prompts);
 * </ol>
 *
 * then the 80 single objects ({@code num_objects 1}, {@code obj_2_attributes [null]}, {@code rel_type "single"}).
 * 3,160 * 8 = 25,280 spatial + 6,320 "and" + 80 single = 31,680. VISOR writes articles with the inflect package; for
 * the 80 COCO names {@link Articles} gives the same ("an airplane", "an umbrella", "a tv").
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
    List<String> names = CocoCategories.names();
    OutputRules.checkFile(out);
    AtomicFiles.write(out, os -> {
      Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(os, StandardCharsets.UTF_8));
      // One prompt a line keeps the file diffable and greppable; each object is written by its own generator.
      w.write("[");
      Line g = new Line(w);
      int id = 0;
      for (int i = 0; i < names.size(); i++) {
        for (int j = i + 1; j < names.size(); j++) {
          String s1 = names.get(i);
          String s2 = names.get(j);
          String a1 = Articles.withArticle(s1);
          String a2 = Articles.withArticle(s2);
          for (Relation r : RELATIONS) {
            prompt(g, id++, 2, s1, s2, r.phrase(), a1 + " " + r.phrase() + " " + a2);
            prompt(g, id++, 2, s2, s1, r.phrase(), a2 + " " + r.phrase() + " " + a1);
          }
          prompt(g, id++, 2, s1, s2, "and", a1 + " and " + a2);
          prompt(g, id++, 2, s2, s1, "and", a2 + " and " + a1);
        }
      }
      for (String name : names) prompt(g, id++, 1, name, null, "single", Articles.withArticle(name));
      w.write("\n]\n");
      w.flush();
    });
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
    // VISOR writes [None] for single objects.
    if (b != null) g.writeString(b);
    else g.writeNull();
    g.writeEndArray();
    g.writeStringField("rel_type", rel);
    g.writeStringField("text", text);
    g.writeEndObject();
    g.close();
  }
}
