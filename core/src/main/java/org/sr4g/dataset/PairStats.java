package org.sr4g.dataset;

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
