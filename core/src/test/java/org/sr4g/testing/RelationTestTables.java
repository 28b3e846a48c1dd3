package org.sr4g.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationRules;

/**
 * The box tables every relation kernel is checked on against the oracle, {@link RelationRules}: the vector kernel in
 * core, the CUDA kernel on a GPU and its source compiled for the CPU in native. One generator, so every copy of the
 * rules meets the same ties.
 */
public final class RelationTestTables {
  /** Box counts of the grid tables: below, at and above the vector widths and {@link BoxTable#PAD}. */
  public static final int[] GRID_SIZES = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100};

  /** Box counts of the random tables. */
  public static final int[] RANDOM_SIZES = {2, 5, 13, 40};

  private RelationTestTables() {}

  /**
   * {@code rounds} tables of {@code n} boxes whose coordinates lie on a coarse grid of the image (1 to 10 cells per
   * side), which makes ties common: shared edges, equal centres, exact diagonals, equal sizes; one box in eight is an
   * exact duplicate of an earlier one. Image sizes are 640 x 480 or odd ones, so the division rounds.
   */
  public static List<BoxTable> tieHeavyGrid(int n, int rounds) {
    SplittableRandom rnd = new SplittableRandom(n * 7919L);
    List<BoxTable> tables = new ArrayList<>(rounds);
    for (int round = 0; round < rounds; round++) {
      BoxTable t = new BoxTable();
      float W = rnd.nextBoolean() ? 640 : 1 + rnd.nextInt(1000);
      float H = rnd.nextBoolean() ? 480 : 1 + rnd.nextInt(1000);
      for (int i = 0; i < n; i++) {
        int grid = 1 + rnd.nextInt(10);
        float x = rnd.nextInt(grid) * W / grid;
        float y = rnd.nextInt(grid) * H / grid;
        float w = (1 + rnd.nextInt(grid)) * W / grid;
        float h = (1 + rnd.nextInt(grid)) * H / grid;
        if (rnd.nextInt(8) == 0 && i > 0) { // exact duplicate of an earlier box
          int k = rnd.nextInt(i);
          t.addCoco(t.x0()[k] * W, t.y0()[k] * H, t.bw()[k] * W, t.bh()[k] * H, W, H);
        } else {
          t.addCoco(x, y, w, h, W, H);
        }
      }
      tables.add(t);
    }
    return tables;
  }

  /** {@code rounds} tables of {@code n} boxes at uniformly random float positions in a 640 x 480 image. */
  public static List<BoxTable> random(int n, int rounds) {
    SplittableRandom rnd = new SplittableRandom(42 + n);
    List<BoxTable> tables = new ArrayList<>(rounds);
    for (int round = 0; round < rounds; round++) {
      BoxTable t = new BoxTable();
      for (int i = 0; i < n; i++) {
        float x = (float) rnd.nextDouble(0, 600), y = (float) rnd.nextDouble(0, 400);
        t.addCoco(x, y, (float) rnd.nextDouble(0.01, 640 - x), (float) rnd.nextDouble(0.01, 480 - y), 640, 480);
      }
      tables.add(t);
    }
    return tables;
  }

  /** Every ordered pair's mask from the oracle ({@link RelationRules}), {@code [s * n + o]}, the diagonal included. */
  public static int[] oracleMasks(BoxTable t) {
    int n = t.size();
    int[] all = new int[n * n];
    for (int s = 0; s < n; s++) for (int o = 0; o < n; o++) all[s * n + o] = RelationRules.relations(t.get(s), t.get(o));
    return all;
  }

  /**
   * Fails with the first differing pair (its boxes and both relation lists) unless {@code actual[s * n + o]} equals the
   * oracle's mask for every ordered pair of {@code t}.
   */
  public static void assertOracleMasks(BoxTable t, int[] actual, String kernelName) {
    int n = t.size();
    int[] expected = oracleMasks(t);
    if (actual.length < n * n) throw new AssertionError(kernelName + " gave " + actual.length + " masks for " + n + " boxes");
    for (int s = 0; s < n; s++) {
      for (int o = 0; o < n; o++) {
        int e = expected[s * n + o], a = actual[s * n + o];
        if (e != a) {
          throw new AssertionError("subject " + t.get(s) + " object " + t.get(o) + ": scalar " + Relation.fromMask(e)
              + " " + kernelName + " " + Relation.fromMask(a));
        }
      }
    }
  }
}
