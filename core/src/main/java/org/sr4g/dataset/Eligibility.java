package org.sr4g.dataset;

import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.DropReason;
import org.sr4g.geometry.BoxTable;

/**
 * Which boxes of an image take part in pairs: non-crowd boxes (read-time checks already removed non-finite and
 * non-positive ones) at least {@code --min-area} large, in images with at most {@code --max-objects} of them.
 */
final class Eligibility {
  private final float minArea;
  private final int maxObjects;

  Eligibility(float minArea, int maxObjects) {
    this.minArea = minArea;
    this.maxObjects = maxObjects;
  }

  /**
   * Fills {@code table} with the eligible boxes of {@code image} and {@code boxes[k]} with their dataset indices, in
   * annotation id order; counts the others in {@code dropped} (indexed by {@link DropReason#ordinal()}).
   *
   * @return the number of eligible boxes (0 when the image is skipped for --max-objects)
   */
  int select(CocoDataset d, int image, BoxTable table, int[] boxes, long[] dropped) {
    table.clear();
    float iw = d.imageWidth(image), ih = d.imageHeight(image);
    int n = 0;
    for (int b = d.firstBox(image), end = d.endBox(image); b < end; b++) {
      if (d.crowd(b)) {
        dropped[DropReason.CROWD.ordinal()]++;
        continue;
      }
      int i = table.addCoco(d.x(b), d.y(b), d.w(b), d.h(b), iw, ih);
      if (table.area()[i] < minArea) {
        table.removeLast();
        dropped[DropReason.BELOW_MIN_AREA.ordinal()]++;
        continue;
      }
      boxes[n++] = b;
    }
    if (maxObjects > 0 && n > maxObjects) {
      dropped[DropReason.MAX_OBJECTS.ordinal()] += n;
      table.clear();
      return 0;
    }
    return n;
  }

  /**
   * Ordered pairs of boxes in the same image, before any filter: the relation kernel's workload, which decides
   * whether the vector kernel's warm-up pays ({@link org.sr4g.relations.RelationKernel#forWorkload}).
   */
  static long boxPairs(CocoDataset d) {
    long pairs = 0;
    for (int i = 0; i < d.imageCount(); i++) {
      long n = d.endBox(i) - d.firstBox(i);
      pairs += n * (n - 1);
    }
    return pairs;
  }

  static int maxBoxesPerImage(CocoDataset d) {
    int m = 1;
    for (int i = 0; i < d.imageCount(); i++) m = Math.max(m, d.endBox(i) - d.firstBox(i));
    return m;
  }
}
