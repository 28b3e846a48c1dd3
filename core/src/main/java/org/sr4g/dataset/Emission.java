package org.sr4g.dataset;

import org.sr4g.relations.Relation;
import org.sr4g.relations.RuleGroup;

/**
 * {@code --emit one}: for an ordered pair, choose a rule group uniformly among the groups that have an applicable
 * relation, then a relation uniformly inside it. The choice is a pure function of (seed, image id, subject annotation
 * id, object annotation id), so it never depends on thread count, chunking or input order.
 */
public final class Emission {
  private static final int[] GROUP_MASK = new int[RuleGroup.values().length];

  static {
    for (RuleGroup g : RuleGroup.values()) GROUP_MASK[g.ordinal()] = Relation.maskOf(g);
  }

  private Emission() {}

  /** The chosen relation's ordinal, or -1 when {@code mask} is empty. */
  public static int chooseOne(long seed, long imageId, long subjectAnnotationId, long objectAnnotationId, int mask) {
    if (mask == 0) return -1;
    long h = Mix.hash(seed, imageId, subjectAnnotationId, objectAnnotationId);
    int groups = 0;
    for (int g = 0; g < GROUP_MASK.length; g++) if ((mask & GROUP_MASK[g]) != 0) groups++;
    int pick = Mix.below(h >>> 32, groups);
    int inGroup = 0;
    for (int g = 0; g < GROUP_MASK.length; g++) {
      if ((mask & GROUP_MASK[g]) != 0 && pick-- == 0) {
        inGroup = mask & GROUP_MASK[g];
        break;
      }
    }
    int k = Mix.below(h, Integer.bitCount(inGroup));
    for (int m = inGroup; ; m &= m - 1) {
      if (k-- == 0) return Integer.numberOfTrailingZeros(m);
    }
  }
}
