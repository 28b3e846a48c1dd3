package org.sr4g.dataset;

import java.util.Arrays;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.DropReason;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;

/**
 * The evaluation pass for one image: the distinct (subject, relation, object) triplet keys that hold for some eligible
 * pair. {@code sr4g generate} ({@link EvalPass}) and the Spark job run exactly this code. Counters accumulate over
 * the images it is given. Not thread-safe: one instance per thread.
 */
public final class EvalImage {
  private final CocoDataset d;
  private final GenerateOptions opt;
  private final int[] toMerged;
  private final int c;
  private final RelationKernel kernel;
  private final Eligibility eligibility;
  private final BoxTable table;
  private final int[] boxes;
  private final int[] masks;
  private int[] keys = new int[64];
  /** Boxes not eligible, by {@link DropReason#ordinal()}. */
  public final long[] dropped = new long[DropReason.values().length];

  public long eligibleBoxes;
  public long eligiblePairs;

  /** @param categories size of the merged category table; {@code toMerged} maps {@code d}'s indices into it */
  public EvalImage(CocoDataset d, GenerateOptions opt, int[] toMerged, int categories, RelationKernel kernel) {
    this.d = d;
    this.opt = opt;
    this.toMerged = toMerged;
    this.c = categories;
    this.kernel = kernel;
    int maxBoxes = Eligibility.maxBoxesPerImage(d);
    this.eligibility = new Eligibility(opt.minArea(), opt.maxObjects());
    this.table = new BoxTable(maxBoxes);
    this.boxes = new int[maxBoxes];
    this.masks = new int[BoxTable.padded(maxBoxes)];
  }

  /**
   * Relates image {@code image}; returns how many distinct triplet keys hold in it, which are then in {@code keys()[0
   * .. count)} in ascending order. Key = {@link TripletKey}.
   */
  public int triplets(int image) {
    int n = eligibility.select(d, image, table, boxes, dropped);
    eligibleBoxes += n;
    int k = 0;
    for (int s = 0; s < n; s++) {
      int sc = d.boxCategory(boxes[s]);
      kernel.relate(table, s, masks);
      for (int o = 0; o < n; o++) {
        if (o == s) continue;
        int oc = d.boxCategory(boxes[o]);
        if (sc == oc && !opt.sameCategory()) continue;
        eligiblePairs++;
        for (int m = masks[o] & opt.relationMask(); m != 0; m &= m - 1) {
          if (k == keys.length) keys = Arrays.copyOf(keys, k * 2);
          keys[k++] = TripletKey.encode(toMerged[sc], Integer.numberOfTrailingZeros(m), toMerged[oc], c);
        }
      }
    }
    // Count each triplet once per image.
    Arrays.sort(keys, 0, k);
    int u = 0;
    for (int i = 0; i < k; i++) if (i == 0 || keys[i] != keys[i - 1]) keys[u++] = keys[i];
    return u;
  }

  public int[] keys() {
    return keys;
  }
}
