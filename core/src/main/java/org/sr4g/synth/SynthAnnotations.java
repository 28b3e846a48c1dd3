package org.sr4g.synth;

import static org.sr4g.synth.SynthStatistics.AREA_LOG_MU;
import static org.sr4g.synth.SynthStatistics.AREA_LOG_SIGMA;
import static org.sr4g.synth.SynthStatistics.CATEGORIES;
import static org.sr4g.synth.SynthStatistics.CROWD_P;
import static org.sr4g.synth.SynthStatistics.MAX_OBJECTS;
import static org.sr4g.synth.SynthStatistics.MAX_POINTS;
import static org.sr4g.synth.SynthStatistics.PERSON;
import static org.sr4g.synth.SynthStatistics.POINTS_K;
import static org.sr4g.synth.SynthStatistics.REPEAT_CATEGORY_P;
import static org.sr4g.synth.SynthStatistics.TWO_PARTS_P;
import static org.sr4g.synth.SynthStatistics.category;
import static org.sr4g.synth.SynthStatistics.objectCount;

import java.io.IOException;

/**
 * Writes the annotations of a synthetic COCO file, one image after another (polygons, two-part polygons and iscrowd RLE
 * masks, with their areas and bounding boxes computed from the written points); keeps the running annotation id.
 */
final class SynthAnnotations {
  private static final int ANGLES = 1024;
  private static final double[] COS = new double[ANGLES];
  private static final double[] SIN = new double[ANGLES];

  static {
    for (int i = 0; i < ANGLES; i++) {
      COS[i] = StrictMath.cos(2 * Math.PI * i / ANGLES);
      SIN[i] = StrictMath.sin(2 * Math.PI * i / ANGLES);
    }
  }

  private final AsciiJsonWriter w;
  private final long seed;
  private long nextId;
  private long count;
  private long crowd;
  private long empty;
  private boolean first = true;
  private int[] cats = new int[MAX_OBJECTS];
  private final long[] xs = new long[MAX_POINTS + 8];
  private final long[] ys = new long[MAX_POINTS + 8];
  private final int[] runStart = new int[4 * 640 + 8];
  private final int[] runEnd = new int[4 * 640 + 8];

  SynthAnnotations(AsciiJsonWriter w, long seed) {
    this.w = w;
    this.seed = seed;
  }

  /** Annotations written so far. */
  long count() {
    return count;
  }

  /** Of which iscrowd. */
  long crowd() {
    return crowd;
  }

  /** Images without annotations so far. */
  long emptyImages() {
    return empty;
  }

  void image(int index, long imageId, int width, int height) throws IOException {
    SplitMix64 rng = SplitMix64.of(seed, 2, index);
    int n = objectCount(rng);
    if (n == 0) empty++;
    for (int k = 0; k < n; k++) {
      cats[k] = k > 0 && rng.chance(REPEAT_CATEGORY_P) ? cats[rng.nextInt(k)] : category(rng);
    }
    for (int k = 0; k < n; k++) {
      nextId += 1 + rng.nextInt(3);
      if (!first) w.ch(',');
      first = false;
      if (rng.chance(CROWD_P)) {
        crowd(rng, imageId, width, height, cats[k]);
        crowd++;
      } else {
        polygon(rng, imageId, width, height, cats[k]);
      }
      count++;
    }
  }

