package org.sr4g.dataset;

import org.sr4g.UserInputException;
import org.sr4g.coco.DropReason;
import org.sr4g.relations.Relation;

/**
 * Counters of the training pass (public for the Spark job, which sums them with Spark aggregations). Counters of one
 * worker thread; workers' counters are summed at the end, and since addition commutes the totals do
 * not depend on how images were spread over threads.
 */
public final class PairStats {
  public final int categories;
  public final long[] dropped = new long[DropReason.values().length];
  public final long[] rowsByRelation = new long[Relation.COUNT];
  /** {@link #seenPairRows} by relation. */
  public final long[] seenPairRowsByRelation = new long[Relation.COUNT];
  /** Training frequency of (subject, relation, object), key = (s * COUNT + r) * categories + o. */
  public final long[] triplets;
  public final long[] eligibleBoxesByCategory;
  public final long[] subjectRowsByCategory;
  public final long[] objectRowsByCategory;
  public long eligibleBoxes;
  public long eligiblePairs;
  public long pairsWithoutRelation;
  public long rows;
  /**
   * Rows whose subject and object categories are both seen: the rows of train_unseen.jsonl (the training set of the
   * unseen-object experiment, named after the categories it leaves out).
   */
  public long seenPairRows;
  public long imagesWithPairs;

  /**
   * Refuses, in one line naming {@code inputs}, a category count whose triplet tables ({@code tables} of them, one per
   * worker plus the total; 14 x categories² longs each) would not fit in half of this JVM's heap or in one array: a
   * file with tens of thousands of categories would otherwise end in an OutOfMemoryError, or overflow the key.
   */
  public static void requireTripletTablesFit(int categories, int tables, String inputs) {
    long heap = Runtime.getRuntime().maxMemory();
    int arrayLimit = maxCategories(Integer.MAX_VALUE - 8L), heapLimit = maxCategories(heap / 2 / tables / Long.BYTES);
    if (categories > Math.min(arrayLimit, heapLimit)) {
      long bytes = tables * (long) categories * Relation.COUNT * categories * Long.BYTES;
      throw new UserInputException(String.format(java.util.Locale.ROOT,
          "%s: %,d categories: counting every (subject, relation, object) triplet needs %,d MB in %d tables, and this"
              + " JVM fits at most %,d categories (fewer --threads or a larger -Xmx in SR4G_JAVA_OPTS raise that, up to"
              + " %,d)", inputs, categories, bytes >> 20, tables, Math.min(arrayLimit, heapLimit), arrayLimit));
    }
  }

  /** The most categories whose 14 x categories² counters fit in {@code cells} array cells. */
  private static int maxCategories(long cells) {
    return (int) Math.sqrt((double) cells / Relation.COUNT);
  }

  public PairStats(int categories) {
    this.categories = categories;
    triplets = new long[TripletKey.space(categories)];
    eligibleBoxesByCategory = new long[categories];
    subjectRowsByCategory = new long[categories];
    objectRowsByCategory = new long[categories];
  }

  public void add(PairStats o) {
    for (int i = 0; i < dropped.length; i++) dropped[i] += o.dropped[i];
    for (int i = 0; i < Relation.COUNT; i++) {
      rowsByRelation[i] += o.rowsByRelation[i];
      seenPairRowsByRelation[i] += o.seenPairRowsByRelation[i];
    }
    for (int i = 0; i < triplets.length; i++) triplets[i] += o.triplets[i];
    for (int i = 0; i < categories; i++) {
      eligibleBoxesByCategory[i] += o.eligibleBoxesByCategory[i];
      subjectRowsByCategory[i] += o.subjectRowsByCategory[i];
      objectRowsByCategory[i] += o.objectRowsByCategory[i];
    }
    eligibleBoxes += o.eligibleBoxes;
    eligiblePairs += o.eligiblePairs;
    pairsWithoutRelation += o.pairsWithoutRelation;
    rows += o.rows;
    seenPairRows += o.seenPairRows;
    imagesWithPairs += o.imagesWithPairs;
  }
}
