package org.sr4g.dataset;

import java.util.List;
import org.sr4g.UserInputException;

/** The held-out ("unseen") categories: a seeded random partition, or a list given by the user. */
final class UnseenSplit {
  private UnseenSplit() {}

  /**
   * Picks {@code round(fraction * n)} categories: a Fisher-Yates shuffle of the category indices driven by
   * {@link Mix#hash(long, long...)}, so the choice depends only on the seed and the category ids.
   */
  static boolean[] random(CategoryTable cats, double fraction, long seed) {
    int n = cats.size();
    int k = (int) Math.round(fraction * n);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = Mix.below(Mix.hash(seed, 0x756e7365656eL /* "unseen" */, i), i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    boolean[] unseen = new boolean[n];
    for (int i = 0; i < k; i++) unseen[order[i]] = true;
    return unseen;
  }

  static boolean[] named(CategoryTable cats, List<String> names, String origin) {
    boolean[] unseen = new boolean[cats.size()];
    for (String name : names) {
      int c = cats.indexOfName(name);
      if (c < 0) throw new UserInputException(origin + ": unknown category \"" + name + "\"");
      unseen[c] = true;
    }
    return unseen;
  }
}
