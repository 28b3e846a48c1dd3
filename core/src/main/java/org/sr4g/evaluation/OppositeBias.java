package org.sr4g.evaluation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sr4g.relations.Relation;

/**
 * Opposite-relation bias, for each pair (left/right, above/below, surrounding/inside, overlapping/separated,
 * wider/narrower, taller/shorter, larger/smaller): VISOR_cond of each side, their difference, and how often images
 * asked for one side show the other instead (needs boxes, so not available from VISOR result files).
 */
public final class OppositeBias {
  private OppositeBias() {}

  /** One opposite pair; {@code first} is the relation with the even ordinal (left, above, surrounding, ...). */
  public record Pair(Relation first, Relation second, VisorScores firstScores, VisorScores secondScores) {
    /** VISOR_cond(first) - VISOR_cond(second), in percentage points. */
    public double condDifference() {
      return firstScores.visorCond() - secondScores.visorCond();
    }
  }

  public static List<Pair> pairs(Map<Relation, VisorScores> perRelation) {
    List<Pair> out = new ArrayList<>();
    for (Relation r : Relation.all()) {
      if (r.ordinal() % 2 != 0) continue;
      VisorScores a = perRelation.get(r);
      VisorScores b = perRelation.get(r.opposite());
      if (a == null && b == null) continue;
      out.add(new Pair(r, r.opposite(), a == null ? empty() : a, b == null ? empty() : b));
    }
    return out;
  }

  static VisorScores empty() {
    return new VisorScores(0, 0, 0, 0, 0, 0, 0, 0, new long[VisorScores.MAX_N]);
  }
}
