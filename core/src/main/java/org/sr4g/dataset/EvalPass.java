package org.sr4g.dataset;

import java.util.Arrays;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.DropReason;
import org.sr4g.geometry.BoxTable;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationKernel;

/**
 * Finds the (subject, relation, object) triplets that hold in the evaluation images. Every applicable relation counts
 * here whatever {@code --emit} says: a prompt is valid when its relation is seen in some real image. A triplet's
 * support is the number of distinct images where it holds for at least one eligible pair.
 */
final class EvalPass {
  final int[] support;
  final long[] dropped = new long[DropReason.values().length];
  long eligibleBoxes;
  long eligiblePairs;

  EvalPass(CocoDataset d, GenerateOptions opt, CategoryTable cats, RelationKernel kernel) {
    int c = cats.size();
    support = new int[TripletKey.space(c)];
    int[] toMerged = cats.mapping(d);
    int maxBoxes = Eligibility.maxBoxesPerImage(d);
    Eligibility eligibility = new Eligibility(opt.minArea(), opt.maxObjects());
    BoxTable table = new BoxTable(maxBoxes);
    int[] boxes = new int[maxBoxes];
    int[] masks = new int[BoxTable.padded(maxBoxes)];
    int[] keys = new int[64];
    for (int image = 0; image < d.imageCount(); image++) {
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
      for (int i = 0; i < k; i++) if (i == 0 || keys[i] != keys[i - 1]) support[keys[i]]++;
    }
  }
}
