package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonAndReportTest {
  @TempDir Path dir;

  private Path metrics(String name, String results) throws Exception {
    PromptSet p = TestFiles.prompts(dir,
        TestFiles.prompt(0, 2, "cat", "dog", "to the left of"),
        TestFiles.prompt(1, 2, "dog", "cat", "above"),
        TestFiles.prompt(2, 2, "bus", "car", "below"));
    Detections d = DetectionReaders.readVisor(TestFiles.write(dir, name + ".json", results), p, 0);
    Evaluation e = new Evaluation(p, d, false, null, 10, 1);
    Path out = dir.resolve(name + "-metrics.json");
    MetricsJson.Config c = new MetricsJson.Config("p", "d", "visor", 0.1, false, 0, null, null, 10, 1);
    MetricsJson.write(out, e, c);
    HtmlReport.write(dir.resolve(name + ".html"), e, c);
    return out;
  }

  static String res(int... sra) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < sra.length; i++) {
      sb.append(i == 0 ? "" : ",").append("\"").append(i / 2).append('_').append(i % 2)
          .append("\": {\"classes\": [\"cat\", \"dog\", \"bus\", \"car\"], \"sra\": ").append(sra[i]).append('}');
    }
    return sb.append('}').toString();
  }

  @Test
  void metricsJsonCarriesCountsAndNulls() throws Exception {
    JsonNode m = new ObjectMapper().readTree(metrics("a", res(1, 0, 1, 1, 0, 0)).toFile());
    JsonNode o = m.get("overall");
    assertEquals(6, o.get("images").intValue());
    assertEquals(3, o.get("correct").intValue());
    assertEquals(50.0, o.get("visor_cond").doubleValue(), 1e-12);
    assertTrue(o.get("opposite_pct").isNull());
    assertEquals(0.0, m.get("relations").get("below").get("visor_cond").doubleValue(), 0);
    assertEquals(3, m.get("per_prompt").get("unique_id").size());
  }

  @Test
  void identicalRunsHaveZeroDelta() throws Exception {
    Path a = metrics("a", res(1, 0, 1, 1, 0, 0));
    Comparison.Result r = Comparison.compare(a, a, 200, 3);
    Comparison.Delta d = r.groups().get("overall").get("visor_cond");
    assertEquals(0.0, d.delta(), 0);
    assertEquals(0.0, d.lo(), 0);
    assertEquals(0.0, d.hi(), 0);
  }

  @Test
  void deltaAndPairedInterval() throws Exception {
    Path a = metrics("a", res(1, 0, 1, 1, 0, 0));
    Path b = metrics("b", res(1, 1, 1, 1, 1, 1));
    Comparison.Result r = Comparison.compare(a, b, 500, 3);
    assertEquals(3, r.paired());
    Comparison.Delta d = r.groups().get("overall").get("visor_cond");
    assertEquals(50.0, d.base(), 1e-12);
    assertEquals(100.0, d.tuned(), 1e-12);
    assertEquals(50.0, d.delta(), 1e-12);
    // Every resample gains between 0 and 100 points; prompt 1 (above) gains nothing.
    assertTrue(d.lo() >= 0 && d.hi() <= 100 && d.lo() <= 50 && d.hi() >= 50);
    assertEquals(100.0, r.groups().get("below").get("visor_cond").delta(), 1e-12);
    assertEquals(0.0, r.groups().get("above").get("visor_cond").delta(), 1e-12);
    HtmlReport.writeComparison(dir.resolve("cmp.html"), r);
    MetricsJson.writeComparison(dir.resolve("cmp.json"), r);
    assertEquals(50.0, new ObjectMapper().readTree(dir.resolve("cmp.json").toFile()).get("groups").get("overall")
        .get("visor_cond").get("delta").doubleValue(), 1e-12);
  }

  @Test
  void reportIsSelfContained() throws Exception {
    metrics("a", res(1, 0, 1, 1, 0, 0));
    String html = Files.readString(dir.resolve("a.html"));
    assertTrue(html.contains("<svg"));
    assertFalse(html.contains("<script"));
    assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "no network references");
  }

  @Test
  void frequencyPointsFromTriplets() throws Exception {
    PromptSet p = PromptReader.read(TestFiles.write(dir, "p.json", "["
        + TestFiles.prompt(0, 2, "cat", "dog", "to the left of") + ","
        + TestFiles.prompt(1, 2, "dog", "cat", "above") + ","
        + TestFiles.prompt(2, 2, "bus", "car", "below") + "]"), Set.of());
    Detections d = DetectionReaders.readVisor(TestFiles.write(dir, "r.json", res(1, 1, 1, 0, 0, 0)), p, 0);
    TripletCounts t = TripletCounts.read(TestFiles.write(dir, "t.csv",
        "subject,relation,object,count\ncat,left of,dog,100\ndog,above,cat,10\n"));
    Evaluation e = new Evaluation(p, d, false, t, 100, 1);
    assertEquals(3, e.frequencyPoints.size());
    assertEquals(0, e.frequencyPoints.get(2).count(), "absent triplet counts 0");
    // cond 100, 50, 0 against counts 100, 10, 0: perfectly monotone.
    assertEquals(1.0, e.frequency.get("all").spearman().value(), 1e-12);
  }
}
