package org.sr4g.dataset;

import java.util.Map;
import org.sr4g.coco.CocoDataset;
import org.sr4g.coco.DropReason;

/**
 * What stats.json needs to know about an input beyond the passes' counters.
 *
 * @param readDropped boxes dropped while reading, by {@link DropReason#ordinal()}
 * @param boxesByCategory kept boxes (read-time drops excluded) by merged category index
 */
public record InputCounts(long images, long boxesRead, long[] readDropped, long[] boxesByCategory) {
  static InputCounts of(CocoDataset d, CategoryTable cats) {
    long[] readDropped = new long[DropReason.values().length];
    for (Map.Entry<DropReason, Long> e : d.dropped().entrySet()) readDropped[e.getKey().ordinal()] += e.getValue();
    long[] byCat = new long[cats.size()];
    int[] map = cats.mapping(d);
    for (int b = 0; b < d.boxCount(); b++) byCat[map[d.boxCategory(b)]]++;
    long read = d.boxCount();
    for (long v : readDropped) read += v;
    return new InputCounts(d.imageCount(), read, readDropped, byCat);
  }
}
