package org.sr4g.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sr4g.UserInputException;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;

/**
 * {@code sr4g eval --compare base/metrics.json tuned/metrics.json}: deltas (tuned - base) of every VISOR metric,
 * overall, per family and per relation, with paired bootstrap 95% intervals. Pairing is by prompt: each resample
 * draws prompts with replacement and recomputes both models' metrics on the same prompts, so the prompt-to-prompt
 * variation the two runs share cancels in the delta.
 */
public final class Comparison {
  public static final String[] METRICS =
      {"oa", "oa_a", "oa_b", "visor_cond", "visor_uncond", "visor_1", "visor_2", "visor_3", "visor_4"};

  /** One metric of one group. */
  public record Delta(double base, double tuned, double delta, double lo, double hi) {}

  /** Group name ("overall", a family label or a relation name) to metric name to delta, in report order. */
  public record Result(String base, String tuned, int paired, int onlyBase, int onlyTuned, int bootstrap, long seed,
      Map<String, Map<String, Delta>> groups) {}

  private static final int FIELDS = 5; // images, det_a, det_b, both, correct
  /** Groups: overall, 3 families, 14 relations, seen objects, unseen objects. */
  private static final int G = 1 + 3 + Relation.COUNT + 2;
  private static final int SEEN = 4 + Relation.COUNT;

  private Comparison() {}

