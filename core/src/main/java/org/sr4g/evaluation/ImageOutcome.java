package org.sr4g.evaluation;

/**
 * What one generated image contributes. {@code correct} means the relation of the prompt holds for at least one pair
 * (box of A, box of B); it only counts when both objects are detected, exactly as VISOR multiplies {@code det_both *
 * sra}. {@code opposite} is the same test for the opposite relation; it is meaningful only when {@code geometric}
 * (boxes were given: formats b and c; or VISOR centroids, for the projective relations of format a).
 */
public record ImageOutcome(
    int promptIndex, int imageIndex, boolean detA, boolean detB, boolean correct, boolean opposite,
    boolean geometric) {

  public boolean both() {
    return detA && detB;
  }
}
