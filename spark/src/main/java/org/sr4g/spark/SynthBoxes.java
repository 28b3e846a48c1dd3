package org.sr4g.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.sr4g.coco.CocoCategories;
import org.sr4g.coco.CocoCategories.Category;

/**
 * A synthetic box table generated in parallel by Spark (for scale measurements: a COCO JSON of 10M boxes would be
 * ~5 GB). Per-image statistics follow {@link org.sr4g.synth.CocoSynth} (docs/synth.md): 0.86% empty images, 1 +
 * Poisson(lambda) objects with lambda log-normal(1.40, 0.95) capped at 95 (mean ~7.3 boxes an image), categories by
 * train2017 frequency with 55% repeats, log-normal areas, 1.07% crowd. A pure function of (images, seed).
 */
public final class SynthBoxes {
  private SynthBoxes() {}

  public static Dataset<Row> table(SparkSession spark, long images, long seed, int partitions) {
    List<Category> cats = CocoCategories.all();
    int[] ids = new int[cats.size()];
    String[] names = new String[cats.size()];
    double[] cum = new double[cats.size()];
    double total = 0;
    for (int i = 0; i < ids.length; i++) {
      ids[i] = cats.get(i).id();
      names[i] = cats.get(i).name();
      total += cats.get(i).train2017Instances();
      cum[i] = total;
    }
    for (int i = 0; i < cum.length; i++) cum[i] /= total;
    Gen gen = new Gen(seed, ids, names, cum);
    return spark.range(0, images, 1, partitions).flatMap(gen, Encoders.row(BoxColumns.SCHEMA));
  }

  static final class Gen implements FlatMapFunction<Long, Row> {
    private static final long serialVersionUID = 1L;
    private static final int[][] SIZES = {{640, 480}, {640, 427}, {480, 640}, {427, 640}, {640, 426}, {500, 375}, {640, 360}, {612, 612}};
    private final long seed;
    private final int[] ids;
    private final String[] names;
    private final double[] cum;

    Gen(long seed, int[] ids, String[] names, double[] cum) {
      this.seed = seed;
      this.ids = ids;
      this.names = names;
      this.cum = cum;
    }

    @Override
    public Iterator<Row> call(Long index) {
      long imageId = index + 1;
      SplittableRandom rng = new SplittableRandom(org.sr4g.dataset.Mix.hash(seed, imageId));
      int[] size = SIZES[rng.nextInt(SIZES.length)];
      int width = size[0], height = size[1];
      String file = String.format("%012d.jpg", imageId);
      List<Row> out = new ArrayList<>();
      if (rng.nextDouble() < 0.0086) {
        out.add(RowFactory.create(imageId, file, (double) width, (double) height, null, null, null, null, null, null, null, null, null, null));
        return out.iterator();
      }
      double lambda = Math.min(95, Math.exp(1.40 + 0.95 * rng.nextGaussian()));
      int n = Math.min(100, 1 + poisson(rng, lambda));
      int[] used = new int[n];
      for (int k = 0; k < n; k++) {
        int c = k > 0 && rng.nextDouble() < 0.55 ? used[rng.nextInt(k)] : category(rng.nextDouble());
        used[k] = c;
        double area = Math.min(Math.exp(8.15 + 2.3 * rng.nextGaussian()), 0.95 * width * height);
        area = Math.max(area, 4);
        double aspect = Math.exp(0.5 * rng.nextGaussian());
        double w = Math.min(width, Math.sqrt(area * aspect)), h = Math.min(height, area / w);
        w = Math.round(w * 100) / 100.0;
        h = Math.max(0.01, Math.round(h * 100) / 100.0);
        double x = Math.round(rng.nextDouble() * (width - w) * 100) / 100.0, y = Math.round(rng.nextDouble() * (height - h) * 100) / 100.0;
        long ann = imageId * 128 + k;
        int crowd = rng.nextDouble() < 0.0107 ? 1 : 0;
        out.add(RowFactory.create(imageId, file, (double) width, (double) height, ann, names[c], (long) ids[c], x, y, w, h, crowd, null, null));
      }
      return out.iterator();
    }

    private int category(double u) {
      for (int i = 0; i < cum.length; i++) if (u < cum[i]) return i;
      return cum.length - 1;
    }

    private static int poisson(SplittableRandom rng, double lambda) {
      double l = Math.exp(-lambda), p = 1;
      int k = 0;
      do {
        k++;
        p *= rng.nextDouble();
      } while (p > l);
      return k - 1;
    }
  }
}
