package org.sr4g.synth;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.coco.CocoCategories.Category;
import org.sr4g.coco.CocoCategories;
import org.sr4g.io.AtomicFiles;
import org.sr4g.io.OutputRules;

/**
 * Writes a synthetic COCO instance-annotation file ({@code instances_*.json} layout, same fields in the same order,
 * same separators as the real files) whose statistics mimic COCO train2017: with {@code images(118287)} it has about
 * 860K annotations and weighs about 440 MB, like the real 448 MB file. See {@code docs/synth.md} for the statistics.
 *
 * <p>The output is a pure function of (images, seed): byte-identical on every run, JDK and machine. It is streamed
 * (constant memory, whatever the size) to any {@link OutputStream}, or to a file through a temporary file and an
 * atomic rename.
 *
 * <pre>{@code
 * CocoSynth.Stats s = CocoSynth.builder().images(2000).seed(7).build().write(outputStream);
 * }</pre>
 */
public final class CocoSynth {
  /** The largest supported {@code images} (ids stay below 10^12, the 12-digit file names). */
  public static final int MAX_IMAGES = 100_000_000;

  // ---- statistics (where the numbers come from: docs/synth.md) ----

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

  private static final String[][] LICENSES = {
    {"http://creativecommons.org/licenses/by-nc-sa/2.0/", "Attribution-NonCommercial-ShareAlike License"},
    {"http://creativecommons.org/licenses/by-nc/2.0/", "Attribution-NonCommercial License"},
    {"http://creativecommons.org/licenses/by-nc-nd/2.0/", "Attribution-NonCommercial-NoDerivs License"},
    {"http://creativecommons.org/licenses/by/2.0/", "Attribution License"},
    {"http://creativecommons.org/licenses/by-sa/2.0/", "Attribution-ShareAlike License"},
    {"http://creativecommons.org/licenses/by-nd/2.0/", "Attribution-NoDerivs License"},
    {"http://flickr.com/commons/usage/", "No known copyright restrictions"},
    {"http://www.usa.gov/copyright.shtml", "United States Government Work"}
  };
  /** Relative frequency of the 8 licenses. */
  private static final int[] LICENSE_WEIGHTS = {18, 10, 40, 20, 5, 4, 2, 1};

  private static final int ANGLES = 1024;
  private static final double[] COS = new double[ANGLES];
  private static final double[] SIN = new double[ANGLES];
  private static final List<Category> CATEGORIES = CocoCategories.all();
  private static final int[] CATEGORY_CUMULATIVE = new int[CATEGORIES.size()];
  private static final int PERSON = 0;

  static {
    for (int i = 0; i < ANGLES; i++) {
      COS[i] = StrictMath.cos(2 * Math.PI * i / ANGLES);
      SIN[i] = StrictMath.sin(2 * Math.PI * i / ANGLES);
    }
    int sum = 0;
    for (int i = 0; i < CATEGORIES.size(); i++) {
      sum += CATEGORIES.get(i).train2017Instances();
      CATEGORY_CUMULATIVE[i] = sum;
    }
  }

  private final int images;
  private final long seed;

  private CocoSynth(Builder b) {
    this.images = b.images;
    this.seed = b.seed;
  }

  public static Builder builder() {
    return new Builder();
  }

  public int images() {
    return images;
  }

  public long seed() {
    return seed;
  }

  /** Options: {@code images} (default 118,287, the size of train2017) and {@code seed} (default 0). */
  public static final class Builder {
    private int images = CocoCategories.TRAIN2017_IMAGES;
    private long seed;

    private Builder() {}

