package org.sr4g.synth;

import java.util.List;
import org.sr4g.coco.CocoCategories;
import org.sr4g.coco.CocoCategories.Category;

/**
 * The statistics of {@link CocoSynth}'s synthetic COCO files: the numbers (where they come from: docs/synth.md) and
 * the draws that use them. The draw order is part of the file format: every draw here is taken from the caller's
 * stream at the point the writer asks for it, so moving a call changes the bytes of every synthetic file.
 */
final class SynthStatistics {
  private SynthStatistics() {}

  /** Fraction of images without any annotation (train2017: 1,021 of 118,287). */
  static final double EMPTY_IMAGE_P = 0.0086;
  /** Objects in a non-empty image: 1 + Poisson(lambda), lambda log-normal (heavy tail), capped. */
  static final double COUNT_LOG_MU = 1.40;

  static final double COUNT_LOG_SIGMA = 0.95;
  static final double COUNT_LAMBDA_MAX = 95;
  static final int MAX_OBJECTS = 100;
  /** Probability that an object repeats a category already in the image (keeps the marginal, adds clustering). */
  static final double REPEAT_CATEGORY_P = 0.55;
  /** Fraction of iscrowd annotations (RLE masks). */
  static final double CROWD_P = 0.0107;
  /** log(area in px^2) ~ Normal: about 41% small (< 32^2), 34% medium, 25% large, as COCO reports. */
  static final double AREA_LOG_MU = 8.15;

  static final double AREA_LOG_SIGMA = 2.3;
  /** Polygon points: 4 + K * sqrt(w + h) * U[0.6, 1.4]. */
  static final double POINTS_K = 1.55;

  static final int MAX_POINTS = 300;
  /** Fraction of polygon annotations in two parts (occluded objects). */
  static final double TWO_PARTS_P = 0.08;

  /** Image sizes (width, height, weight per mille); the rest are 640 x U[240, 639] or U[240, 639] x 640. */
  private static final int[][] SIZES = {
    {640, 480, 190}, {640, 427, 160}, {480, 640, 70}, {427, 640, 60}, {640, 426, 50}, {640, 428, 40},
    {640, 424, 30}, {640, 425, 20}, {500, 375, 25}, {640, 360, 25}, {612, 612, 15}, {375, 500, 12},
    {640, 640, 10}, {640, 512, 10}
  };

  /** Relative frequency of the 8 licenses. */
  private static final int[] LICENSE_WEIGHTS = {18, 10, 40, 20, 5, 4, 2, 1};

  static final List<Category> CATEGORIES = CocoCategories.all();
  private static final int[] CATEGORY_CUMULATIVE = new int[CATEGORIES.size()];
  static final int PERSON = 0;

  static {
    int sum = 0;
    for (int i = 0; i < CATEGORIES.size(); i++) {
      sum += CATEGORIES.get(i).train2017Instances();
      CATEGORY_CUMULATIVE[i] = sum;
    }
  }

  /** An image size in pixels. */
  record Size(int width, int height) {}

  /** Its draws must stay the first of the image stream (the annotation pass redraws them). */
  static Size imageSize(SplitMix64 rng) {
    int r = rng.nextInt(1000);
    for (int[] s : SIZES) {
      if (r < s[2]) return new Size(s[0], s[1]);
      r -= s[2];
    }
    int side = rng.nextInt(240, 639);
    return rng.chance(0.7) ? new Size(640, side) : new Size(side, 640);
  }

  /** A license id (1-based), drawn by {@link #LICENSE_WEIGHTS}. */
  static int license(SplitMix64 rng) {
    return 1 + weighted(rng, LICENSE_WEIGHTS);
  }

  private static int weighted(SplitMix64 rng, int[] weights) {
    int total = 0;
    for (int x : weights) total += x;
    int r = rng.nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.length - 1;
  }

  /**
   * Unique image ids scattered over [1, M] with M about 4.92 * images (train2017's ids reach 581,929): an affine
   * permutation i -> (a * i + b) mod M with gcd(a, M) = 1.
   */
  static final class ImageIds {
    private final long m;
    private final long a;
    private final long b;

    ImageIds(int images, long seed) {
      m = Math.max(images, (long) Math.ceil(images * (581_929.0 / 118_287.0)));
      SplitMix64 rng = SplitMix64.of(seed, 0, 0);
      long a0 = m / 3 + (rng.nextLong() >>> 1) % Math.max(1, m / 3);
      while (gcd(a0, m) != 1) a0++;
      a = a0 % m == 0 ? 1 : a0 % m;
      b = (rng.nextLong() >>> 1) % m;
    }

    long id(int i) {
      return 1 + (a * i + b) % m;
    }

    private static long gcd(long x, long y) {
      while (y != 0) {
        long t = x % y;
        x = y;
        y = t;
      }
      return x;
    }
  }

  /** Objects in one image (0 for an empty image). */
  static int objectCount(SplitMix64 rng) {
    if (rng.chance(EMPTY_IMAGE_P)) return 0;
    double lambda = Math.min(COUNT_LAMBDA_MAX, StrictMath.exp(COUNT_LOG_MU + COUNT_LOG_SIGMA * rng.nextGaussian()));
    return Math.min(MAX_OBJECTS, 1 + rng.nextPoisson(lambda));
  }

  /** A category index, drawn by train2017 frequency. */
  static int category(SplitMix64 rng) {
    int r = rng.nextInt(CATEGORY_CUMULATIVE[CATEGORY_CUMULATIVE.length - 1]);
    int lo = 0;
    int hi = CATEGORY_CUMULATIVE.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (r < CATEGORY_CUMULATIVE[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
