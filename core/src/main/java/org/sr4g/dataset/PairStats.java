package org.sr4g.dataset;

import org.sr4g.coco.DropReason;
import org.sr4g.relations.Relation;

/**
 * Counters of one worker thread; workers' counters are summed at the end, and since addition commutes the totals do
 * not depend on how images were spread over threads.
 */
final class PairStats {
  final int categories;
  final long[] dropped = new long[DropReason.values().length];
  final long[] rowsByRelation = new long[Relation.COUNT];
  final long[] unseenRowsByRelation = new long[Relation.COUNT];
  /** Training frequency of (subject, relation, object), key = (s * COUNT + r) * categories + o. */
  final long[] triplets;
  final long[] eligibleBoxesByCategory;
  final long[] subjectRowsByCategory;
  final long[] objectRowsByCategory;
  long eligibleBoxes;
  long eligiblePairs;
  long pairsWithoutRelation;
  long rows;
  long unseenRows;
  long imagesWithPairs;

  PairStats(int categories) {
    this.categories = categories;
    triplets = new long[TripletKey.space(categories)];
    eligibleBoxesByCategory = new long[categories];
    subjectRowsByCategory = new long[categories];
    objectRowsByCategory = new long[categories];
  }

  void add(PairStats o) {
    for (int i = 0; i < dropped.length; i++) dropped[i] += o.dropped[i];
    for (int i = 0; i < Relation.COUNT; i++) {
      rowsByRelation[i] += o.rowsByRelation[i];
      unseenRowsByRelation[i] += o.unseenRowsByRelation[i];
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
    unseenRows += o.unseenRows;
    imagesWithPairs += o.imagesWithPairs;
  }
}
