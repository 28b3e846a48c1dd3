package org.sr4g.evaluation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;

/**
 * Writes {@code metrics.json}: every number with the counts behind it, NaN written as null. The {@code per_prompt}
 * arrays (one entry per scored prompt with images) are what {@code sr4g eval --compare} pairs and resamples.
 */
public final class MetricsJson {
  private MetricsJson() {}

  /** Settings echoed into the file so a number can be traced to how it was made. */
  public record Config(String prompts, String detections, String format, double threshold, boolean visorCompat,
      int imagesPerPrompt, String triplets, String manifest, int bootstrap, long seed) {}

  public static void write(Path file, Evaluation e, Config c) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        JsonGenerator g = new JsonFactory().createGenerator(w).useDefaultPrettyPrinter()) {
      g.writeStartObject();
      g.writeStringField("tool", "sr4g eval");
      g.writeObjectFieldStart("config");
      g.writeStringField("prompts", c.prompts());
      g.writeStringField("detections", c.detections());
      g.writeStringField("format", c.format());
      g.writeNumberField("threshold", c.threshold());
      g.writeBooleanField("visor_compat", c.visorCompat());
      g.writeNumberField("images_per_prompt", c.imagesPerPrompt());
      g.writeStringField("triplets", c.triplets());
      g.writeStringField("manifest", c.manifest());
      g.writeNumberField("bootstrap", c.bootstrap());
      g.writeNumberField("seed", c.seed());
      g.writeEndObject();
      writeWarnings(g, e.detections.warnings());
      g.writeFieldName("overall");
      scores(g, e.overall);
      g.writeObjectFieldStart("families");
      for (Map.Entry<Family, VisorScores> f : e.families.entrySet()) {
        g.writeFieldName(f.getKey().label());
        scores(g, f.getValue());
      }
      g.writeEndObject();
      g.writeObjectFieldStart("relations");
      for (Map.Entry<Relation, VisorScores> r : e.relations.entrySet()) {
        g.writeFieldName(r.getKey().canonicalName());
        scores(g, r.getValue());
      }
      g.writeEndObject();
      g.writeObjectFieldStart("objects");
      for (Map.Entry<String, VisorScores> o : e.objects.entrySet()) {
        g.writeFieldName(o.getKey());
        scores(g, o.getValue());
      }
      g.writeEndObject();
      g.writeArrayFieldStart("opposite_bias");
      for (OppositeBias.Pair p : e.bias) {
        g.writeStartObject();
        g.writeStringField("relation", p.first().canonicalName());
        g.writeStringField("opposite", p.second().canonicalName());
        num(g, "visor_cond", p.firstScores().visorCond());
        num(g, "opposite_visor_cond", p.secondScores().visorCond());
        num(g, "difference", p.condDifference());
        side(g, "relation_counts", p.firstScores());
        side(g, "opposite_counts", p.secondScores());
        g.writeEndObject();
      }
      g.writeEndArray();
      if (e.frequency != null) writeFrequency(g, e);
      writePerPrompt(g, e);
      g.writeEndObject();
    }
  }

  private static void side(JsonGenerator g, String name, VisorScores s) throws IOException {
    g.writeObjectFieldStart(name);
    g.writeNumberField("both", s.both());
    g.writeNumberField("correct", s.correct());
    g.writeNumberField("with_boxes", s.geometric());
    g.writeNumberField("shows_opposite", s.opposite());
    num(g, "shows_opposite_pct", s.oppositeRate());
    g.writeEndObject();
  }

  private static void writeWarnings(JsonGenerator g, EvalWarnings w) throws IOException {
    g.writeObjectFieldStart("warnings");
    for (Map.Entry<String, Long> e : w.counts().entrySet()) {
      g.writeObjectFieldStart(e.getKey());
      g.writeNumberField("count", e.getValue());
      g.writeArrayFieldStart("examples");
      for (String s : w.examples(e.getKey())) g.writeString(s);
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  static void scores(JsonGenerator g, VisorScores s) throws IOException {
    g.writeStartObject();
    g.writeNumberField("prompts", s.prompts());
    g.writeNumberField("images", s.images());
    g.writeNumberField("det_a", s.detA());
    g.writeNumberField("det_b", s.detB());
    g.writeNumberField("both", s.both());
    g.writeNumberField("correct", s.correct());
    for (int n = 1; n <= VisorScores.MAX_N; n++) g.writeNumberField("prompts_at_least_" + n, s.atLeast()[n - 1]);
    g.writeNumberField("with_boxes", s.geometric());
    g.writeNumberField("shows_opposite", s.opposite());
    num(g, "oa", s.oa());
    num(g, "oa_a", s.oaA());
    num(g, "oa_b", s.oaB());
    num(g, "visor_cond", s.visorCond());
    num(g, "visor_uncond", s.visorUncond());
    for (int n = 1; n <= VisorScores.MAX_N; n++) num(g, "visor_" + n, s.visorN(n));
    num(g, "opposite_pct", s.oppositeRate());
    g.writeEndObject();
  }

  static void num(JsonGenerator g, String name, double v) throws IOException {
    if (Double.isFinite(v)) g.writeNumberField(name, v);
    else g.writeNullField(name);
  }

  private static void writeFrequency(JsonGenerator g, Evaluation e) throws IOException {
    g.writeObjectFieldStart("frequency");
    g.writeNumberField("triplets", e.frequencyPoints.size());
    g.writeNumberField("excluded_without_both", e.frequencyExcluded);
    g.writeObjectFieldStart("correlations");
    for (Map.Entry<String, FrequencyCorrelation.Result> r : e.frequency.entrySet()) {
      g.writeObjectFieldStart(r.getKey());
      g.writeNumberField("triplets", r.getValue().triplets());
      g.writeNumberField("excluded_without_both", r.getValue().excluded());
      est(g, "pearson", r.getValue().pearson());
      est(g, "pearson_log", r.getValue().pearsonLog());
      est(g, "spearman", r.getValue().spearman());
      g.writeEndObject();
    }
    g.writeEndObject();
    g.writeArrayFieldStart("points");
    for (FrequencyCorrelation.Point p : e.frequencyPoints) {
      g.writeStartArray();
      g.writeString(p.subject());
      g.writeString(p.relation().canonicalName());
      g.writeString(p.object());
      g.writeNumber(p.count());
      g.writeNumber(p.both());
      g.writeNumber(p.correct());
      g.writeEndArray();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void est(JsonGenerator g, String name, FrequencyCorrelation.Estimate v) throws IOException {
    g.writeObjectFieldStart(name);
    num(g, "r", v.value());
    num(g, "ci95_lo", v.lo());
    num(g, "ci95_hi", v.hi());
    g.writeEndObject();
  }

  private static void writePerPrompt(JsonGenerator g, Evaluation e) throws IOException {
    PromptTally t = e.tally;
    g.writeObjectFieldStart("per_prompt");
    // "unseen" only with --manifest; it lets --compare report seen/unseen groups.
    String[] names = {"unique_id", "relation", "images", "det_a", "det_b", "both", "correct", "unseen"};
    for (int f = 0; f < names.length; f++) {
      if (f == 7 && e.objects.isEmpty()) continue;
      g.writeArrayFieldStart(names[f]);
      for (int i = 0; i < t.size(); i++) {
        if (t.images[i] == 0) continue;
        EvalPrompt p = e.prompts.get(i);
        switch (f) {
          case 0:
            g.writeNumber(p.uniqueId());
            break;
          case 1:
            g.writeString(p.relation().canonicalName());
            break;
          case 2:
            g.writeNumber(t.images[i]);
            break;
          case 3:
            g.writeNumber(t.detA[i]);
            break;
          case 4:
            g.writeNumber(t.detB[i]);
            break;
          case 5:
            g.writeNumber(t.both[i]);
            break;
          case 6:
            g.writeNumber(t.correct[i]);
            break;
          default:
            g.writeBoolean(p.unseen());
        }
      }
      g.writeEndArray();
    }
    g.writeEndObject();
  }

  /** Writes {@code comparison.json}: base, tuned, delta and the paired bootstrap interval of each metric. */
  public static void writeComparison(Path file, Comparison.Result r) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        JsonGenerator g = new JsonFactory().createGenerator(w).useDefaultPrettyPrinter()) {
      g.writeStartObject();
      g.writeStringField("tool", "sr4g eval --compare");
      g.writeStringField("base", r.base());
      g.writeStringField("tuned", r.tuned());
      g.writeNumberField("paired_prompts", r.paired());
      g.writeNumberField("prompts_only_in_base", r.onlyBase());
      g.writeNumberField("prompts_only_in_tuned", r.onlyTuned());
      g.writeNumberField("bootstrap", r.bootstrap());
      g.writeNumberField("seed", r.seed());
      g.writeObjectFieldStart("groups");
      for (Map.Entry<String, Map<String, Comparison.Delta>> e : r.groups().entrySet()) {
        g.writeObjectFieldStart(e.getKey());
        for (Map.Entry<String, Comparison.Delta> m : e.getValue().entrySet()) {
          Comparison.Delta d = m.getValue();
          g.writeObjectFieldStart(m.getKey());
          num(g, "base", d.base());
          num(g, "tuned", d.tuned());
          num(g, "delta", d.delta());
          num(g, "ci95_lo", d.lo());
          num(g, "ci95_hi", d.hi());
          g.writeEndObject();
        }
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeEndObject();
    }
  }
}
