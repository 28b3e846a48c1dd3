package org.sr4g.evaluation;

import org.sr4g.geometry.NormalizedBox;
import org.sr4g.relations.Family;
import org.sr4g.relations.Relation;
import org.sr4g.relations.RelationRules;

/**
 * Turns the detections of one image into an {@link ImageOutcome}: keeps boxes with score above the threshold
 * (VISOR's OWL-ViT notebook keeps {@code score > 0.1}), matches labels to the prompt's two object names
 * (case-insensitive), and checks the relation on every pair (box of A, box of B), normalized by the image size with
 * the same {@link NormalizedBox#fromCoco} and {@link RelationRules} that {@code sr4g generate} uses.
 */
public final class OutcomeJudge {
  /**
   * Boxes of one object (one label) in one image that are related pairwise, the highest-scoring first: the pair test
   * is quadratic, and a hostile file with 60,000 boxes on one image took 12.7 s. OWL-ViT gives at most 3,600 boxes per
   * image and query (576 for B/32 at 768 px), so real detections are never cut; a cut image is a counted warning.
   */
  public static final int MAX_BOXES_PER_OBJECT = 1024;

  private final double threshold;
  private final float thresholdF;
  private final boolean visorCompat;

  public OutcomeJudge(double threshold, boolean visorCompat) {
    this.threshold = threshold;
    // Scores are float32 (as OWL-ViT's are), so the comparison is too: 0.1f is not above 0.1f, as in torch.
    this.thresholdF = (float) threshold;
    this.visorCompat = visorCompat;
  }

  /** True when a detection with this score is kept. */
  public boolean keeps(float score) {
    return score > thresholdF;
  }

  public double threshold() {
    return threshold;
  }

  /**
   * @param boxes pixel corners {@code x0,y0,x1,y1} per detection, 4 floats each, already validated (finite,
   *     x1 >= x0, y1 >= y0)
   */
  public ImageOutcome judge(EvalPrompt p, int promptIndex, int k, float width, float height, String[] labels,
      float[] scores, float[] boxes, int n) {
    if (!p.scored()) return new ImageOutcome(promptIndex, k, false, false, false, false, true);
    String a = p.objectA().trim();
    String b = p.objectB().trim();
    boolean same = a.equalsIgnoreCase(b);
    int[] ia = new int[n];
    int[] ib = new int[n];
    int na = 0;
    int nb = 0;
    for (int i = 0; i < n; i++) {
      if (!keeps(scores[i])) continue;
      // equalsIgnoreCase instead of lower-casing: no allocation per detection.
      String l = labels[i].trim();
      if (l.equalsIgnoreCase(a)) ia[na++] = i;
      if (l.equalsIgnoreCase(b)) ib[nb++] = i;
    }
    na = topByScore(ia, na, scores);
    nb = topByScore(ib, nb, scores);
    boolean detA = na > 0;
    // "a cat left of a cat" needs two distinct cat boxes for the pair test; VISOR's class test sees one class.
    boolean detB = nb > 0;
    boolean correct = false;
    boolean opposite = false;
    Relation rel = p.relation();
    Relation opp = rel.opposite();
    for (int x = 0; x < na && !(correct && opposite); x++) {
      for (int y = 0; y < nb && !(correct && opposite); y++) {
        int s = ia[x];
        int o = ib[y];
        if (same && s == o) continue;
        int m = mask(rel, boxes, s, o, width, height);
        correct |= (m & rel.bit()) != 0;
        opposite |= (m & opp.bit()) != 0;
      }
    }
    return new ImageOutcome(promptIndex, k, detA, detB, correct, opposite, true);
  }

  /** Keeps the {@link #MAX_BOXES_PER_OBJECT} highest-scoring of {@code idx[0..n)} (ties: lower index first). */
  static int topByScore(int[] idx, int n, float[] scores) {
    if (n <= MAX_BOXES_PER_OBJECT) return n;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = idx[i];
    java.util.Arrays.sort(order, (x, y) -> scores[x] != scores[y] ? Float.compare(scores[y], scores[x]) : Integer.compare(x, y));
    for (int i = 0; i < MAX_BOXES_PER_OBJECT; i++) idx[i] = order[i];
    return MAX_BOXES_PER_OBJECT;
  }

  /** True when more than {@link #MAX_BOXES_PER_OBJECT} kept boxes carry one of the prompt's two labels. */
  boolean capped(EvalPrompt p, String[] labels, float[] scores, int n) {
    if (!p.scored() || n <= MAX_BOXES_PER_OBJECT) return false;
    String a = p.objectA().trim();
    String b = p.objectB().trim();
    int na = 0;
    int nb = 0;
    for (int i = 0; i < n; i++) {
      if (!keeps(scores[i])) continue;
      String l = labels[i].trim();
      if (l.equalsIgnoreCase(a)) na++;
      if (l.equalsIgnoreCase(b)) nb++;
    }
    return na > MAX_BOXES_PER_OBJECT || nb > MAX_BOXES_PER_OBJECT;
  }

  /** Relations that hold for the pair (s, o), at least for {@code r} and its opposite: one rule-engine call. */
  private int mask(Relation r, float[] bx, int s, int o, float w, float h) {
    if (visorCompat && r.family() == Family.PROJECTIVE) {
      // VISOR's centroid test, in pixels, strict comparisons, y pointing down.
      float sx = (bx[4 * s] + bx[4 * s + 2]) / 2f;
      float sy = (bx[4 * s + 1] + bx[4 * s + 3]) / 2f;
      float ox = (bx[4 * o] + bx[4 * o + 2]) / 2f;
      float oy = (bx[4 * o + 1] + bx[4 * o + 3]) / 2f;
      int m = 0;
      if (sx < ox) m |= Relation.LEFT_OF.bit();
      if (sx > ox) m |= Relation.RIGHT_OF.bit();
      if (sy < oy) m |= Relation.ABOVE.bit();
      if (sy > oy) m |= Relation.BELOW.bit();
      return m;
    }
    return RelationRules.relations(box(bx, s, w, h), box(bx, o, w, h));
  }

  private static NormalizedBox box(float[] bx, int i, float w, float h) {
    float x0 = bx[4 * i];
    float y0 = bx[4 * i + 1];
    return NormalizedBox.fromCoco(x0, y0, bx[4 * i + 2] - x0, bx[4 * i + 3] - y0, w, h);
  }
}
