package org.sr4g.relations;

import org.sr4g.geometry.BoxTable;

/**
 * {@link RelationRules} for one subject against every box, one pair at a time, written without branches: the rules'
 * if/else chains mispredict on real data (which box is left of which is a coin toss), so every condition is computed
 * and turned into its bit. The four direction cones exclude one another by their own inequalities, so the chain's
 * "else" is needed only after surrounding and inside. {@code RelationKernelTest} holds it to the oracle bit for bit.
 */
final class ScalarRelationKernel implements RelationKernel {
  static final ScalarRelationKernel INSTANCE = new ScalarRelationKernel();

  private static final int SURROUNDING = Relation.SURROUNDING.ordinal(), INSIDE = Relation.INSIDE.ordinal();
  private static final int RIGHT = Relation.RIGHT_OF.ordinal(), BELOW = Relation.BELOW.ordinal();
  private static final int LEFT = Relation.LEFT_OF.ordinal(), ABOVE = Relation.ABOVE.ordinal();
  private static final int OVERLAPPING = Relation.OVERLAPPING.ordinal(), SEPARATED = Relation.SEPARATED.ordinal();
  private static final int WIDER = Relation.WIDER_THAN.ordinal(), NARROWER = Relation.NARROWER_THAN.ordinal();
  private static final int TALLER = Relation.TALLER_THAN.ordinal(), SHORTER = Relation.SHORTER_THAN.ordinal();
  private static final int LARGER = Relation.LARGER_THAN.ordinal(), SMALLER = Relation.SMALLER_THAN.ordinal();

  private ScalarRelationKernel() {}

  @Override
  public void relate(BoxTable b, int s, int[] out) {
    float[] x0 = b.x0(), y0 = b.y0(), x1 = b.x1(), y1 = b.y1(), cx = b.cx(), cy = b.cy();
    float[] bw = b.bw(), bh = b.bh(), area = b.area();
    final float t = RelationRules.TOLERANCE;
    float sx0 = x0[s], sy0 = y0[s], sx1 = x1[s], sy1 = y1[s], scx = cx[s], scy = cy[s];
    float sbw = bw[s], sbh = bh[s], sarea = area[s];
    int n = b.size();
    for (int j = 0; j < n; j++) {
      float ox0 = x0[j], oy0 = y0[j], ox1 = x1[j], oy1 = y1[j];
      int surrounding = bit(sx0 - t <= ox0 & sx1 + t >= ox1 & sy0 - t <= oy0 & sy1 + t >= oy1);
      int inside = bit(sx0 + t >= ox0 & sx1 - t <= ox1 & sy0 + t >= oy0 & sy1 - t <= oy1) & (surrounding ^ 1);
      int direction = (surrounding | inside) ^ 1;
      float dx = scx - cx[j], dy = scy - cy[j];
      int cones = bit(dx > 0 & -dx <= dy & dy < dx) << RIGHT
          | bit(dy > 0 & -dy < dx & dx <= dy) << BELOW
          | bit(dx < 0 & dx <= dy & dy <= -dx) << LEFT
          | bit(dy < 0 & dy < dx & dx < -dy) << ABOVE;
      float iw = Math.min(sx1, ox1) - Math.max(sx0, ox0), ih = Math.min(sy1, oy1) - Math.max(sy0, oy0);
      int overlap = bit(iw > 0 & ih > 0);
      float obw = bw[j], obh = bh[j], oarea = area[j];
      out[j] = surrounding << SURROUNDING | inside << INSIDE | (cones & -direction)
          | overlap << OVERLAPPING | (overlap ^ 1) << SEPARATED
          | bit(sbw > obw) << WIDER | bit(sbw < obw) << NARROWER
          | bit(sbh > obh) << TALLER | bit(sbh < obh) << SHORTER
          | bit(sarea > oarea) << LARGER | bit(sarea < oarea) << SMALLER;
    }
  }

  private static int bit(boolean b) {
    return b ? 1 : 0;
  }

  @Override
  public String name() {
    return "scalar";
  }
}
