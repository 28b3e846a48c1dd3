package org.sr4g.dataset;

import org.sr4g.relations.Relation;

/**
 * A (subject category, relation, object category) triplet as one int, {@code (s * 14 + r) * C + o} for C categories:
 * dense, and its natural order is the order prompts and triplets.csv are written in.
 */
public final class TripletKey {
  private TripletKey() {}

  public static int encode(int subject, int relation, int object, int categories) {
    return (subject * Relation.COUNT + relation) * categories + object;
  }

  public static int space(int categories) {
    return categories * Relation.COUNT * categories;
  }

  public static int subject(int key, int categories) {
    return key / (Relation.COUNT * categories);
  }

  public static int relation(int key, int categories) {
    return (key / categories) % Relation.COUNT;
  }

  public static int object(int key, int categories) {
    return key % categories;
  }
}
