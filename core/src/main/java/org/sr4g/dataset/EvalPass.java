package org.sr4g.dataset;

import org.sr4g.coco.CocoDataset;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;

/**
 * Finds the (subject, relation, object) triplets that hold in the evaluation images. Every applicable relation counts
 * here whatever {@code --emit} says: a prompt is valid when its relation is seen in some real image. A triplet's
 * support is the number of distinct images where it holds for at least one eligible pair.
 */
public final class EvalPass {
  public final int[] support;
  public final long[] dropped;
  public final long eligibleBoxes;
  public final long eligiblePairs;

  /** Totals computed elsewhere (the Spark job sums {@link EvalImage} results with Spark aggregations). */
  public EvalPass(int[] support, long[] dropped, long eligibleBoxes, long eligiblePairs) {
    this.support = support;
    this.dropped = dropped;
    this.eligibleBoxes = eligibleBoxes;
    this.eligiblePairs = eligiblePairs;
  }

  EvalPass(CocoDataset d, GenerateOptions opt, CategoryTable cats, RelationKernel kernel) {
    int c = cats.size();
    support = new int[TripletKey.space(c)];
    EvalImage ev = new EvalImage(d, opt, cats.mapping(d), c, kernel);
    for (int image = 0; image < d.imageCount(); image++) {
      int k = ev.triplets(image);
      int[] keys = ev.keys();
      for (int i = 0; i < k; i++) support[keys[i]]++;
    }
    dropped = ev.dropped;
    eligibleBoxes = ev.eligibleBoxes;
    eligiblePairs = ev.eligiblePairs;
  }
}
