package org.sr4g.spark;

import org.sr4g.dataset.TripletKey;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.sr4g.coco.DropReason;
import org.sr4g.dataset.EvalPass;
import org.sr4g.dataset.PairStats;
import org.sr4g.dataset.InputCounts;
import org.sr4g.relations.Relation;

/**
 * All counters of one pass over some images, flattened to (key, value) pairs so that Spark sums them with an ordinary
 * {@code groupBy(key).sum(value)} (partial aggregation in each task, a tiny shuffle). key = field << 32 | index.
 */
final class Counters {
  static final int DROPPED = 0, READ_DROPPED = 1, SCALAR = 2, ROWS_BY_REL = 3, SEEN_PAIR_ROWS_BY_REL = 4, TRIPLET = 5,
      ELIGIBLE_BY_CAT = 6, SUBJECT_BY_CAT = 7, OBJECT_BY_CAT = 8, BOXES_BY_CAT = 9, PROBLEM = 10, SUPPORT = 11;
  static final int IMAGES = 0, BOXES_READ = 1, ELIGIBLE_BOXES = 2, ELIGIBLE_PAIRS = 3, PAIRS_WITHOUT_RELATION = 4,
      ROWS = 5, SEEN_PAIR_ROWS = 6, IMAGES_WITH_PAIRS = 7;

  final int categories;
  final PairStats pairs;
  final long[] readDropped = new long[DropReason.values().length];
  final long[] boxesByCategory;
  final long[] problems = new long[Problem.values().length];
  long images;
  long boxesRead;
  /** Eval only: images in which each triplet key holds. */
  final long[] support;
  long evalEligibleBoxes, evalEligiblePairs;
  final long[] evalDropped = new long[DropReason.values().length];

  Counters(int categories, boolean eval) {
    this.categories = categories;
    this.pairs = new PairStats(categories);
    this.boxesByCategory = new long[categories];
    this.support = eval ? new long[TripletKey.space(categories)] : null;
  }

  static long key(int field, int index) {
    return ((long) field << 32) | index;
  }

  /** The non-zero counters as rows (key, value). */
  List<Row> toRows() {
    List<Row> out = new ArrayList<>();
    PairStats p = pairs;
    add(out, DROPPED, support == null ? p.dropped : evalDropped);
    add(out, READ_DROPPED, readDropped);
    long[] scalars =
        support == null
            ? new long[] {images, boxesRead, p.eligibleBoxes, p.eligiblePairs, p.pairsWithoutRelation, p.rows, p.seenPairRows, p.imagesWithPairs}
            : new long[] {images, boxesRead, evalEligibleBoxes, evalEligiblePairs, 0, 0, 0, 0};
    add(out, SCALAR, scalars);
    add(out, ROWS_BY_REL, p.rowsByRelation);
    add(out, SEEN_PAIR_ROWS_BY_REL, p.seenPairRowsByRelation);
    add(out, TRIPLET, p.triplets);
    add(out, ELIGIBLE_BY_CAT, p.eligibleBoxesByCategory);
    add(out, SUBJECT_BY_CAT, p.subjectRowsByCategory);
    add(out, OBJECT_BY_CAT, p.objectRowsByCategory);
    add(out, BOXES_BY_CAT, boxesByCategory);
    add(out, PROBLEM, problems);
    if (support != null) add(out, SUPPORT, support);
    return out;
  }

  private static void add(List<Row> out, int field, long[] values) {
    for (int i = 0; i < values.length; i++) if (values[i] != 0) out.add(RowFactory.create(key(field, i), values[i]));
  }

  /** The summed counters back from Spark's aggregation. */
  static Counters fromTotals(Map<Long, Long> totals, int categories, boolean eval) {
    Counters c = new Counters(categories, eval);
    PairStats p = c.pairs;
    for (Map.Entry<Long, Long> e : totals.entrySet()) {
      int field = (int) (e.getKey() >>> 32), i = (int) (long) e.getKey();
      long v = e.getValue();
      switch (field) {
        case DROPPED:
          if (eval) c.evalDropped[i] = v;
          else p.dropped[i] = v;
          break;
        case READ_DROPPED:
          c.readDropped[i] = v;
          break;
        case SCALAR:
          switch (i) {
            case IMAGES: c.images = v; break;
            case BOXES_READ: c.boxesRead = v; break;
            case ELIGIBLE_BOXES: if (eval) c.evalEligibleBoxes = v; else p.eligibleBoxes = v; break;
            case ELIGIBLE_PAIRS: if (eval) c.evalEligiblePairs = v; else p.eligiblePairs = v; break;
            case PAIRS_WITHOUT_RELATION: p.pairsWithoutRelation = v; break;
            case ROWS: p.rows = v; break;
            case SEEN_PAIR_ROWS: p.seenPairRows = v; break;
            case IMAGES_WITH_PAIRS: p.imagesWithPairs = v; break;
            default: throw new IllegalStateException("scalar " + i);
          }
          break;
        case ROWS_BY_REL: p.rowsByRelation[i] = v; break;
        case SEEN_PAIR_ROWS_BY_REL: p.seenPairRowsByRelation[i] = v; break;
        case TRIPLET: p.triplets[i] = v; break;
        case ELIGIBLE_BY_CAT: p.eligibleBoxesByCategory[i] = v; break;
        case SUBJECT_BY_CAT: p.subjectRowsByCategory[i] = v; break;
        case OBJECT_BY_CAT: p.objectRowsByCategory[i] = v; break;
        case BOXES_BY_CAT: c.boxesByCategory[i] = v; break;
        case PROBLEM: c.problems[i] = v; break;
        case SUPPORT: c.support[i] = v; break;
        default: throw new IllegalStateException("field " + field);
      }
    }
    return c;
  }

  InputCounts inputCounts() {
    return new InputCounts(images, boxesRead, readDropped.clone(), boxesByCategory.clone());
  }

  EvalPass evalPass() {
    int[] s = new int[support.length];
    for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(support[i]);
    return new EvalPass(s, evalDropped.clone(), evalEligibleBoxes, evalEligiblePairs);
  }
}
