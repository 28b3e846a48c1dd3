package org.sr4g.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sr4g.captions.Captions;
import org.sr4g.coco.CocoCategories;
import org.sr4g.relations.Relation;

/**
 * End to end on synthetic data: a 14-relation prompts_test.jsonl in the format of sr4g generate, a triplets.csv and a
 * manifest.json; synthetic detections for a "base" (accuracy 0.45) and a "tuned" model (0.65), both rising with
 * training frequency; eval of each, then --compare. Output stays in cli/target/eval-e2e so
 * scripts/render-report.sh can render the reports.
 */
class EvalCommandTest {
  static final Path DIR = Path.of("target", "eval-e2e");
  static final List<String> CATS = CocoCategories.names().subList(0, 16);
  static final List<String> UNSEEN = CATS.subList(12, 16);

  @BeforeAll
  static void fixtures() throws IOException {
    Files.createDirectories(DIR);
    StringBuilder prompts = new StringBuilder();
    StringBuilder triplets = new StringBuilder("subject,relation,object,count\n");
    int id = 0;
    for (String a : CATS) {
      for (String b : CATS) {
        if (a.equals(b)) continue;
        for (Relation r : Relation.all()) {
          prompts.append("{\"unique_id\":").append(id).append(",\"num_objects\":2,\"obj_1_attributes\":[\"").append(a)
              .append("\"],\"obj_2_attributes\":[\"").append(b).append("\"],\"rel_type\":\"").append(r.phrase())
              .append("\",\"text\":\"").append(Captions.caption(a, r, b)).append("\",\"relation\":\"")
              .append(r.canonicalName()).append("\",\"family\":\"").append(r.family().label())
              .append("\",\"support\":3}\n");
          if (!UNSEEN.contains(a) && !UNSEEN.contains(b)) {
            // A skewed, deterministic frequency: a few common triplets, many rare ones.
            long count = 2000L / (1 + Math.floorMod((a + r + b).hashCode(), 400));
            triplets.append(a).append(',').append(r.canonicalName()).append(',').append(b).append(',').append(count)
                .append('\n');
          }
          id++;
        }
      }
    }
    Files.writeString(DIR.resolve("prompts_test.jsonl"), prompts);
    Files.writeString(DIR.resolve("triplets.csv"), triplets);
    Files.writeString(DIR.resolve("manifest.json"),
        "{\"name\": \"synthetic\", \"unseen_categories\": [\"" + String.join("\", \"", UNSEEN) + "\"]}\n");
  }

  static String run(int expected, String... args) {
    PrintStream old = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc;
    try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      System.setOut(ps);
      System.setErr(ps);
      rc = Sr4g.run(args);
    } finally {
      System.setOut(old);
      System.setErr(oldErr);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    assertEquals(expected, rc, out);
    return out;
  }

  @Test
  void endToEndWithComparison() throws IOException {
    String p = DIR.resolve("prompts_test.jsonl").toString();
    String t = DIR.resolve("triplets.csv").toString();
    String m = DIR.resolve("manifest.json").toString();
    for (String[] model : new String[][] {{"base", "0.45"}, {"tuned", "0.65"}}) {
      String dets = DIR.resolve(model[0] + ".jsonl").toString();
      run(0, "eval", "synth", "--prompts", p, "--out", dets, "--accuracy", model[1], "--triplets", t, "--seed",
          model[0].length() + "");
      // --force: the folder under target/ holds the previous build's output (an sr4g output, so it may be replaced).
      String out = run(0, "eval", "--prompts", p, "--detections", dets, "--triplets", t, "--manifest", m, "--out",
          DIR.resolve(model[0]).toString(), "--force");
      assertTrue(out.contains("| **overall** |"), out);
      assertTrue(out.contains("| wider than |"), out);
    }
    JsonNode base = new ObjectMapper().readTree(DIR.resolve("base/metrics.json").toFile());
    assertEquals(14, base.get("relations").size());
    assertEquals(3, base.get("families").size());
    assertEquals(7, base.get("opposite_bias").size());
    assertEquals(CATS.size() * (CATS.size() - 1) * 14 * 4, base.get("overall").get("images").intValue());
    JsonNode o = base.get("overall");
    // Detection probability 0.9 per object.
    assertEquals(81.0, o.get("oa").doubleValue(), 1.5);
    assertTrue(base.get("objects").get("unseen").get("prompts").intValue() > 0);
    // Accuracy rises with frequency in the generator, so the rank correlation is positive and its interval too.
    JsonNode s = base.get("frequency").get("correlations").get("all").get("spearman");
    assertTrue(s.get("r").doubleValue() > 0.1 && s.get("ci95_lo").doubleValue() > 0, s.toString());
    // Wrong images are drawn to show the opposite relation.
    assertTrue(base.get("opposite_bias").get(0).get("relation_counts").get("shows_opposite_pct").doubleValue() > 40);
    String cmp = run(0, "eval", "--compare", DIR.resolve("base/metrics.json").toString(),
        DIR.resolve("tuned/metrics.json").toString(), "--out", DIR.resolve("compare").toString(), "--force");
    assertTrue(cmp.contains("| overall | visor_cond |"), cmp);
    JsonNode d = new ObjectMapper().readTree(DIR.resolve("compare/comparison.json").toFile())
        .get("groups").get("overall").get("visor_cond");
    assertTrue(d.get("delta").doubleValue() > 10 && d.get("ci95_lo").doubleValue() > 0, d.toString());
    JsonNode groups = new ObjectMapper().readTree(DIR.resolve("compare/comparison.json").toFile()).get("groups");
    assertEquals(1 + 3 + 14 + 2, groups.size(), groups.fieldNames().toString());
    assertTrue(groups.has("unseen objects"));
    assertTrue(Files.readString(DIR.resolve("compare/report.html")).contains("base vs tuned"));
  }

  @Test
  void userErrorsExitTwoWithOneLine() {
    String out = run(2, "eval", "--prompts", "does-not-exist.jsonl", "--detections", "x", "--out",
        DIR.resolve("err").toString());
    assertTrue(out.startsWith("sr4g eval: error: --prompts does-not-exist.jsonl: no such file"), out);
    out = run(2, "prompts", "sr3d", "--out", DIR.resolve("x.json").toString());
    assertTrue(out.contains("unknown prompt set 'sr3d'"), out);
  }

  @Test
  void sr2dPromptsThroughTheCli() throws IOException {
    Path f = DIR.resolve("sr2d.json");
    String out = run(0, "prompts", "sr2d", "--out", f.toString());
    assertTrue(out.contains("wrote 31680 prompts"), out);
    assertEquals(31_680, new ObjectMapper().readTree(f.toFile()).size());
  }
}
