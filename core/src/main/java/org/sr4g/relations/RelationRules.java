package org.sr4g.relations;

import org.sr4g.geometry.NormalizedBox;

/**
 * The {@code sr4g14} relation rules for one ordered pair (subject, object), written as plainly as possible: this is
 * the oracle every faster implementation (vector kernel, GPU kernel) is tested against. All arithmetic is float32 in
 * the order given in {@code docs/relations.md}; the y axis points down.
 */
public final class RelationRules {
  /** Tolerance for surrounding/inside, as a fraction of the image side. */
  public static final float TOLERANCE = 0.02f;

  private RelationRules() {}

  /** The mask of relations that hold for (s, o); bit {@code r.ordinal()} for each {@link Relation} r. */
  public static int relations(NormalizedBox s, NormalizedBox o) {
    return relations(
        s.x0(), s.y0(), s.x1(), s.y1(), s.cx(), s.cy(), s.bw(), s.bh(), s.area(),
        o.x0(), o.y0(), o.x1(), o.y1(), o.cx(), o.cy(), o.bw(), o.bh(), o.area());
  }

  @SuppressWarnings("ParameterNumber")
  static int relations(
      float sx0, float sy0, float sx1, float sy1, float scx, float scy, float sbw, float sbh, float sarea,
      float ox0, float oy0, float ox1, float oy1, float ocx, float ocy, float obw, float obh, float oarea) {
    final float t = TOLERANCE;
    int m = 0;
    // Position group: at most one, checked in this order.
    if (sx0 - t <= ox0 && sx1 + t >= ox1 && sy0 - t <= oy0 && sy1 + t >= oy1) {
      m |= 1 << Relation.SURROUNDING.ordinal();
    } else if (sx0 + t >= ox0 && sx1 - t <= ox1 && sy0 + t >= oy0 && sy1 - t <= oy1) {
      m |= 1 << Relation.INSIDE.ordinal();
    } else {
      float dx = scx - ocx;
      float dy = scy - ocy;
      // The four cones partition the plane except the origin; the diagonals are assigned by the strict/non-strict
      // inequalities below (e.g. dx == dy > 0 is "below").
      if (dx > 0 && -dx <= dy && dy < dx) m |= 1 << Relation.RIGHT_OF.ordinal();
      else if (dy > 0 && -dy < dx && dx <= dy) m |= 1 << Relation.BELOW.ordinal();
      else if (dx < 0 && dx <= dy && dy <= -dx) m |= 1 << Relation.LEFT_OF.ordinal();
      else if (dy < 0 && dy < dx && dx < -dy) m |= 1 << Relation.ABOVE.ordinal();
    }
    // Overlap group: exactly one.
    float iw = Math.min(sx1, ox1) - Math.max(sx0, ox0);
    float ih = Math.min(sy1, oy1) - Math.max(sy0, oy0);
    m |= (iw > 0 && ih > 0) ? 1 << Relation.OVERLAPPING.ordinal() : 1 << Relation.SEPARATED.ordinal();
    // Scale group: strict comparisons, ties give nothing.
    if (sbw > obw) m |= 1 << Relation.WIDER_THAN.ordinal();
    else if (sbw < obw) m |= 1 << Relation.NARROWER_THAN.ordinal();
    if (sbh > obh) m |= 1 << Relation.TALLER_THAN.ordinal();
    else if (sbh < obh) m |= 1 << Relation.SHORTER_THAN.ordinal();
    if (sarea > oarea) m |= 1 << Relation.LARGER_THAN.ordinal();
    else if (sarea < oarea) m |= 1 << Relation.SMALLER_THAN.ordinal();
    return m;
  }
}
