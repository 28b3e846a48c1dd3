package org.sr4g.evaluation;

/**
 * VISOR's numbers for a set of prompts, with the counts behind every percentage. Percentages are null (NaN here)
 * when their denominator is zero; visor.py would divide by zero instead.
 *
 * <ul>
 *   <li>OA = 100 * both / images; OA_A, OA_B likewise with detA, detB
 *   <li>VISOR_cond = 100 * correct / both (correct counts only images with both objects)
 *   <li>VISOR_uncond = VISOR_cond * OA / 100 = 100 * correct / images
 *   <li>VISOR_n = 100 * (prompts with at least n correct images) / prompts (prompts with at least one image)
 * </ul>
 */
public record VisorScores(
    long prompts, long images, long detA, long detB, long both, long correct, long geometric, long opposite,
    long[] atLeast) {

  public static final int MAX_N = 4;

  public double oa() {
    return pct(both, images);
  }

  public double oaA() {
    return pct(detA, images);
  }

  public double oaB() {
    return pct(detB, images);
  }

  public double visorCond() {
    return pct(correct, both);
  }

  /** Computed as visor.py does: VISOR_cond * OA / 100 (equal to 100 * correct / images up to rounding). */
  public double visorUncond() {
    return images == 0 || both == 0 ? (images == 0 ? Double.NaN : 0.0) : visorCond() * oa() / 100.0;
  }

  /** VISOR_n for n = 1..4. */
  public double visorN(int n) {
    return pct(atLeast[n - 1], prompts);
  }

  /** Share of images with both objects where the opposite relation holds (boxes known only). */
  public double oppositeRate() {
    return pct(opposite, geometric);
  }

  static double pct(long num, long den) {
    return den == 0 ? Double.NaN : 100.0 * num / den;
  }

  /** Sums the tally over the prompts {@code select} accepts; prompts without images are not counted. */
  public static VisorScores of(PromptTally t, java.util.function.IntPredicate select) {
    long prompts = 0;
    long images = 0;
    long a = 0;
    long b = 0;
    long both = 0;
    long correct = 0;
    long geo = 0;
    long opp = 0;
    long[] atLeast = new long[MAX_N];
    for (int i = 0; i < t.size(); i++) {
      if (t.images[i] == 0 || !select.test(i)) continue;
      prompts++;
      images += t.images[i];
      a += t.detA[i];
      b += t.detB[i];
      both += t.both[i];
      correct += t.correct[i];
      geo += t.geometric[i];
      opp += t.opposite[i];
      for (int n = 1; n <= MAX_N; n++) if (t.correct[i] >= n) atLeast[n - 1]++;
    }
    return new VisorScores(prompts, images, a, b, both, correct, geo, opp, atLeast);
  }
}
