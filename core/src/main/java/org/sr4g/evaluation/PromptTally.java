package org.sr4g.evaluation;

import java.util.List;

/**
 * Per-prompt counts, the unit every aggregate is a sum over: images, images with A, with B, with both, with both and
 * the relation correct (VISOR's {@code det_both * sra}), and with both and the opposite relation (boxes known only).
 * Prompt-level sums make breakdowns, VISOR_n and the paired bootstrap all the same cheap loop.
 */
public final class PromptTally {
  final int[] images;
  final int[] detA;
  final int[] detB;
  final int[] both;
  final int[] correct;
  final int[] opposite;
  final int[] geometric;

  PromptTally(int n) {
    images = new int[n];
    detA = new int[n];
    detB = new int[n];
    both = new int[n];
    correct = new int[n];
    opposite = new int[n];
    geometric = new int[n];
  }

  /** Sums the outcomes of scored prompts; images of unscored prompts ("and", single objects) are left out. */
  public static PromptTally of(PromptSet prompts, List<ImageOutcome> outcomes) {
    PromptTally t = new PromptTally(prompts.size());
    for (ImageOutcome o : outcomes) {
      int i = o.promptIndex();
      if (!prompts.get(i).scored()) continue;
      t.images[i]++;
      if (o.detA()) t.detA[i]++;
      if (o.detB()) t.detB[i]++;
      if (o.both()) {
        t.both[i]++;
        if (o.correct()) t.correct[i]++;
        if (o.geometric()) {
          t.geometric[i]++;
          if (o.opposite()) t.opposite[i]++;
        }
      }
    }
    return t;
  }

  public int size() {
    return images.length;
  }

  public int images(int i) {
    return images[i];
  }

  public int both(int i) {
    return both[i];
  }

  public int correct(int i) {
    return correct[i];
  }
}
