package org.sr4g.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sr4g.relations.Relation;

class StatsTest {
  @Test
  void averageRanksForTies() {
    assertArrayEquals(new double[] {1, 2.5, 2.5, 4}, Stats.ranks(new double[] {1, 2, 2, 3}), 0);
    assertArrayEquals(new double[] {2, 2, 2}, Stats.ranks(new double[] {5, 5, 5}), 0);
  }

  @Test
  void spearmanMatchesScipy() {
    // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
    assertEquals(0.9486832980505138, Stats.spearman(new double[] {1, 2, 2, 3}, new double[] {1, 3, 2, 4}), 1e-12);
  }

  @Test
  void pearsonKnownValues() {
    assertEquals(1.0, Stats.pearson(new double[] {1, 2, 3}, new double[] {2, 4, 6}), 1e-12);
    assertEquals(-1.0, Stats.pearson(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
    // Python: statistics.correlation([1, 2, 3, 4], [1, 3, 2, 5]) = 0.8315218406202999
    assertEquals(0.8315218406202999, Stats.pearson(new double[] {1, 2, 3, 4}, new double[] {1, 3, 2, 5}), 1e-12);
    assertTrue(Double.isNaN(Stats.pearson(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
  }

  @Test
  void weightedFormsEqualTheExpandedSample() {
    // The bootstrap uses multiplicities instead of materialized resamples: both must give the same r.
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
    double[] x = new double[40];
    double[] y = new double[40];
    for (int i = 0; i < 40; i++) {
      x[i] = rnd.nextInt(8);
      y[i] = rnd.nextInt(5) + 0.5 * x[i];
    }
    int[] w = Stats.multiplicities(rnd, 40, new int[40]);
    int total = 0;
    for (int v : w) total += v;
    double[] ex = new double[total];
    double[] ey = new double[total];
    for (int i = 0, k = 0; i < 40; i++) {
      for (int j = 0; j < w[i]; j++, k++) {
        ex[k] = x[i];
        ey[k] = y[i];
      }
    }
    assertEquals(Stats.pearson(ex, ey), Stats.pearson(x, y, w), 1e-12);
    double[] rx = Stats.ranks(x, Stats.order(x), w);
    double[] ry = Stats.ranks(y, Stats.order(y), w);
    assertEquals(Stats.spearman(ex, ey), Stats.pearson(rx, ry, w), 1e-12);
    double[] many = new double[2];
    Stats.pearsonMany(new double[][] {x, rx}, new double[][] {y, ry}, w, many);
    assertEquals(Stats.pearson(ex, ey), many[0], 1e-12);
    assertEquals(Stats.spearman(ex, ey), many[1], 1e-12);
  }

  @Test
  void bootstrapIsSeededAndBracketsTheEstimate() {
    List<FrequencyCorrelation.Point> pts = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      long count = (long) Math.pow(2, i % 10);
      long correct = Math.min(10, i % 10 + (i % 3));
      pts.add(new FrequencyCorrelation.Point("a" + i, Relation.ABOVE, "b", count, 10, correct));
    }
    FrequencyCorrelation.Result a = FrequencyCorrelation.correlate(pts, 0, 500, 42);
    FrequencyCorrelation.Result b = FrequencyCorrelation.correlate(pts, 0, 500, 42);
    assertEquals(a, b);
    assertTrue(a.spearman().lo() <= a.spearman().value() && a.spearman().value() <= a.spearman().hi());
    assertTrue(a.pearsonLog().value() > a.pearson().value(), "log-count is the linear scale here");
  }
}
