package org.sr4g.relations;

import org.sr4g.geometry.BoxTable;

/**
 * Computes the relation masks of one subject against every box of an image. Two implementations: {@link
 * #scalar()} (the oracle) and a Vector API one picked by {@link #best()} when {@code jdk.incubator.vector} is present.
 */
public interface RelationKernel {

  /**
   * Writes into {@code out[j]} the mask of relations that hold for (subject, j), for every {@code j <
   * boxes.size()}. {@code out} must have at least {@code boxes.paddedSize()} entries; entries at and beyond {@code
   * size()} (and {@code out[subject]}) are unspecified.
   */
  void relate(BoxTable boxes, int subject, int[] out);

  /** A short name for logs and manifests, e.g. {@code "vector-256"}. */
  String name();

  /** The plain Java implementation, the reference for tests. */
  static RelationKernel scalar() {
    return ScalarRelationKernel.INSTANCE;
  }

  /** The fastest implementation available in this JVM, chosen once at start-up. */
  static RelationKernel best() {
    return RelationKernels.BEST;
  }
}