  private void polygon(SplitMix64 rng, long imageId, int width, int height, int cat) throws IOException {
    double area = StrictMath.exp(AREA_LOG_MU + AREA_LOG_SIGMA * rng.nextGaussian());
    area = Math.max(6.0, Math.min(area, 0.95 * width * height));
    double aspect = StrictMath.exp((cat == PERSON ? -0.55 : 0.0) + 0.55 * rng.nextGaussian());
    double bw = Math.max(1.5, Math.min(width, Math.sqrt(area * aspect)));
    double bh = Math.max(1.5, Math.min(height, Math.sqrt(area / aspect)));
    double bx = rng.nextDouble() * (width - bw);
    double by = rng.nextDouble() * (height - bh);
    int points = 4 + (int) (POINTS_K * Math.sqrt(bw + bh) * (0.6 + 0.8 * rng.nextDouble()));
    points = Math.min(points, MAX_POINTS);

    long w100 = width * 100L;
    long h100 = height * 100L;
    w.raw("{\"segmentation\": [");
    long twiceArea; // in 1e-4 px^2
    long minX;
    long minY;
    long maxX;
    long maxY;
    if (points >= 8 && bw >= 10 && bh >= 10 && rng.chance(TWO_PARTS_P)) {
      // two parts: split the box along its longer side, leave a gap
      double f = 0.3 + 0.4 * rng.nextDouble();
      double gap = 0.03 + 0.08 * rng.nextDouble();
      int n1 = Math.max(4, (int) (points * f));
      int n2 = Math.max(4, points - n1);
      Ring b1;
      Ring b2;
      if (bw >= bh) {
        double w1 = bw * (f - gap / 2);
        double w2 = bw * (1 - f - gap / 2);
        b1 = ring(rng, n1, bx, by, w1, bh, w100, h100);
        w.ch(',');
        b2 = ring(rng, n2, bx + bw - w2, by, w2, bh, w100, h100);
      } else {
        double h1 = bh * (f - gap / 2);
        double h2 = bh * (1 - f - gap / 2);
        b1 = ring(rng, n1, bx, by, bw, h1, w100, h100);
        w.ch(',');
        b2 = ring(rng, n2, bx, by + bh - h2, bw, h2, w100, h100);
      }
      twiceArea = b1.twiceArea() + b2.twiceArea();
      minX = Math.min(b1.minX(), b2.minX());
      minY = Math.min(b1.minY(), b2.minY());
      maxX = Math.max(b1.maxX(), b2.maxX());
      maxY = Math.max(b1.maxY(), b2.maxY());
    } else {
      Ring b = ring(rng, points, bx, by, bw, bh, w100, h100);
      twiceArea = b.twiceArea();
      minX = b.minX();
      minY = b.minY();
      maxX = b.maxX();
      maxY = b.maxY();
    }
    w.raw("],\"area\": ").fixed(twiceArea * 5, 5);
    w.raw(",\"iscrowd\": 0,\"image_id\": ").num(imageId);
    w.raw(",\"bbox\": [").hundredths(minX).ch(',').hundredths(minY).ch(',');
    w.hundredths(maxX - minX).ch(',').hundredths(maxY - minY);
    w.raw("],\"category_id\": ").num(CATEGORIES.get(cat).id()).raw(",\"id\": ").num(nextId).ch('}');
  }

  /**
   * Writes one polygon {@code [x,y,...]} (hundredths of a pixel) inscribed in the box, a star-shaped blob with
   * jittered angles and radii; returns its bounds and area.
   */
  /** A written polygon: its bounds (hundredths of a pixel) and |twice its area| (1e-4 px^2). */
  private record Ring(long minX, long minY, long maxX, long maxY, long twiceArea) {}

