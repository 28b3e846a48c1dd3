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
import org.sr4g.captions.Captions;
import org.sr4g.coco.CocoDataset;
import org.sr4g.dataset.ByteBuf;
import org.sr4g.dataset.EvalImage;
import org.sr4g.dataset.GenerateOptions;
import org.sr4g.dataset.ImageRelator;
import org.sr4g.dataset.TripletKey;
import org.sr4g.relations.Relation;
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

  /**
   * A counting pass: the partition's images in batches, counted into {@link Counters} by {@link #count}, emitted as
   * (key, value) rows for the driver to sum.
   */
  abstract static class CountingPass implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    final JobConfig cfg;
    private final boolean eval;

    CountingPass(JobConfig cfg, boolean eval) {
      this.cfg = cfg;
      this.eval = eval;
    }

    /** Counts one batch of images; {@code id} maps the batch's categories to the job's (the identity here). */
    abstract void count(CocoDataset d, Counters counters, GenerateOptions opt, int[] id, RelationKernel kernel);

    @Override
    public Iterator<Row> call(Iterator<Row> groups) {
      int c = cfg.categoryIds.length;
      Counters counters = new Counters(c, eval);
      ImageBatches in = new ImageBatches(cfg, groups, counters);
      GenerateOptions opt = cfg.options();
      int[] id = identity(c);
      RelationKernel kernel = RelationKernel.best();
      for (CocoDataset d; (d = in.next()) != null; ) count(d, counters, opt, id, kernel);
      return counters.toRows().iterator();
    }
  }

  /** Training counters (what stats.json and triplets.csv need), without rendering any row. */
  static final class TrainCounts extends CountingPass {
    private static final long serialVersionUID = 1L;

    TrainCounts(JobConfig cfg) {
      super(cfg, false);
    }

    @Override
    void count(CocoDataset d, Counters counters, GenerateOptions opt, int[] id, RelationKernel kernel) {
      ImageRelator rel = new ImageRelator(d, opt, id, cfg.unseen, kernel);
      for (int i = 0; i < d.imageCount(); i++) rel.count(i, counters.pairs);
    }
  }

  /** Evaluation counters: per triplet, the number of images where it holds. */
  static final class EvalCounts extends CountingPass {
    private static final long serialVersionUID = 1L;

    EvalCounts(JobConfig cfg) {
      super(cfg, true);
    }

    @Override
    void count(CocoDataset d, Counters counters, GenerateOptions opt, int[] id, RelationKernel kernel) {
      EvalImage ev = new EvalImage(d, opt, id, cfg.categoryIds.length, kernel);
      for (int i = 0; i < d.imageCount(); i++) {
        int k = ev.triplets(i);
        int[] keys = ev.keys();
        for (int j = 0; j < k; j++) counters.support[keys[j]]++;
      }
      counters.evalEligibleBoxes += ev.eligibleBoxes;
      counters.evalEligiblePairs += ev.eligiblePairs;
      for (int j = 0; j < ev.dropped.length; j++) counters.evalDropped[j] += ev.dropped[j];
    }
  }

  /** Output rows as columns: split, then the train.jsonl fields ({@link Sr4gSparkJob#TRAIN_ROW_SCHEMA}). */
  static final StructType COLUMNS_SCHEMA;

  static {
    StructType t = new StructType().add("split", DataTypes.StringType, false);
    for (org.apache.spark.sql.types.StructField f : Sr4gSparkJob.TRAIN_ROW_SCHEMA.fields()) t = t.add(f);
    COLUMNS_SCHEMA = t;
  }

  /**
   * The rows, batch by batch (memory stays bounded by one batch): as the core renderer's JSONL lines, or ({@code
   * columns}) as the same fields in columns, taken from the same emitted (image, subject, relation, object).
   */
  static final class TrainRows implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final JobConfig cfg;
    private final boolean columns;

    TrainRows(JobConfig cfg) {
      this(cfg, false);
    }

    TrainRows(JobConfig cfg, boolean columns) {
      this.cfg = cfg;
      this.columns = columns;
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
            final CocoDataset ds = d;
            final Object[] head = new Object[4];
            final Row[] boxes = new Row[d.boxCount()];
            ImageRelator.RowListener l =
                columns
                    ? (rendered, start, sb, s, r, ob, o, seen) ->
                        rows.add(
                            RowFactory.create(
                                seen ? SEEN : UNSEEN, head[0], head[1], head[2], head[3], caption(s, r, o),
                                Relation.ofOrdinal(r).canonicalName(), Relation.ofOrdinal(r).family().label(),
                                box(ds, boxes, sb, s), box(ds, boxes, ob, o)))
                    : (rendered, start, sb, s, r, ob, o, seen) ->
                        rows.add(
                            RowFactory.create(
                                seen ? SEEN : UNSEEN,
                                new String(rendered.array(), start, rendered.size() - start - 1, StandardCharsets.UTF_8)));
            for (int i = 0; i < d.imageCount(); i++) {
              buf.clear();
              if (columns) {
                head[0] = d.imageId(i);
                head[1] = d.fileName(i);
                head[2] = Double.parseDouble(d.widthText(i));
                head[3] = Double.parseDouble(d.heightText(i));
              }
              rel.relate(i, counters.pairs, buf, l);
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

    private final java.util.Map<Integer, String> captions = new java.util.HashMap<>();

    private String caption(int s, int r, int o) {
      return captions.computeIfAbsent(
          TripletKey.encode(s, r, o, cfg.categoryIds.length),
          k -> Captions.caption(cfg.categoryNames[s], Relation.ofOrdinal(r), cfg.categoryNames[o]));
    }

    /** {category, category_id, annotation_id, bbox}; the bbox numbers parsed from the input's text, once per box. */
    private Row box(CocoDataset d, Row[] cache, int b, int cat) {
      Row row = cache[b];
      if (row == null) {
        String t = d.bboxJson(b);
        String[] parts = t.substring(1, t.length() - 1).split(",");
        List<Double> bbox = new ArrayList<>(parts.length);
        for (String p : parts) bbox.add(Double.parseDouble(p));
        row =
            RowFactory.create(
                cfg.categoryNames[cat], (long) cfg.categoryIds[cat], d.annotationId(b),
                scala.jdk.javaapi.CollectionConverters.asScala(bbox).toSeq());
        cache[b] = row;
      }
      return row;
    }
  }
}
