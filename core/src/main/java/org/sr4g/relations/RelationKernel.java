package org.sr4g.relations;

import java.util.Optional;
import org.sr4g.geometry.BoxTable;

/**
 * Computes the relation masks of one subject against every box of an image. Implementations: {@link #scalar()} (the
 * oracle, {@link RelationRules} pair by pair), a Vector API one picked by {@link #best()} when {@code
 * jdk.incubator.vector} is present, and the CUDA kernel in the native module ({@code org.sr4g.cuda
 * .CudaRelationKernel}); each is tested against the oracle bit for bit. Mask bits are {@link Relation#bit()}.
 */
public interface RelationKernel {

  /**
   * Writes into {@code out[j]} the mask of relations that hold for (subject, j), for every {@code j <
   * boxes.size()}. {@code out} must have at least {@code boxes.paddedSize()} entries; entries at and beyond {@code
   * size()} (and {@code out[subject]}) are unspecified.
   */
  void relate(BoxTable boxes, int subject, int[] out);

  /**
   * Writes the mask of every ordered pair: {@code out[s * n + o]} for subject {@code s} and object {@code o}, with
   * {@code n = boxes.size()}; {@code out} needs at least {@code n * n} entries, and the diagonal is unspecified as in
   * {@link #relate}. The default relates one subject at a time; the CUDA kernel does all pairs in one launch.
   */
  default void relateAll(BoxTable boxes, int[] out) {
    int n = boxes.size();
    if ((long) n * n > out.length)
      throw new IllegalArgumentException("relateAll needs " + (long) n * n + " entries for " + n + " boxes, got " + out.length);
    int[] row = new int[boxes.paddedSize()];
    for (int s = 0; s < n; s++) {
      relate(boxes, s, row);
      System.arraycopy(row, 0, out, s * n, n);
    }
  }

  /** A short name for logs and manifests, e.g. {@code "vector-256"}. */
  String name();

  /** The plain Java implementation, the reference for tests. */
  static RelationKernel scalar() {
    return ScalarRelationKernel.INSTANCE;
  }

  /**
   * The fastest implementation available in this JVM, chosen once at start-up.
   *
   * @throws org.sr4g.UserInputException when {@code -Dsr4g.kernel} or {@code -Dsr4g.vector.bits} has a value
   *     other than the documented ones
   */
  static RelationKernel best() {
    return RelationKernels.best();
  }

  /**
   * The kernel for one run that relates about {@code boxPairs} ordered pairs of boxes in this JVM: {@link #best()},
   * except that the automatic choice ({@code -Dsr4g.kernel} unset or {@code auto}) takes the scalar kernel for a run
   * too small to pay for the vector kernel's warm-up (logged once, at debug level).
   *
   * @throws org.sr4g.UserInputException as {@link #best()}
   */
  static RelationKernel forWorkload(long boxPairs) {
    return RelationKernels.forPairs(boxPairs);
  }

  /**
   * Why {@link #best()} is not the vector kernel (the module is missing, the scalar kernel was asked for, the vector
   * class failed to load, ...), or empty when it is. The same reason is logged once, as a warning unless the scalar
   * kernel was asked for.
   */
  static Optional<String> fallbackReason() {
    return RelationKernels.fallbackReason();
  }
}