  public static Result compare(Path base, Path tuned, int bootstrap, long seed) {
    Map<Integer, int[]> b = read(base);
    Map<Integer, int[]> t = read(tuned);
    List<int[]> pb = new ArrayList<>();
    List<int[]> pt = new ArrayList<>();
    for (Map.Entry<Integer, int[]> e : b.entrySet()) {
      int[] other = t.get(e.getKey());
      if (other == null) continue;
      if (other[FIELDS] != e.getValue()[FIELDS]) {
        throw new UserInputException(tuned + ": prompt " + e.getKey() + " has relation "
            + Relation.ofOrdinal(other[FIELDS]).canonicalName() + " but " + base + " has "
            + Relation.ofOrdinal(e.getValue()[FIELDS]).canonicalName() + " (different prompt files?)");
      }
      pb.add(e.getValue());
      pt.add(other);
    }
    int n = pb.size();
    if (n == 0) throw new UserInputException(base + " and " + tuned + " share no prompt (compare runs on the same prompts)");
    VisorScores[] sb = sums(pb, null);
    VisorScores[] st = sums(pt, null);
    double[][][] boot = new double[G][METRICS.length][bootstrap];
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] w = new int[n];
    for (int k = 0; k < bootstrap; k++) {
      Stats.multiplicities(rnd, n, w);
      VisorScores[] rb = sums(pb, w);
      VisorScores[] rt = sums(pt, w);
      for (int g = 0; g < G; g++) {
        for (int m = 0; m < METRICS.length; m++) boot[g][m][k] = metric(rt[g], m) - metric(rb[g], m);
      }
    }
    Map<String, Map<String, Delta>> groups = new LinkedHashMap<>();
    for (int g = 0; g < G; g++) {
      if (sb[g].prompts() == 0) continue;
      Map<String, Delta> ms = new LinkedHashMap<>();
      for (int m = 0; m < METRICS.length; m++) {
        double vb = metric(sb[g], m);
        double vt = metric(st[g], m);
        double[] ci = Stats.interval95(boot[g][m]);
        ms.put(METRICS[m], new Delta(vb, vt, vt - vb, ci[0], ci[1]));
      }
      groups.put(groupName(g), ms);
    }
    return new Result(base.toString(), tuned.toString(), n, b.size() - n, t.size() - n, bootstrap, seed, groups);
  }

  static String groupName(int g) {
    if (g == 0) return "overall";
    if (g <= 3) return Family.values()[g - 1].label();
    if (g == SEEN) return "seen objects";
    if (g == SEEN + 1) return "unseen objects";
    return Relation.ofOrdinal(g - 4).canonicalName();
  }

  static double metric(VisorScores s, int m) {
    switch (m) {
      case 0:
        return s.oa();
      case 1:
        return s.oaA();
      case 2:
        return s.oaB();
      case 3:
        return s.visorCond();
      case 4:
        return s.visorUncond();
      default:
        return s.visorN(m - 4);
    }
  }

  /** Scores per group (overall, families, relations) of the prompts weighted by {@code w} (null: each once). */
  private static VisorScores[] sums(List<int[]> rows, int[] w) {
    long[][] acc = new long[G][FIELDS + 1 + VisorScores.MAX_N];
    for (int i = 0; i < rows.size(); i++) {
      int k = w == null ? 1 : w[i];
      if (k == 0) continue;
      int[] r = rows.get(i);
      long[] a = acc[4 + r[FIELDS]];
      a[0] += k;
      for (int f = 0; f < FIELDS; f++) a[1 + f] += (long) k * r[f];
      for (int c = 1; c <= VisorScores.MAX_N; c++) if (r[4] >= c) a[FIELDS + c] += k;
      // Seen/unseen (known when the base run had --manifest), summed like a relation group.
      if (r[FIELDS + 1] >= 0) {
        long[] u = acc[SEEN + r[FIELDS + 1]];
        u[0] += k;
        for (int f = 0; f < FIELDS; f++) u[1 + f] += (long) k * r[f];
        for (int c = 1; c <= VisorScores.MAX_N; c++) if (r[4] >= c) u[FIELDS + c] += k;
      }
    }
    // Families and overall are sums of their relations.
    for (Relation r : Relation.all()) {
      long[] a = acc[4 + r.ordinal()];
      for (int f = 0; f < a.length; f++) {
        acc[0][f] += a[f];
        acc[1 + r.family().ordinal()][f] += a[f];
      }
    }
    VisorScores[] out = new VisorScores[G];
    for (int g = 0; g < G; g++) {
      long[] a = acc[g];
      long[] atLeast = new long[VisorScores.MAX_N];
      System.arraycopy(a, FIELDS + 1, atLeast, 0, VisorScores.MAX_N);
      out[g] = new VisorScores(a[0], a[1], a[2], a[3], a[4], a[5], 0, 0, atLeast);
    }
    return out;
  }

  /**
   * unique_id to {images, det_a, det_b, both, correct, relation ordinal, unseen (1), seen (0) or unknown (-1)} from a
   * metrics.json.
   */
  static Map<Integer, int[]> read(Path metrics) {
    JsonNode root;
    try {
      root = PromptReader.JSON.readTree(metrics.toFile());
    } catch (IOException e) {
      throw new UserInputException(metrics + ": cannot read metrics: " + e.getMessage(), e);
    }
    JsonNode pp = root == null ? null : root.get("per_prompt");
    if (pp == null || !pp.isObject()) {
      throw new UserInputException(metrics + ": no 'per_prompt' section (is this a metrics.json written by sr4g eval?)");
    }
    String[] names = {"images", "det_a", "det_b", "both", "correct"};
    JsonNode ids = array(pp, "unique_id", metrics);
    JsonNode rel = array(pp, "relation", metrics);
    JsonNode[] cols = new JsonNode[names.length];
    for (int f = 0; f < names.length; f++) {
      cols[f] = array(pp, names[f], metrics);
      if (cols[f].size() != ids.size()) {
        throw new UserInputException(metrics + ": per_prompt." + names[f] + " has " + cols[f].size() + " entries, "
            + "unique_id has " + ids.size());
      }
    }
    JsonNode unseen = pp.get("unseen");
    if (unseen != null && (!unseen.isArray() || unseen.size() != ids.size())) {
      throw new UserInputException(metrics + ": per_prompt.unseen must be an array as long as unique_id");
    }
    Map<Integer, int[]> out = new HashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      int[] row = new int[FIELDS + 2];
      row[FIELDS + 1] = unseen == null ? -1 : (unseen.get(i).asBoolean() ? 1 : 0);
      for (int f = 0; f < FIELDS; f++) row[f] = cols[f].get(i).intValue();
      try {
        row[FIELDS] = Relation.parse(rel.get(i).asText()).ordinal();
      } catch (IllegalArgumentException e) {
        throw new UserInputException(metrics + ": per_prompt.relation[" + i + "]: " + e.getMessage());
      }
      if (out.put(ids.get(i).intValue(), row) != null) {
        throw new UserInputException(metrics + ": per_prompt.unique_id " + ids.get(i) + " appears twice");
      }
    }
    return out;
  }

  private static JsonNode array(JsonNode pp, String name, Path metrics) {
    JsonNode a = pp.get(name);
    if (a == null || !a.isArray()) throw new UserInputException(metrics + ": missing array per_prompt." + name);
    return a;
  }
}
