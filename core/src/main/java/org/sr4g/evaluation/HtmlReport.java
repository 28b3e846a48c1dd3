package org.sr4g.evaluation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sr4g.relations.Relation;

/** {@code report.html}: one self-contained page (inline CSS and SVG, no script, no network access). */
public final class HtmlReport {
  private HtmlReport() {}

  private static final String HEAD = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      + "<title>%s</title><style>body{font-family:sans-serif;margin:24px;max-width:1150px;color:#222}"
      + "table{border-collapse:collapse;margin:12px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;"
      + "text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
      + "h2{margin-top:32px}.note{color:#555;font-size:13px}</style></head><body>\n";

  public static void write(Path file, Evaluation e, MetricsJson.Config c) throws IOException {
    StringBuilder sb = new StringBuilder(String.format(HEAD, "sr4g eval report"));
    sb.append("<h1>Spatial evaluation (VISOR metrics, sr4g14 relations)</h1>\n<p class=\"note\">prompts: ")
        .append(Svg.esc(c.prompts())).append("<br>detections: ").append(Svg.esc(c.detections())).append(" (format ")
        .append(c.format()).append(", threshold ").append(c.threshold()).append(c.visorCompat() ? ", VISOR-compatible centroid test" : "")
        .append(")</p>\n");
    sb.append("<h2>Summary</h2>\n").append(markdownTables(MarkdownSummary.of(e)));
    List<String> cats = new ArrayList<>();
    List<VisorScores> rs = new ArrayList<>();
    for (Map.Entry<Relation, VisorScores> r : e.relations.entrySet()) {
      cats.add(r.getKey().canonicalName());
      rs.add(r.getValue());
    }
    double[][] v = new double[3][cats.size()];
    for (int i = 0; i < cats.size(); i++) {
      v[0][i] = rs.get(i).oa();
      v[1][i] = rs.get(i).visorCond();
      v[2][i] = rs.get(i).visorUncond();
    }
    sb.append("<h2>Per relation</h2>\n").append(Svg.groupedBars("VISOR per relation (%)", cats,
        new String[] {"OA", "VISOR_cond", "VISOR_uncond"}, v, 100, "", null, null));
    appendBias(sb, e);
    appendScatter(sb, e);
    sb.append("</body></html>\n");
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  private static void appendBias(StringBuilder sb, Evaluation e) {
    if (e.bias.isEmpty()) return;
    List<String> cats = new ArrayList<>();
    double[][] v = new double[4][e.bias.size()];
    for (int i = 0; i < e.bias.size(); i++) {
      OppositeBias.Pair p = e.bias.get(i);
      cats.add(p.first().canonicalName() + " / " + p.second().canonicalName());
      v[0][i] = p.firstScores().visorCond();
      v[1][i] = p.secondScores().visorCond();
      v[2][i] = p.firstScores().oppositeRate();
      v[3][i] = p.secondScores().oppositeRate();
    }
    sb.append("<h2>Opposite-relation bias</h2>\n<p class=\"note\">For each pair: VISOR_cond of each side, and the share of "
        + "images (with both objects) asked for one side that show the opposite instead. The opposite share needs boxes "
        + "(or, in VISOR result files, centroids, which serve the projective relations only).</p>\n");
    sb.append(Svg.groupedBars("Opposite pairs (%)", cats, new String[] {"VISOR_cond first", "VISOR_cond second",
        "first shows opposite", "second shows opposite"}, v, 100, "", null, null));
  }

  private static void appendScatter(StringBuilder sb, Evaluation e) {
    if (e.frequency == null) return;
    int n = e.frequencyPoints.size();
    double[] x = new double[n];
    double[] y = new double[n];
    int[] g = new int[n];
    String[] tips = new String[n];
    for (int i = 0; i < n; i++) {
      FrequencyCorrelation.Point p = e.frequencyPoints.get(i);
      x[i] = Math.log1p(p.count());
      y[i] = p.visorCond();
      g[i] = p.relation().family().ordinal();
      tips[i] = p.subject() + " " + p.relation().canonicalName() + " " + p.object() + ": count " + p.count()
          + ", VISOR_cond " + MarkdownSummary.f(p.visorCond()) + " (" + p.correct() + "/" + p.both() + ")";
    }
    sb.append("<h2>Training frequency vs VISOR_cond</h2>\n<p class=\"note\">One point per triplet with at least one "
        + "image showing both objects (" + n + " triplets, " + e.frequencyExcluded + " left out).</p>\n");
    sb.append(Svg.scatter("Triplet frequency vs VISOR_cond", "ln(1 + training count)", "VISOR_cond (%)", x, y, g,
        new String[] {"projective", "topological", "scale"}, tips));
  }

  /** Baseline vs tuned bars per relation, with the delta table. */
  public static void writeComparison(Path file, Comparison.Result r) throws IOException {
    StringBuilder sb = new StringBuilder(String.format(HEAD, "sr4g eval comparison"));
    sb.append("<h1>Comparison: base vs tuned</h1>\n<p class=\"note\">base: ").append(Svg.esc(r.base()))
        .append("<br>tuned: ").append(Svg.esc(r.tuned())).append("</p>\n");
    List<String> cats = new ArrayList<>();
    List<Map<String, Comparison.Delta>> gs = new ArrayList<>();
    for (Map.Entry<String, Map<String, Comparison.Delta>> g : r.groups().entrySet()) {
      cats.add(g.getKey());
      gs.add(g.getValue());
    }
    for (String metric : new String[] {"visor_cond", "visor_uncond", "oa"}) {
      double[][] v = new double[2][cats.size()];
      for (int i = 0; i < cats.size(); i++) {
        v[0][i] = gs.get(i).get(metric).base();
        v[1][i] = gs.get(i).get(metric).tuned();
      }
      sb.append(Svg.groupedBars(metric + " per group (%): base vs tuned", cats, new String[] {"base", "tuned"}, v, 100,
          "", null, null));
    }
    sb.append("<h2>Deltas with paired bootstrap 95% intervals</h2>\n").append(markdownTables(MarkdownSummary.of(r)));
    sb.append("</body></html>\n");
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  /** Converts the Markdown tables of {@link MarkdownSummary} to HTML tables (other lines become paragraphs). */
  static String markdownTables(String md) {
    StringBuilder sb = new StringBuilder();
    boolean inTable = false;
    boolean header = false;
    for (String line : md.split("\n")) {
      if (line.startsWith("|")) {
        if (line.startsWith("|---")) continue;
        if (!inTable) {
          sb.append("<table>\n");
          inTable = true;
          header = true;
        }
        String[] cells = line.substring(1, line.length() - 1).split("\\|");
        sb.append("<tr>");
        for (String c : cells) {
          String t = Svg.esc(c.trim()).replaceAll("\\*\\*(.*)\\*\\*", "<b>$1</b>").replaceAll("^_(.*)_$", "<i>$1</i>");
          sb.append(header ? "<th>" : "<td>").append(t).append(header ? "</th>" : "</td>");
        }
        sb.append("</tr>\n");
        header = false;
      } else {
        if (inTable) sb.append("</table>\n");
        inTable = false;
        if (!line.isBlank()) sb.append("<p class=\"note\">").append(Svg.esc(line)).append("</p>\n");
      }
    }
    if (inTable) sb.append("</table>\n");
    return sb.toString();
  }
}
