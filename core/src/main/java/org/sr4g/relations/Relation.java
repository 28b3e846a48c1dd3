package org.sr4g.relations;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * The 14 explicit spatial relations of the {@code sr4g14} taxonomy. The ordinal is the bit index in relation masks
 * ({@code 1 << ordinal()}), shared by the CPU kernels, the GPU kernel and every output format: never reorder.
 */
public enum Relation {
  LEFT_OF("left of", "to the left of", Family.PROJECTIVE, RuleGroup.POSITION),
  RIGHT_OF("right of", "to the right of", Family.PROJECTIVE, RuleGroup.POSITION),
  ABOVE("above", "above", Family.PROJECTIVE, RuleGroup.POSITION),
  BELOW("below", "below", Family.PROJECTIVE, RuleGroup.POSITION),
  SURROUNDING("surrounding", "surrounding", Family.TOPOLOGICAL, RuleGroup.POSITION),
  INSIDE("inside", "inside", Family.TOPOLOGICAL, RuleGroup.POSITION),
  OVERLAPPING("overlapping", "overlapping", Family.TOPOLOGICAL, RuleGroup.OVERLAP),
  SEPARATED("separated", "separated from", Family.TOPOLOGICAL, RuleGroup.OVERLAP),
  WIDER_THAN("wider than", "wider than", Family.SCALE, RuleGroup.SCALE),
  NARROWER_THAN("narrower than", "narrower than", Family.SCALE, RuleGroup.SCALE),
  TALLER_THAN("taller than", "taller than", Family.SCALE, RuleGroup.SCALE),
  SHORTER_THAN("shorter than", "shorter than", Family.SCALE, RuleGroup.SCALE),
  LARGER_THAN("larger than", "larger than", Family.SCALE, RuleGroup.SCALE),
  SMALLER_THAN("smaller than", "smaller than", Family.SCALE, RuleGroup.SCALE);

  /** Number of relations, and the width of a relation mask in bits. */
  public static final int COUNT = 14;
  /** Mask with every relation set. */
  public static final int ALL = (1 << COUNT) - 1;

  private static final Relation[] VALUES = values();

  private final String canonical;
  private final String phrase;
  private final Family family;
  private final RuleGroup group;

  Relation(String canonical, String phrase, Family family, RuleGroup group) {
    this.canonical = canonical;
    this.phrase = phrase;
    this.family = family;
    this.group = group;
  }

  /** The canonical name written in the {@code relation} field, e.g. {@code "left of"}. */
  public String canonicalName() {
    return canonical;
  }

  /** The words between the two objects in a caption, e.g. {@code "to the left of"} (VISOR's {@code rel_type}). */
  public String phrase() {
    return phrase;
  }

  public Family family() {
    return family;
  }

  public RuleGroup ruleGroup() {
    return group;
  }

  public int bit() {
    return 1 << ordinal();
  }

  /** The relation that holds for (object, subject) whenever this one holds for (subject, object), in spirit. */
  public Relation opposite() {
    // Pairs sit next to each other in declaration order: (left,right), (above,below), (surrounding,inside), ...
    return VALUES[ordinal() ^ 1];
  }

  public static Relation ofOrdinal(int ordinal) {
    return VALUES[ordinal];
  }

  /** All relations in bit order. */
  public static List<Relation> all() {
    return List.of(VALUES);
  }

  /** Relations whose bit is set in {@code mask}, in bit order. */
  public static List<Relation> fromMask(int mask) {
    List<Relation> out = new ArrayList<>(Integer.bitCount(mask));
    for (Relation r : VALUES) if ((mask & r.bit()) != 0) out.add(r);
    return out;
  }

  public static int maskOf(Collection<Relation> relations) {
    int m = 0;
    for (Relation r : relations) m |= r.bit();
    return m;
  }

  /** Mask of every relation in a group. */
  public static int maskOf(RuleGroup group) {
    int m = 0;
    for (Relation r : VALUES) if (r.group == group) m |= r.bit();
    return m;
  }

  /** Mask of every relation in a report family. */
  public static int maskOf(Family family) {
    int m = 0;
    for (Relation r : VALUES) if (r.family == family) m |= r.bit();
    return m;
  }

  /**
   * Parses a user-written relation: the canonical name ({@code "left of"}), the caption phrase ({@code "to the left
   * of"}), the enum name ({@code LEFT_OF}) or a hyphenated form ({@code left-of}), case-insensitively.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Relation parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace('_', ' ').replace('-', ' ');
    for (Relation r : VALUES) {
      if (r.canonical.equals(t) || r.phrase.equals(t)) return r;
    }
    StringBuilder names = new StringBuilder();
    for (Relation r : VALUES) names.append(names.length() == 0 ? "" : ", ").append(r.canonical);
    throw new IllegalArgumentException("unknown relation '" + text + "' (expected one of: " + names + ")");
  }

  /**
   * Parses a relation selection: a comma-separated list of relations, or the group words {@code all},
   * {@code visor} (the four projective relations), {@code projective}, {@code topological}, {@code scale}.
   */
  public static int parseSelection(String text) {
    int mask = 0;
    for (String part : text.split(",")) {
      String p = part.trim().toLowerCase(Locale.ROOT);
      if (p.isEmpty()) continue;
      switch (p) {
        case "all":
          mask |= ALL;
          break;
        case "visor":
        case "projective":
          mask |= maskOf(Family.PROJECTIVE);
          break;
        case "topological":
          mask |= maskOf(Family.TOPOLOGICAL);
          break;
        case "scale":
          mask |= maskOf(Family.SCALE);
          break;
        default:
          mask |= parse(p).bit();
      }
    }
    if (mask == 0) throw new IllegalArgumentException("empty relation selection '" + text + "'");
    return mask;
  }
}
