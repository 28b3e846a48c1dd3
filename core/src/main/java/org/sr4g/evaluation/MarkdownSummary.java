package org.sr4g.evaluation;

import java.util.Locale;
import java.util.Map;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;

/** The Markdown tables printed to the terminal (the same numbers as metrics.json, two decimals). */
public final class MarkdownSummary {
  private MarkdownSummary() {}

  public static String of(Evaluation e) {
    StringBuilder sb = new StringBuilder();
    sb.append("| group | prompts | images | OA_A | OA_B | OA | VISOR_cond | VISOR_uncond | VISOR_1 | VISOR_2 | VISOR_3 | VISOR_4 |\n");
    sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    row(sb, "**overall**", e.overall);
    for (Map.Entry<Family, VisorScores> f : e.families.entrySet()) row(sb, "_" + f.getKey().label() + "_", f.getValue());
    for (Map.Entry<Relation, VisorScores> r : e.relations.entrySet()) row(sb, r.getKey().canonicalName(), r.getValue());
    for (Map.Entry<String, VisorScores> o : e.objects.entrySet()) row(sb, o.getKey() + " objects", o.getValue());
    if (!e.bias.isEmpty()) {
      sb.append("\n| opposite pair | VISOR_cond | opposite's VISOR_cond | difference | shows opposite instead |\n");
      sb.append("|---|---:|---:|---:|---:|\n");
      for (OppositeBias.Pair p : e.bias) {
        sb.append("| ").append(p.first().canonicalName()).append(" / ").append(p.second().canonicalName())
            .append(" | ").append(f(p.firstScores().visorCond())).append(" | ").append(f(p.secondScores().visorCond()))
            .append(" | ").append(f(p.condDifference())).append(" | ").append(f(p.firstScores().oppositeRate()))
            .append(" / ").append(f(p.secondScores().oppositeRate())).append(" |\n");
      }
    }
    if (e.frequency != null) {
      sb.append("\n| frequency vs VISOR_cond | triplets | Pearson [95% CI] | Pearson log(1+n) [95% CI] | Spearman [95% CI] |\n");
      sb.append("|---|---:|---|---|---|\n");
      for (Map.Entry<String, FrequencyCorrelation.Result> r : e.frequency.entrySet()) {
        FrequencyCorrelation.Result x = r.getValue();
        sb.append("| ").append(r.getKey()).append(" | ").append(x.triplets()).append(" | ").append(est(x.pearson()))
            .append(" | ").append(est(x.pearsonLog())).append(" | ").append(est(x.spearman())).append(" |\n");
      }
    }
    if (!e.detections.warnings().counts().isEmpty()) {
      sb.append("\nwarnings:");
      for (Map.Entry<String, Long> w : e.detections.warnings().counts().entrySet()) {
        sb.append(' ').append(w.getKey()).append('=').append(w.getValue());
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  public static String of(Comparison.Result r) {
    StringBuilder sb = new StringBuilder();
    sb.append("paired prompts: ").append(r.paired()).append(" (only in base: ").append(r.onlyBase())
        .append(", only in tuned: ").append(r.onlyTuned()).append("), paired bootstrap ").append(r.bootstrap())
        .append(" resamples\n\n");
    sb.append("| group | metric | base | tuned | delta | 95% CI |\n|---|---|---:|---:|---:|---|\n");
    for (Map.Entry<String, Map<String, Comparison.Delta>> g : r.groups().entrySet()) {
      for (Map.Entry<String, Comparison.Delta> m : g.getValue().entrySet()) {
        if (!g.getKey().equals("overall") && !(m.getKey().equals("visor_cond") || m.getKey().equals("visor_uncond")
            || m.getKey().equals("oa"))) {
          continue;
        }
        Comparison.Delta d = m.getValue();
        sb.append("| ").append(g.getKey()).append(" | ").append(m.getKey()).append(" | ").append(f(d.base()))
            .append(" | ").append(f(d.tuned())).append(" | ").append(signed(d.delta())).append(" | [")
            .append(signed(d.lo())).append(", ").append(signed(d.hi())).append("] |\n");
      }
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String name, VisorScores s) {
    sb.append("| ").append(name).append(" | ").append(s.prompts()).append(" | ").append(s.images()).append(" | ")
        .append(f(s.oaA())).append(" | ").append(f(s.oaB())).append(" | ").append(f(s.oa())).append(" | ")
        .append(f(s.visorCond())).append(" | ").append(f(s.visorUncond()));
    for (int n = 1; n <= VisorScores.MAX_N; n++) sb.append(" | ").append(f(s.visorN(n)));
    sb.append(" |\n");
  }

  static String f(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "n/a";
  }

  static String signed(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%+.2f", v) : "n/a";
  }

  private static String est(FrequencyCorrelation.Estimate e) {
    if (!Double.isFinite(e.value())) return "n/a";
    return String.format(Locale.ROOT, "%.3f [%s, %s]", e.value(), fmt3(e.lo()), fmt3(e.hi()));
  }

  private static String fmt3(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "n/a";
  }
}