  private Ring ring(
      SplitMix64 rng, int n, double bx, double by, double bw, double bh, long w100, long h100)
      throws IOException {
    double cx = bx + bw / 2;
    double cy = by + bh / 2;
    double step = (double) ANGLES / n;
    double a0 = rng.nextDouble() * ANGLES;
    double r = 0.8;
    long minX = Long.MAX_VALUE;
    long minY = Long.MAX_VALUE;
    long maxX = Long.MIN_VALUE;
    long maxY = Long.MIN_VALUE;
    for (int j = 0; j < n; j++) {
      int ai = (int) (a0 + step * (j + 0.35 * (rng.nextDouble() - 0.5))) & (ANGLES - 1);
      r = 0.45 * r + 0.55 * (0.55 + 0.45 * rng.nextDouble());
      long x = clamp((long) Math.floor((cx + bw / 2 * r * COS[ai]) * 100 + 0.5), 0, w100);
      long y = clamp((long) Math.floor((cy + bh / 2 * r * SIN[ai]) * 100 + 0.5), 0, h100);
      xs[j] = x;
      ys[j] = y;
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
    // the blob never collapses for boxes >= 1.5 px, but keep the bbox strictly positive whatever happens
    if (maxX == minX) xs[0] = maxX = minX + 1;
    if (maxY == minY) ys[0] = maxY = minY + 1;
    long s = 0;
    w.ch('[');
    for (int j = 0; j < n; j++) {
      int k = j + 1 == n ? 0 : j + 1;
      s += xs[j] * ys[k] - xs[k] * ys[j];
      if (j > 0) w.ch(',');
      w.hundredths(xs[j]).ch(',').hundredths(ys[j]);
    }
    w.ch(']');
    return new Ring(minX, minY, maxX, maxY, Math.abs(s));
  }

  /** An iscrowd annotation: an uncompressed RLE mask (column-major runs), integer bbox, pixel-count area. */
  private void crowd(SplitMix64 rng, long imageId, int width, int height, int cat) throws IOException {
    double area = StrictMath.exp(AREA_LOG_MU + 3.0 + 0.9 * rng.nextGaussian());
    area = Math.min(area, 0.9 * width * height);
    double aspect = StrictMath.exp(0.5 * rng.nextGaussian());
    int bw = (int) Math.max(4, Math.min(width, Math.sqrt(area * aspect)));
    int bh = (int) Math.max(4, Math.min(height, Math.sqrt(area / aspect)));
    int x0 = rng.nextInt(width - bw + 1);
    int y0 = rng.nextInt(height - bh + 1);
    int maxOff = Math.max(1, bh / 3);
    int top = rng.nextInt(maxOff);
    int bot = rng.nextInt(maxOff);
    int runs = 0;
    long pixels = 0;
    int minY = Integer.MAX_VALUE;
    int maxY = Integer.MIN_VALUE;
    for (int x = x0; x < x0 + bw; x++) {
      top = (int) clamp(top + rng.nextInt(5) - 2, 0, maxOff - 1);
      bot = (int) clamp(bot + rng.nextInt(5) - 2, 0, maxOff - 1);
      int t = y0 + top;
      int b = y0 + bh - bot; // exclusive; b - t >= bh / 3 >= 1
      minY = Math.min(minY, t);
      maxY = Math.max(maxY, b);
      int col = x * height;
      int len = b - t;
      if (len >= 8 && rng.chance(0.25)) {
        int g0 = t + 1 + rng.nextInt(len - 4);
        int g1 = Math.min(b - 1, g0 + 1 + rng.nextInt(Math.max(1, len / 4)));
        runStart[runs] = col + t;
        runEnd[runs++] = col + g0;
        runStart[runs] = col + g1;
        runEnd[runs++] = col + b;
        pixels += len - (g1 - g0);
      } else {
        runStart[runs] = col + t;
        runEnd[runs++] = col + b;
        pixels += len;
      }
    }
    w.raw("{\"segmentation\": {\"counts\": [");
    int prev = 0;
    boolean firstCount = true;
    for (int r = 0; r < runs; r++) {
      int start = runStart[r];
      // merge runs that touch across a column boundary (a bottom row followed by a top row)
      int end = runEnd[r];
      while (r + 1 < runs && runStart[r + 1] == end) end = runEnd[++r];
      if (!firstCount) w.ch(',');
      firstCount = false;
      w.num(start - prev).ch(',').num(end - start);
      prev = end;
    }
    w.ch(',').num((long) width * height - prev);
    w.raw("],\"size\": [").num(height).ch(',').num(width).raw("]},\"area\": ").num(pixels);
    w.raw(",\"iscrowd\": 1,\"image_id\": ").num(imageId);
    w.raw(",\"bbox\": [").hundredths(x0 * 100L).ch(',').hundredths(minY * 100L).ch(',');
    w.hundredths(bw * 100L).ch(',').hundredths((maxY - minY) * 100L);
    w.raw("],\"category_id\": ").num(CATEGORIES.get(cat).id()).raw(",\"id\": ").num(nextId).ch('}');
  }

  private static long clamp(long v, long lo, long hi) {
    return v < lo ? lo : v > hi ? hi : v;
  }
}
