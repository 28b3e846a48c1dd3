package org.sr4g.dataset;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.UserInputException;

/** The held-out ("unseen") categories: a seeded random partition, or a list given by the user. */
public final class UnseenSplit {
  private UnseenSplit() {}

  /**
   * The unseen flags by merged category index: {@code --unseen-categories} names, else a seeded random split.
   * {@code origin} names where the names came from, for messages.
   */
  public static boolean[] of(CategoryTable cats, GenerateOptions opt, String origin) {
    return opt.unseenCategories() != null
        ? named(cats, opt.unseenCategories(), origin)
        : random(cats, opt.unseenFraction(), opt.seed());
  }

  /** The names of the unseen categories, in category id order. */
  public static List<String> names(CategoryTable cats, boolean[] unseen) {
    List<String> names = new ArrayList<>();
    for (int c = 0; c < cats.size(); c++) if (unseen[c]) names.add(cats.names[c]);
    return names;
  }

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