    public Builder images(int images) {
      this.images = images;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** @throws UserInputException when {@code images} is outside [1, {@link #MAX_IMAGES}] */
    public CocoSynth build() {
      if (images < 1 || images > MAX_IMAGES) {
        throw new UserInputException(
            "number of images must be between 1 and " + MAX_IMAGES + ", got " + images);
      }
      return new CocoSynth(this);
    }
  }

  /** What was written. */
  public record Stats(int images, long annotations, long crowdAnnotations, long emptyImages, long bytes) {}

  /**
   * Writes the file to {@code file} through a temporary file in the same directory and an atomic rename, so readers
   * never see a partial file.
   *
   * @throws UserInputException when the directory of {@code file} does not exist
   */
  public Stats writeTo(Path file) throws IOException {
    Path abs = OutputRules.checkFile(file);
    Stats[] stats = new Stats[1];
    AtomicFiles.write(abs, out -> stats[0] = write(out));
    return stats[0];
  }

  /** Streams the whole file to {@code out} (buffered internally; {@code out} is flushed, not closed). */
  public Stats write(OutputStream out) throws IOException {
    AsciiJsonWriter w = new AsciiJsonWriter(out);
    ImageIds ids = new ImageIds(images, seed);
    writeHeader(w);

    w.raw(",\"images\": [");
    SplitMix64 rng;
    for (int i = 0; i < images; i++) {
      if (i > 0) w.ch(',');
      rng = SplitMix64.of(seed, 1, i);
      long id = ids.id(i);
      int[] wh = imageSize(rng);
      int license = 1 + weighted(rng, LICENSE_WEIGHTS);
      w.raw("{\"license\": ").num(license);
      w.raw(",\"file_name\": \"").padded(id, 12).raw(".jpg\"");
      w.raw(",\"coco_url\": \"http://images.cocodataset.org/train2017/").padded(id, 12).raw(".jpg\"");
      w.raw(",\"height\": ").num(wh[1]).raw(",\"width\": ").num(wh[0]);
      w.raw(",\"date_captured\": \"2013-11-").padded(14 + rng.nextInt(12), 2).ch(' ');
      w.padded(rng.nextInt(24), 2).ch(':').padded(rng.nextInt(60), 2).ch(':').padded(rng.nextInt(60), 2).ch('"');
      w.raw(",\"flickr_url\": \"http://farm").num(1 + rng.nextInt(9)).raw(".staticflickr.com/");
      w.num(rng.nextInt(1000, 9999)).ch('/').num(1_000_000_000L + (rng.nextLong() >>> 1) % 9_000_000_000L).ch('_');
      long secret = rng.nextLong();
      for (int k = 0; k < 10; k++) w.ch(HEX[(int) (secret >>> (4 * k)) & 15]);
      w.raw("_z.jpg\",\"id\": ").num(id).ch('}');
    }

    w.raw("],\"annotations\": [");
    Annotations ann = new Annotations(w, seed);
    for (int i = 0; i < images; i++) {
      int[] wh = imageSize(SplitMix64.of(seed, 1, i));
      ann.image(i, ids.id(i), wh[0], wh[1]);
    }

    w.raw("],\"categories\": [");
    for (int c = 0; c < CATEGORIES.size(); c++) {
      Category cat = CATEGORIES.get(c);
      if (c > 0) w.ch(',');
      w.raw("{\"supercategory\": ").string(cat.supercategory()).raw(",\"id\": ").num(cat.id());
      w.raw(",\"name\": ").string(cat.name()).ch('}');
    }
    w.raw("]}");
    w.flush();
    return new Stats(images, ann.count, ann.crowd, ann.empty, w.bytes());
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private void writeHeader(AsciiJsonWriter w) throws IOException {
    w.raw("{\"info\": {\"description\": ")
        .string("sr4g synthetic COCO-style instances (images=" + images + ", seed=" + seed + ")")
        .raw(",\"url\": \"http://cocodataset.org\",\"version\": \"1.0\",\"year\": 2017")
        .raw(",\"contributor\": \"sr4g synth\",\"date_created\": \"2017/09/01\"}");
    w.raw(",\"licenses\": [");
    for (int i = 0; i < LICENSES.length; i++) {
      if (i > 0) w.ch(',');
      w.raw("{\"url\": ").string(LICENSES[i][0]).raw(",\"id\": ").num(i + 1);
      w.raw(",\"name\": ").string(LICENSES[i][1]).ch('}');
    }
    w.ch(']');
  }

  /** (width, height); these must stay the first draws of the image stream (the annotation pass redraws them). */
  private static int[] imageSize(SplitMix64 rng) {
    int r = rng.nextInt(1000);
    for (int[] s : SIZES) {
      if (r < s[2]) return new int[] {s[0], s[1]};
      r -= s[2];
    }
    int side = rng.nextInt(240, 639);
    return rng.chance(0.7) ? new int[] {640, side} : new int[] {side, 640};
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

  /** Writes the annotations of one image after another; keeps the running annotation id. */
  private static final class Annotations {
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

    Annotations(AsciiJsonWriter w, long seed) {
      this.w = w;
      this.seed = seed;
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

    private static int objectCount(SplitMix64 rng) {
      if (rng.chance(EMPTY_IMAGE_P)) return 0;
      double lambda = Math.min(COUNT_LAMBDA_MAX, StrictMath.exp(COUNT_LOG_MU + COUNT_LOG_SIGMA * rng.nextGaussian()));
      return Math.min(MAX_OBJECTS, 1 + rng.nextPoisson(lambda));
    }

    private static int category(SplitMix64 rng) {
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
        long[] b1;
        long[] b2;
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
        twiceArea = b1[4] + b2[4];
        minX = Math.min(b1[0], b2[0]);
        minY = Math.min(b1[1], b2[1]);
        maxX = Math.max(b1[2], b2[2]);
        maxY = Math.max(b1[3], b2[3]);
      } else {
        long[] b = ring(rng, points, bx, by, bw, bh, w100, h100);
        twiceArea = b[4];
        minX = b[0];
        minY = b[1];
        maxX = b[2];
        maxY = b[3];
      }
      w.raw("],\"area\": ").fixed(twiceArea * 5, 5);
      w.raw(",\"iscrowd\": 0,\"image_id\": ").num(imageId);
      w.raw(",\"bbox\": [").hundredths(minX).ch(',').hundredths(minY).ch(',');
      w.hundredths(maxX - minX).ch(',').hundredths(maxY - minY);
      w.raw("],\"category_id\": ").num(CATEGORIES.get(cat).id()).raw(",\"id\": ").num(nextId).ch('}');
    }

    /**
     * Writes one polygon {@code [x,y,...]} (hundredths of a pixel) inscribed in the box, a star-shaped blob with
     * jittered angles and radii; returns {minX, minY, maxX, maxY, |twice the area| in 1e-4 px^2}.
     */
    private long[] ring(
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
      return new long[] {minX, minY, maxX, maxY, Math.abs(s)};
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
}
