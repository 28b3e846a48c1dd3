package org.sr4g.dataset;

import org.sr4g.relations.Relation;
import org.sr4g.relations.RuleGroup;

/**
 * {@code --emit one}: for an ordered pair, choose a rule group uniformly among the groups that have an applicable
 * relation, then a relation uniformly inside it. The choice is a pure function of (seed, image id, subject annotation
 * id, object annotation id), so it never depends on thread count, chunking or input order.
 *
 * <p>The hash is {@link Mix#hash(long, long...)} of the four ids, a chain of one mix per id: the train pass computes
 * the (seed, image, subject) prefix once per subject ({@link #subjectPrefix}) and mixes in only the object per pair
 * ({@link #chooseOne(long, long, int)}); which groups a mask has is looked up, not counted.
 */
public final class Emission {
  private static final int GROUPS = RuleGroup.values().length;
  /** For each relation mask: how many groups it touches, then those groups' parts of the mask, in group order. */
  private static final int[] NON_EMPTY_GROUPS = new int[(1 << Relation.COUNT) * (GROUPS + 1)];

  static {
    int[] groupMask = new int[GROUPS];
    for (RuleGroup g : RuleGroup.values()) groupMask[g.ordinal()] = Relation.maskOf(g);
    for (int mask = 0; mask < 1 << Relation.COUNT; mask++) {
      int at = mask * (GROUPS + 1), count = 0;
      for (int g = 0; g < GROUPS; g++) {
        if ((mask & groupMask[g]) != 0) NON_EMPTY_GROUPS[at + 1 + count++] = mask & groupMask[g];
      }
      NON_EMPTY_GROUPS[at] = count;
    }
  }

  private Emission() {}

  /** The chosen relation's ordinal, or -1 when {@code mask} is empty. */
  public static int chooseOne(long seed, long imageId, long subjectAnnotationId, long objectAnnotationId, int mask) {
    return chooseOne(subjectPrefix(seed, imageId, subjectAnnotationId), objectAnnotationId, mask);
  }

  /** The part of the pair's hash that (seed, image, subject) decide: mixed once per subject, not per pair. */
  public static long subjectPrefix(long seed, long imageId, long subjectAnnotationId) {
    return Mix.hash(seed, imageId, subjectAnnotationId);
  }

  /** As {@link #chooseOne(long, long, long, long, int)}, given the subject's {@link #subjectPrefix}. */
  public static int chooseOne(long subjectPrefix, long objectAnnotationId, int mask) {
    if (mask == 0) return -1;
    long h = Mix.mix64(subjectPrefix ^ objectAnnotationId);
    int at = mask * (GROUPS + 1);
    int inGroup = NON_EMPTY_GROUPS[at + 1 + Mix.below(h >>> 32, NON_EMPTY_GROUPS[at])];
    int k = Mix.below(h, Integer.bitCount(inGroup));
    for (int m = inGroup; ; m &= m - 1) {
      if (k-- == 0) return Integer.numberOfTrailingZeros(m);
    }
  }
}
