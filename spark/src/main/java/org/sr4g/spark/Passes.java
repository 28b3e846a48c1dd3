package org.sr4g.spark;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sr4g.coco.CocoDataset;
import org.sr4g.dataset.ByteBuf;
import org.sr4g.dataset.EvalImage;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.ImageRelator;
import org.sr4g.relations.RelationKernel;

/** The three per-partition functions; each runs the core per-image code on {@link ImageBatches}. */
final class Passes {
  private Passes() {}

  /** (key, value) counter rows, summed by the driver with a Spark aggregation. */
  static final StructType COUNTER_SCHEMA =
      new StructType().add("key", DataTypes.LongType, false).add("value", DataTypes.LongType, false);

  /** Output rows: the split partition value and the train.jsonl line (without its newline). */
  static final StructType ROW_SCHEMA =
      new StructType().add("split", DataTypes.StringType, false).add("line", DataTypes.StringType, false);

  static final String SEEN = "seen", UNSEEN = "unseen";

  private static int[] identity(int n) {
    int[] m = new int[n];
    for (int i = 0; i < n; i++) m[i] = i;
    return m;
  }

  /** Training counters (what stats.json and triplets.csv need), without rendering any row. */
  static final class TrainCounts implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final JobConfig cfg;

    TrainCounts(JobConfig cfg) {
      this.cfg = cfg;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> groups) {
      int c = cfg.categoryIds.length;
      Counters counters = new Counters(c, false);
      ImageBatches in = new ImageBatches(cfg, groups, counters);
      GenerateOptions opt = cfg.options();
      int[] id = identity(c);
      RelationKernel kernel = RelationKernel.best();
      for (CocoDataset d; (d = in.next()) != null; ) {
        ImageRelator rel = new ImageRelator(d, opt, id, cfg.unseen, kernel);
        for (int i = 0; i < d.imageCount(); i++) rel.relate(i, counters.pairs, null, null, null);
      }
      return counters.toRows().iterator();
    }
  }

  /** Evaluation counters: per triplet, the number of images where it holds. */
  static final class EvalCounts implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final JobConfig cfg;

    EvalCounts(JobConfig cfg) {
      this.cfg = cfg;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> groups) {
      int c = cfg.categoryIds.length;
      Counters counters = new Counters(c, true);
      ImageBatches in = new ImageBatches(cfg, groups, counters);
      GenerateOptions opt = cfg.options();
      int[] id = identity(c);
      RelationKernel kernel = RelationKernel.best();
      for (CocoDataset d; (d = in.next()) != null; ) {
        EvalImage ev = new EvalImage(d, opt, id, c, kernel);
        for (int i = 0; i < d.imageCount(); i++) {
          int k = ev.triplets(i);
          int[] keys = ev.keys();
          for (int j = 0; j < k; j++) counters.support[keys[j]]++;
        }
        counters.evalEligibleBoxes += ev.eligibleBoxes;
        counters.evalEligiblePairs += ev.eligiblePairs;
        for (int j = 0; j < ev.dropped.length; j++) counters.evalDropped[j] += ev.dropped[j];
      }
      return counters.toRows().iterator();
    }
  }

  /** The rows, rendered by the core row writer, batch by batch (memory stays bounded by one batch). */
  static final class TrainRows implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final JobConfig cfg;

    TrainRows(JobConfig cfg) {
      this.cfg = cfg;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> groups) {
      int c = cfg.categoryIds.length;
      // Counted again by TrainCounts; these copies are thrown away.
      Counters counters = new Counters(c, false);
      ImageBatches in = new ImageBatches(cfg, groups, counters);
      GenerateOptions opt = cfg.options();
      int[] id = identity(c);
      RelationKernel kernel = RelationKernel.best();
      ByteBuf buf = new ByteBuf(1 << 20);
      return new Iterator<Row>() {
        Iterator<Row> current = Collections.emptyIterator();

        @Override
        public boolean hasNext() {
          while (!current.hasNext()) {
            CocoDataset d = in.next();
            if (d == null) return false;
            List<Row> rows = new ArrayList<>();
            ImageRelator rel = new ImageRelator(d, opt, id, cfg.unseen, kernel);
            ImageRelator.RowListener l =
                (train, start, s, r, o, seen) ->
                    rows.add(
                        RowFactory.create(
                            seen ? SEEN : UNSEEN,
                            new String(train.array(), start, train.size() - start - 1, StandardCharsets.UTF_8)));
            for (int i = 0; i < d.imageCount(); i++) {
              buf.clear();
              rel.relate(i, counters.pairs, buf, null, l);
            }
            current = rows.iterator();
          }
          return true;
        }

        @Override
        public Row next() {
          if (!hasNext()) throw new NoSuchElementException();
          return current.next();
        }
      };
    }
  }
}
