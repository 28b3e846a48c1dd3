package org.sr4g.evaluation;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sr4g.relations.Relation;

/**
 * Correlation between a triplet's training frequency and its VISOR_cond: Pearson on the raw count, Pearson on
 * ln(1 + count), Spearman (rank-based, so the log does not change it), each with a seeded percentile bootstrap 95%
 * interval over triplets. Triplets whose images never show both objects have no VISOR_cond and are left out
 * (counted in {@code excluded}).
 */
public final class FrequencyCorrelation {
  private FrequencyCorrelation() {}

  /** One triplet point: training count and its VISOR_cond with the counts behind it. */
  public record Point(String subject, Relation relation, String object, long count, long both, long correct) {
    public double visorCond() {
      return 100.0 * correct / both;
    }
  }

  /** r, and its interval, for one statistic. */
  public record Estimate(double value, double lo, double hi) {}

  public record Result(int triplets, int excluded, Estimate pearson, Estimate pearsonLog, Estimate spearman) {}

  /**
   * One point per triplet with images showing both objects; {@code excluded[Relation.COUNT]} counts the triplets left
   * out, {@code excluded[r.ordinal()]} those of relation r.
   */
  public static List<Point> points(PromptSet prompts, PromptTally t, TripletCounts counts, int[] excluded) {
    Map<String, long[]> acc = new LinkedHashMap<>();
    Map<String, EvalPrompt> first = new LinkedHashMap<>();
    for (int i = 0; i < prompts.size(); i++) {
      EvalPrompt p = prompts.get(i);
      if (!p.scored() || t.images[i] == 0) continue;
      String k = TripletCounts.key(p.objectA(), p.relation(), p.objectB());
      long[] a = acc.computeIfAbsent(k, x -> new long[2]);
      a[0] += t.both[i];
      a[1] += t.correct[i];
      first.putIfAbsent(k, p);
    }
    List<Point> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : acc.entrySet()) {
      EvalPrompt p = first.get(e.getKey());
      if (e.getValue()[0] == 0) {
        excluded[Relation.COUNT]++;
        excluded[p.relation().ordinal()]++;
        continue;
      }
      out.add(new Point(p.objectA(), p.relation(), p.objectB(), counts.count(p.objectA(), p.relation(), p.objectB()),
          e.getValue()[0], e.getValue()[1]));
    }
    return out;
  }

  public static Result correlate(List<Point> pts, int excluded, int bootstrap, long seed) {
    int n = pts.size();
    double[] x = new double[n];
    double[] lx = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = pts.get(i).count();
      lx[i] = Math.log1p(x[i]);
      y[i] = pts.get(i).visorCond();
    }
    double[][] boot = new double[3][bootstrap];
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] w = new int[n];
    int[] ox = Stats.order(x);
    int[] oy = Stats.order(y);
    double[] rx = new double[n];
    double[] ry = new double[n];
    double[][] as = {x, lx, rx};
    double[][] bs = {y, y, ry};
    double[] r = new double[3];
    for (int b = 0; b < bootstrap && n >= 3; b++) {
      // Resampling triplets = drawing multiplicities; ranks of the resample come from the presorted order in O(n).
      Stats.multiplicities(rnd, n, w);
      Stats.ranks(x, ox, w, rx);
      Stats.ranks(y, oy, w, ry);
      Stats.pearsonMany(as, bs, w, r);
      boot[0][b] = r[0];
      boot[1][b] = r[1];
      boot[2][b] = r[2];
    }
    return new Result(n, excluded, est(Stats.pearson(x, y), boot[0], n), est(Stats.pearson(lx, y), boot[1], n),
        est(Stats.spearman(x, y), boot[2], n));
  }

  private static Estimate est(double v, double[] boot, int n) {
    if (n < 3) return new Estimate(Double.NaN, Double.NaN, Double.NaN);
    double[] ci = Stats.interval95(boot);
    return new Estimate(v, ci[0], ci[1]);
  }

  /** The overall result and one per relation present. */
  public static Map<String, Result> all(List<Point> pts, int[] excluded, int bootstrap, long seed) {
    Map<Relation, List<Point>> by = new EnumMap<>(Relation.class);
    for (Point p : pts) by.computeIfAbsent(p.relation(), r -> new ArrayList<>()).add(p);
    List<String> names = new ArrayList<>();
    List<List<Point>> groups = new ArrayList<>();
    List<Integer> ex = new ArrayList<>();
    names.add("all");
    groups.add(pts);
    ex.add(excluded[Relation.COUNT]);
    for (Map.Entry<Relation, List<Point>> e : by.entrySet()) {
      names.add(e.getKey().canonicalName());
      groups.add(e.getValue());
      ex.add(excluded[e.getKey().ordinal()]);
    }
    // Groups are independent and each has its own seeded generator, so running them in parallel changes nothing
    // but the time (the bootstrap is most of eval's time once --triplets is given).
    Result[] results = new Result[groups.size()];
    java.util.stream.IntStream.range(0, groups.size()).parallel()
        .forEach(i -> results[i] = correlate(groups.get(i), ex.get(i), bootstrap, seed));
    Map<String, Result> out = new LinkedHashMap<>();
    for (int i = 0; i < results.length; i++) out.put(names.get(i), results[i]);
    return out;
  }
}
