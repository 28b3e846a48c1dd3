package org.sr4g.spark;

import java.io.Serializable;
import org.sr4g.dataset.GenerateOptions;

/** What executors need: the options that change rows, the merged category table and the unseen flags. */
final class JobConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  final boolean emitAll;
  final int relationMask;
  final boolean sameCategory;
  final float minArea;
  final int maxObjects;
  final long seed;
  /** Rows with a score below it are dropped (null: no filter). */
  final Double minScore;
  final int[] categoryIds;
  final String[] categoryNames;
  final boolean[] unseen;
  final int imagesPerBatch;

  JobConfig(GenerateOptions o, Double minScore, int[] categoryIds, String[] categoryNames, boolean[] unseen, int imagesPerBatch) {
    this.emitAll = o.emitAll();
    this.relationMask = o.relationMask();
    this.sameCategory = o.sameCategory();
    this.minArea = o.minArea();
    this.maxObjects = o.maxObjects();
    this.seed = o.seed();
    this.minScore = minScore;
    this.categoryIds = categoryIds;
    this.categoryNames = categoryNames;
    this.unseen = unseen;
    this.imagesPerBatch = imagesPerBatch;
  }

  /** The core options (threads, unseen split and leniency do not matter on executors). */
  GenerateOptions options() {
    return new GenerateOptions(emitAll, relationMask, sameCategory, minArea, maxObjects, seed, 0.2, null, 1, false);
  }
}
