package org.sr4g.evaluation;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Small statistics kit: Pearson, Spearman with average ranks for ties, percentile intervals. */
final class Stats {
  private Stats() {}

  /** Pearson's r; NaN when fewer than 3 points or either side is constant. */
  static double pearson(double[] x, double[] y) {
    int n = x.length;
    if (n < 3) return Double.NaN;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i];
      my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      double dx = x[i] - mx;
      double dy = y[i] - my;
      sxy += dx * dy;
      sxx += dx * dx;
      syy += dy * dy;
    }
    if (sxx == 0 || syy == 0) return Double.NaN;
    return sxy / Math.sqrt(sxx * syy);
  }

  /** Spearman's rho = Pearson on ranks, ties sharing their average rank (as scipy.stats.spearmanr). */
  static double spearman(double[] x, double[] y) {
    return pearson(ranks(x), ranks(y));
  }

  /** 1-based ranks, ties get the mean of the ranks they span. */
  static double[] ranks(double[] v) {
    int n = v.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Double.compare(v[a], v[b]));
    double[] r = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && v[order[j + 1]] == v[order[i]]) j++;
      double avg = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) r[order[k]] = avg;
      i = j + 1;
    }
    return r;
  }

  /** The 2.5th and 97.5th percentiles of the finite values (linear interpolation), or NaNs when none. */
  static double[] interval95(double[] samples) {
    double[] s = Arrays.stream(samples).filter(Double::isFinite).sorted().toArray();
    if (s.length == 0) return new double[] {Double.NaN, Double.NaN};
    return new double[] {quantile(s, 0.025), quantile(s, 0.975)};
  }

  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  /** The indices 0..n-1 sorted by {@code v} (stable). */
  static int[] order(double[] v) {
    Integer[] o = new Integer[v.length];
    for (int i = 0; i < o.length; i++) o[i] = i;
    Arrays.sort(o, (a, b) -> Double.compare(v[a], v[b]));
    int[] out = new int[o.length];
    for (int i = 0; i < o.length; i++) out[i] = o[i];
    return out;
  }

  /**
   * Average ranks of a weighted sample (point i appears w[i] times), in O(n) given {@code order}: a bootstrap
   * resample is the original points with multiplicities, so it never needs sorting again.
   */
  static double[] ranks(double[] v, int[] order, int[] w) {
    return ranks(v, order, w, new double[v.length]);
  }

  /** As {@link #ranks(double[], int[], int[])}, into {@code r} (reused across bootstrap resamples). */
  static double[] ranks(double[] v, int[] order, int[] w, double[] r) {
    int n = v.length;
    long start = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      long wt = w[order[i]];
      while (j + 1 < n && v[order[j + 1]] == v[order[i]]) wt += w[order[++j]];
      double avg = start + (wt + 1) / 2.0;
      for (int k = i; k <= j; k++) r[order[k]] = avg;
      start += wt;
      i = j + 1;
    }
    return r;
  }

  /** Pearson's r of a weighted sample; NaN with fewer than 3 draws or a constant side. */
  static double pearson(double[] x, double[] y, int[] w) {
    long n = 0;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < x.length; i++) {
      n += w[i];
      mx += w[i] * x[i];
      my += w[i] * y[i];
    }
    if (n < 3) return Double.NaN;
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      if (w[i] == 0) continue;
      double dx = x[i] - mx;
      double dy = y[i] - my;
      sxy += w[i] * dx * dy;
      sxx += w[i] * dx * dx;
      syy += w[i] * dy * dy;
    }
    if (sxx == 0 || syy == 0) return Double.NaN;
    return sxy / Math.sqrt(sxx * syy);
  }

  /**
   * Weighted Pearson r of the pairs (a[k], b[k]) for k = 0..a.length-1 in one two-pass sweep (means, then centred
   * sums) over the shared weights, into {@code out}: the bootstrap's three statistics at the cost of one.
   */
  static void pearsonMany(double[][] a, double[][] b, int[] w, double[] out) {
    int m = a.length;
    int n = w.length;
    double[] ma = new double[m];
    double[] mb = new double[m];
    long total = 0;
    for (int i = 0; i < n; i++) {
      int wi = w[i];
      if (wi == 0) continue;
      total += wi;
      for (int k = 0; k < m; k++) {
        ma[k] += wi * a[k][i];
        mb[k] += wi * b[k][i];
      }
    }
    if (total < 3) {
      java.util.Arrays.fill(out, Double.NaN);
      return;
    }
    for (int k = 0; k < m; k++) {
      ma[k] /= total;
      mb[k] /= total;
    }
    double[] sab = new double[m];
    double[] saa = new double[m];
    double[] sbb = new double[m];
    for (int i = 0; i < n; i++) {
      int wi = w[i];
      if (wi == 0) continue;
      for (int k = 0; k < m; k++) {
        double da = a[k][i] - ma[k];
        double db = b[k][i] - mb[k];
        sab[k] += wi * da * db;
        saa[k] += wi * da * da;
        sbb[k] += wi * db * db;
      }
    }
    for (int k = 0; k < m; k++) {
      out[k] = saa[k] == 0 || sbb[k] == 0 ? Double.NaN : sab[k] / Math.sqrt(saa[k] * sbb[k]);
    }
  }

  /** Bootstrap multiplicities: n draws with replacement from 0..n-1, as counts per index. */
  static int[] multiplicities(SplittableRandom rnd, int n, int[] into) {
    Arrays.fill(into, 0);
    for (int i = 0; i < n; i++) into[rnd.nextInt(n)]++;
    return into;
  }

  /** One bootstrap resample of indices 0..n-1. */
  static int[] resample(SplittableRandom rnd, int n, int[] into) {
    for (int i = 0; i < n; i++) into[i] = rnd.nextInt(n);
    return into;
  }
}
